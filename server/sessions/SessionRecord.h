#pragma once

#include <QByteArray>
#include <QMetaType>
#include <QString>

/// One login on one device: it owns a family of refresh tokens (RFC 9700 §4.14).
struct SessionRecord {
    QString id;
    QString username;
    QString deviceId;
    QString userAgent;
    QString remoteAddress;
    qint64 createdAt = 0;
    qint64 lastRefreshAt = 0;
    qint64 absoluteExpiresAt = 0;
    qint64 revokedAt = 0; ///< 0 while the session is alive
    QString revokeReason;

    bool isRevoked() const { return revokedAt != 0; }
};
Q_DECLARE_METATYPE(SessionRecord)

/// One refresh token of a family, kept only as its SHA-256 so a database leak yields none.
struct RefreshTokenRecord {
    QString tokenHash;
    QString sessionId;
    int generation = 0;
    qint64 issuedAt = 0;
    qint64 expiresAt = 0;
    qint64 usedAt = 0; ///< set when it was rotated; presenting it again is reuse
};
