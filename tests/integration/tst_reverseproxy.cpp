// Gatehouse behind a real nginx (the Debian package, started here on loopback with the
// recipe of docs/deployment.md): the client address the audit log, the admin API and the
// rate limits see is the one nginx saw, WebSockets pass through, and a forged
// X-Forwarded-For, sent straight to the server or through nginx, is not believed.
// The client speaks from 127.0.0.2 (all of 127/8 is loopback), nginx from 127.0.0.1.
#include "SessionServer.h"
#include "core/Clock.h"
#include "identity/UserDirectory.h"
#include "secrets/FileSecretStore.h"
#include "store/Database.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QStandardPaths>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>

#include "RawWebSocket.h"
#include "SecretWaiter.h"

using namespace Qt::StringLiterals;

namespace {
const QHostAddress clientAddress(u"127.0.0.2"_s);

quint16 freePort()
{
    QTcpServer probe;
    probe.listen(QHostAddress::LocalHost, 0);
    return probe.serverPort();
}
} // namespace

class TestReverseProxy final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void auditRecordsTheAddressNginxSaw();
    void webSocketsPassThroughWithTheirClientAddress();
    void forgedForwardedForIsNotBelieved();

private:
    /// One request from 127.0.0.2 to `port`; the answer's status line and body.
    std::pair<QByteArray, QJsonObject> request(quint16 port, const QByteArray &method, const QByteArray &path,
                                               const QByteArray &body = {}, const QByteArray &extra = {});
    QJsonArray auditOf(const QString &type);

    QTemporaryDir m_dir;
    std::unique_ptr<SessionServer> m_server;
    QProcess m_nginx;
    quint16 m_serverPort = 0;
    quint16 m_nginxPort = 0;
    QByteArray m_adminToken;
};

void TestReverseProxy::initTestCase()
{
    const QString nginx = QStandardPaths::findExecutable(u"nginx"_s, { u"/usr/sbin"_s, u"/usr/bin"_s });
    QVERIFY2(!nginx.isEmpty(), "nginx is not installed (scripts/install-deps.sh installs it)");
    {
        Database database;
        QVERIFY(database.open(m_dir.filePath(u"gatehouse.sqlite"_s)));
        SystemClock clock;
        QVERIFY(UserDirectory(database, clock).add(u"alice"_s, {}, "a long password", {}).ok());
    }
    QFile config(m_dir.filePath(u"gatehouse.json"_s));
    QVERIFY(config.open(QIODevice::WriteOnly));
    config.write(R"({ "trusted_proxies": ["127.0.0.1"] })");
    config.close();
    m_serverPort = freePort();
    m_server = std::make_unique<SessionServer>(
        SessionServerOptions { m_dir.path(), {}, u"127.0.0.1:%1"_s.arg(m_serverPort), u"file"_s });
    m_server->start();
    QTRY_COMPARE_WITH_TIMEOUT(m_server->state(), ServerState::Running, 20000);
    FileSecretStore secrets(m_dir.filePath(u"secrets"_s));
    const auto token = SecretWaiter::read(secrets, u"admin-token"_s);
    QVERIFY(token.ok());
    m_adminToken = *token;

    // The recipe of docs/deployment.md ("Behind nginx"), on loopback ports.
    m_nginxPort = freePort();
    QFile recipe(QStringLiteral(GATEHOUSE_SOURCE_DIR) + u"/docs/nginx-gatehouse.conf"_s);
    QVERIFY(recipe.open(QIODevice::ReadOnly));
    QByteArray site = recipe.readAll();
    site.replace("listen 443 ssl;", QByteArray("listen 127.0.0.1:" + QByteArray::number(m_nginxPort) + ";"));
    site.replace("127.0.0.1:8080", QByteArray("127.0.0.1:" + QByteArray::number(m_serverPort)));
    // The test runs nginx as itself, in the foreground, with everything under its folder.
    const QByteArray prefix = m_dir.filePath(u"nginx"_s).toUtf8();
    QDir().mkpath(QString::fromUtf8(prefix) + u"/logs"_s);
    QByteArray whole = "daemon off; master_process off; pid " + prefix + "/nginx.pid; error_log " + prefix
        + "/logs/error.log;\nevents {}\nhttp {\n  access_log " + prefix + "/logs/access.log;\n  client_body_temp_path "
        + prefix + "/body; proxy_temp_path " + prefix + "/proxy;\n";
    // Without TLS here: the recipe's ssl lines go, and nginx tells the server the scheme is http.
    for (const QByteArray &line : site.split('\n')) {
        if (!line.contains("ssl_"))
            whole += "  " + line + '\n';
    }
    whole += "}\n";
    QFile conf(QString::fromUtf8(prefix) + u"/nginx.conf"_s);
    QVERIFY(conf.open(QIODevice::WriteOnly));
    conf.write(whole);
    conf.close();
    m_nginx.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    m_nginx.start(nginx, { u"-p"_s, QString::fromUtf8(prefix), u"-c"_s, conf.fileName() });
    QVERIFY(m_nginx.waitForStarted(5000));
    QVERIFY2(QTest::qWaitFor(
                 [&] {
                     QTcpSocket probe;
                     probe.connectToHost(QHostAddress::LocalHost, m_nginxPort);
                     return probe.waitForConnected(100);
                 },
                 10000),
             whole.constData());
}

void TestReverseProxy::cleanupTestCase()
{
    m_nginx.terminate();
    m_nginx.waitForFinished(5000);
    m_server.reset();
}

std::pair<QByteArray, QJsonObject> TestReverseProxy::request(quint16 port, const QByteArray &method,
                                                             const QByteArray &path, const QByteArray &body,
                                                             const QByteArray &extra)
{
    QTcpSocket socket;
    socket.bind(clientAddress);
    socket.connectToHost(QHostAddress::LocalHost, port);
    if (!socket.waitForConnected(5000))
        return {};
    QByteArray head = method + ' ' + path + " HTTP/1.1\r\nHost: gate.example\r\nConnection: close\r\n" + extra;
    if (!body.isEmpty())
        head += "Content-Type: application/json\r\nContent-Length: " + QByteArray::number(body.size()) + "\r\n";
    socket.write(head + "\r\n" + body);
    QByteArray answer;
    [[maybe_unused]] const bool done = QTest::qWaitFor(
        [&] {
            answer += socket.readAll();
            return socket.state() == QAbstractSocket::UnconnectedState;
        },
        10000);
    answer += socket.readAll();
    const qsizetype end = answer.indexOf("\r\n\r\n");
    return { answer.first(std::max<qsizetype>(0, answer.indexOf("\r\n"))),
             QJsonDocument::fromJson(end < 0 ? QByteArray() : answer.sliced(end + 4)).object() };
}

QJsonArray TestReverseProxy::auditOf(const QString &type)
{
    const auto [status, body] = request(m_serverPort, "GET", "/admin/audit?type=" + type.toLatin1(), {},
                                        "Authorization: Bearer " + m_adminToken + "\r\n");
    return body["events"_L1].toArray();
}

void TestReverseProxy::auditRecordsTheAddressNginxSaw()
{
    const auto [status, body]
        = request(m_nginxPort, "POST", "/auth/login",
                  R"({"username": "alice", "password": "a long password", "device": "behind-nginx"})");
    QCOMPARE(status, "HTTP/1.1 200 OK");
    const auto events = auditOf(u"login_succeeded"_s);
    QVERIFY(!events.isEmpty());
    QCOMPARE(events.first()["remote_address"_L1].toString(), u"127.0.0.2"_s);
    QCOMPARE(events.first()["device_id"_L1].toString(), u"behind-nginx"_s);
}

void TestReverseProxy::webSocketsPassThroughWithTheirClientAddress()
{
    const auto [status, login]
        = request(m_nginxPort, "POST", "/auth/login",
                  R"({"username": "alice", "password": "a long password", "device": "ws-behind-nginx"})");
    QCOMPARE(status, "HTTP/1.1 200 OK");
    RawWebSocket client;
    client.socket.bind(clientAddress);
    const QByteArray answer = client.upgrade(m_nginxPort, login["access_token"_L1].toString().toLatin1());
    QVERIFY2(answer.startsWith("HTTP/1.1 101"), answer.constData());
    QCOMPARE(client.next().opcode, 0x1); // the welcome, through nginx
    const auto [listed, connections] = request(m_serverPort, "GET", "/admin/connections?user=alice", {},
                                               "Authorization: Bearer " + m_adminToken + "\r\n");
    bool found = false;
    for (const auto &connection : connections["connections"_L1].toArray())
        found = found || connection["remote_address"_L1].toString() == "127.0.0.2"_L1;
    QVERIFY2(found, QJsonDocument(connections).toJson().constData());
    // Revocation reaches it through the proxy too.
    request(m_serverPort, "POST", "/admin/users/alice/revoke", {}, "Authorization: Bearer " + m_adminToken + "\r\n");
    QCOMPARE(client.next().closeCode(), 4003);
}

void TestReverseProxy::forgedForwardedForIsNotBelieved()
{
    // Straight to the server from 127.0.0.2 (not a trusted proxy): its header is ignored.
    const auto [direct, directBody]
        = request(m_serverPort, "POST", "/auth/login",
                  R"({"username": "alice", "password": "a long password", "device": "forged-direct"})",
                  "X-Forwarded-For: 6.6.6.6\r\nForwarded: for=6.6.6.6\r\n");
    QCOMPARE(direct, "HTTP/1.1 200 OK");
    // Through nginx, which appends the address it saw: the forged entry before it is not the client.
    const auto [proxied, proxiedBody]
        = request(m_nginxPort, "POST", "/auth/login",
                  R"({"username": "alice", "password": "a long password", "device": "forged-proxied"})",
                  "X-Forwarded-For: 6.6.6.6\r\n");
    QCOMPARE(proxied, "HTTP/1.1 200 OK");
    for (const auto &event : auditOf(u"login_succeeded"_s)) {
        const QString device = event["device_id"_L1].toString();
        if (device.startsWith(u"forged-"_s))
            QCOMPARE(event["remote_address"_L1].toString(), u"127.0.0.2"_s);
    }
}

QTEST_GUILESS_MAIN(TestReverseProxy)
#include "tst_reverseproxy.moc"
