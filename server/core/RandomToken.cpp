#include "core/RandomToken.h"

#include <QByteArray>
#include <QCryptographicHash>

#include <openssl/rand.h>

#include <cstdlib>

QString RandomToken::generate(int bytes)
{
    QByteArray random(bytes, Qt::Uninitialized);
    if (RAND_bytes(reinterpret_cast<unsigned char *>(random.data()), bytes) != 1)
        std::abort(); // no randomness means no safe identifiers: stopping is the only safe answer
    return QString::fromLatin1(random.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals));
}

QString RandomToken::storedHash(QByteArrayView secret)
{
    return QString::fromLatin1(QCryptographicHash::hash(secret, QCryptographicHash::Sha256).toHex());
}
