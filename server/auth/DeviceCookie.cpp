#include "auth/DeviceCookie.h"

#include "auth/Base64Url.h"
#include "auth/Hmac.h"
#include "core/RandomToken.h"

#include <QList>

#include <algorithm>

namespace {
constexpr QByteArrayView purpose = "gatehouse device cookie v1";
constexpr int deviceIdBytes = 16;
constexpr qsizetype maximumExpiryDigits = 12;

bool isDecimal(QByteArrayView text)
{
    return !text.isEmpty() && text.size() <= maximumExpiryDigits
        && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}
} // namespace

DeviceCookie::DeviceCookie(QByteArray key, std::chrono::seconds lifetime)
    : m_key(std::move(key))
    , m_lifetime(lifetime)
{
}

std::chrono::seconds DeviceCookie::lifetime() const
{
    return m_lifetime;
}

QString DeviceCookie::newDeviceId()
{
    return RandomToken::generate(deviceIdBytes);
}

QByteArray DeviceCookie::signature(const QString &account, QByteArrayView deviceId, QByteArrayView expiry) const
{
    return Hmac::sign(m_key, purpose, { account.toUtf8(), deviceId.toByteArray(), expiry.toByteArray() });
}

QByteArray DeviceCookie::issue(const QString &account, const QString &deviceId, qint64 nowSeconds) const
{
    const QByteArray id = deviceId.toLatin1();
    const QByteArray expiry = QByteArray::number(nowSeconds + m_lifetime.count());
    return id + '.' + expiry + '.' + Base64Url::encode(signature(account, id, expiry));
}

std::optional<QString> DeviceCookie::verify(QByteArrayView cookie, const QString &account, qint64 nowSeconds) const
{
    const QList<QByteArray> parts = cookie.toByteArray().split('.');
    if (parts.size() != 3 || !isDecimal(parts[1]))
        return std::nullopt;
    const auto id = Base64Url::decode(parts[0]);
    const auto mac = Base64Url::decode(parts[2]);
    if (!id || id->size() != deviceIdBytes || !mac)
        return std::nullopt;
    if (!Hmac::equal(*mac, signature(account, parts[0], parts[1])) || parts[1].toLongLong() <= nowSeconds)
        return std::nullopt;
    return QString::fromLatin1(parts[0]);
}
