#pragma once

#include <QMetaType>
#include <QString>

/// One of the server's own signing keys, as the console lists it (never the private half).
struct SigningKeyInfo {
    QString keyId;
    QString algorithm; ///< the JWS name: "EdDSA", "ES256", "RS256"
    qint64 createdAt = 0;
    qint64 retiredAt = 0; ///< 0 while it is the signing key
    qint64 verifyUntil = 0; ///< 0 while it is the signing key
    bool active = false;
};
Q_DECLARE_METATYPE(SigningKeyInfo)
