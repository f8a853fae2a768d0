#include "auth/KeyStore.h"
#include "secrets/FileSecretStore.h"
#include "store/Database.h"

#include <QJsonArray>
#include <QSignalSpy>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

#include "ManualClock.h"
#include "SecretWaiter.h"

using namespace Qt::StringLiterals;
using namespace std::chrono_literals;

namespace {
constexpr auto grace = 3600s;
}

class TestKeyStore final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();
    void firstLoadGeneratesAnEdDsaKey();
    void reloadUsesTheSameKey();
    void rotationKeepsTheOldKeyForVerification();
    void retiredKeyIsDroppedAfterItsGrace();
    void lostPrivateKeyLeadsToANewKey();
    void damagedPrivateKeyIsAClearError();
    void otherAlgorithmsCanBeConfigured();

private:
    std::unique_ptr<KeyStore> makeStore(JwsAlgorithm algorithm = JwsAlgorithm::EdDSA);
    bool loadReady(KeyStore &store);

    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<Database> m_database;
    std::unique_ptr<FileSecretStore> m_secrets;
    ManualClock m_clock;
};

void TestKeyStore::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    m_database = std::make_unique<Database>();
    QVERIFY(m_database->open(m_dir->filePath(u"gatehouse.sqlite"_s)));
    m_secrets = std::make_unique<FileSecretStore>(m_dir->filePath(u"secrets"_s));
    m_clock.set(1'800'000'000);
}

void TestKeyStore::cleanup()
{
    m_database.reset();
    m_dir.reset();
}

std::unique_ptr<KeyStore> TestKeyStore::makeStore(JwsAlgorithm algorithm)
{
    return std::make_unique<KeyStore>(*m_database, *m_secrets, m_clock, KeyStore::Options { algorithm, grace });
}

bool TestKeyStore::loadReady(KeyStore &store)
{
    QSignalSpy ready(&store, &KeyStore::ready);
    QSignalSpy failed(&store, &KeyStore::failed);
    store.load();
    return ready.wait(5000) && failed.isEmpty();
}

void TestKeyStore::firstLoadGeneratesAnEdDsaKey()
{
    auto store = makeStore();
    QVERIFY(loadReady(*store));
    QVERIFY(store->signingKey().has_value());
    QCOMPARE(store->signingKey()->algorithm(), JwsAlgorithm::EdDSA);
    QCOMPARE(store->keys().size(), 1);
    QVERIFY(store->keys().first().active);
    const auto jwks = store->jwks().value("keys"_L1).toArray();
    QCOMPARE(jwks.size(), 1);
    QCOMPARE(jwks.first().toObject().value("kid"_L1).toString(), store->signingKey()->keyId());
    QVERIFY(!jwks.first().toObject().contains("d"_L1));
    QVERIFY(SecretWaiter::read(*m_secrets, u"signing-key/"_s + store->signingKey()->keyId()).ok());
}

void TestKeyStore::reloadUsesTheSameKey()
{
    auto first = makeStore();
    QVERIFY(loadReady(*first));
    const QString keyId = first->signingKey()->keyId();
    const QByteArray signature = first->signingKey()->sign("x");
    first.reset();
    auto second = makeStore();
    QVERIFY(loadReady(*second));
    QCOMPARE(second->signingKey()->keyId(), keyId);
    QVERIFY(second->verificationKeys().first().verify("x", signature));
}

void TestKeyStore::rotationKeepsTheOldKeyForVerification()
{
    auto store = makeStore();
    QVERIFY(loadReady(*store));
    const auto oldKey = *store->signingKey();
    const QByteArray oldSignature = oldKey.sign("token");
    m_clock.advance(100s);
    QSignalSpy rotated(store.get(), &KeyStore::rotated);
    store->rotate();
    QVERIFY(rotated.wait(5000));
    QVERIFY(store->signingKey()->keyId() != oldKey.keyId());
    QCOMPARE(rotated.first().first().toString(), store->signingKey()->keyId());
    QCOMPARE(store->jwks().value("keys"_L1).toArray().size(), 2);
    const auto infos = store->keys();
    QCOMPARE(infos.size(), 2);
    QCOMPARE(infos[0].keyId, oldKey.keyId());
    QCOMPARE(infos[0].retiredAt, m_clock.nowSeconds());
    QCOMPARE(infos[0].verifyUntil, m_clock.nowSeconds() + grace.count());
    QVERIFY(infos[1].active);
    // One list: begin() and end() of two temporaries would walk from one into the other.
    const auto keys = store->verificationKeys();
    const bool oldStillVerifies = std::any_of(keys.begin(), keys.end(),
                                              [&](const JsonWebKey &key) { return key.verify("token", oldSignature); });
    QVERIFY(oldStillVerifies);
    // The retired key's private half is no longer needed, so it is gone.
    QTRY_COMPARE(SecretWaiter::read(*m_secrets, u"signing-key/"_s + oldKey.keyId()).ok(), false);
}

void TestKeyStore::retiredKeyIsDroppedAfterItsGrace()
{
    auto store = makeStore();
    QVERIFY(loadReady(*store));
    const QString oldKeyId = store->signingKey()->keyId();
    QSignalSpy rotated(store.get(), &KeyStore::rotated);
    store->rotate();
    QVERIFY(rotated.wait(5000));
    store.reset();
    m_clock.advance(grace + 1s);
    auto later = makeStore();
    QVERIFY(loadReady(*later));
    QCOMPARE(later->keys().size(), 1);
    QVERIFY(later->keys().first().keyId != oldKeyId);
    QCOMPARE(later->jwks().value("keys"_L1).toArray().size(), 1);
}

void TestKeyStore::lostPrivateKeyLeadsToANewKey()
{
    auto store = makeStore();
    QVERIFY(loadReady(*store));
    const QString lostKeyId = store->signingKey()->keyId();
    store.reset();
    QVERIFY(SecretWaiter::remove(*m_secrets, u"signing-key/"_s + lostKeyId).ok());
    auto recovered = makeStore();
    QVERIFY(loadReady(*recovered));
    QVERIFY(recovered->signingKey()->keyId() != lostKeyId);
    QCOMPARE(recovered->keys().size(), 2); // the lost key's public half still verifies its tokens
}

void TestKeyStore::damagedPrivateKeyIsAClearError()
{
    auto store = makeStore();
    QVERIFY(loadReady(*store));
    const QString keyId = store->signingKey()->keyId();
    store.reset();
    QVERIFY(
        SecretWaiter::write(*m_secrets, u"signing-key/"_s + keyId, "-----BEGIN PRIVATE KEY-----\nnot a key\n").ok());
    auto damaged = makeStore();
    QSignalSpy failed(damaged.get(), &KeyStore::failed);
    damaged->load();
    QVERIFY(failed.wait(5000));
    QVERIFY(failed.first().first().toString().contains(keyId));
    QVERIFY(!damaged->isReady());
}

void TestKeyStore::otherAlgorithmsCanBeConfigured()
{
    auto store = makeStore(JwsAlgorithm::ES256);
    QVERIFY(loadReady(*store));
    QCOMPARE(store->signingKey()->algorithm(), JwsAlgorithm::ES256);
    QCOMPARE(store->jwks()["keys"_L1][0]["crv"_L1].toString(), u"P-256"_s);
}

QTEST_GUILESS_MAIN(TestKeyStore)
#include "tst_keystore.moc"
