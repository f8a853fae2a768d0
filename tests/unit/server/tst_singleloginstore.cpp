// SqliteSingleLoginStore on a real SQLite file: single logins and authorization codes, as the
// OpenID provider relies on them (codes served once, logins ended once, lifetimes only pushed on).
#include "oidc/SqliteSingleLoginStore.h"
#include "store/Database.h"

#include <QTemporaryDir>
#include <QTest>

using namespace Qt::StringLiterals;

class TestSingleLoginStore final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();
    void loginsAreFoundByCookieHashOnly();
    void lifetimesOnlyMoveForward();
    void endingIsOnceAndPerUser();
    void codesServeOnce();
    void purgeKeepsWhatStillMatters();

private:
    static SingleLogin login(const QString &id, const QString &user, qint64 now);

    QTemporaryDir m_dir;
    std::unique_ptr<Database> m_database;
    std::unique_ptr<SqliteSingleLoginStore> m_store;
};

SingleLogin TestSingleLoginStore::login(const QString &id, const QString &user, qint64 now)
{
    return SingleLogin { id, user, u"browser 1"_s, now, now + 600, now + 300, 0 };
}

void TestSingleLoginStore::init()
{
    m_database = std::make_unique<Database>();
    QVERIFY(m_database->open(
        m_dir.filePath(u"gatehouse-%1.sqlite"_s.arg(QString::fromLatin1(QTest::currentTestFunction())))));
    m_store = std::make_unique<SqliteSingleLoginStore>(*m_database);
}

void TestSingleLoginStore::cleanup()
{
    m_store.reset();
    m_database.reset();
}

void TestSingleLoginStore::loginsAreFoundByCookieHashOnly()
{
    QVERIFY(m_store->createLogin(login(u"l_1"_s, u"alice"_s, 1000), u"hash-1"_s).ok());
    const auto found = m_store->findLoginByCookie(u"hash-1"_s);
    QVERIFY(found);
    QCOMPARE(found->id, u"l_1"_s);
    QCOMPARE(found->username, u"alice"_s);
    QCOMPARE(found->deviceId, u"browser 1"_s);
    QCOMPARE(found->expiresAt, 1600);
    QVERIFY(found->isUsable(1200));
    QVERIFY(!found->isUsable(1300)); // its access token has expired
    QVERIFY(!m_store->findLoginByCookie(u"l_1"_s)); // the id is not the cookie
    QVERIFY(!m_store->findLoginByCookie(u"hash-1' OR '1'='1"_s));
    // A cookie hash is unique: a second login cannot take it over.
    QVERIFY(!m_store->createLogin(login(u"l_2"_s, u"mallory"_s, 1000), u"hash-1"_s).ok());
    QCOMPARE(m_store->findLoginByCookie(u"hash-1"_s)->username, u"alice"_s);
}

void TestSingleLoginStore::lifetimesOnlyMoveForward()
{
    QVERIFY(m_store->createLogin(login(u"l_1"_s, u"alice"_s, 1000), u"h"_s).ok());
    QVERIFY(m_store->extendLogin(u"l_1"_s, 2000).ok());
    QVERIFY(m_store->extendLogin(u"l_1"_s, 1500).ok()); // a late, shorter extension does not shorten it
    QCOMPARE(m_store->findLogin(u"l_1"_s)->expiresAt, 2000);
    m_store->recordAccessToken(u"l_1"_s, 5000);
    m_store->recordAccessToken(u"l_1"_s, 4000);
    QCOMPARE(m_store->findLogin(u"l_1"_s)->accessExpiresAt, 5000);
    QCOMPARE(m_store->extendLogin(u"l_unknown"_s, 3000).error(), StoreError::NotFound);
    // An ended login is not extended.
    QVERIFY(m_store->endLogins({ u"l_1"_s }, 1100).ok());
    QCOMPARE(m_store->extendLogin(u"l_1"_s, 9000).error(), StoreError::NotFound);
    m_store->recordAccessToken(u"l_1"_s, 9000);
    QCOMPARE(m_store->findLogin(u"l_1"_s)->accessExpiresAt, 5000);
}

void TestSingleLoginStore::endingIsOnceAndPerUser()
{
    QVERIFY(m_store->createLogin(login(u"l_a1"_s, u"alice"_s, 1000), u"a1"_s).ok());
    QVERIFY(m_store->createLogin(login(u"l_a2"_s, u"Alice"_s, 1000), u"a2"_s).ok());
    QVERIFY(m_store->createLogin(login(u"l_b1"_s, u"bob"_s, 1000), u"b1"_s).ok());
    QCOMPARE(*m_store->endLogins({ u"l_a1"_s, u"l_nobody"_s }, 1100), QStringList { u"l_a1"_s });
    QCOMPARE(*m_store->endLogins({ u"l_a1"_s }, 1200), QStringList {}); // already ended
    QCOMPARE(m_store->findLogin(u"l_a1"_s)->endedAt, 1100);
    // User names compare without case, as everywhere else.
    auto ended = *m_store->endUserLogins(u"ALICE"_s, 1300);
    QCOMPARE(ended, QStringList { u"l_a2"_s });
    QVERIFY(!m_store->findLogin(u"l_a2"_s)->isUsable(1300));
    QCOMPARE(m_store->findLogin(u"l_b1"_s)->endedAt, 0);
}

void TestSingleLoginStore::codesServeOnce()
{
    const AuthorizationCode code {
        u"notes"_s, u"https://notes.example/cb"_s, u"challenge"_s, u"nonce"_s, u"l_1"_s, 1060, 0, {}
    };
    QVERIFY(m_store->createCode(u"code-hash"_s, code).ok());
    QVERIFY(!m_store->createCode(u"code-hash"_s, code).ok()); // a hash is stored once
    QCOMPARE(m_store->findCode(u"code-hash"_s)->usedAt, 0);
    const auto first = m_store->redeemCode(u"code-hash"_s, 1010);
    QVERIFY(first);
    QCOMPARE(first->usedAt, 0);
    QCOMPARE(first->clientId, u"notes"_s);
    QCOMPARE(first->nonce, u"nonce"_s);
    m_store->attachSession(u"code-hash"_s, u"s_1"_s);
    // The second redemption changes nothing and says what the first one produced.
    const auto second = m_store->redeemCode(u"code-hash"_s, 1020);
    QVERIFY(second);
    QCOMPARE(second->usedAt, 1010);
    QCOMPARE(second->sessionId, u"s_1"_s);
    QCOMPARE(m_store->redeemCode(u"unknown"_s, 1020).error(), StoreError::NotFound);
    QVERIFY(!m_store->findCode(u"unknown"_s));
}

void TestSingleLoginStore::purgeKeepsWhatStillMatters()
{
    const qint64 day = 24 * 3600;
    QVERIFY(m_store->createLogin(login(u"l_old"_s, u"alice"_s, 1000), u"old"_s).ok()); // expires at 1600
    QVERIFY(m_store->createLogin(login(u"l_new"_s, u"alice"_s, 1000 + day), u"new"_s).ok());
    QVERIFY(m_store->createCode(u"c_old"_s, { u"n"_s, u"u"_s, u"c"_s, {}, u"l_old"_s, 1060, 0, {} }).ok());
    QVERIFY(m_store->createCode(u"c_new"_s, { u"n"_s, u"u"_s, u"c"_s, {}, u"l_new"_s, 1060 + day, 0, {} }).ok());
    m_store->purgeExpired(1700 + day);
    QVERIFY(!m_store->findLogin(u"l_old"_s)); // expired a day ago
    QVERIFY(m_store->findLogin(u"l_new"_s));
    QVERIFY(!m_store->findCode(u"c_old"_s));
    // A used code stays an hour past its expiry, so that a replay still revokes its session.
    QVERIFY(m_store->findCode(u"c_new"_s));
}

QTEST_GUILESS_MAIN(TestSingleLoginStore)
#include "tst_singleloginstore.moc"
