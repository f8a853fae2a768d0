#include "secrets/CookieKey.h"

#include "auth/Base64Url.h"

#include <openssl/rand.h>

using namespace Qt::StringLiterals;

namespace {
const auto secretName = u"cookie-key"_s;
constexpr qsizetype keyBytes = 32;

void create(SecretStore &secrets, QObject *context, const CookieKey::Done &done)
{
    QByteArray key(keyBytes, Qt::Uninitialized);
    if (RAND_bytes(reinterpret_cast<unsigned char *>(key.data()), int(keyBytes)) != 1)
        return done(Result<QByteArray, SecretFailure>::failure({ SecretError::Failed, u"no randomness"_s }));
    // Stored as text: the keychain and the files hold words, not arbitrary bytes.
    secrets.write(secretName, Base64Url::encode(key), context, [key, done](Result<bool, SecretFailure> written) {
        if (!written)
            return done(Result<QByteArray, SecretFailure>::failure(written.error()));
        done(key);
    });
}
} // namespace

void CookieKey::load(SecretStore &secrets, QObject *context, Done done)
{
    secrets.read(secretName, context, [&secrets, context, done](Result<QByteArray, SecretFailure> read) {
        if (read) {
            if (const auto key = Base64Url::decode(read->trimmed()); key && key->size() == keyBytes)
                return done(*key);
        } else if (read.error().error != SecretError::NotFound) {
            return done(read);
        }
        create(secrets, context, done);
    });
}
