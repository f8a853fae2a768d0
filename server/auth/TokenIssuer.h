#pragma once

#include "auth/JsonWebKey.h"

#include <QStringList>

#include <chrono>

struct AccessTokenRequest {
    QString subject;
    QString sessionId;
    QString deviceId;
    QStringList roles;
    std::chrono::seconds lifetime { 7200 };
    QString clientId; ///< the OIDC client the token is for; empty: Gatehouse's own clients
};

struct IssuedToken {
    QByteArray token;
    QString jwtId;
    qint64 issuedAt = 0;
    qint64 expiresAt = 0;
};

/// Mints RFC 9068 access tokens (`typ: at+jwt`) with the current signing key.
class TokenIssuer final {
public:
    TokenIssuer(JsonWebKey signingKey, QString issuer, QString audience);

    /// An empty token means the key could not sign (a public-only key).
    IssuedToken mint(const AccessTokenRequest &request, std::chrono::system_clock::time_point now) const;

    const JsonWebKey &signingKey() const { return m_key; }

private:
    JsonWebKey m_key;
    QString m_issuer;
    QString m_audience;
};
