#include "secrets/AdminToken.h"

#include "core/RandomToken.h"

#include <QCryptographicHash>

#include <openssl/crypto.h>

using namespace Qt::StringLiterals;

namespace {
const auto secretName = u"admin-token"_s;

QByteArray generate()
{
    return "gha_" + RandomToken::generate(32).toLatin1();
}
} // namespace

void AdminToken::rotate(SecretStore &secrets, QObject *context, Done done)
{
    const QByteArray token = generate();
    secrets.write(secretName, token, context, [token, done](Result<bool, SecretFailure> written) {
        if (!written)
            return done(Result<QByteArray, SecretFailure>::failure(written.error()));
        done(token);
    });
}

void AdminToken::load(SecretStore &secrets, QObject *context, Done done)
{
    secrets.read(secretName, context, [&secrets, context, done](Result<QByteArray, SecretFailure> read) {
        if (read && read->startsWith("gha_"))
            return done(*read);
        if (!read && read.error().error != SecretError::NotFound)
            return done(read);
        rotate(secrets, context, done);
    });
}

QByteArray AdminToken::hash(QByteArrayView token)
{
    return QCryptographicHash::hash(token, QCryptographicHash::Sha256);
}

bool AdminToken::matches(QByteArrayView presented, const QByteArray &expectedHash)
{
    // Hashing first makes the comparison constant-time whatever the presented length.
    const QByteArray presentedHash = hash(presented);
    return !expectedHash.isEmpty() && expectedHash.size() == presentedHash.size()
        && CRYPTO_memcmp(presentedHash.constData(), expectedHash.constData(), static_cast<size_t>(expectedHash.size()))
        == 0;
}
