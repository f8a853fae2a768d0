#pragma once

#include "UserKey.h"

#include <QString>
#include <QStringList>

/// The claims of a verified access token (RFC 9068 §2.2), as the rest of the server uses them.
struct AccessClaims {
    QString issuer;
    QString subject;
    QStringList audiences;
    QString jwtId;
    QString sessionId; ///< `sid`: our session, empty for external tokens without one
    QString deviceId; ///< `device`: the client-chosen device name
    QString clientId;
    QStringList roles;
    qint64 issuedAt = 0;
    qint64 notBefore = 0;
    qint64 expiresAt = 0;
    QString keyId;
    bool local = false;
    bool symmetricKey = false; ///< verified with a shared secret (HMAC): as cheap to verify again as to look up

    /// Whose token it is: our user `sub`, or `sub` at its external issuer; never just `sub`.
    UserKey user() const { return local ? UserKey::local(subject) : UserKey { issuer, subject }; }
};
