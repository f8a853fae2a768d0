#include "auth/FormToken.h"

#include "auth/Base64Url.h"
#include "auth/Hmac.h"
#include "core/RandomToken.h"

#include <algorithm>

namespace {
constexpr QByteArrayView purposePrefix = "gatehouse form token v1 ";
constexpr int nonceBytes = 16;
constexpr qsizetype maximumTimeDigits = 12;
constexpr qint64 clockSlack = 60; ///< seconds a token may seem to come from the future
} // namespace

FormToken::FormToken(QByteArray key, std::chrono::seconds lifetime)
    : m_key(std::move(key))
    , m_lifetime(lifetime)
{
}

std::chrono::seconds FormToken::lifetime() const
{
    return m_lifetime;
}

QByteArray FormToken::newNonce()
{
    return RandomToken::generate(nonceBytes).toLatin1();
}

bool FormToken::isNonce(QByteArrayView text)
{
    const auto bytes = Base64Url::decode(text);
    return bytes && bytes->size() == nonceBytes;
}

QByteArray FormToken::signature(QByteArrayView purpose, QByteArrayView nonce, const QStringList &binding,
                                QByteArrayView issuedAt) const
{
    QList<QByteArray> fields { nonce.toByteArray(), issuedAt.toByteArray() };
    for (const QString &value : binding)
        fields.append(value.toUtf8());
    const QByteArray label = purposePrefix.toByteArray() + purpose.toByteArray();
    return Hmac::sign(m_key, label, fields);
}

QByteArray FormToken::issue(QByteArrayView purpose, QByteArrayView nonce, const QStringList &binding,
                            qint64 nowSeconds) const
{
    const QByteArray issuedAt = QByteArray::number(nowSeconds);
    return issuedAt + '.' + Base64Url::encode(signature(purpose, nonce, binding, issuedAt));
}

FormToken::Check FormToken::check(QByteArrayView token, QByteArrayView purpose, QByteArrayView nonce,
                                  const QStringList &binding, qint64 nowSeconds) const
{
    if (token.isEmpty() || !isNonce(nonce))
        return Check::Missing;
    const qsizetype dot = token.indexOf('.');
    if (dot <= 0 || dot > maximumTimeDigits)
        return Check::Forged;
    const QByteArrayView issuedAt = token.first(dot);
    if (!std::all_of(issuedAt.begin(), issuedAt.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return Check::Forged;
    const auto mac = Base64Url::decode(token.sliced(dot + 1));
    if (!mac || !Hmac::equal(*mac, signature(purpose, nonce, binding, issuedAt)))
        return Check::Forged;
    const qint64 age = nowSeconds - issuedAt.toLongLong();
    if (age > m_lifetime.count() || age < -clockSlack)
        return Check::Expired;
    return Check::Valid;
}
