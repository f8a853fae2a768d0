// gatehoused backup and restore, driven as an operator would: the real binary as a child
// process, real SQLite files, a real `serve` taking logins while the backup is made, and the
// file secret store (no Secret Service here).
#include "GatehousedProcess.h"
#include "store/BackupFile.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

using namespace Qt::StringLiterals;

namespace {
using Outcome = GatehousedOutcome;

const QByteArray passphrase = "a passphrase long enough\n";
} // namespace

class TestBackup final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void backupUnderLoadRestoresWithItsKeys();
    void damagedOrWrongBackupsAreRefused_data();
    void damagedOrWrongBackupsAreRefused();
    void restoreKeepsOffALiveOrExistingDirectory();
    void aBackupOfANewerSchemaIsRefusedBeforeAnythingIsReplaced();
    void backupsGoNowhereTheyShouldNot();
    void badInvocationsFailClearly_data();
    void badInvocationsFailClearly();

private:
    QString dataDir(const QString &name) const { return m_dir->filePath(name); }
    Outcome run(const QString &dataDirectory, const QStringList &arguments, const QByteArray &input = {}) const;
    QProcessEnvironment environment() const;
    quint16 startServer(QProcess &server, const QString &dataDirectory) const;
    int getMe(quint16 port, const QByteArray &token);

    QNetworkAccessManager m_network;
    QTemporaryDir m_shared; ///< one good backup for the refusal rows
    QString m_goodBackup;
    std::unique_ptr<QTemporaryDir> m_dir;
};

QProcessEnvironment TestBackup::environment() const
{
    return GatehousedProcess::environment();
}

Outcome TestBackup::run(const QString &dataDirectory, const QStringList &arguments, const QByteArray &input) const
{
    return GatehousedProcess::run(
        QStringList(arguments) << u"--data-dir"_s << dataDirectory << u"--secret-store"_s << u"file"_s, input, 120000);
}

quint16 TestBackup::startServer(QProcess &server, const QString &dataDirectory) const
{
    return GatehousedProcess::startServe(server, { u"--data-dir"_s, dataDirectory, u"--secret-store"_s, u"file"_s });
}

int TestBackup::getMe(quint16 port, const QByteArray &token)
{
    QNetworkRequest request(QUrl(u"http://127.0.0.1:%1/api/me"_s.arg(port)));
    request.setRawHeader("Authorization", "Bearer " + token);
    std::unique_ptr<QNetworkReply> reply(m_network.get(request));
    QSignalSpy finished(reply.get(), &QNetworkReply::finished);
    [[maybe_unused]] const bool done = finished.wait(10000);
    return reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
}

void TestBackup::initTestCase()
{
    QVERIFY(m_shared.isValid());
    const QString source = m_shared.filePath(u"source"_s);
    QCOMPARE(run(source, { u"user"_s, u"add"_s, u"bob"_s, u"--password-stdin"_s }, "long enough\n").exitCode, 0);
    QCOMPARE(run(source, { u"keys"_s, u"list"_s }).exitCode, 0); // makes the signing key
    m_goodBackup = m_shared.filePath(u"good.gatehouse-backup"_s);
    const auto made = run(source, { u"backup"_s, u"--to"_s, m_goodBackup, u"--passphrase-stdin"_s }, passphrase);
    QVERIFY2(made.exitCode == 0, qPrintable(made.err));
}

void TestBackup::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
}

void TestBackup::backupUnderLoadRestoresWithItsKeys()
{
    const QString source = dataDir(u"source"_s);
    QCOMPARE(run(source, { u"user"_s, u"add"_s, u"alice"_s, u"--password-stdin"_s }, "long enough\n").exitCode, 0);
    const auto minted = run(
        source, { u"token"_s, u"mint"_s, u"--user"_s, u"alice"_s, u"--device"_s, u"laptop"_s, u"--ttl"_s, u"3600"_s });
    QCOMPARE(minted.exitCode, 0);
    const QByteArray tokenBefore = minted.out.trimmed().toLatin1();
    const auto adminToken = run(source, { u"admin-token"_s, u"show"_s });
    const auto keysBefore = run(source, { u"keys"_s, u"list"_s });
    QVERIFY(keysBefore.out.contains(u"signing"_s));

    QProcess server;
    const quint16 port = startServer(server, source);
    QVERIFY(port != 0);
    QCOMPARE(getMe(port, tokenBefore), 200);

    // Logins keep coming while the backup is made: each one writes sessions and audit events.
    int loginsAnswered = 0;
    int loginsSent = 0;
    QObject loginScope; // replies that finish after the test are not counted into its dead locals
    QTimer loginTimer;
    connect(&loginTimer, &QTimer::timeout, &loginScope, [&] {
        QNetworkRequest request(QUrl(u"http://127.0.0.1:%1/auth/login"_s.arg(port)));
        request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArray("application/json"));
        auto *reply = m_network.post(request,
                                     R"({"username":"alice","password":"long enough","device":"d)"
                                         + QByteArray::number(++loginsSent) + "\"}");
        connect(reply, &QNetworkReply::finished, &loginScope, [&, reply] {
            if (reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt() == 200)
                ++loginsAnswered;
            reply->deleteLater();
        });
    });
    loginTimer.start(25);
    QTRY_VERIFY_WITH_TIMEOUT(loginsAnswered >= 3, 20000);

    const QString file = m_dir->filePath(u"backups/at-noon.gatehouse-backup"_s);
    QVERIFY(QDir().mkpath(QFileInfo(file).path()));
    QProcess backup;
    backup.setProcessEnvironment(environment());
    backup.start(QStringLiteral(GATEHOUSED_PATH),
                 { u"backup"_s, u"--to"_s, file, u"--passphrase-stdin"_s, u"--data-dir"_s, source, u"--secret-store"_s,
                   u"file"_s });
    QVERIFY(backup.waitForStarted());
    backup.write(passphrase);
    backup.closeWriteChannel();
    const int answeredBefore = loginsAnswered;
    QTRY_VERIFY_WITH_TIMEOUT(backup.state() == QProcess::NotRunning, 60000);
    const QString backupErrors = QString::fromUtf8(backup.readAllStandardError());
    QVERIFY2(backup.exitCode() == 0, qPrintable(backupErrors));
    QVERIFY2(QString::fromUtf8(backup.readAllStandardOutput()).contains(u"signing-key/"_s), "no signing key saved");
    QTRY_VERIFY_WITH_TIMEOUT(loginsAnswered > answeredBefore, 20000); // the server went on
    loginTimer.stop();

    QCOMPARE(QFileInfo(file).permissions(),
             QFileDevice::Permissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ReadUser
                                      | QFileDevice::WriteUser));
    QCOMPARE(QDir(QFileInfo(file).path()).entryList(QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot),
             QStringList { u"at-noon.gatehouse-backup"_s }); // the scratch copy is gone
    const QByteArray sealed = [&] {
        QFile f(file);
        return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
    }();
    QVERIFY(sealed.startsWith("GATEHOUSE-BACKUP"));
    QVERIFY(!sealed.contains("SQLite format 3"));
    QVERIFY(!sealed.contains(adminToken.out.trimmed().toLatin1()));

    const QString restored = dataDir(u"restored"_s);
    const auto restoredOutcome
        = run(restored, { u"restore"_s, u"--from"_s, file, u"--passphrase-stdin"_s }, passphrase);
    QVERIFY2(restoredOutcome.exitCode == 0, qPrintable(restoredOutcome.err));
    const auto verified = run(restored, { u"audit"_s, u"verify"_s });
    QVERIFY2(verified.exitCode == 0, qPrintable(verified.err));
    QVERIFY(verified.out.contains(u"intact"_s));
    QCOMPARE(run(restored, { u"admin-token"_s, u"show"_s }).out, adminToken.out);
    // The same key signs: without its private half the restored server would rotate to a new one.
    QCOMPARE(run(restored, { u"keys"_s, u"list"_s }).out, keysBefore.out);

    // The token minted before the backup is accepted by a server started from the restore.
    QProcess restoredServer;
    const quint16 restoredPort = startServer(restoredServer, restored);
    QVERIFY(restoredPort != 0);
    QCOMPARE(getMe(restoredPort, tokenBefore), 200);
    // A signature byte changed (not the last characters: those may already be what is put there).
    QByteArray forged = tokenBefore;
    char &inSignature = forged[forged.size() - 10];
    inSignature = inSignature == 'A' ? 'B' : 'A';
    QCOMPARE(getMe(restoredPort, forged), 401);
    restoredServer.terminate();
    QVERIFY(restoredServer.waitForFinished(10000));
    server.terminate();
    QVERIFY(server.waitForFinished(10000));
}

void TestBackup::damagedOrWrongBackupsAreRefused_data()
{
    QTest::addColumn<QString>("damage");
    QTest::addColumn<QByteArray>("typed");
    QTest::addColumn<QString>("sentence");

    QTest::newRow("a truncated backup is refused") << u"truncate"_s << passphrase << u"truncated"_s;
    QTest::newRow("a flipped byte in the database is refused")
        << u"flip-body"_s << passphrase << u"passphrase is wrong, or the file was altered"_s;
    QTest::newRow("a flipped byte in the salt is refused")
        << u"flip-salt"_s << passphrase << u"passphrase is wrong, or the file was altered"_s;
    QTest::newRow("a wrong passphrase is refused")
        << u"none"_s << QByteArray("not the passphrase\n") << u"passphrase is wrong"_s;
    QTest::newRow("an empty passphrase is refused") << u"none"_s << QByteArray("\n") << u"passphrase is empty"_s;
    QTest::newRow("no passphrase at all is refused") << u"none"_s << QByteArray() << u"no passphrase"_s;
    QTest::newRow("an SQLite file is not a backup") << u"sqlite"_s << passphrase << u"not a Gatehouse backup"_s;
    QTest::newRow("a later format version is refused") << u"version"_s << passphrase << u"format version 2"_s;
    QTest::newRow("hostile key derivation costs are refused") << u"kdf-cost"_s << passphrase << u"out of range"_s;
    QTest::newRow("bytes past the end are refused") << u"append"_s << passphrase << u"past its end"_s;
}

void TestBackup::damagedOrWrongBackupsAreRefused()
{
    QFETCH(QString, damage);
    QFETCH(QByteArray, typed);
    QFETCH(QString, sentence);

    QFile good(m_goodBackup);
    QVERIFY(good.open(QIODevice::ReadOnly));
    QByteArray bytes = good.readAll();
    constexpr int magicAndVersion = 18;
    if (damage == "truncate"_L1)
        bytes.chop(bytes.size() / 3);
    else if (damage == "flip-body"_L1)
        bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x01);
    else if (damage == "flip-salt"_L1)
        bytes[magicAndVersion + 1 + 12 + 3] = static_cast<char>(bytes[magicAndVersion + 1 + 12 + 3] ^ 0x80);
    else if (damage == "sqlite"_L1)
        bytes = QByteArray("SQLite format 3\0", 16) + QByteArray(4096, '\0');
    else if (damage == "version"_L1)
        bytes[17] = 2;
    else if (damage == "kdf-cost"_L1)
        bytes[magicAndVersion + 1 + 4] = 0x7f; // memory: about 2 TiB
    else if (damage == "append"_L1)
        bytes.append("more");
    const QString file = m_dir->filePath(u"damaged"_s);
    QFile out(file);
    QVERIFY(out.open(QIODevice::WriteOnly));
    out.write(bytes);
    out.close();

    const QString target = dataDir(u"target"_s);
    const auto refused = run(target, { u"restore"_s, u"--from"_s, file, u"--passphrase-stdin"_s }, typed);
    QCOMPARE(refused.exitCode, 1);
    QVERIFY2(refused.err.contains(sentence), qPrintable(refused.err));
    QVERIFY2(refused.err.trimmed().count(u'\n') == 0, qPrintable(refused.err)); // one sentence
    QVERIFY(refused.out.isEmpty());
    QVERIFY2(!QFileInfo::exists(target), "restore wrote into the target before it had checked the file");
}

void TestBackup::restoreKeepsOffALiveOrExistingDirectory()
{
    const QString target = dataDir(u"target"_s);
    const QStringList restore { u"restore"_s, u"--from"_s, m_goodBackup, u"--passphrase-stdin"_s };
    QCOMPARE(run(target, restore, passphrase).exitCode, 0);
    QCOMPARE(run(target, { u"user"_s, u"add"_s, u"carol"_s, u"--password-stdin"_s }, "long enough\n").exitCode, 0);

    const auto refused = run(target, restore, passphrase);
    QCOMPARE(refused.exitCode, 1);
    QVERIFY2(refused.err.contains(u"already has a database"_s) && refused.err.contains(u"--force"_s),
             qPrintable(refused.err));
    QVERIFY(run(target, { u"user"_s, u"list"_s }).out.contains(u"carol"_s)); // untouched

    {
        QProcess server;
        QVERIFY(startServer(server, target) != 0);
        const auto live = run(target, QStringList(restore) << u"--force"_s, passphrase);
        QCOMPARE(live.exitCode, 1);
        QVERIFY2(live.err.contains(u"in use"_s), qPrintable(live.err));
        server.terminate();
        QVERIFY(server.waitForFinished(10000));
    }
    QVERIFY(run(target, { u"user"_s, u"list"_s }).out.contains(u"carol"_s));

    const auto forced = run(target, QStringList(restore) << u"--force"_s, passphrase);
    QVERIFY2(forced.exitCode == 0, qPrintable(forced.err));
    const auto users = run(target, { u"user"_s, u"list"_s }).out;
    QVERIFY(users.contains(u"bob"_s));
    QVERIFY(!users.contains(u"carol"_s));
    QCOMPARE(run(target, { u"audit"_s, u"verify"_s }).exitCode, 0);

    // The replaced database is kept beside it, owner-only: the way back from the wrong backup.
    const QString kept = target + u"/gatehouse.sqlite.before-restore"_s;
    QVERIFY(QFileInfo::exists(kept));
    QCOMPARE(QFile::permissions(kept) & (QFileDevice::ReadOther | QFileDevice::ReadGroup), QFileDevice::Permissions());
    const QString wayBack = dataDir(u"way-back"_s);
    QVERIFY(QDir().mkpath(wayBack));
    QVERIFY(QFile::copy(kept, wayBack + u"/gatehouse.sqlite"_s));
    QVERIFY(run(wayBack, { u"user"_s, u"list"_s }).out.contains(u"carol"_s));
}

void TestBackup::aBackupOfANewerSchemaIsRefusedBeforeAnythingIsReplaced()
{
    // A backup a later Gatehouse made: this one could not open its database, so restore says
    // so before it replaces the one there (which it would otherwise have lost).
    QFile good(m_goodBackup);
    QVERIFY(good.open(QIODevice::ReadOnly));
    auto contents = BackupFile::open(good.readAll(), passphrase.trimmed());
    QVERIFY(contents.ok());
    contents->secrets.insert(u"schema_version"_s, 999);
    const auto sealed = BackupFile::seal(*contents, passphrase.trimmed());
    QVERIFY(sealed.ok());
    const QString newer = m_dir->filePath(u"newer.gatehouse-backup"_s);
    QFile out(newer);
    QVERIFY(out.open(QIODevice::WriteOnly));
    out.write(*sealed);
    out.close();

    const QString target = dataDir(u"target"_s);
    QCOMPARE(run(target, { u"user"_s, u"add"_s, u"dave"_s, u"--password-stdin"_s }, "long enough\n").exitCode, 0);
    const auto refused
        = run(target, { u"restore"_s, u"--from"_s, newer, u"--passphrase-stdin"_s, u"--force"_s }, passphrase);
    QCOMPARE(refused.exitCode, 1);
    QVERIFY2(refused.err.contains(u"newer Gatehouse (schema 999"_s), qPrintable(refused.err));
    QVERIFY(run(target, { u"user"_s, u"list"_s }).out.contains(u"dave"_s));
    QVERIFY(!QFileInfo::exists(target + u"/gatehouse.sqlite.before-restore"_s));
}

void TestBackup::backupsGoNowhereTheyShouldNot()
{
    const QString source = dataDir(u"source"_s);
    QCOMPARE(run(source, { u"keys"_s, u"list"_s }).exitCode, 0);
    const QStringList backup { u"backup"_s, u"--passphrase-stdin"_s, u"--to"_s };

    // Into the data directory it copies: a backup that goes down with what it backs up.
    const auto inside = run(source, QStringList(backup) << source + u"/copy.gatehouse-backup"_s, passphrase);
    QCOMPARE(inside.exitCode, 1);
    QVERIFY2(inside.err.contains(u"inside the data directory"_s), qPrintable(inside.err));

    // Through a symbolic link, which would write wherever it points.
    const QString pointee = m_dir->filePath(u"pointee"_s);
    const QString link = m_dir->filePath(u"link.gatehouse-backup"_s);
    QVERIFY(QFile::link(pointee, link));
    const auto linked = run(source, QStringList(backup) << link, passphrase);
    QCOMPARE(linked.exitCode, 1);
    QVERIFY2(linked.err.contains(u"symbolic link"_s), qPrintable(linked.err));
    QVERIFY(!QFileInfo::exists(pointee));

    // A restore from something that is not a file (a FIFO would be read for ever).
    const auto notAFile
        = run(dataDir(u"target"_s), { u"restore"_s, u"--from"_s, m_dir->path(), u"--passphrase-stdin"_s }, passphrase);
    QCOMPARE(notAFile.exitCode, 1);
    QVERIFY2(notAFile.err.contains(u"not a regular file"_s), qPrintable(notAFile.err));

    // No plain copy of the database is left anywhere: not in the data directory, not beside the backup.
    const QString made = m_dir->filePath(u"made.gatehouse-backup"_s);
    QCOMPARE(run(source, QStringList(backup) << made, passphrase).exitCode, 0);
    QCOMPARE(QDir(source).entryList({ u".backup-*"_s }, QDir::AllEntries | QDir::Hidden).size(), 0);
    QCOMPARE(QDir(m_dir->path()).entryList({ u".gatehouse-backup-*"_s }, QDir::AllEntries | QDir::Hidden).size(), 0);
}

void TestBackup::badInvocationsFailClearly_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QString>("sentence");
    QTest::newRow("backup without --to") << QStringList { u"backup"_s } << u"backup needs --to FILE"_s;
    QTest::newRow("restore without --from") << QStringList { u"restore"_s } << u"restore needs --from FILE"_s;
    QTest::newRow("--force with backup") << QStringList { u"backup"_s, u"--to"_s, u"x"_s, u"--force"_s }
                                         << u"only go with restore"_s;
    QTest::newRow("--passphrase-stdin elsewhere")
        << QStringList { u"user"_s, u"list"_s, u"--passphrase-stdin"_s } << u"only goes with backup and restore"_s;
    QTest::newRow("a passphrase is never an argument")
        << QStringList { u"backup"_s, u"--to"_s, u"x"_s, u"--passphrase"_s, u"hunter2"_s } << u"Unknown option"_s;
}

void TestBackup::badInvocationsFailClearly()
{
    QFETCH(QStringList, arguments);
    QFETCH(QString, sentence);
    const auto refused = run(dataDir(u"data"_s), arguments);
    QCOMPARE(refused.exitCode, 2);
    QVERIFY2(refused.err.contains(sentence), qPrintable(refused.err));
}

QTEST_GUILESS_MAIN(TestBackup)
#include "tst_backup.moc"
