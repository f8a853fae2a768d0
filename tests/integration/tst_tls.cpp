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
#include "tls/TlsCertificate.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QSslConfiguration>
#include <QSslSocket>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <QWebSocket>

#include "SecretWaiter.h"

#include <openssl/ssl.h>

#include <arpa/inet.h>
#include <csignal>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace Qt::StringLiterals;

namespace {
/// A TLS client (OpenSSL) on a blocking socket, for what Qt's would not do: reset the
/// connection, stop reading, half-close it without close_notify.
struct RawTlsClient {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    SSL_CTX *context = SSL_CTX_new(TLS_client_method());
    SSL *ssl = SSL_new(context);

    /// Connected and handshaken, or not (say so with ok()); `receiveBuffer` bytes if given.
    RawTlsClient(quint16 port, int receiveBuffer = 0)
    {
        sockaddr_in address {};
        address.sin_family = AF_INET;
        address.sin_port = htons(port);
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (receiveBuffer > 0)
            ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receiveBuffer, sizeof receiveBuffer);
        SSL_set_fd(ssl, fd);
        SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, const_cast<char *>("localhost"));
        m_ok = ::connect(fd, reinterpret_cast<sockaddr *>(&address), sizeof address) == 0 && SSL_connect(ssl) == 1;
    }
    ~RawTlsClient()
    {
        SSL_free(ssl);
        SSL_CTX_free(context);
        ::close(fd);
    }
    Q_DISABLE_COPY_MOVE(RawTlsClient)
    bool ok() const { return m_ok; }
    void setTimeout(int option, int seconds) const
    {
        const timeval timeout { seconds, 0 };
        ::setsockopt(fd, SOL_SOCKET, option, &timeout, sizeof timeout);
    }

private:
    bool m_ok = false;
};

/// A client frame (masked, RFC 6455 §5.3), final, of one opcode.
QByteArray clientFrame(quint8 opcode, const QByteArray &payload)
{
    QByteArray frame;
    frame.append(char(0x80 | opcode));
    const qsizetype size = payload.size();
    if (size < 126) {
        frame.append(char(0x80 | size));
    } else {
        Q_ASSERT(size <= 0xffff);
        frame.append(char(0x80 | 126)).append(char(size >> 8)).append(char(size & 0xff));
    }
    const char mask[4] = { 0x12, 0x34, 0x56, 0x78 };
    frame.append(mask, 4);
    for (qsizetype i = 0; i < size; ++i)
        frame.append(char(payload[i] ^ mask[i % 4]));
    return frame;
}

/// The server's frames (unmasked) in `bytes`, as (opcode, payload), as far as they are whole.
QList<std::pair<int, QByteArray>> serverFrames(QByteArrayView bytes)
{
    QList<std::pair<int, QByteArray>> frames;
    while (bytes.size() >= 2) {
        const int opcode = quint8(bytes[0]) & 0x0f;
        qsizetype size = quint8(bytes[1]) & 0x7f;
        qsizetype header = 2;
        if (size == 126) {
            if (bytes.size() < 4)
                break;
            size = (quint8(bytes[2]) << 8) | quint8(bytes[3]);
            header = 4;
        }
        if (size == 127 || bytes.size() < header + size)
            break;
        frames.append({ opcode, bytes.sliced(header, size).toByteArray() });
        bytes = bytes.sliced(header + size);
    }
    return frames;
}

int openDescriptors()
{
    return int(QDir(u"/proc/self/fd"_s).entryList(QDir::Files | QDir::System).size());
}

QByteArray pipelined(int count)
{
    QByteArray requests;
    for (int r = 0; r < count; ++r)
        requests += "GET /app.js HTTP/1.1\r\nHost: localhost\r\n\r\n";
    return requests;
}
} // namespace

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
    void aFullPortClosesTlsClientsWithoutAPlainAnswer();
    void clientsThatLeaveMidAnswerCannotStopTheServer();
    void aClientThatStopsReadingIsDropped();
    void aHalfClosedClientStillGetsItsAnswer();
    void framesBehindTheUpgradeArriveInOrder();
    void anUpgradeAfterAKeptAliveRequestIsServedToo();
    void aWssConnectionHoldsOneDescriptor();
    void aHeadInHundredsOfTinyRecordsIsAnswered();
    void aWssClientThatStopsReadingIsReset();
    void overTlsOnlyTheHostPrefixedCookieCounts();
    void wssClientsHearTheServerStop();
    void theCertificateIsKeptAcrossRestarts();
    void aSelfSignedCertificateHasNoFilesToReload();
    void certificateSwapsUnderOpenConnections();

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
    // As in gatehoused: SIGPIPE not ignored, so that a write that would raise it ends this test.
    std::signal(SIGPIPE, SIG_DFL);
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

void TestTls::aFullPortClosesTlsClientsWithoutAPlainAnswer()
{
    // 1 000 sockets from one address (the default per-address limit) that have not begun a
    // handshake; the next is closed without a plain-HTTP 429 its TLS stack could not read.
    std::vector<std::unique_ptr<QTcpSocket>> held;
    for (int i = 0; i < 1000; ++i) {
        held.push_back(std::make_unique<QTcpSocket>());
        held.back()->connectToHost(QHostAddress::LocalHost, port());
    }
    for (const auto &socket : held)
        QVERIFY(socket->state() == QAbstractSocket::ConnectedState || socket->waitForConnected(5000));
    QTest::qWait(100); // accepted, each a place in the census
    QTcpSocket extra;
    extra.connectToHost(QHostAddress::LocalHost, port());
    QVERIFY(extra.waitForConnected(5000));
    QVERIFY(QTest::qWaitFor([&] { return extra.state() == QAbstractSocket::UnconnectedState; }, 3000));
    QCOMPARE(extra.readAll(), QByteArray());
    held.clear();
    QTRY_COMPARE_WITH_TIMEOUT(send("GET", u"/healthz"_s)->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(),
                              200, 5000);
}

void TestTls::clientsThatLeaveMidAnswerCannotStopTheServer()
{
    // Answers that back up at a client which then resets its connection: the server's next
    // write fails. With OpenSSL's own socket writes that raises SIGPIPE and ends the process
    // (this one: the server runs in it, and SIGPIPE is not ignored here, as in gatehoused).
    for (int i = 0; i < 3; ++i) {
        RawTlsClient client(port());
        QVERIFY(client.ok());
        const QByteArray requests = pipelined(100);
        QCOMPARE(SSL_write(client.ssl, requests.constData(), int(requests.size())), int(requests.size()));
        QTest::qWait(500); // the answers back up, unread
        const linger reset { 1, 0 };
        ::setsockopt(client.fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset); // closing resets
    }
    QTest::qWait(300);
    QCOMPARE(send("GET", u"/healthz"_s)->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 200);
}

void TestTls::aClientThatStopsReadingIsDropped()
{
    // It asks for much and reads nothing: the HTTP side gives up on it as on the plain port,
    // and the TLS connection goes with it (within the answer deadline, 1 s here), not held open
    // outside the census. Seen from the client's side, without reading: its TCP state.
    RawTlsClient client(port(), 4096);
    QVERIFY(client.ok());
    client.setTimeout(SO_SNDTIMEO, 2);
    const QByteArray requests = pipelined(2000);
    // As much as the server takes before its answers back up (a write then times out).
    for (qsizetype at = 0; at < requests.size();) {
        const int written
            = SSL_write(client.ssl, requests.constData() + at, int(std::min<qsizetype>(requests.size() - at, 4096)));
        if (written <= 0)
            break;
        at += written;
    }
    QElapsedTimer elapsed;
    elapsed.start();
    const auto state = [fd = client.fd] {
        tcp_info info {};
        socklen_t length = sizeof info;
        ::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &length);
        return int(info.tcpi_state);
    };
    QVERIFY2(QTest::qWaitFor([&] { return state() == TCP_CLOSE_WAIT || state() == TCP_CLOSE; }, 20000),
             qPrintable(u"still open after %1 ms"_s.arg(elapsed.elapsed())));
}

void TestTls::aHalfClosedClientStillGetsItsAnswer()
{
    // A request, then a TCP half-close without close_notify (as `curl` and scripts may do): the
    // answer still comes, as on the plain port.
    RawTlsClient client(port());
    QVERIFY(client.ok());
    client.setTimeout(SO_RCVTIMEO, 5);
    const QByteArray request = "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    QCOMPARE(SSL_write(client.ssl, request.constData(), int(request.size())), int(request.size()));
    ::shutdown(client.fd, SHUT_WR);
    QByteArray answer;
    char buffer[4096];
    int read = 0;
    while ((read = SSL_read(client.ssl, buffer, sizeof buffer)) > 0)
        answer.append(buffer, read);
    QVERIFY2(answer.startsWith("HTTP/1.1 200 OK\r\n"), answer.constData());
}

void TestTls::framesBehindTheUpgradeArriveInOrder()
{
    // The upgrade and 150 messages of 1 KiB (more than the relay holds, 64 KiB) and a close, in
    // one burst: the WebSocket takes the TLS connection over from the relay with part of them
    // in the socket pair, part in the relay's buffer, part still in OpenSSL or the kernel.
    // Every message must be answered, and the close last: a byte lost or out of order would
    // break the masked framing.
    const QString token = loginAs(u"alice"_s, u"burst"_s)["access_token"_L1].toString();
    QVERIFY(!token.isEmpty());
    RawTlsClient client(port());
    QVERIFY(client.ok());
    client.setTimeout(SO_RCVTIMEO, 5);
    QByteArray burst = "GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                       "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                       "Authorization: Bearer "
        + token.toLatin1() + "\r\n\r\n";
    constexpr int messages = 150;
    for (int m = 0; m < messages; ++m)
        burst += clientFrame(0x1, R"({"type":"ping","pad":")" + QByteArray(1000, 'x') + R"("})");
    burst += clientFrame(0x8, QByteArray("\x0f\xa0", 2)); // close, 4000
    QCOMPARE(SSL_write(client.ssl, burst.constData(), int(burst.size())), int(burst.size()));

    QByteArray answer;
    char buffer[16384];
    int read = 0;
    while ((read = SSL_read(client.ssl, buffer, sizeof buffer)) > 0)
        answer.append(buffer, read);
    QVERIFY2(answer.startsWith("HTTP/1.1 101 Switching Protocols\r\n"), answer.left(200).constData());
    const auto frames = serverFrames(QByteArrayView(answer).sliced(answer.indexOf("\r\n\r\n") + 4));
    QVERIFY(!frames.isEmpty());
    QVERIFY(frames.first().second.contains(R"("type":"welcome")"));
    qsizetype pongs = 0;
    for (const auto &[opcode, payload] : frames)
        pongs += opcode == 0x1 && payload == R"({"type":"pong"})";
    QCOMPARE(pongs, messages);
    QCOMPARE(frames.last().first, 0x8);
    QCOMPARE(frames.last().second.left(2), QByteArray("\x0f\xa0", 2));
}

void TestTls::anUpgradeAfterAKeptAliveRequestIsServedToo()
{
    // A first answer may still be on its way through the relay when the upgrade comes: the
    // relay then keeps serving the connection, and the WebSocket works through it.
    const QString token = loginAs(u"alice"_s, u"second"_s)["access_token"_L1].toString();
    RawTlsClient client(port());
    QVERIFY(client.ok());
    client.setTimeout(SO_RCVTIMEO, 5);
    const QByteArray requests = "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"
                                "GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                                "Authorization: Bearer "
        + token.toLatin1() + "\r\n\r\n" + clientFrame(0x1, R"({"type":"ping"})");
    QCOMPARE(SSL_write(client.ssl, requests.constData(), int(requests.size())), int(requests.size()));
    QByteArray answer;
    char buffer[16384];
    while (!answer.contains(R"({"type":"pong"})")) {
        const int read = SSL_read(client.ssl, buffer, sizeof buffer);
        QVERIFY2(read > 0, answer.constData());
        answer.append(buffer, read);
    }
    QVERIFY(answer.startsWith("HTTP/1.1 200 OK\r\n"));
    QVERIFY(answer.contains("HTTP/1.1 101 Switching Protocols\r\n"));
}

void TestTls::aWssConnectionHoldsOneDescriptor()
{
    // Client and server share this process: each connection is the client's socket and the
    // server's. With TLS relayed over a socket pair the server would hold three.
    const QString token = loginAs(u"alice"_s, u"descriptors"_s)["access_token"_L1].toString();
    QTest::qWait(200); // earlier tests' connections are gone
    const int before = openDescriptors();
    constexpr int connections = 15;
    std::vector<std::unique_ptr<QWebSocket>> clients;
    int welcomed = 0;
    for (int c = 0; c < connections; ++c) {
        auto &client = clients.emplace_back(std::make_unique<QWebSocket>());
        client->setSslConfiguration(trusting());
        connect(client.get(), &QWebSocket::textMessageReceived, this,
                [&welcomed](const QString &text) { welcomed += text.contains(u"\"welcome\""_s); });
        client->open(QUrl(u"wss://localhost:%1/ws?access_token=%2"_s.arg(port()).arg(token)));
    }
    QTRY_COMPARE_WITH_TIMEOUT(welcomed, connections, 10000);
    const int held = openDescriptors() - before;
    QVERIFY2(held <= 2 * connections + 3,
             qPrintable(u"%1 descriptors for %2 connections"_s.arg(held).arg(connections)));
    // And they speak: a ping each, a pong each.
    int pongs = 0;
    for (auto &client : clients) {
        connect(client.get(), &QWebSocket::textMessageReceived, this,
                [&pongs](const QString &text) { pongs += text.contains(u"\"pong\""_s); });
        client->sendTextMessage(uR"({"type":"ping"})"_s);
    }
    QTRY_COMPARE_WITH_TIMEOUT(pongs, connections, 5000);
    clients.clear();
}

void TestTls::aHeadInHundredsOfTinyRecordsIsAnswered()
{
    // One TLS record a byte: each is a send of its own into the relay's socket pair, and a few
    // hundred of them used to fill it before the head was whole (the gate peeks until it is):
    // no answer, then the deadline. Found by an attack from outside.
    const QString token = loginAs(u"alice"_s, u"tiny"_s)["access_token"_L1].toString();
    const QList<QByteArray> heads {
        "GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Padding: " + QByteArray(700, 'p') + "\r\n\r\n",
        "GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer "
            + token.toLatin1() + "\r\nX-Padding: " + QByteArray(300, 'p') + "\r\n\r\n",
    };
    for (const QByteArray &head : heads) {
        RawTlsClient client(port());
        QVERIFY(client.ok());
        client.setTimeout(SO_RCVTIMEO, 5);
        // Each record in a segment of its own, a little apart, as a slow client's would be.
        const int one = 1;
        ::setsockopt(client.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        for (const char byte : head) {
            QCOMPARE(SSL_write(client.ssl, &byte, 1), 1);
            ::usleep(300);
        }
        char buffer[4096];
        const int read = SSL_read(client.ssl, buffer, sizeof buffer);
        QVERIFY2(read > 0, "no answer");
        const QByteArray answer(buffer, read);
        QVERIFY2(answer.startsWith("HTTP/1.1 200 OK\r\n") || answer.startsWith("HTTP/1.1 101 Switching Protocols\r\n"),
                 answer.left(100).constData());
    }
}

void TestTls::aWssClientThatStopsReadingIsReset()
{
    // Another device of the same user floods it with sync messages; it reads nothing. Past
    // 4 MiB waiting it is dropped, with a reset: a FIN would sit behind megabytes it will never
    // take, and the kernel would keep them (and the connection) for minutes.
    const QString token = loginAs(u"alice"_s, u"sink"_s)["access_token"_L1].toString();
    RawTlsClient sink(port(), 4096);
    QVERIFY(sink.ok());
    const QByteArray upgrade = "GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                               "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                               "Authorization: Bearer "
        + token.toLatin1() + "\r\n\r\n";
    QCOMPARE(SSL_write(sink.ssl, upgrade.constData(), int(upgrade.size())), int(upgrade.size()));
    QWebSocket source;
    source.setSslConfiguration(trusting());
    QSignalSpy welcomed(&source, &QWebSocket::textMessageReceived);
    source.open(QUrl(u"wss://localhost:%1/ws?access_token=%2"_s.arg(port()).arg(token)));
    QVERIFY(welcomed.wait(5000));
    const QString sync = uR"({"type":"sync","payload":")"_s + QString(60000, u'x') + uR"("})"_s;
    for (int m = 0; m < 150; ++m)
        source.sendTextMessage(sync);
    const auto state = [fd = sink.fd] {
        tcp_info info {};
        socklen_t length = sizeof info;
        ::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &length);
        return int(info.tcpi_state);
    };
    // Reset: closed at once (a FIN behind unsent megabytes would leave it established).
    QTRY_COMPARE_WITH_TIMEOUT(state(), int(TCP_CLOSE), 10000);
}

void TestTls::overTlsOnlyTheHostPrefixedCookieCounts()
{
    // A plain gh_session may have been set over plain HTTP or by a sibling host: over TLS it is
    // not the session cookie (a browser keeps __Host- ones from this origin only).
    const QByteArray token = loginAs(u"alice"_s, u"cookies"_s)["access_token"_L1].toString().toLatin1();
    QVERIFY(!token.isEmpty());
    const auto upgrade = [&](const QByteArray &cookie) {
        QSslSocket socket;
        socket.setSslConfiguration(trusting());
        socket.connectToHostEncrypted(u"localhost"_s, port());
        if (!socket.waitForEncrypted(5000))
            return QByteArray();
        socket.write("GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nCookie: "
                     + cookie + "\r\n\r\n");
        QByteArray answer;
        [[maybe_unused]] const bool answered = QTest::qWaitFor(
            [&] {
                answer += socket.readAll();
                return answer.contains("\r\n\r\n");
            },
            5000);
        return answer.first(std::max<qsizetype>(0, answer.indexOf("\r\n")));
    };
    QCOMPARE(upgrade("__Host-gh_session=" + token), "HTTP/1.1 101 Switching Protocols");
    QCOMPARE(upgrade("gh_session=" + token), "HTTP/1.1 401 Unauthorized");
    QCOMPARE(upgrade("gh_session=tossed; __Host-gh_session=" + token), "HTTP/1.1 101 Switching Protocols");
    QCOMPARE(upgrade("__Host-gh_session=" + token + "; __Host-gh_session=other"), "HTTP/1.1 400 Bad Request");
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

void TestTls::aSelfSignedCertificateHasNoFilesToReload()
{
    const auto reload = send("POST", u"/admin/tls/reload"_s, {}, m_adminToken);
    QCOMPARE(reload->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 400);
    QVERIFY(QJsonDocument::fromJson(reload->readAll())
                .object()["error_description"_L1]
                .toString()
                .contains(u"no files to reload"_s));
}

void TestTls::certificateSwapsUnderOpenConnections()
{
    // A server on the operator's files; 1 000 WSS connections open; the files are replaced on
    // disk (a renewal): new handshakes get the new certificate, and every open connection stays
    // up on the old one. Then a bad pair: refused with a sentence, audited, the new one serves on.
    QTemporaryDir dir;
    const QDateTime now = QDateTime::currentDateTimeUtc().addSecs(-60);
    const TlsCertificate first = TlsCertificate::selfSigned(u"first"_s, { u"localhost"_s }, {}, 30, now);
    const TlsCertificate second = TlsCertificate::selfSigned(u"second"_s, { u"localhost"_s }, {}, 60, now);
    const auto write = [&](const QString &name, const QByteArray &bytes) {
        QFile file(dir.filePath(name));
        QVERIFY(file.open(QIODevice::WriteOnly | QIODevice::Truncate));
        file.write(bytes);
    };
    write(u"cert.pem"_s, first.chainPem());
    write(u"key.pem"_s, first.keyPem());
    {
        Database database;
        QVERIFY(database.open(dir.filePath(u"gatehouse.sqlite"_s)));
        SystemClock clock;
        QVERIFY(UserDirectory(database, clock).add(u"bob"_s, {}, "a long password", {}).ok());
    }
    QFile config(dir.filePath(u"gatehouse.json"_s));
    QVERIFY(config.open(QIODevice::WriteOnly));
    config.write(R"({ "tls": {"certificate": "cert.pem", "private_key": "key.pem"},
                      "handshake_rate_per_ip": 100000, "handshake_rate_per_user": 100000,
                      "max_connections_per_user": 2000 })");
    config.close();
    SessionServer server(SessionServerOptions { dir.path(), {}, u"127.0.0.1:0"_s, u"file"_s });
    server.start();
    QTRY_COMPARE_WITH_TIMEOUT(server.state(), ServerState::Running, 20000);
    const quint16 filesPort = quint16(server.listenAddress().section(u':', -1).toUInt());
    QSslConfiguration trustsBoth = QSslConfiguration::defaultConfiguration();
    trustsBoth.setCaCertificates(QSslCertificate::fromData(first.chainPem() + second.chainPem()));
    const auto servedFingerprint = [&] {
        QSslSocket probe;
        probe.setSslConfiguration(trustsBoth);
        probe.connectToHostEncrypted(u"localhost"_s, filesPort);
        if (!probe.waitForEncrypted(5000))
            return QString();
        return QString::fromLatin1(probe.peerCertificate().digest(QCryptographicHash::Sha256).toHex(':').toUpper());
    };
    QCOMPARE(servedFingerprint(), first.summary().sha256Fingerprint);

    // The connections come from Node's `ws` (and the login from its fetch), trusting the two
    // certificates through NODE_EXTRA_CA_CERTS: an independent TLS client, and a light one.
    write(u"trusted.pem"_s, first.chainPem() + second.chainPem());
    QProcess clients;
    auto environment = QProcessEnvironment::systemEnvironment();
    environment.insert(u"NODE_EXTRA_CA_CERTS"_s, dir.filePath(u"trusted.pem"_s));
    clients.setProcessEnvironment(environment);
    clients.setWorkingDirectory(QStringLiteral(GATEHOUSE_CROSSCHECK_DIR));
    constexpr int connections = 1000;
    clients.start(u"node"_s,
                  { u"wss-many.mjs"_s, u"https://localhost:%1"_s.arg(filesPort), u"bob"_s, u"a long password"_s,
                    QString::number(connections) });
    QByteArray events;
    const auto awaitEvent = [&](const QByteArray &event) {
        return QTest::qWaitFor(
            [&] {
                events += clients.readAllStandardOutput();
                return events.contains(QByteArray("\"event\":\"" + event + "\""));
            },
            60000);
    };
    QVERIFY2(awaitEvent("welcomed"), QByteArray(events + clients.readAllStandardError()).constData());
    QVERIFY2(events.contains("\"hsts\":\"max-age=31536000\""), events.constData());

    write(u"cert.pem"_s, second.chainPem()); // as a renewal does: the files change on disk
    write(u"key.pem"_s, second.keyPem());
    QTRY_COMPARE_WITH_TIMEOUT(servedFingerprint(), second.summary().sha256Fingerprint, 10000);
    // Every connection opened before still speaks: each answers a ping.
    clients.write("ping\n");
    QVERIFY2(awaitEvent("answered"), events.constData());
    QVERIFY2(!events.contains("\"event\":\"error\""), events.constData());

    write(u"key.pem"_s, first.keyPem()); // a bad pair: the second certificate with the first key
    QNetworkRequest reload(QUrl(u"https://localhost:%1/admin/tls/reload"_s.arg(filesPort)));
    reload.setSslConfiguration(trustsBoth);
    FileSecretStore secrets(dir.filePath(u"secrets"_s));
    const auto admin = SecretWaiter::read(secrets, u"admin-token"_s);
    QVERIFY(admin.ok());
    reload.setRawHeader("Authorization", "Bearer " + *admin);
    std::unique_ptr<QNetworkReply> refused(m_network.post(reload, QByteArray()));
    QTRY_VERIFY_WITH_TIMEOUT(refused->isFinished(), 10000);
    QCOMPARE(refused->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 400);
    QVERIFY(QJsonDocument::fromJson(refused->readAll())
                .object()["error_description"_L1]
                .toString()
                .contains(u"does not match"_s));
    QCOMPARE(servedFingerprint(), second.summary().sha256Fingerprint);

    QNetworkRequest metrics(QUrl(u"https://localhost:%1/metrics"_s.arg(filesPort)));
    metrics.setSslConfiguration(trustsBoth);
    std::unique_ptr<QNetworkReply> scraped(m_network.get(metrics));
    QTRY_VERIFY_WITH_TIMEOUT(scraped->isFinished(), 10000);
    const QByteArray text = scraped->readAll();
    const auto line
        = QRegularExpression(u"gatehouse_tls_certificate_expiry_seconds (\\d+)"_s).match(QString::fromLatin1(text));
    QVERIFY2(line.hasMatch(), text.constData());
    QVERIFY(qAbs(line.captured(1).toLongLong() - 60 * 86400) < 600); // the second one's 60 days

    QNetworkRequest audit(QUrl(u"https://localhost:%1/admin/audit?type=tls_reload_refused"_s.arg(filesPort)));
    audit.setSslConfiguration(trustsBoth);
    audit.setRawHeader("Authorization", "Bearer " + *admin);
    std::unique_ptr<QNetworkReply> audited(m_network.get(audit));
    QTRY_VERIFY_WITH_TIMEOUT(audited->isFinished(), 10000);
    QVERIFY(!QJsonDocument::fromJson(audited->readAll()).object()["events"_L1].toArray().isEmpty());
    clients.kill();
    clients.waitForFinished(5000);
}

void TestTls::wssClientsHearTheServerStop()
{
    // A stopping server closes every WebSocket with 1001: one that speaks TLS itself (its
    // upgrade came first) and one still relayed (its upgrade came after a kept-alive request).
    const QString token = loginAs(u"alice"_s, u"stop"_s)["access_token"_L1].toString();
    const QByteArray upgrade = "GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                               "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                               "Authorization: Bearer "
        + token.toLatin1() + "\r\n\r\n";
    RawTlsClient direct(port());
    RawTlsClient relayed(port());
    QVERIFY(direct.ok() && relayed.ok());
    const QByteArray keptAliveThenUpgrade = "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n" + upgrade;
    QCOMPARE(SSL_write(direct.ssl, upgrade.constData(), int(upgrade.size())), int(upgrade.size()));
    QCOMPARE(SSL_write(relayed.ssl, keptAliveThenUpgrade.constData(), int(keptAliveThenUpgrade.size())),
             int(keptAliveThenUpgrade.size()));
    const auto readUntil = [](RawTlsClient &client, const QByteArray &marker, QByteArray &answer) {
        client.setTimeout(SO_RCVTIMEO, 5);
        char buffer[16384];
        while (!answer.contains(marker)) {
            const int read = SSL_read(client.ssl, buffer, sizeof buffer);
            if (read <= 0)
                return false;
            answer.append(buffer, read);
        }
        return true;
    };
    QByteArray directAnswer;
    QByteArray relayedAnswer;
    QVERIFY(readUntil(direct, R"("type":"welcome")", directAnswer));
    QVERIFY(readUntil(relayed, R"("type":"welcome")", relayedAnswer));
    m_server.reset();
    for (auto *answer : { &directAnswer, &relayedAnswer }) {
        RawTlsClient &client = answer == &directAnswer ? direct : relayed;
        QVERIFY(readUntil(client, "server shutting down", *answer));
        const qsizetype close = answer->indexOf("\x88");
        QVERIFY(close > 0);
        QCOMPARE(answer->mid(close + 2, 2), QByteArray("\x03\xe9", 2)); // 1001
    }
    startServer();
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
