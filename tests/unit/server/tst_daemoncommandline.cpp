#include "cli/DaemonCommandLine.h"

#include <QTest>

using namespace Qt::StringLiterals;
using Kind = DaemonCommand::Kind;

class TestDaemonCommandLine final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void parsesCommands();
    void refusesBadCommandLines_data();
    void refusesBadCommandLines();
};

void TestDaemonCommandLine::parsesCommands()
{
    const auto add
        = DaemonCommandLine::parse({ u"gatehoused"_s, u"user"_s, u"add"_s, u"alice"_s, u"--role"_s, u"admin"_s,
                                     u"--role"_s, u"ops"_s, u"--password-stdin"_s, u"--data-dir"_s, u"/tmp/x"_s });
    QVERIFY(add.ok());
    QCOMPARE(add->kind, Kind::UserAdd);
    QCOMPARE(add->username, u"alice"_s);
    QCOMPARE(add->roles, (QStringList { u"admin"_s, u"ops"_s }));
    QVERIFY(add->passwordFromStdin);
    QCOMPARE(add->launch.dataDirectory, u"/tmp/x"_s);

    const auto mint = DaemonCommandLine::parse({ u"gatehoused"_s, u"token"_s, u"mint"_s, u"--user"_s, u"bob"_s,
                                                 u"--device"_s, u"phone"_s, u"--ttl"_s, u"60"_s });
    QVERIFY(mint.ok());
    QCOMPARE(mint->kind, Kind::TokenMint);
    QCOMPARE(mint->lifetimeSeconds, 60);
    QCOMPARE(mint->count, 1);
    const auto many = DaemonCommandLine::parse({ u"gatehoused"_s, u"token"_s, u"mint"_s, u"--user"_s, u"bob"_s,
                                                 u"--device"_s, u"tab"_s, u"--count"_s, u"500"_s });
    QVERIFY(many.ok());
    QCOMPARE(many->count, 500);

    const auto serve = DaemonCommandLine::parse({ u"gatehoused"_s, u"serve"_s, u"--listen"_s, u"127.0.0.1:0"_s });
    QCOMPARE(serve->kind, Kind::Serve);
    QCOMPARE(serve->launch.listen, u"127.0.0.1:0"_s);
    const auto lab = DaemonCommandLine::parse(
        { u"gatehoused"_s, u"serve"_s, u"--access-token-ttl"_s, u"30"_s, u"--session-idle-ttl"_s, u"600"_s });
    QCOMPARE(lab->launch.lifetimes,
             (QList<QPair<QString, qint64>> { { u"access_token_ttl"_s, 30 }, { u"session_idle_ttl"_s, 600 } }));
    QCOMPARE(DaemonCommandLine::parse({ u"gatehoused"_s, u"keys"_s, u"jwks"_s })->kind, Kind::KeysJwks);
    QCOMPARE(DaemonCommandLine::parse({ u"gatehoused"_s, u"--help"_s })->kind, Kind::Help);

    const auto backup
        = DaemonCommandLine::parse({ u"gatehoused"_s, u"backup"_s, u"--to"_s, u"/tmp/b"_s, u"--passphrase-stdin"_s });
    QVERIFY(backup.ok());
    QCOMPARE(backup->kind, Kind::Backup);
    QCOMPARE(backup->backupFile, u"/tmp/b"_s);
    QVERIFY(backup->passphraseFromStdin);
    QVERIFY(!backup->force);
    const auto restore = DaemonCommandLine::parse(
        { u"gatehoused"_s, u"restore"_s, u"--from"_s, u"/tmp/b"_s, u"--force"_s, u"--data-dir"_s, u"/tmp/new"_s });
    QVERIFY(restore.ok());
    QCOMPARE(restore->kind, Kind::Restore);
    QCOMPARE(restore->backupFile, u"/tmp/b"_s);
    QVERIFY(restore->force);
    QVERIFY(!restore->passphraseFromStdin);
    QCOMPARE(restore->launch.dataDirectory, u"/tmp/new"_s);
}

void TestDaemonCommandLine::refusesBadCommandLines_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QString>("mentions");
    QTest::newRow("no command refused") << QStringList {} << u"no command"_s;
    QTest::newRow("unknown command refused") << QStringList { u"frobnicate"_s } << u"frobnicate"_s;
    QTest::newRow("unknown sub-command refused")
        << QStringList { u"user"_s, u"delete"_s, u"x"_s } << u"unknown command"_s;
    QTest::newRow("password on the command line refused")
        << QStringList { u"user"_s, u"add"_s, u"a"_s, u"--password"_s, u"x"_s } << u"password"_s;
    QTest::newRow("user add without a name refused") << QStringList { u"user"_s, u"add"_s } << u"one user name"_s;
    QTest::newRow("user add with two names refused")
        << QStringList { u"user"_s, u"add"_s, u"a"_s, u"b"_s } << u"one user name"_s;
    QTest::newRow("extra argument refused") << QStringList { u"keys"_s, u"list"_s, u"now"_s } << u"now"_s;
    QTest::newRow("mint without user refused")
        << QStringList { u"token"_s, u"mint"_s, u"--device"_s, u"d"_s } << u"--user"_s;
    QTest::newRow("mint without device refused")
        << QStringList { u"token"_s, u"mint"_s, u"--user"_s, u"u"_s } << u"--device"_s;
    QTest::newRow("negative ttl refused")
        << QStringList { u"token"_s, u"mint"_s, u"--user"_s, u"u"_s, u"--device"_s, u"d"_s, u"--ttl"_s, u"-5"_s }
        << u"--ttl"_s;
    QTest::newRow("ttl with letters refused")
        << QStringList { u"token"_s, u"mint"_s, u"--user"_s, u"u"_s, u"--device"_s, u"d"_s, u"--ttl"_s, u"5m"_s }
        << u"--ttl"_s;
    QTest::newRow("mint count zero") << QStringList { u"token"_s,    u"mint"_s, u"--user"_s,  u"u"_s,
                                                      u"--device"_s, u"d"_s,    u"--count"_s, u"0"_s }
                                     << u"--count"_s;
    QTest::newRow("mint count huge") << QStringList { u"token"_s,    u"mint"_s, u"--user"_s,  u"u"_s,
                                                      u"--device"_s, u"d"_s,    u"--count"_s, u"1000001"_s }
                                     << u"--count"_s;
    QTest::newRow("huge ttl refused") << QStringList {
        u"token"_s, u"mint"_s, u"--user"_s, u"u"_s, u"--device"_s, u"d"_s, u"--ttl"_s, u"99999999999999999999"_s
    } << u"--ttl"_s;
    QTest::newRow("client add without id")
        << QStringList { u"client"_s, u"add"_s, u"--redirect-uri"_s, u"https://a.example/cb"_s } << u"--id"_s;
    QTest::newRow("client add without redirect")
        << QStringList { u"client"_s, u"add"_s, u"--id"_s, u"a"_s } << u"--redirect-uri"_s;
    QTest::newRow("client remove with a URI")
        << QStringList { u"client"_s, u"remove"_s, u"--id"_s, u"a"_s, u"--redirect-uri"_s, u"https://a.example/"_s }
        << u"only go with client add"_s;
    QTest::newRow("redirect URI on a user command")
        << QStringList { u"user"_s, u"list"_s, u"--redirect-uri"_s, u"https://a.example/"_s } << u"--redirect-uri"_s;
    QTest::newRow("listen on a non-serve command refused")
        << QStringList { u"keys"_s, u"list"_s, u"--listen"_s, u":1"_s } << u"--listen"_s;
    QTest::newRow("format on a non-audit command refused")
        << QStringList { u"keys"_s, u"list"_s, u"--format"_s, u"csv"_s } << u"--format"_s;
    QTest::newRow("unknown export format refused")
        << QStringList { u"audit"_s, u"export"_s, u"--format"_s, u"xml"_s } << u"jsonl or csv"_s;
    QTest::newRow("lifetime flag on a non-serve command refused")
        << QStringList { u"keys"_s, u"list"_s, u"--access-token-ttl"_s, u"60"_s } << u"only goes with serve"_s;
    QTest::newRow("lifetime flag with letters refused")
        << QStringList { u"serve"_s, u"--session-idle-ttl"_s, u"1h"_s } << u"whole number"_s;
    QTest::newRow("backup without a file refused") << QStringList { u"backup"_s } << u"--to FILE"_s;
    QTest::newRow("restore without a file refused") << QStringList { u"restore"_s } << u"--from FILE"_s;
    QTest::newRow("backup's passphrase on the command line refused")
        << QStringList { u"backup"_s, u"--to"_s, u"f"_s, u"--passphrase"_s, u"x"_s } << u"passphrase"_s;
    QTest::newRow("--from on backup refused")
        << QStringList { u"backup"_s, u"--to"_s, u"f"_s, u"--from"_s, u"g"_s } << u"only go with restore"_s;
    QTest::newRow("--to on restore refused")
        << QStringList { u"restore"_s, u"--from"_s, u"f"_s, u"--to"_s, u"g"_s } << u"only goes with backup"_s;
    QTest::newRow("--force elsewhere refused")
        << QStringList { u"user"_s, u"add"_s, u"a"_s, u"--force"_s } << u"only go with restore"_s;
    QTest::newRow("option missing its value refused") << QStringList { u"serve"_s, u"--data-dir"_s } << u"data-dir"_s;
}

void TestDaemonCommandLine::refusesBadCommandLines()
{
    QFETCH(QStringList, arguments);
    QFETCH(QString, mentions);
    arguments.prepend(u"gatehoused"_s);
    const auto result = DaemonCommandLine::parse(arguments);
    QVERIFY(!result.ok());
    QVERIFY2(result.error().contains(mentions), qPrintable(result.error()));
}

QTEST_APPLESS_MAIN(TestDaemonCommandLine)
#include "tst_daemoncommandline.moc"
