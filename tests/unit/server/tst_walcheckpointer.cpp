// The server's own connection never checkpoints inside a commit; a WalCheckpointer on its own
// thread copies the log back into the database file instead, without ever waiting for a writer.
#include "store/Database.h"
#include "store/WalCheckpointer.h"

#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

using namespace Qt::StringLiterals;
using namespace std::chrono_literals;

class TestWalCheckpointer final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void commitsLeaveCheckpointsToTheCheckpointer();
    void writesGoOnWhileItCheckpoints();

private:
    static int pragma(Database &database, const QString &name)
    {
        QSqlQuery query(database.connection());
        return query.exec(u"PRAGMA "_s + name) && query.next() ? query.value(0).toInt() : -1;
    }
    static bool write(Database &database, int value)
    {
        QSqlQuery query(database.connection());
        query.prepare(u"INSERT INTO settings(name, value) VALUES(?, ?)"_s);
        query.addBindValue(u"row-%1"_s.arg(value));
        query.addBindValue(QString(500, u'x')); // a page every few rows
        return query.exec();
    }
};

void TestWalCheckpointer::commitsLeaveCheckpointsToTheCheckpointer()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(u"gatehouse.sqlite"_s);
    {
        Database inCommits;
        QVERIFY(inCommits.open(path));
        QCOMPARE(pragma(inCommits, u"wal_autocheckpoint"_s), 1000); // SQLite's default
    }
    Database server;
    QVERIFY(server.open(path, Database::Checkpoints::Elsewhere));
    QCOMPARE(pragma(server, u"wal_autocheckpoint"_s), 0);
    // Past SQLite's 1000 pages of log, nothing was copied back by the commits themselves.
    for (int i = 0; i < 3000; ++i)
        QVERIFY(write(server, i));
    const auto walSize = QFileInfo(path + u"-wal"_s).size();
    QVERIFY2(walSize > 1000 * 4096, qPrintable(QString::number(walSize)));

    WalCheckpointer checkpointer(path, 20ms);
    QTRY_VERIFY(checkpointer.progress().checkpoints > 0);
    const auto progress = checkpointer.progress();
    QVERIFY(progress.logFrames > 1000);
    QCOMPARE(progress.copiedFrames, progress.logFrames);
    QCOMPARE(checkpointer.failures(), 0);
    // The rows are in the database file: a copy of it alone, without the log, has them.
    QVERIFY(QFile::copy(path, dir.filePath(u"copy.sqlite"_s)));
    Database copy;
    QVERIFY(copy.open(dir.filePath(u"copy.sqlite"_s)));
    QSqlQuery count(copy.connection());
    QVERIFY(count.exec(u"SELECT COUNT(*) FROM settings WHERE name LIKE 'row-%'"_s) && count.next());
    QCOMPARE(count.value(0).toInt(), 3000);
}

void TestWalCheckpointer::writesGoOnWhileItCheckpoints()
{
    // A checkpoint every millisecond beside a writer: no write fails for it, and no
    // checkpoint fails for the writer (PASSIVE takes no lock a writer holds).
    QTemporaryDir dir;
    const QString path = dir.filePath(u"gatehouse.sqlite"_s);
    Database server;
    QVERIFY(server.open(path, Database::Checkpoints::Elsewhere));
    WalCheckpointer checkpointer(path, 1ms);
    for (int i = 0; i < 2000; ++i)
        QVERIFY(write(server, i));
    QTRY_VERIFY(checkpointer.progress().checkpoints > 10);
    QCOMPARE(checkpointer.failures(), 0);
}

QTEST_GUILESS_MAIN(TestWalCheckpointer)
#include "tst_walcheckpointer.moc"
