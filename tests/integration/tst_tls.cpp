// The port over TLS, against a real server with its self-signed lab certificate and real
// clients that trust that certificate (Qt's own TLS stack, and the openssl command line):
// HTTPS with HSTS and __Host- cookies, WSS with refusals before the upgrade and revocation
// closing with 4003, and what an attacker tries: plain HTTP to the TLS port, garbage instead of
// a ClientHello, a ClientHello cut in half and left open, old protocol versions.
#include "SessionServer.h"
#include "core/Clock.h"
#include "identity/UserDirectory.h"
#include "secrets/FileSecretStore.h"
#include "store/Database.h"

#include <QElapsedTimer>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QSignalSpy>
#include <QSslConfiguration>
#include <QSslSocket>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <QWebSocket>

#include "SecretWaiter.h"

using namespace Qt::StringLiterals;

class TestTls final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void httpsAnswersWithHstsAndHostCookies();
    void keptAliveRequestsShareOneTlsConnection();
    void wssIsRefusedBeforeTheUpgradeAndRevokedWith4003();
    void plainHttpToTheTlsPortIsToldSo();
    void garbageAndHalfHandshakesAreCut();
    void opensslClientSeesTls13WithHttp11AndNoOldVersions();
    void theCertificateIsKeptAcrossRestarts();

private:
    QSslConfiguration trusting() const;
    std::unique_ptr<QNetworkReply> send(QByteArrayView method, const QString &path, const QByteArray &body = {},
                                        const QByteArray &bearer = {});
    QJsonObject loginAs(const QString &username, const QString &device);
    quint16 port() const { return quint16(m_server->listenAddress().section(u':', -1).toUInt()); }
    void startServer();

    QTemporaryDir m_dir;
    std::unique_ptr<SessionServer> m_server;
    QNetworkAccessManager m_network;
    QByteArray m_certificate;
    QByteArray m_adminToken;
};

void TestTls::initTestCase()
{
    {
        Database database;
        QVERIFY(database.open(m_dir.filePath(u"gatehouse.sqlite"_s)));
        SystemClock clock;
        UserDirectory users(database, clock);
        QVERIFY(users.add(u"alice"_s, {}, "a long password", {}).ok());
    }
    QFile config(m_dir.filePath(u"gatehouse.json"_s));
    QVERIFY(config.open(QIODevice::WriteOnly));
    config.write(R"({ "handshake_timeout": 1 })");
    config.close();
    startServer();
    QFile certificate(m_dir.filePath(u"tls-self-signed.pem"_s));
    QVERIFY(certificate.open(QIODevice::ReadOnly));
    m_certificate = certificate.readAll();
    QVERIFY(m_certificate.startsWith("-----BEGIN CERTIFICATE-----"));
    FileSecretStore secrets(m_dir.filePath(u"secrets"_s));
    const auto token = SecretWaiter::read(secrets, u"admin-token"_s);
    QVERIFY(token.ok());
    m_adminToken = *token;
}

void TestTls::startServer()
{
    SessionServerOptions options { m_dir.path(), {}, u"127.0.0.1:0"_s, u"file"_s };
    options.tls = u"self-signed"_s;
    m_server = std::make_unique<SessionServer>(options);
    m_server->start();
    QTRY_COMPARE_WITH_TIMEOUT(m_server->state(), ServerState::Running, 20000);
}

void TestTls::cleanupTestCase()
{
    m_server.reset();
}

QSslConfiguration TestTls::trusting() const
{
    // Trusts the lab certificate and nothing else: no verification is switched off.
    QSslConfiguration configuration = QSslConfiguration::defaultConfiguration();
    configuration.setCaCertificates(QSslCertificate::fromData(m_certificate));
    configuration.setPeerVerifyMode(QSslSocket::VerifyPeer);
    return configuration;
}

std::unique_ptr<QNetworkReply> TestTls::send(QByteArrayView method, const QString &path, const QByteArray &body,
                                             const QByteArray &bearer)
{
    QNetworkRequest request(QUrl(u"https://localhost:%1%2"_s.arg(port()).arg(path)));
    request.setSslConfiguration(trusting());
    request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArray("application/json"));
    if (!bearer.isEmpty())
        request.setRawHeader("Authorization", "Bearer " + bearer);
    std::unique_ptr<QNetworkReply> reply(m_network.sendCustomRequest(request, method.toByteArray(), body));
    QSignalSpy finished(reply.get(), &QNetworkReply::finished);
    if (!reply->isFinished()) [[maybe_unused]]
        const bool done = finished.wait(20000);
    return reply;
}

QJsonObject TestTls::loginAs(const QString &username, const QString &device)
{
    const auto reply = send("POST", u"/auth/login"_s,
                            QJsonDocument(QJsonObject { { "username"_L1, username },
                                                        { "password"_L1, "a long password"_L1 },
                                                        { "device"_L1, device } })
                                .toJson());
    return QJsonDocument::fromJson(reply->readAll()).object();
}

void TestTls::httpsAnswersWithHstsAndHostCookies()
{
    const auto health = send("GET", u"/healthz"_s);
    QCOMPARE(health->error(), QNetworkReply::NoError);
    QCOMPARE(health->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 200);
    QCOMPARE(health->rawHeader("Strict-Transport-Security"), "max-age=31536000");
    // The browser login (cookies): over TLS they are Secure and __Host- prefixed.
    const auto login
        = send("POST", u"/auth/login"_s,
               R"({"username": "alice", "password": "a long password", "device": "browser", "cookies": true})");
    QCOMPARE(login->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 200);
    int sessionCookies = 0;
    for (const auto &[name, value] : login->rawHeaderPairs()) {
        if (name.compare("Set-Cookie", Qt::CaseInsensitive) != 0)
            continue;
        for (const QByteArray &cookie : value.split('\n')) {
            QVERIFY2(cookie.startsWith("__Host-") || cookie.startsWith("__Secure-"), cookie.constData());
            QVERIFY2(cookie.contains("; Secure"), cookie.constData());
            sessionCookies += cookie.startsWith("__Host-gh_session=") ? 1 : 0;
        }
    }
    QCOMPARE(sessionCookies, 1);
    const auto discovery = send("GET", u"/.well-known/openid-configuration"_s);
    const auto issuer = QJsonDocument::fromJson(discovery->readAll()).object()["issuer"_L1].toString();
    QVERIFY2(issuer.startsWith(u"https://"_s), qPrintable(issuer));
}

void TestTls::keptAliveRequestsShareOneTlsConnection()
{
    // A raw TLS client: two requests on one connection, the second answered like the first.
    QSslSocket socket;
    socket.setSslConfiguration(trusting());
    socket.connectToHostEncrypted(u"localhost"_s, port());
    QVERIFY(socket.waitForEncrypted(5000));
    QCOMPARE(socket.sslConfiguration().nextNegotiatedProtocol(), QByteArray()); // Qt sent no ALPN here
    for (int i = 0; i < 2; ++i) {
        socket.write("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n");
        QByteArray answer;
        QVERIFY(QTest::qWaitFor(
            [&] {
                answer += socket.readAll();
                return answer.contains("\r\n\r\n") && answer.endsWith("}");
            },
            5000));
        QVERIFY2(answer.startsWith("HTTP/1.1 200 OK\r\n"), answer.constData());
    }
    socket.write("GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    QVERIFY(QTest::qWaitFor([&] { return socket.state() == QAbstractSocket::UnconnectedState; }, 5000));
}

void TestTls::wssIsRefusedBeforeTheUpgradeAndRevokedWith4003()
{
    QWebSocket refused;
    refused.setSslConfiguration(trusting());
    QSignalSpy refusedClosed(&refused, &QWebSocket::disconnected);
    refused.open(QUrl(u"wss://localhost:%1/ws?access_token=not.a.token"_s.arg(port())));
    QVERIFY(refusedClosed.wait(5000));
    QVERIFY(refused.closeCode() != QWebSocketProtocol::CloseCodeNormal || !refused.isValid());

    const QString token = loginAs(u"alice"_s, u"wss"_s)["access_token"_L1].toString();
    QVERIFY(!token.isEmpty());
    QWebSocket client;
    client.setSslConfiguration(trusting());
    QList<QJsonObject> received;
    connect(&client, &QWebSocket::textMessageReceived, this,
            [&](const QString &text) { received.append(QJsonDocument::fromJson(text.toUtf8()).object()); });
    client.open(QUrl(u"wss://localhost:%1/ws?access_token=%2"_s.arg(port()).arg(token)));
    QTRY_VERIFY_WITH_TIMEOUT(!received.isEmpty(), 5000);
    QCOMPARE(received.first()["type"_L1].toString(), u"welcome"_s);
    client.sendTextMessage(uR"({"type":"ping"})"_s);

    const auto revoke = send("POST", u"/admin/users/alice/revoke"_s, {}, m_adminToken);
    QCOMPARE(revoke->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 200);
    QTRY_COMPARE_WITH_TIMEOUT(client.state(), QAbstractSocket::UnconnectedState, 5000);
    QCOMPARE(int(client.closeCode()), 4003);
}

void TestTls::plainHttpToTheTlsPortIsToldSo()
{
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, port());
    QVERIFY(socket.waitForConnected(5000));
    socket.write("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n");
    QByteArray answer;
    QVERIFY(QTest::qWaitFor(
        [&] {
            answer += socket.readAll();
            return socket.state() == QAbstractSocket::UnconnectedState;
        },
        5000));
    answer += socket.readAll();
    QVERIFY2(answer.startsWith("HTTP/1.1 400 Bad Request\r\n"), answer.constData());
    QVERIFY(answer.contains("this port speaks TLS"));
}

void TestTls::garbageAndHalfHandshakesAreCut()
{
    // Garbage where a ClientHello belongs: closed at once, nothing answered.
    QTcpSocket garbage;
    garbage.connectToHost(QHostAddress::LocalHost, port());
    QVERIFY(garbage.waitForConnected(5000));
    garbage.write(QByteArray(64, '\x01'));
    QVERIFY(QTest::qWaitFor([&] { return garbage.state() == QAbstractSocket::UnconnectedState; }, 3000));
    // A record header that promises a ClientHello, then bad bytes: the handshake fails.
    QTcpSocket broken;
    broken.connectToHost(QHostAddress::LocalHost, port());
    QVERIFY(broken.waitForConnected(5000));
    broken.write(QByteArray("\x16\x03\x01\x00\x20", 5) + QByteArray(32, '\xff'));
    QVERIFY(QTest::qWaitFor([&] { return broken.state() == QAbstractSocket::UnconnectedState; }, 3000));

    // Half a ClientHello, then silence: cut at the handshake deadline (1 s here), like a head.
    QList<std::shared_ptr<QTcpSocket>> stalled;
    for (int i = 0; i < 50; ++i) {
        auto socket = std::make_shared<QTcpSocket>();
        socket->connectToHost(QHostAddress::LocalHost, port());
        QVERIFY(socket->waitForConnected(5000));
        socket->write(QByteArray("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11)); // 11 of 517 bytes
        stalled.append(socket);
    }
    QElapsedTimer elapsed;
    elapsed.start();
    // Meanwhile the port serves others at once.
    QCOMPARE(send("GET", u"/healthz"_s)->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 200);
    QVERIFY(elapsed.elapsed() < 1000);
    QVERIFY(QTest::qWaitFor(
        [&] {
            return std::all_of(stalled.cbegin(), stalled.cend(),
                               [](const auto &socket) { return socket->state() == QAbstractSocket::UnconnectedState; });
        },
        5000));
    QVERIFY2(elapsed.elapsed() >= 700, qPrintable(QString::number(elapsed.elapsed()))); // not before the deadline
}

void TestTls::opensslClientSeesTls13WithHttp11AndNoOldVersions()
{
    QTemporaryDir dir;
    const QString ca = dir.filePath(u"ca.pem"_s);
    QFile file(ca);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(m_certificate);
    file.close();
    const auto sClient = [&](const QStringList &extra) {
        QProcess process;
        process.start(u"openssl"_s,
                      QStringList { u"s_client"_s, u"-connect"_s, u"127.0.0.1:%1"_s.arg(port()), u"-servername"_s,
                                    u"localhost"_s, u"-CAfile"_s, ca, u"-verify_return_error"_s, u"-verify_hostname"_s,
                                    u"localhost"_s, u"-ign_eof"_s }
                          + extra);
        process.write("GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        process.closeWriteChannel();
        process.waitForFinished(10000);
        return std::pair<int, QByteArray> { process.exitCode(),
                                            process.readAllStandardOutput() + process.readAllStandardError() };
    };
    const auto [modern, output] = sClient({ u"-alpn"_s, u"http/1.1"_s });
    QVERIFY2(modern == 0, output.constData());
    QVERIFY2(output.contains("New, TLSv1.3"), output.constData());
    QVERIFY2(output.contains("ALPN protocol: http/1.1"), output.constData());
    QVERIFY2(output.contains("Verify return code: 0 (ok)"), output.constData());
    QVERIFY2(output.contains("HTTP/1.1 200 OK"), output.constData());
    const auto [old, oldOutput] = sClient({ u"-tls1_1"_s });
    QVERIFY2(old != 0 || !oldOutput.contains("HTTP/1.1 200"), oldOutput.constData());
    const auto [h2, h2Output] = sClient({ u"-alpn"_s, u"h2"_s });
    QVERIFY2(!h2Output.contains("HTTP/1.1 200"), h2Output.constData());
}

void TestTls::theCertificateIsKeptAcrossRestarts()
{
    m_server.reset();
    startServer();
    QFile certificate(m_dir.filePath(u"tls-self-signed.pem"_s));
    QVERIFY(certificate.open(QIODevice::ReadOnly));
    QCOMPARE(certificate.readAll(), m_certificate); // the same one: a lab that trusts it still does
    QCOMPARE(send("GET", u"/healthz"_s)->error(), QNetworkReply::NoError);
}

QTEST_GUILESS_MAIN(TestTls)
#include "tst_tls.moc"
