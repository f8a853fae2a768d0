#include "auth/TokenVerifier.h"

#include "auth/CompactJws.h"
#include "auth/StrictJson.h"

#include <QJsonArray>

#include <cmath>

using namespace Qt::StringLiterals;

namespace {
constexpr double largestNumericDate = 253402300799.0; // 9999-12-31T23:59:59Z

/// RFC 9068 §4: `typ` is "at+jwt"; RFC 7515 §4.1.9 lets the "application/" prefix be left
/// out, and media types compare without regard to case.
bool typeMatches(const QJsonValue &typ, const QString &expected)
{
    if (!typ.isString())
        return false;
    QString value = typ.toString();
    if (value.startsWith("application/"_L1, Qt::CaseInsensitive))
        value = value.sliced(12);
    return value.compare(expected, Qt::CaseInsensitive) == 0;
}

/// A NumericDate (RFC 7519 §2): a finite JSON number in a sane range.
Result<qint64, TokenError> numericDate(const QJsonObject &claims, QLatin1StringView name, bool required)
{
    const auto value = claims.value(name);
    if (value.isUndefined())
        return required ? fail(TokenError::MissingClaim) : Result<qint64, TokenError>(0);
    if (!value.isDouble())
        return fail(TokenError::InvalidClaim);
    const double seconds = value.toDouble();
    if (!std::isfinite(seconds) || seconds < 0 || seconds > largestNumericDate)
        return fail(TokenError::InvalidClaim);
    return static_cast<qint64>(std::floor(seconds));
}

Result<QString, TokenError> stringClaim(const QJsonObject &claims, QLatin1StringView name, bool required)
{
    const auto value = claims.value(name);
    if (value.isUndefined())
        return required ? fail(TokenError::MissingClaim) : Result<QString, TokenError>(QString());
    if (!value.isString() || value.toString().isEmpty())
        return fail(TokenError::InvalidClaim);
    return value.toString();
}

Result<QStringList, TokenError> stringListClaim(const QJsonObject &claims, QLatin1StringView name, bool required)
{
    const auto value = claims.value(name);
    if (value.isUndefined())
        return required ? fail(TokenError::MissingClaim) : Result<QStringList, TokenError>(QStringList());
    if (value.isString())
        return QStringList { value.toString() };
    if (!value.isArray())
        return fail(TokenError::InvalidClaim);
    QStringList list;
    for (const auto &item : value.toArray()) {
        if (!item.isString())
            return fail(TokenError::InvalidClaim);
        list.append(item.toString());
    }
    return list;
}

/// Moves a claim into `target`, or hands back the refusal.
template<typename T> std::optional<TokenError> take(T &target, Result<T, TokenError> claim)
{
    if (!claim)
        return claim.error();
    target = std::move(claim).value();
    return std::nullopt;
}

Result<AccessClaims, TokenError> readClaims(const QJsonObject &object, const IssuerPolicy &policy)
{
    AccessClaims claims;
    claims.local = policy.local;
    const std::optional<TokenError> errors[] = {
        take(claims.issuer, stringClaim(object, "iss"_L1, true)),
        take(claims.subject, stringClaim(object, "sub"_L1, true)),
        take(claims.audiences, stringListClaim(object, "aud"_L1, true)),
        take(claims.expiresAt, numericDate(object, "exp"_L1, true)),
        take(claims.issuedAt, numericDate(object, "iat"_L1, policy.local)),
        take(claims.jwtId, stringClaim(object, "jti"_L1, policy.local)),
        take(claims.sessionId, stringClaim(object, "sid"_L1, policy.local)),
        take(claims.notBefore, numericDate(object, "nbf"_L1, false)),
        take(claims.deviceId, stringClaim(object, "device"_L1, false)),
        take(claims.clientId, stringClaim(object, "client_id"_L1, false)),
        take(claims.roles, stringListClaim(object, "roles"_L1, false)),
    };
    for (const auto &error : errors) {
        if (error)
            return fail(*error);
    }
    return claims;
}
} // namespace

TokenVerifier::TokenVerifier(std::shared_ptr<const KeySet> keys, Options options)
    : m_keys(std::move(keys))
    , m_options(options)
{
}

Result<AccessClaims, TokenError> TokenVerifier::verify(QByteArrayView token,
                                                       std::chrono::system_clock::time_point now) const
{
    auto jws = CompactJws::parse(token, m_options.maximumTokenSize);
    if (!jws)
        return fail(jws.error());

    const KeySet::Entry *entry = jws->keyId.isEmpty() ? m_keys->defaultEntry() : m_keys->find(jws->keyId);
    if (!entry)
        return fail(TokenError::UnknownKey);
    if (const auto signature = jws->verifyWith(entry->key); !signature)
        return fail(signature.error());

    // Only now is the content trusted enough to read.
    const IssuerPolicy &policy = *entry->policy;
    if (!typeMatches(jws->header.value("typ"_L1), policy.type))
        return fail(TokenError::WrongType);
    const auto object = StrictJson::parseObject(jws->payload);
    if (!object)
        return fail(object.error() == JsonError::DuplicateMember ? TokenError::DuplicateMember : TokenError::BadClaims);
    auto claims = readClaims(*object, policy);
    if (!claims)
        return claims;

    if (claims->issuer != policy.issuer)
        return fail(TokenError::WrongIssuer);
    if (!claims->audiences.contains(policy.audience))
        return fail(TokenError::WrongAudience);

    const qint64 seconds = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
    const qint64 skew = m_options.clockSkew.count();
    if (seconds >= claims->expiresAt + skew) // RFC 7519 §4.1.4: not on or after exp
        return fail(TokenError::Expired);
    if (claims->notBefore != 0 && seconds + skew < claims->notBefore)
        return fail(TokenError::NotYetValid);
    if (claims->issuedAt > seconds + skew)
        return fail(TokenError::IssuedInFuture);
    // Our own tokens get their lifetime where they are minted. Another issuer's token could
    // say `exp` 9999: it may live no longer than max_access_token_ttl lets ours live. Without
    // `iat` its age is unknown, so what is left of it is counted from now, with the skew.
    const qint64 maximumLifetime = m_options.maximumLifetime.count();
    if (!policy.local
        && (claims->issuedAt != 0 ? claims->expiresAt - claims->issuedAt > maximumLifetime
                                  : claims->expiresAt - seconds > maximumLifetime + skew))
        return fail(TokenError::LifetimeTooLong);
    claims->keyId = entry->key.keyId();
    claims->symmetricKey = entry->key.isSymmetric();
    return claims;
}
