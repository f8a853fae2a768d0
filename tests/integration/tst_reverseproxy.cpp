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
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QSslSocket>
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
    void proxyProtocolNamesTheClientThroughTls();
    void proxyHeadersAreOnlyReadFromTrustedProxies();

private:
    /// One request from 127.0.0.2 to `port`; the answer's status line and body.
    std::pair<QByteArray, QJsonObject> request(quint16 port, const QByteArray &method, const QByteArray &path,
                                               const QByteArray &body = {}, const QByteArray &extra = {});
    QJsonArray auditOf(const QString &type);

    QTemporaryDir m_dir;
    QTemporaryDir m_tlsDir; ///< the second server: TLS, behind nginx's stream proxy (PROXY protocol)
    std::unique_ptr<SessionServer> m_server;
    std::unique_ptr<SessionServer> m_tlsServer;
    quint16 m_tlsServerPort = 0;
    quint16 m_streamPort = 0;
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

    // The second server speaks TLS itself, and takes the PROXY protocol from nginx's stream
    // module, which passes TLS through untouched.
    {
        Database database;
        QVERIFY(database.open(m_tlsDir.filePath(u"gatehouse.sqlite"_s)));
        SystemClock clock;
        QVERIFY(UserDirectory(database, clock).add(u"alice"_s, {}, "a long password", {}).ok());
    }
    QFile tlsConfig(m_tlsDir.filePath(u"gatehouse.json"_s));
    QVERIFY(tlsConfig.open(QIODevice::WriteOnly));
    tlsConfig.write(R"({ "trusted_proxies": ["127.0.0.1"], "proxy_protocol": true, "tls": "self-signed" })");
    tlsConfig.close();
    m_tlsServerPort = freePort();
    m_tlsServer = std::make_unique<SessionServer>(
        SessionServerOptions { m_tlsDir.path(), {}, u"127.0.0.1:%1"_s.arg(m_tlsServerPort), u"file"_s });
    m_tlsServer->start();
    QTRY_COMPARE_WITH_TIMEOUT(m_tlsServer->state(), ServerState::Running, 20000);
    m_streamPort = freePort();

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
    QByteArray whole = "load_module /usr/lib/nginx/modules/ngx_stream_module.so;\n"
                       "daemon off; master_process off; pid "
        + prefix + "/nginx.pid; error_log " + prefix + "/logs/error.log;\nevents {}\n"
        + "stream {\n  server {\n    listen 127.0.0.1:" + QByteArray::number(m_streamPort)
        + ";\n    proxy_pass 127.0.0.1:" + QByteArray::number(m_tlsServerPort) + ";\n    proxy_protocol on;\n  }\n}\n"
        + "http {\n  access_log " + prefix + "/logs/access.log;\n  client_body_temp_path " + prefix
        + "/body; proxy_temp_path " + prefix + "/proxy;\n";
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
    m_tlsServer.reset();
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

void TestReverseProxy::proxyProtocolNamesTheClientThroughTls()
{
    // Client (127.0.0.2) → TLS through nginx's stream proxy, which prepends a PROXY header →
    // Gatehouse's own TLS. The audit records the client nginx saw, not nginx.
    QSslConfiguration trusting = QSslConfiguration::defaultConfiguration();
    trusting.setCaCertificates(QSslCertificate::fromData(m_tlsServer->certificateChain()));
    QSslSocket socket;
    socket.setSslConfiguration(trusting);
    socket.bind(clientAddress);
    socket.connectToHostEncrypted(u"localhost"_s, m_streamPort);
    QVERIFY2(socket.waitForEncrypted(10000), qPrintable(socket.errorString()));
    const QByteArray body = R"({"username": "alice", "password": "a long password", "device": "via-stream"})";
    socket.write("POST /auth/login HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: "
                 "application/json\r\nContent-Length: "
                 + QByteArray::number(body.size()) + "\r\n\r\n" + body);
    QByteArray answer;
    QVERIFY(QTest::qWaitFor(
        [&] {
            answer += socket.readAll();
            return socket.state() == QAbstractSocket::UnconnectedState;
        },
        10000));
    QVERIFY2(answer.startsWith("HTTP/1.1 200 OK"), answer.constData());
    QNetworkAccessManager network;
    QNetworkRequest audit(QUrl(u"https://localhost:%1/admin/audit?type=login_succeeded"_s.arg(m_tlsServerPort)));
    audit.setSslConfiguration(trusting);
    FileSecretStore secrets(m_tlsDir.filePath(u"secrets"_s));
    const auto admin = SecretWaiter::read(secrets, u"admin-token"_s);
    QVERIFY(admin.ok());
    audit.setRawHeader("Authorization", "Bearer " + *admin);
    // Straight from 127.0.0.1, a trusted proxy, which must then send a PROXY header: this
    // request without one is refused, so the audit is read through nginx as well.
    std::unique_ptr<QNetworkReply> direct(network.get(audit));
    QTRY_VERIFY_WITH_TIMEOUT(direct->isFinished(), 10000);
    QVERIFY(direct->error() != QNetworkReply::NoError);
    audit.setUrl(QUrl(u"https://localhost:%1/admin/audit?type=login_succeeded"_s.arg(m_streamPort)));
    std::unique_ptr<QNetworkReply> events(network.get(audit));
    QTRY_VERIFY_WITH_TIMEOUT(events->isFinished(), 10000);
    const auto list = QJsonDocument::fromJson(events->readAll()).object()["events"_L1].toArray();
    QVERIFY(!list.isEmpty());
    QCOMPARE(list.first()["device_id"_L1].toString(), u"via-stream"_s);
    QCOMPARE(list.first()["remote_address"_L1].toString(), u"127.0.0.2"_s);
}

void TestReverseProxy::proxyHeadersAreOnlyReadFromTrustedProxies()
{
    // 127.0.0.2 is no proxy: a PROXY header it sends is not read, so on the TLS port it is
    // plain text, told so; on the plain server (no proxy_protocol) it is a malformed request.
    for (const quint16 port : { m_tlsServerPort, m_serverPort }) {
        QTcpSocket socket;
        socket.bind(clientAddress);
        socket.connectToHost(QHostAddress::LocalHost, port);
        QVERIFY(socket.waitForConnected(5000));
        socket.write("PROXY TCP4 198.51.100.9 127.0.0.1 5555 443\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
        QByteArray answer;
        [[maybe_unused]] const bool ended = QTest::qWaitFor(
            [&] {
                answer += socket.readAll();
                return socket.state() == QAbstractSocket::UnconnectedState;
            },
            5000);
        answer += socket.readAll();
        QVERIFY2(answer.startsWith("HTTP/1.1 400"), answer.constData());
    }
    // A trusted proxy's malformed header closes the connection, answering nothing.
    QTcpSocket trusted;
    trusted.connectToHost(QHostAddress::LocalHost, m_tlsServerPort);
    QVERIFY(trusted.waitForConnected(5000));
    trusted.write("PROXY TCP4 198.51.100.9 127.0.0.1 99999 443\r\n");
    QVERIFY(QTest::qWaitFor([&] { return trusted.state() == QAbstractSocket::UnconnectedState; }, 5000));
    QCOMPARE(trusted.readAll(), QByteArray());
}

QTEST_GUILESS_MAIN(TestReverseProxy)
#include "tst_reverseproxy.moc"
