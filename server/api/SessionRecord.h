#pragma once

#include <QByteArray>
#include <QMetaType>
#include <QString>

/// One login on one device, as the store keeps it and the console sees it: it owns a family of refresh tokens (RFC 9700
/// §4.14).
struct SessionRecord {
    QString id;
    QString username;
    QString deviceId;
    QString userAgent;
    QString remoteAddress;
    qint64 createdAt = 0;
    qint64 lastRefreshAt = 0;
    qint64 absoluteExpiresAt = 0;
    qint64 accessExpiresAt = 0; ///< `exp` of the newest access token issued to it
    qint64 refreshExpiresAt = 0; ///< when its current refresh token dies unused (0: none left)
    qint64 revokedAt = 0; ///< 0 while the session is alive
    QString revokeReason;
    QString loginId; ///< the single login (SLI) it was opened under, if any
    QString clientId; ///< the OIDC client it was issued to; empty for Gatehouse's own clients

    bool isRevoked() const { return revokedAt != 0; }
};
Q_DECLARE_METATYPE(SessionRecord)
