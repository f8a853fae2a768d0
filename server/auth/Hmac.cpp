#include "auth/Hmac.h"

#include <QMessageAuthenticationCode>

#include <openssl/crypto.h>

namespace {
void addField(QMessageAuthenticationCode &mac, QByteArrayView field)
{
    const auto length = static_cast<quint32>(field.size());
    const char prefix[4] = { char(length >> 24), char(length >> 16), char(length >> 8), char(length) };
    mac.addData(prefix, 4);
    mac.addData(field.data(), field.size());
}
} // namespace

QByteArray Hmac::sign(QByteArrayView key, QByteArrayView purpose, const QList<QByteArray> &fields)
{
    QMessageAuthenticationCode mac(QCryptographicHash::Sha256, key.toByteArray());
    addField(mac, purpose);
    for (const QByteArray &field : fields)
        addField(mac, field);
    return mac.result();
}

bool Hmac::equal(QByteArrayView first, QByteArrayView second)
{
    return first.size() == second.size()
        && CRYPTO_memcmp(first.data(), second.data(), static_cast<size_t>(first.size())) == 0;
}
