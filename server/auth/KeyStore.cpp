#include "auth/KeyStore.h"

#include "core/Clock.h"
#include "secrets/SecretStore.h"
#include "store/Database.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QLoggingCategory>
#include <QSqlError>
#include <QSqlQuery>

using namespace Qt::StringLiterals;

Q_LOGGING_CATEGORY(lcKeys, "gatehouse.auth.keys")

KeyStore::KeyStore(Database &database, SecretStore &secrets, const Clock &clock, Options options, QObject *parent)
    : QObject(parent)
    , m_database(database)
    , m_secrets(secrets)
    , m_clock(clock)
    , m_options(options)
{
}

QString KeyStore::secretName(const QString &keyId)
{
    return u"signing-key/"_s + keyId;
}

void KeyStore::load()
{
    pruneExpired();
    if (!reloadPublicKeys())
        return;
    QSqlQuery query(m_database.connection());
    if (!query.exec(u"SELECT kid, alg FROM signing_keys WHERE retired_at IS NULL"_s)) {
        Q_EMIT failed(u"cannot read signing keys: "_s + query.lastError().text());
        return;
    }
    if (!query.next()) {
        qCInfo(lcKeys) << "no signing key yet; generating one";
        rotate();
        return;
    }
    const QString keyId = query.value(0).toString();
    const auto algorithm = Jwa::fromName(query.value(1).toString());
    if (!algorithm) {
        Q_EMIT failed(u"signing key %1 has an unknown algorithm"_s.arg(keyId));
        return;
    }
    useStoredKey(keyId, *algorithm);
}

void KeyStore::useStoredKey(const QString &keyId, JwsAlgorithm algorithm)
{
    m_secrets.read(secretName(keyId), this, [this, keyId, algorithm](Result<QByteArray, SecretFailure> secret) {
        if (!secret && secret.error().error == SecretError::NotFound) {
            // The keychain lost it (wiped, another machine): tokens it signed still verify
            // from the public half; new ones get a new key.
            qCWarning(lcKeys).noquote() << "private half of signing key" << keyId << "is missing from"
                                        << m_secrets.location() << "- rotating to a new key";
            rotate();
            return;
        }
        if (!secret) {
            Q_EMIT failed(
                u"cannot read the signing key from %1: %2"_s.arg(m_secrets.location(), secret.error().message));
            return;
        }
        auto key = JsonWebKey::fromPem(*secret, algorithm, keyId);
        if (!key || key->thumbprint() != keyId.toLatin1()) {
            Q_EMIT failed(u"the stored signing key %1 is damaged or does not match its public half"_s.arg(keyId));
            return;
        }
        m_signingKey = std::move(key).value();
        Q_EMIT ready();
    });
}

void KeyStore::reload()
{
    if (m_busy)
        return; // a rotation of ours is under way, and reads the keys as it ends
    connect(
        this, &KeyStore::ready, this,
        [this] {
            if (m_signingKey)
                Q_EMIT rotated(m_signingKey->keyId());
        },
        Qt::SingleShotConnection);
    load();
}

void KeyStore::rotate()
{
    if (m_busy) {
        Q_EMIT failed(u"a key rotation is already under way"_s);
        return;
    }
    auto key = JsonWebKey::generate(m_options.algorithm);
    if (!key) {
        Q_EMIT failed(u"cannot generate a signing key: "_s + keyErrorName(key.error()));
        return;
    }
    m_busy = true;
    storeNewKey(*key);
}

void KeyStore::storeNewKey(const JsonWebKey &key)
{
    // The private half is stored before the database names the key, so a crash in between
    // leaves at worst an unused secret, never a signing key without its private half.
    m_secrets.write(secretName(key.keyId()), key.privateKeyMaterial(), this,
                    [this, key](Result<bool, SecretFailure> written) {
                        if (!written) {
                            m_busy = false;
                            Q_EMIT failed(u"cannot store the signing key in %1: %2"_s.arg(m_secrets.location(),
                                                                                          written.error().message));
                            return;
                        }
                        const QString previousKeyId = m_signingKey ? m_signingKey->keyId() : QString();
                        if (!commitRotation(key)) {
                            m_busy = false;
                            m_secrets.remove(secretName(key.keyId()), this, [](Result<bool, SecretFailure>) {});
                            return;
                        }
                        const bool firstKey = !m_signingKey;
                        m_signingKey = key;
                        m_busy = false;
                        if (!previousKeyId.isEmpty()) // a retired key only verifies: its private half can go
                            m_secrets.remove(secretName(previousKeyId), this, [](Result<bool, SecretFailure>) {});
                        qCInfo(lcKeys).noquote() << "signing key is now" << key.keyId() << Jwa::name(key.algorithm());
                        Q_EMIT rotated(key.keyId());
                        if (firstKey)
                            Q_EMIT ready();
                    });
}

bool KeyStore::commitRotation(const JsonWebKey &key)
{
    auto db = m_database.connection();
    const qint64 now = m_clock.nowSeconds();
    db.transaction();
    QSqlQuery retire(db);
    retire.prepare(u"UPDATE signing_keys SET retired_at = ?, verify_until = ? WHERE retired_at IS NULL"_s);
    retire.addBindValue(now);
    retire.addBindValue(now + m_options.verificationGrace.count());
    QSqlQuery insert(db);
    insert.prepare(u"INSERT INTO signing_keys(kid, alg, public_jwk, created_at) VALUES(?, ?, ?, ?)"_s);
    insert.addBindValue(key.keyId());
    insert.addBindValue(QString(Jwa::name(key.algorithm())));
    insert.addBindValue(QString::fromUtf8(QJsonDocument(key.publicJwk()).toJson(QJsonDocument::Compact)));
    insert.addBindValue(now);
    if (!retire.exec() || !insert.exec() || !db.commit()) {
        const QString error = insert.lastError().isValid() ? insert.lastError().text() : retire.lastError().text();
        db.rollback();
        Q_EMIT failed(u"cannot record the new signing key: "_s + error);
        return false;
    }
    return reloadPublicKeys();
}

void KeyStore::pruneExpired()
{
    QSqlQuery query(m_database.connection());
    query.prepare(u"DELETE FROM signing_keys WHERE verify_until IS NOT NULL AND verify_until < ?"_s);
    query.addBindValue(m_clock.nowSeconds());
    if (query.exec() && query.numRowsAffected() > 0)
        qCInfo(lcKeys) << "dropped" << query.numRowsAffected() << "retired keys past their grace period";
}

bool KeyStore::reloadPublicKeys()
{
    QSqlQuery query(m_database.connection());
    query.prepare(u"SELECT kid, public_jwk FROM signing_keys WHERE verify_until IS NULL OR verify_until >= ? "
                  "ORDER BY created_at"_s);
    query.addBindValue(m_clock.nowSeconds());
    if (!query.exec()) {
        Q_EMIT failed(u"cannot read signing keys: "_s + query.lastError().text());
        return false;
    }
    QList<JsonWebKey> keys;
    while (query.next()) {
        auto key = JsonWebKey::fromJwk(QJsonDocument::fromJson(query.value(1).toString().toUtf8()).object());
        if (!key) {
            Q_EMIT failed(
                u"stored public key %1 is damaged (%2)"_s.arg(query.value(0).toString(), keyErrorName(key.error())));
            return false;
        }
        keys.append(*key);
    }
    m_verificationKeys = keys;
    return true;
}

QList<SigningKeyInfo> KeyStore::keys() const
{
    QList<SigningKeyInfo> list;
    QSqlQuery query(m_database.connection());
    if (!query.exec(u"SELECT kid, alg, created_at, retired_at, verify_until FROM signing_keys ORDER BY created_at"_s))
        return list;
    while (query.next()) {
        SigningKeyInfo info;
        info.keyId = query.value(0).toString();
        info.algorithm = query.value(1).toString();
        info.createdAt = query.value(2).toLongLong();
        info.retiredAt = query.value(3).toLongLong();
        info.verifyUntil = query.value(4).toLongLong();
        info.active = query.value(3).isNull();
        list.append(info);
    }
    return list;
}

QJsonObject KeyStore::jwks() const
{
    QJsonArray keys;
    for (const auto &key : m_verificationKeys)
        keys.append(key.publicJwk());
    return QJsonObject { { "keys"_L1, keys } };
}
