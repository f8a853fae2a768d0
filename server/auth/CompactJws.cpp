#include "auth/CompactJws.h"

#include "auth/Base64Url.h"
#include "auth/StrictJson.h"

#include <QJsonDocument>

using namespace Qt::StringLiterals;

Result<CompactJws, TokenError> CompactJws::parse(QByteArrayView token, qsizetype maximumSize)
{
    if (token.size() > maximumSize)
        return fail(TokenError::TooLarge);
    const qsizetype firstDot = token.indexOf('.');
    const qsizetype secondDot = firstDot < 0 ? -1 : token.indexOf('.', firstDot + 1);
    if (firstDot <= 0 || secondDot < 0 || token.indexOf('.', secondDot + 1) >= 0)
        return fail(TokenError::Malformed);

    const auto headerBytes = Base64Url::decode(token.first(firstDot));
    auto payload = Base64Url::decode(token.sliced(firstDot + 1, secondDot - firstDot - 1));
    auto signature = Base64Url::decode(token.sliced(secondDot + 1));
    if (!headerBytes || !payload || !signature)
        return fail(TokenError::BadEncoding);

    auto header = StrictJson::parseObject(*headerBytes);
    if (!header)
        return fail(header.error() == JsonError::DuplicateMember ? TokenError::DuplicateMember : TokenError::BadHeader);

    const auto alg = header->value("alg"_L1);
    if (!alg.isString())
        return fail(TokenError::BadHeader);
    if (alg.toString().compare("none"_L1, Qt::CaseInsensitive) == 0)
        return fail(TokenError::AlgorithmNone);
    const auto algorithm = Jwa::fromName(alg.toString());
    if (!algorithm)
        return fail(TokenError::UnsupportedAlgorithm);
    if (header->contains("crit"_L1))
        return fail(TokenError::UnsupportedCritical);
    const auto kid = header->value("kid"_L1);
    if (!kid.isUndefined() && (!kid.isString() || kid.toString().isEmpty()))
        return fail(TokenError::BadHeader);
    if (signature->isEmpty())
        return fail(TokenError::BadSignature);

    CompactJws jws;
    jws.header = std::move(header).value();
    jws.algorithm = *algorithm;
    jws.keyId = kid.toString();
    jws.signingInput = token.first(secondDot).toByteArray();
    jws.payload = std::move(*payload);
    jws.signature = std::move(*signature);
    return jws;
}

QByteArray CompactJws::sign(QJsonObject header, QByteArrayView payload, const JsonWebKey &key)
{
    header.insert("alg"_L1, Jwa::name(key.algorithm()));
    header.insert("kid"_L1, key.keyId());
    QByteArray token = Base64Url::encode(QJsonDocument(header).toJson(QJsonDocument::Compact));
    token += '.';
    token += Base64Url::encode(payload);
    const QByteArray signature = key.sign(token);
    if (signature.isEmpty())
        return {};
    token += '.';
    token += Base64Url::encode(signature);
    return token;
}

Result<bool, TokenError> CompactJws::verifyWith(const JsonWebKey &key) const
{
    // The key decides the algorithm; the header may only agree (RFC 8725 §3.1).
    if (algorithm != key.algorithm())
        return fail(TokenError::AlgorithmMismatch);
    if (!keyId.isEmpty() && keyId != key.keyId())
        return fail(TokenError::UnknownKey);
    if (!key.verify(signingInput, signature))
        return fail(TokenError::BadSignature);
    return true;
}
