// The key behind device cookies and form tokens: made once, kept across restarts, replaced
// when what is stored is not a key.
#include "secrets/CookieKey.h"
#include "secrets/FileSecretStore.h"

#include <QTemporaryDir>
#include <QTest>

#include "SecretWaiter.h"

using namespace Qt::StringLiterals;

class TestCookieKey final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void keptAcrossLoads();
    void storedValueThatIsNoKeyIsReplaced_data();
    void storedValueThatIsNoKeyIsReplaced();

private:
    static Result<QByteArray, SecretFailure> load(SecretStore &store)
    {
        return SecretWaiter::wait<QByteArray>(
            [&store](QObject *context, auto done) { CookieKey::load(store, context, done); });
    }
};

void TestCookieKey::keptAcrossLoads()
{
    QTemporaryDir dir;
    FileSecretStore store(dir.filePath(u"secrets"_s));
    const auto first = load(store);
    QVERIFY(first.ok());
    QCOMPARE(first->size(), 32);
    QCOMPARE(*load(store), *first);
    QCOMPARE(*load(*std::make_unique<FileSecretStore>(dir.filePath(u"secrets"_s))), *first);
    // Another data directory has its own key.
    QTemporaryDir other;
    FileSecretStore otherStore(other.filePath(u"secrets"_s));
    QVERIFY(*load(otherStore) != *first);
}

void TestCookieKey::storedValueThatIsNoKeyIsReplaced_data()
{
    QTest::addColumn<QByteArray>("stored");
    QTest::newRow("an empty secret") << QByteArray();
    QTest::newRow("a short key") << QByteArray("AAAA");
    QTest::newRow("not base64url") << QByteArray(43, '*');
    QTest::newRow("64 bytes") << QByteArray(86, 'A');
}

void TestCookieKey::storedValueThatIsNoKeyIsReplaced()
{
    QFETCH(QByteArray, stored);
    QTemporaryDir dir;
    FileSecretStore store(dir.filePath(u"secrets"_s));
    QVERIFY(SecretWaiter::write(store, u"cookie-key"_s, stored).ok());
    const auto key = load(store);
    QVERIFY(key.ok());
    QCOMPARE(key->size(), 32);
    QCOMPARE(*load(store), *key);
}

QTEST_GUILESS_MAIN(TestCookieKey)
#include "tst_cookiekey.moc"
