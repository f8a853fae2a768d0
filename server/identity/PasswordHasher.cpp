#include "identity/PasswordHasher.h"

#include <argon2.h>
#include <openssl/rand.h>

namespace {
constexpr uint32_t timeCost = 2;
constexpr uint32_t memoryCostKiB = 19 * 1024;
constexpr uint32_t parallelism = 1;
constexpr size_t saltLength = 16;
constexpr size_t hashLength = 32;
} // namespace

QByteArray PasswordHasher::hash(QByteArrayView password)
{
    unsigned char salt[saltLength];
    if (RAND_bytes(salt, sizeof salt) != 1)
        return {};
    const size_t encodedLength
        = argon2_encodedlen(timeCost, memoryCostKiB, parallelism, saltLength, hashLength, Argon2_id);
    QByteArray encoded(static_cast<qsizetype>(encodedLength), '\0');
    const int status = argon2id_hash_encoded(timeCost, memoryCostKiB, parallelism, password.data(),
                                             static_cast<size_t>(password.size()), salt, saltLength, hashLength,
                                             encoded.data(), encodedLength);
    if (status != ARGON2_OK)
        return {};
    encoded.truncate(static_cast<qsizetype>(qstrlen(encoded.constData())));
    return encoded;
}

bool PasswordHasher::verify(QByteArrayView password, const QByteArray &encodedHash)
{
    if (!encodedHash.startsWith("$argon2id$"))
        return false;
    return argon2id_verify(encodedHash.constData(), password.data(), static_cast<size_t>(password.size())) == ARGON2_OK;
}
