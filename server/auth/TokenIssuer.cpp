#include "auth/TokenIssuer.h"

#include "auth/CompactJws.h"
#include "core/RandomToken.h"

#include <QJsonArray>
#include <QJsonDocument>

using namespace Qt::StringLiterals;

namespace {
constexpr auto ownClientId = "gatehouse"_L1;
}

TokenIssuer::TokenIssuer(JsonWebKey signingKey, QString issuer, QString audience)
    : m_key(std::move(signingKey))
    , m_issuer(std::move(issuer))
    , m_audience(std::move(audience))
{
}

IssuedToken TokenIssuer::mint(const AccessTokenRequest &request, std::chrono::system_clock::time_point now) const
{
    IssuedToken issued;
    issued.jwtId = RandomToken::generate(16);
    issued.issuedAt = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
    issued.expiresAt = issued.issuedAt + request.lifetime.count();

    QJsonObject claims {
        { "iss"_L1, m_issuer },
        { "sub"_L1, request.subject },
        { "aud"_L1, m_audience },
        { "client_id"_L1, request.clientId.isEmpty() ? QString(ownClientId) : request.clientId },
        { "jti"_L1, issued.jwtId },
        { "sid"_L1, request.sessionId },
        { "iat"_L1, issued.issuedAt },
        { "nbf"_L1, issued.issuedAt },
        { "exp"_L1, issued.expiresAt },
        { "roles"_L1, QJsonArray::fromStringList(request.roles) },
    };
    if (!request.deviceId.isEmpty())
        claims.insert("device"_L1, request.deviceId);
    issued.token = CompactJws::sign(QJsonObject { { "typ"_L1, "at+jwt"_L1 } },
                                    QJsonDocument(claims).toJson(QJsonDocument::Compact), m_key);
    return issued;
}
