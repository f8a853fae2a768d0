// An independent client (npm `ws`, pinned in tests/crosscheck) connects exactly as the seed
// example does, with the token in the query string; it is greeted, answered, refused with
// 401 for a bad token, and closed with 4003 when its session is revoked.
#include "SessionServer.h"
#include "core/Clock.h"
#include "identity/UserDirectory.h"
#include "store/Database.h"

#include <QDir>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

using namespace Qt::StringLiterals;

class TestNodeWsClient final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void seedStyleClientIsGreetedThenRevoked();
    void seedStyleClientWithABadTokenIsRefused();

private:
    QJsonObject post(const QString &path, const QByteArray &body, const QByteArray &type);
    QList<QJsonObject> events(QProcess &client, const QString &until);

    QTemporaryDir m_dir;
    std::unique_ptr<SessionServer> m_server;
    QNetworkAccessManager m_network;
    QString m_node;
};

void TestNodeWsClient::initTestCase()
{
    m_node = QStandardPaths::findExecutable(u"node"_s);
    QVERIFY2(!m_node.isEmpty(), "node is not installed (scripts/install-deps.sh installs it)");
    QVERIFY2(QDir(QStringLiteral(GATEHOUSE_CROSSCHECK_DIR) + u"/node_modules/ws"_s).exists(),
             "tests/crosscheck has no node_modules: run `npm ci` there (scripts/test.sh does)");
    {
        Database database;
        QVERIFY(database.open(m_dir.filePath(u"gatehouse.sqlite"_s)));
        SystemClock clock;
        QVERIFY(UserDirectory(database, clock).add(u"alice"_s, {}, "a long password", {}).ok());
    }
    m_server = std::make_unique<SessionServer>(SessionServerOptions { m_dir.path(), {}, u"127.0.0.1:0"_s, u"file"_s });
    m_server->start();
    QTRY_COMPARE_WITH_TIMEOUT(m_server->state(), ServerState::Running, 20000);
}

void TestNodeWsClient::cleanupTestCase()
{
    m_server.reset();
}

QJsonObject TestNodeWsClient::post(const QString &path, const QByteArray &body, const QByteArray &type)
{
    QNetworkRequest request(QUrl(u"http://"_s + m_server->listenAddress() + path));
    request.setHeader(QNetworkRequest::ContentTypeHeader, type);
    std::unique_ptr<QNetworkReply> reply(m_network.post(request, body));
    QSignalSpy finished(reply.get(), &QNetworkReply::finished);
    [[maybe_unused]] const bool done = finished.wait(20000);
    return QJsonDocument::fromJson(reply->readAll()).object();
}

QList<QJsonObject> TestNodeWsClient::events(QProcess &client, const QString &until)
{
    QList<QJsonObject> seen;
    QByteArray buffer;
    [[maybe_unused]] const bool reached = QTest::qWaitFor(
        [&] {
            buffer += client.readAllStandardOutput();
            while (buffer.contains('\n')) {
                const qsizetype end = buffer.indexOf('\n');
                seen.append(QJsonDocument::fromJson(buffer.first(end)).object());
                buffer.remove(0, end + 1);
            }
            return std::any_of(seen.cbegin(), seen.cend(),
                               [&](const QJsonObject &event) { return event["event"_L1].toString() == until; });
        },
        20000);
    return seen;
}

void TestNodeWsClient::seedStyleClientIsGreetedThenRevoked()
{
    const auto session = post(u"/auth/login"_s, R"({"username":"alice","password":"a long password","device":"node"})",
                              "application/json");
    const QString url
        = u"ws://"_s + m_server->listenAddress() + u"/ws?access_token="_s + session["access_token"_L1].toString();
    QProcess client;
    client.setWorkingDirectory(QStringLiteral(GATEHOUSE_CROSSCHECK_DIR));
    client.start(m_node, { u"ws-client.mjs"_s, url });
    QVERIFY(client.waitForStarted());
    auto seen = events(client, u"message"_s);
    QVERIFY(seen.size() >= 2);
    QCOMPARE(seen[0]["event"_L1].toString(), u"open"_s);
    QCOMPARE(seen[1]["message"_L1]["type"_L1].toString(), u"welcome"_s);
    QCOMPARE(seen[1]["message"_L1]["user"_L1].toString(), u"alice"_s);
    QCOMPARE(seen[1]["message"_L1]["device"_L1].toString(), u"node"_s);
    QTest::qWait(200); // the client's ping gets its pong (printed, read at the end)
    post(u"/oauth/revoke"_s, "token=" + session["refresh_token"_L1].toString().toLatin1(),
         "application/x-www-form-urlencoded");
    // The client may already have ended while post() waited: waitForFinished() is false then.
    QVERIFY(client.state() == QProcess::NotRunning || client.waitForFinished(20000));
    const QByteArray rest = client.readAllStandardOutput();
    QByteArray transcript = rest;
    for (const auto &event : seen)
        transcript += QJsonDocument(event).toJson(QJsonDocument::Compact) + '\n';
    QVERIFY2(transcript.contains(R"("type":"pong")"), transcript.constData());
    const auto closing = QJsonDocument::fromJson(rest.trimmed().split('\n').last()).object();
    QCOMPARE(closing["event"_L1].toString(), u"close"_s);
    QCOMPARE(closing["code"_L1].toInt(), 4003);
    QVERIFY(closing["reason"_L1].toString().contains(u"revoked"_s));
}

void TestNodeWsClient::seedStyleClientWithABadTokenIsRefused()
{
    QProcess client;
    client.setWorkingDirectory(QStringLiteral(GATEHOUSE_CROSSCHECK_DIR));
    client.start(m_node,
                 { u"ws-client.mjs"_s, u"ws://"_s + m_server->listenAddress() + u"/ws?access_token=not.a.token"_s });
    QVERIFY(client.waitForFinished(20000));
    const auto event = QJsonDocument::fromJson(client.readAllStandardOutput().trimmed().split('\n').last()).object();
    QCOMPARE(event["event"_L1].toString(), u"refused"_s);
    QCOMPARE(event["status"_L1].toInt(), 401);
    QCOMPARE(event["body"_L1]["error_description"_L1].toString(), u"bad_base64url"_s);
}

QTEST_GUILESS_MAIN(TestNodeWsClient)
#include "tst_nodewsclient.moc"
