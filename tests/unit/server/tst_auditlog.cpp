#include "audit/AuditLog.h"
#include "store/Database.h"

#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

#include "ManualClock.h"

using namespace Qt::StringLiterals;

class TestAuditLog final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();
    void appendChainsEvents();
    void queryFilters();
    void databaseRefusesEditsAndDeletions();
    void verifyFindsTampering_data();
    void verifyFindsTampering();
    void hostileContentIsKeptExactly();
    void eventWithoutTypeOrActorIsRefused();

private:
    void appendThree();
    bool bypass(const QString &statement);

    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<Database> m_database;
    ManualClock m_clock;
    std::unique_ptr<AuditLog> m_log;
};

void TestAuditLog::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    m_database = std::make_unique<Database>();
    QVERIFY(m_database->open(m_dir->filePath(u"gatehouse.sqlite"_s)));
    m_log = std::make_unique<AuditLog>(*m_database, m_clock);
}

void TestAuditLog::cleanup()
{
    m_log.reset();
    m_database.reset();
}

void TestAuditLog::appendThree()
{
    for (const auto &[type, user] :
         { std::pair { u"login_succeeded"_s, u"alice"_s }, std::pair { u"login_failed"_s, u"bob"_s },
           std::pair { u"session_revoked"_s, u"alice"_s } }) {
        AuditEvent event;
        event.type = type;
        event.actor = type == "session_revoked"_L1 ? u"admin:root"_s : user;
        event.username = user;
        event.remoteAddress = u"127.0.0.1"_s;
        const auto appended = m_log->append(event);
        QVERIFY2(appended.ok(), appended.ok() ? "" : qPrintable(appended.error()));
        m_clock.advance(std::chrono::seconds(1));
    }
}

bool TestAuditLog::bypass(const QString &statement)
{
    // What an attacker with write access to the file would do: drop the guards first.
    QSqlQuery query(m_database->connection());
    return query.exec(u"DROP TRIGGER IF EXISTS audit_events_no_update"_s)
        && query.exec(u"DROP TRIGGER IF EXISTS audit_events_no_delete"_s) && query.exec(statement);
}

void TestAuditLog::appendChainsEvents()
{
    QCOMPARE(*m_log->verify(), 0);
    appendThree();
    const auto events = m_log->query({});
    QCOMPARE(events.size(), 3);
    QCOMPARE(events[0].id, 3); // newest first
    QCOMPARE(events[2].previousHash, QString(64, u'0'));
    QCOMPARE(events[1].previousHash, events[2].hash);
    QCOMPARE(events[0].previousHash, events[1].hash);
    QCOMPARE(events[2].atMs, m_clock.nowSeconds() * 1000 - 3000);
    QCOMPARE(AuditLog::chainHash(events[1].hash, events[0]), events[0].hash);
    const auto verified = m_log->verify();
    QVERIFY(verified.ok());
    QCOMPARE(*verified, 3);
}

void TestAuditLog::queryFilters()
{
    appendThree();
    QCOMPARE(m_log->query({ 0, {}, u"alice"_s, {}, 1000 }).size(), 2);
    QCOMPARE(m_log->query({ 0, u"admin:root"_s, {}, {}, 1000 }).size(), 1);
    QCOMPARE(m_log->query({ 0, {}, {}, u"login_failed"_s, 1000 }).first().username, u"bob"_s);
    QCOMPARE(m_log->query({ (m_clock.nowSeconds() - 1) * 1000, {}, {}, {}, 1000 }).size(), 1);
    QCOMPARE(m_log->query({ 0, {}, {}, {}, 2 }).size(), 2);
    QCOMPARE(m_log->query({ 0, {}, u"' OR 1=1 --"_s, {}, 1000 }).size(), 0);
}

void TestAuditLog::databaseRefusesEditsAndDeletions()
{
    appendThree();
    QSqlQuery query(m_database->connection());
    QVERIFY(!query.exec(u"UPDATE audit_events SET actor = 'nobody' WHERE id = 2"_s));
    QVERIFY(!query.exec(u"DELETE FROM audit_events WHERE id = 3"_s));
    QCOMPARE(*m_log->verify(), 3);
}

void TestAuditLog::verifyFindsTampering_data()
{
    QTest::addColumn<QString>("statement");
    QTest::addColumn<qint64>("brokenAt");
    QTest::addColumn<QString>("mentions");
    QTest::newRow("edited detail is found")
        << u"UPDATE audit_events SET detail = '{\"x\":1}' WHERE id = 2"_s << qint64(2) << u"changed"_s;
    QTest::newRow("edited actor is found")
        << u"UPDATE audit_events SET actor = 'alice' WHERE id = 3"_s << qint64(3) << u"changed"_s;
    QTest::newRow("removed middle event is found")
        << u"DELETE FROM audit_events WHERE id = 2"_s << qint64(3) << u"missing"_s;
    QTest::newRow("removed newest event is found")
        << u"DELETE FROM audit_events WHERE id = 3"_s << qint64(0) << u"removed"_s;
    QTest::newRow("rehashed edit still breaks the next link")
        << u"UPDATE audit_events SET actor = 'x', hash = '%1' WHERE id = 1"_s.arg(QString(64, u'a')) << qint64(1)
        << u"changed"_s;
    QTest::newRow("appended forgery is found")
        << u"INSERT INTO audit_events(id, at_ms, type, actor, previous_hash, hash) SELECT 4, 0, 'login_succeeded', "
           "'mallory', hash, 'ffff' FROM audit_events WHERE id = 3"_s
        << qint64(4) << u"changed"_s;
}

void TestAuditLog::verifyFindsTampering()
{
    QFETCH(QString, statement);
    QFETCH(qint64, brokenAt);
    QFETCH(QString, mentions);
    appendThree();
    QVERIFY(bypass(statement));
    const auto verified = m_log->verify();
    QVERIFY(!verified.ok());
    QCOMPARE(verified.error().eventId, brokenAt);
    QVERIFY2(verified.error().reason.contains(mentions), qPrintable(verified.error().reason));
}

void TestAuditLog::hostileContentIsKeptExactly()
{
    AuditEvent event;
    event.type = u"login_failed"_s;
    event.actor = u"x\n\"y\"\u202e\u0000z"_s;
    event.detail = QJsonObject { { "note"_L1, u"line1\nline2 \"quoted\" \\ \U0001F600"_s }, { "n"_L1, 1e300 } };
    const auto stored = m_log->append(event);
    QVERIFY(stored.ok());
    const auto read = m_log->query({}).first();
    QCOMPARE(read.actor, event.actor);
    QCOMPARE(read.detail, event.detail);
    QCOMPARE(*m_log->verify(), 1);
}

void TestAuditLog::eventWithoutTypeOrActorIsRefused()
{
    AuditEvent event;
    event.actor = u"alice"_s;
    QVERIFY(!m_log->append(event).ok());
    event.type = u"x"_s;
    event.actor.clear();
    QVERIFY(!m_log->append(event).ok());
    QCOMPARE(*m_log->verify(), 0);
}

QTEST_GUILESS_MAIN(TestAuditLog)
#include "tst_auditlog.moc"
