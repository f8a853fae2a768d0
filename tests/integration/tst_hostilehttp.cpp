// The HTTP side as strangers reach it, over raw sockets: every request of a kept-open
// connection meets the same limits as the first, bodies are refused by their declared size
// before they are read, every stage has a deadline, framing is RFC 9112's and strict (the
// smuggling shapes with a pipelined second request among them), and each request gets
// exactly one answer.
#include "SessionServer.h"

#include <QElapsedTimer>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>

using namespace Qt::StringLiterals;

namespace {
constexpr auto headTimeoutSeconds = 1; // handshake_timeout in the test's configuration
constexpr auto keepAliveSeconds = 2; // http_keepalive_timeout

struct Answer {
    int status = 0;
    QByteArray head;
    QByteArray body;
    QByteArray header(QByteArrayView name) const
    {
        for (const auto &line : head.split('\n')) {
            const qsizetype colon = line.indexOf(':');
            if (colon > 0 && line.first(colon).trimmed().toLower() == name)
                return line.sliced(colon + 1).trimmed();
        }
        return {};
    }
};

/// One client connection, read answer by answer.
class Client {
public:
    explicit Client(quint16 port, const QHostAddress &from = QHostAddress::LocalHost)
    {
        if (from != QHostAddress::LocalHost)
            m_socket.bind(from);
        m_socket.connectToHost(QHostAddress::LocalHost, port);
        m_connected = m_socket.waitForConnected(5000);
    }
    bool connected() const { return m_connected; }
    void send(const QByteArray &bytes)
    {
        m_socket.write(bytes);
        m_socket.flush();
    }
    /// The next answer, or status 0 if none came within `timeoutMs`.
    Answer next(int timeoutMs = 5000)
    {
        QElapsedTimer timer;
        timer.start();
        while (true) {
            const qsizetype end = m_buffer.indexOf("\r\n\r\n");
            if (end >= 0) {
                Answer answer;
                answer.head = m_buffer.first(end);
                answer.status = answer.head.split(' ').value(1).toInt();
                const qsizetype length = answer.header("content-length").toLongLong();
                if (m_buffer.size() >= end + 4 + length) {
                    answer.body = m_buffer.sliced(end + 4, length);
                    m_buffer.remove(0, end + 4 + length);
                    // 100 Continue is an interim answer (RFC 9110 §15.2): the caller sees it.
                    return answer;
                }
            }
            const qint64 left = timeoutMs - timer.elapsed();
            if (left <= 0 || m_socket.state() != QAbstractSocket::ConnectedState)
                break;
            if (m_socket.waitForReadyRead(int(std::min<qint64>(left, 200))))
                m_buffer += m_socket.readAll();
        }
        m_buffer += m_socket.readAll();
        return {};
    }
    /// Whether the server closed the connection within `timeoutMs`, with nothing more to say.
    bool closedBy(int timeoutMs)
    {
        QElapsedTimer timer;
        timer.start();
        while (timer.elapsed() < timeoutMs) {
            if (m_socket.state() != QAbstractSocket::ConnectedState)
                return m_buffer.isEmpty();
            if (m_socket.waitForReadyRead(50))
                m_buffer += m_socket.readAll();
            if (m_socket.state() == QAbstractSocket::UnconnectedState || !m_socket.isValid())
                return m_buffer.isEmpty();
        }
        return false;
    }
    QByteArray leftOver() const { return m_buffer; }

private:
    QTcpSocket m_socket;
    bool m_connected = false;
    QByteArray m_buffer;
};

QByteArray get(const QByteArray &path, const QByteArray &extra = {})
{
    return "GET " + path + " HTTP/1.1\r\nHost: gate\r\n" + extra + "\r\n";
}

qint64 residentKiB()
{
    QFile status(u"/proc/self/status"_s);
    if (!status.open(QIODevice::ReadOnly))
        return 0;
    for (const QByteArray &line : status.readAll().split('\n')) {
        if (line.startsWith("VmRSS:"))
            return line.sliced(6).trimmed().split(' ').first().toLongLong();
    }
    return 0;
}
} // namespace

class TestHostileHttp final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void keptOpenConnectionServesSeveralRequests();
    void pipelinedRequestsAreAnsweredInOrder();
    void laterRequestsMeetTheHeadLimits_data();
    void laterRequestsMeetTheHeadLimits();
    void declaredBodyOverTheLimitIsRefusedBeforeItIsRead();
    void hugeBodyIsNeverBuffered();
    void chunkedBodyIsDecodedAndBounded();
    void framingIsStrict_data();
    void framingIsStrict();
    void smuggledRequestInABodyIsNeverDispatched();
    void expectContinueIsAnswered();
    void http10AndConnectionCloseAreHonoured();
    void doubleSlashIsAPathNotAHost();
    void repeatedCredentialCookiesAreRefused();
    void upgradeAsSecondRequestIsAnsweredOnce();
    void idleConnectionIsClosedAfterKeepAlive();
    void tricklingSecondHeadIsCutAtItsDeadline();
    void unfinishedBodyIsCutAtItsDeadline();
    void connectionsPerAddressAreLimited();
    void idleConnectionsMakeRoomWhenFull();
    void refusalsAreCountedExactlyAndAuditedInAggregate();
    void headIsAnsweredWithoutABody();
    void methodsAreNamed();
    void routesMatchThePathAsSent();
    void upgradeIsFramedLikeAnyRequest_data();
    void upgradeIsFramedLikeAnyRequest();
    void silentSocketsMakeRoomWhenFull();

private:
    quint16 port() const { return m_server->listenAddress().section(u':', -1).toUShort(); }

    QTemporaryDir m_dir;
    std::unique_ptr<SessionServer> m_server;
};

void TestHostileHttp::initTestCase()
{
    QFile config(m_dir.filePath(u"gatehouse.json"_s));
    QVERIFY(config.open(QIODevice::WriteOnly));
    config.write(QJsonDocument(QJsonObject { { "handshake_timeout"_L1, headTimeoutSeconds },
                                             { "http_keepalive_timeout"_L1, keepAliveSeconds },
                                             { "max_http_connections"_L1, 40 },
                                             { "max_http_connections_per_address"_L1, 30 } })
                     .toJson());
    config.close();
    m_server = std::make_unique<SessionServer>(SessionServerOptions { m_dir.path(), {}, u"127.0.0.1:0"_s, u"file"_s });
    m_server->start();
    QTRY_COMPARE_WITH_TIMEOUT(m_server->state(), ServerState::Running, 20000);
}

void TestHostileHttp::cleanupTestCase()
{
    m_server.reset();
}

void TestHostileHttp::keptOpenConnectionServesSeveralRequests()
{
    Client client(port());
    QVERIFY(client.connected());
    for (int i = 0; i < 3; ++i) {
        client.send(get("/healthz"));
        const Answer answer = client.next();
        QCOMPARE(answer.status, 200);
        QVERIFY(answer.header("connection").isEmpty());
        QCOMPARE(QJsonDocument::fromJson(answer.body).object()["status"_L1].toString(), u"ok"_s);
    }
}

void TestHostileHttp::pipelinedRequestsAreAnsweredInOrder()
{
    Client client(port());
    client.send(get("/healthz") + get("/nowhere") + get("/.well-known/jwks.json"));
    QCOMPARE(client.next().status, 200);
    QCOMPARE(client.next().status, 404);
    const Answer jwks = client.next();
    QCOMPARE(jwks.status, 200);
    QVERIFY(jwks.body.contains("\"keys\""));
}

void TestHostileHttp::laterRequestsMeetTheHeadLimits_data()
{
    QTest::addColumn<QByteArray>("second");
    QTest::addColumn<int>("status");
    QTest::newRow("a 64 MiB header line")
        << QByteArray("GET /healthz HTTP/1.1\r\nHost: g\r\nX: " + QByteArray(64 * 1024 * 1024, 'a') + "\r\n\r\n")
        << 431;
    QTest::newRow("obs-fold") << QByteArray("GET /healthz HTTP/1.1\r\nHost: g\r\nX: a\r\n b\r\n\r\n") << 400;
    QTest::newRow("bare LF") << QByteArray("GET /healthz HTTP/1.1\nHost: g\n\n") << 400;
    QTest::newRow("NUL in a field") << QByteArray("GET /healthz HTTP/1.1\r\nHost: g\r\nX: a\0b\r\n\r\n", 42) << 400;
    QByteArray manyFields = "GET /healthz HTTP/1.1\r\nHost: g\r\n";
    for (int i = 0; i < 10000; ++i)
        manyFields += "a:" + QByteArray::number(i % 10) + "\r\n";
    QTest::newRow("10 000 fields") << QByteArray(manyFields + "\r\n") << 431;
    QByteArray fewTooMany = "GET /healthz HTTP/1.1\r\nHost: g\r\n";
    for (int i = 0; i < 100; ++i)
        fewTooMany += "a:1\r\n";
    QTest::newRow("101 short fields") << QByteArray(fewTooMany + "\r\n") << 431;
    QTest::newRow("a 1 MiB request line")
        << QByteArray("GET /" + QByteArray(1024 * 1024, 'a') + " HTTP/1.1\r\nHost: g\r\n\r\n") << 431;
    QTest::newRow("absolute-form") << QByteArray("GET http://gate/healthz HTTP/1.1\r\nHost: g\r\n\r\n") << 400;
}

void TestHostileHttp::laterRequestsMeetTheHeadLimits()
{
    QFETCH(QByteArray, second);
    QFETCH(int, status);
    const qint64 before = residentKiB();
    Client client(port());
    client.send(get("/healthz"));
    QCOMPARE(client.next().status, 200);
    client.send(second);
    const Answer answer = client.next();
    QCOMPARE(answer.status, status);
    QCOMPARE(answer.header("connection"), QByteArray("close"));
    if (status == 431)
        QVERIFY2(answer.body.contains(QByteArrayView(QTest::currentDataTag()) == "101 short fields" ? "header fields"
                                                                                                    : "KiB"),
                 answer.body.constData());
    QVERIFY(client.closedBy(3000));
    // Nothing of a 64 MiB head was kept: the server never read past its 16 KiB limit.
    QVERIFY2(residentKiB() - before < 32 * 1024, qPrintable(QString::number(residentKiB() - before)));
}

void TestHostileHttp::declaredBodyOverTheLimitIsRefusedBeforeItIsRead()
{
    for (const QByteArray path : { "/oauth/revoke", "/nowhere" }) {
        Client client(port());
        client.send(get("/healthz"));
        QCOMPARE(client.next().status, 200);
        // The head alone: the answer comes without a byte of the body.
        client.send("POST " + path + " HTTP/1.1\r\nHost: g\r\nContent-Length: 9999999999\r\n\r\n");
        const Answer answer = client.next(2000);
        QCOMPARE(answer.status, 413);
        QCOMPARE(QJsonDocument::fromJson(answer.body).object()["error"_L1].toString(), u"body_too_large"_s);
        QVERIFY(client.closedBy(3000));
    }
}

void TestHostileHttp::hugeBodyIsNeverBuffered()
{
    const qint64 before = residentKiB();
    Client client(port());
    client.send("POST /oauth/revoke HTTP/1.1\r\nHost: g\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                "Content-Length: 134217728\r\n\r\n");
    const QByteArray slice(1024 * 1024, 'a');
    for (int i = 0; i < 32; ++i)
        client.send(slice); // 32 MiB of it; the server closes long before
    const Answer answer = client.next();
    QCOMPARE(answer.status, 413);
    QVERIFY2(residentKiB() - before < 24 * 1024, qPrintable(QString::number(residentKiB() - before)));
}

void TestHostileHttp::chunkedBodyIsDecodedAndBounded()
{
    Client client(port());
    // A chunked form reaches the route whole: an unknown token is revoked "successfully"
    // (RFC 7009 §2.2), which only a decoded, well-formed form gets to.
    client.send("POST /oauth/revoke HTTP/1.1\r\nHost: g\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                "Transfer-Encoding: chunked\r\n\r\n6\r\ntoken=\r\n3;x=y\r\nabc\r\n0\r\n\r\n");
    QCOMPARE(client.next().status, 200);
    client.send(get("/healthz")); // and the connection goes on
    QCOMPARE(client.next().status, 200);
    // Chunks adding up past the limit are cut as they arrive.
    client.send("POST /oauth/revoke HTTP/1.1\r\nHost: g\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (int i = 0; i < 3; ++i)
        client.send("8000\r\n" + QByteArray(0x8000, 'a') + "\r\n");
    const Answer answer = client.next();
    QCOMPARE(answer.status, 413);
    QVERIFY(client.closedBy(3000));
}

void TestHostileHttp::framingIsStrict_data()
{
    QTest::addColumn<QByteArray>("request");
    QTest::addColumn<int>("status");
    const QByteArray post
        = "POST /oauth/revoke HTTP/1.1\r\nHost: g\r\nContent-Type: application/x-www-form-urlencoded\r\n";
    QTest::newRow("two different Content-Length values")
        << QByteArray(post + "Content-Length: 7\r\nContent-Length: 8\r\n\r\ntoken=xx") << 400;
    for (const char *value : { "-1", "0x7", "+7", "7, 7", "18446744073709551623" })
        QTest::newRow(qPrintable(u"Content-Length: %1"_s.arg(QLatin1StringView(value))))
            << QByteArray(post + "Content-Length: " + value + "\r\n\r\ntoken=x") << 400;
    QTest::newRow("Content-Length with Transfer-Encoding")
        << QByteArray(post + "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n") << 400;
    QTest::newRow("a coding other than chunked") << QByteArray(post + "Transfer-Encoding: gzip\r\n\r\n") << 400;
    QTest::newRow("chunked not last") << QByteArray(post + "Transfer-Encoding: chunked, gzip\r\n\r\n") << 400;
    QTest::newRow("a bad chunk size is never dispatched with an empty body")
        << QByteArray(post + "Transfer-Encoding: chunked\r\n\r\nzz\r\ntoken=x\r\n0\r\n\r\n") << 400;
    QTest::newRow("no Host in HTTP/1.1") << QByteArray("GET /healthz HTTP/1.1\r\n\r\n") << 400;
    QTest::newRow("two Host fields") << QByteArray("GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n") << 400;
    QTest::newRow("an unknown expectation") << QByteArray(post + "Expect: magic\r\nContent-Length: 1\r\n\r\nx") << 417;
}

void TestHostileHttp::framingIsStrict()
{
    QFETCH(QByteArray, request);
    QFETCH(int, status);
    // As the second request of a connection, with a pipelined third behind it that must
    // never be answered.
    Client client(port());
    client.send(get("/healthz"));
    QCOMPARE(client.next().status, 200);
    client.send(request + get("/healthz"));
    const Answer answer = client.next();
    QCOMPARE(answer.status, status);
    QCOMPARE(answer.header("connection"), QByteArray("close"));
    QVERIFY2(client.closedBy(3000), client.leftOver().constData());
}

void TestHostileHttp::smuggledRequestInABodyIsNeverDispatched()
{
    // "Content-Length: 0" then "Content-Length: 56": a server that takes the first reads the
    // body as the next request. Here the whole message is refused, once.
    const QByteArray hidden = get("/metrics");
    Client client(port());
    client.send("POST /oauth/revoke HTTP/1.1\r\nHost: g\r\nContent-Length: 0\r\nContent-Length: "
                + QByteArray::number(hidden.size()) + "\r\n\r\n" + hidden);
    QCOMPARE(client.next().status, 400);
    QVERIFY2(client.closedBy(3000), client.leftOver().constData());

    // A valid chunked body whose last chunk is followed by a request: that request is the
    // next one on the connection, answered after the first, never inside it.
    Client pipelined(port());
    pipelined.send("POST /oauth/revoke HTTP/1.1\r\nHost: g\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                   "Transfer-Encoding: chunked\r\n\r\n7\r\ntoken=x\r\n0\r\n\r\n"
                   + get("/nowhere"));
    QCOMPARE(pipelined.next().status, 200);
    QCOMPARE(pipelined.next().status, 404);
}

void TestHostileHttp::expectContinueIsAnswered()
{
    Client client(port());
    client.send("POST /oauth/revoke HTTP/1.1\r\nHost: g\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                "Expect: 100-continue\r\nContent-Length: 7\r\n\r\n");
    QCOMPARE(client.next().status, 100);
    client.send("token=x");
    QCOMPARE(client.next().status, 200);
}

void TestHostileHttp::http10AndConnectionCloseAreHonoured()
{
    Client old(port());
    old.send("GET /healthz HTTP/1.0\r\n\r\n");
    const Answer first = old.next();
    QCOMPARE(first.status, 200);
    QCOMPARE(first.header("connection"), QByteArray("close"));
    QVERIFY(old.closedBy(3000));

    Client closing(port());
    closing.send(get("/healthz", "Connection: close\r\n") + get("/healthz"));
    const Answer answer = closing.next();
    QCOMPARE(answer.status, 200);
    QCOMPARE(answer.header("connection"), QByteArray("close"));
    QVERIFY2(closing.closedBy(3000), closing.leftOver().constData()); // the pipelined one is not answered
}

void TestHostileHttp::doubleSlashIsAPathNotAHost()
{
    Client client(port());
    client.send(get("//x/metrics"));
    const Answer answer = client.next();
    QCOMPARE(answer.status, 404);
    QVERIFY(!answer.body.contains("gatehouse_"));
}

void TestHostileHttp::repeatedCredentialCookiesAreRefused()
{
    // Which of two session or refresh cookies is "the" one is the attacker's choice (a sibling
    // domain can plant one): both are refused, on the first and on a later request alike.
    Client client(port());
    for (int round = 0; round < 2; ++round) {
        client.send("GET /api/me HTTP/1.1\r\nHost: a\r\nCookie: gh_session=one; x=1; gh_session=two\r\n\r\n");
        const Answer me = client.next();
        QCOMPARE(me.status, 400);
        QVERIFY2(me.body.contains("more than once"), me.body.constData());
        client.send("POST /auth/refresh HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n"
                    "Cookie: gh_refresh=ghr_one; gh_refresh=ghr_two\r\n\r\n");
        const Answer refresh = client.next();
        QCOMPARE(refresh.status, 400);
        QVERIFY2(refresh.body.contains("more than once"), refresh.body.constData());
    }
}

void TestHostileHttp::upgradeAsSecondRequestIsAnsweredOnce()
{
    const QByteArray upgrade = "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                               "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";
    // To /ws: the gate decides it like a first request (no token: 401), once.
    Client client(port());
    client.send(get("/healthz"));
    QCOMPARE(client.next().status, 200);
    client.send(get("/ws", upgrade));
    QCOMPARE(client.next().status, 401);
    QVERIFY2(client.closedBy(3000), client.leftOver().constData());
    // To another route: refused by the routes, once, and the connection may go on.
    Client other(port());
    other.send(get("/healthz"));
    QCOMPARE(other.next().status, 200);
    other.send(get("/api/me", upgrade));
    QCOMPARE(other.next().status, 400);
    QCOMPARE(other.next(500).status, 0);
    other.send(get("/healthz"));
    QCOMPARE(other.next().status, 200);
}

void TestHostileHttp::idleConnectionIsClosedAfterKeepAlive()
{
    Client client(port());
    client.send(get("/healthz"));
    QCOMPARE(client.next().status, 200);
    QElapsedTimer idle;
    idle.start();
    QVERIFY(client.closedBy((keepAliveSeconds + 2) * 1000));
    QVERIFY2(idle.elapsed() >= keepAliveSeconds * 1000 - 200, qPrintable(QString::number(idle.elapsed())));
}

void TestHostileHttp::tricklingSecondHeadIsCutAtItsDeadline()
{
    Client client(port());
    client.send(get("/healthz"));
    QCOMPARE(client.next().status, 200);
    QElapsedTimer trickle;
    trickle.start();
    const QByteArray head = get("/healthz");
    bool closed = false;
    for (qsizetype i = 0; i < head.size() - 1 && !closed; ++i) {
        client.send(head.sliced(i, 1));
        closed = client.closedBy(300);
    }
    QVERIFY(closed);
    QVERIFY2(trickle.elapsed() < (headTimeoutSeconds + 2) * 1000, qPrintable(QString::number(trickle.elapsed())));
}

void TestHostileHttp::unfinishedBodyIsCutAtItsDeadline()
{
    Client client(port());
    client.send(get("/healthz"));
    QCOMPARE(client.next().status, 200);
    client.send("POST /oauth/revoke HTTP/1.1\r\nHost: g\r\nContent-Length: 100\r\n\r\ntoken=");
    const Answer answer = client.next((headTimeoutSeconds + 2) * 1000);
    QCOMPARE(answer.status, 408);
    QVERIFY(client.closedBy(3000));
}

void TestHostileHttp::connectionsPerAddressAreLimited()
{
    // 30 sockets from 127.0.0.2 that say nothing take all its places; the 31st is refused at
    // once, while another address is still served.
    const QHostAddress stranger(u"127.0.0.2"_s);
    std::vector<std::unique_ptr<Client>> silent;
    for (int i = 0; i < 30; ++i) {
        silent.push_back(std::make_unique<Client>(port(), stranger));
        QVERIFY(silent.back()->connected());
    }
    QTest::qWait(200);
    Client refused(port(), stranger);
    refused.send(get("/healthz"));
    QCOMPARE(refused.next().status, 429);
    Client served(port());
    served.send(get("/healthz"));
    QCOMPARE(served.next().status, 200);
    // Their head deadline frees the places.
    silent.clear();
    QTRY_VERIFY_WITH_TIMEOUT(
        [&] {
            Client again(port(), stranger);
            again.send(get("/healthz"));
            return again.next().status == 200;
        }(),
        (headTimeoutSeconds + 3) * 1000);
}

void TestHostileHttp::idleConnectionsMakeRoomWhenFull()
{
    // 40 places in all: 35 idle kept-alive connections from several addresses, then more
    // newcomers than places are left. The idle ones are shed for them, oldest first.
    std::vector<std::unique_ptr<Client>> idle;
    for (int i = 0; i < 35; ++i) {
        idle.push_back(std::make_unique<Client>(port(), QHostAddress(u"127.0.1.%1"_s.arg(i % 5 + 1))));
        idle.back()->send(get("/healthz"));
        QCOMPARE(idle.back()->next().status, 200);
    }
    for (int i = 0; i < 10; ++i) {
        Client newcomer(port(), QHostAddress(u"127.0.2.1"_s));
        newcomer.send(get("/healthz", "Connection: close\r\n"));
        QCOMPARE(newcomer.next().status, 200);
    }
}

void TestHostileHttp::refusalsAreCountedExactlyAndAuditedInAggregate()
{
    const auto metric = [this](const QByteArray &series) {
        Client client(port());
        client.send(get("/metrics"));
        for (const QByteArray &line : client.next().body.split('\n')) {
            if (line.startsWith(QByteArray(series + ' ')))
                return line.sliced(series.size() + 1).toLongLong();
        }
        return qint64(0);
    };
    const QByteArray series = R"(gatehouse_handshake_rejects_total{reason="unknown_kid"})";
    const qint64 before = metric(series);
    // 300 forged tokens from three addresses: each refused with 401, each counted.
    constexpr int attempts = 300;
    const QByteArray forged
        = "eyJhbGciOiJIUzI1NiIsInR5cCI6ImF0K2p3dCJ9."
          "eyJzdWIiOiJhbGljZSIsImlzcyI6ImdhdGVob3VzZSJ9.c2lnbmF0dXJlLW9mLW5vYm9keS1hdC1hbGwtMzItYnl0ZXM";
    for (int i = 0; i < attempts; ++i) {
        Client client(port(), QHostAddress(u"127.0.3.%1"_s.arg(i % 3 + 1)));
        client.send(get("/ws?access_token=" + forged,
                        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                        "Sec-WebSocket-Version: 13\r\n"));
        const Answer answer = client.next();
        QCOMPARE(answer.status, 401);
    }
    QTRY_COMPARE_WITH_TIMEOUT(metric(series) - before, qint64(attempts), 5000);
    // The audit log has them all, in a handful of events: not one synced row per refusal.
    QSqlDatabase database = QSqlDatabase::addDatabase(u"QSQLITE"_s, u"audit-reader"_s);
    database.setDatabaseName(m_dir.filePath(u"gatehouse.sqlite"_s));
    database.setConnectOptions(u"QSQLITE_OPEN_READONLY"_s);
    QVERIFY(database.open());
    qint64 events = 0;
    qint64 audited = 0;
    QSqlQuery query(database);
    QVERIFY(query.exec(u"SELECT detail FROM audit_events WHERE type = 'handshake_refused'"_s));
    while (query.next()) {
        const QJsonObject detail = QJsonDocument::fromJson(query.value(0).toString().toUtf8()).object();
        if (detail["reason"_L1].toString() != "unknown_kid"_L1)
            continue;
        ++events;
        audited += detail["count"_L1].toInteger();
    }
    query.finish();
    database.close();
    QCOMPARE(audited, qint64(attempts));
    QVERIFY2(events <= 30, qPrintable(QString::number(events)));
}

void TestHostileHttp::headIsAnsweredWithoutABody()
{
    // The GET's head, its length included (RFC 9110 §8.6), and not a byte of body: a client
    // would read those bytes as the start of the next answer.
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, port());
    QVERIFY(socket.waitForConnected(5000));
    socket.write("HEAD /healthz HTTP/1.1\r\nHost: g\r\nConnection: close\r\n\r\n");
    QByteArray answer;
    QTRY_VERIFY_WITH_TIMEOUT((answer += socket.readAll(), socket.state() == QAbstractSocket::UnconnectedState), 5000);
    answer += socket.readAll();
    QVERIFY2(answer.startsWith("HTTP/1.1 200"), answer.constData());
    QVERIFY2(answer.endsWith("\r\n\r\n"), answer.constData());
    QVERIFY(answer.toLower().contains("content-length: 15"));
    // Pipelined: HEAD then GET arrive as two whole answers, only the second with a body.
    QTcpSocket pipelined;
    pipelined.connectToHost(QHostAddress::LocalHost, port());
    QVERIFY(pipelined.waitForConnected(5000));
    pipelined.write("HEAD /healthz HTTP/1.1\r\nHost: g\r\n\r\nGET /healthz HTTP/1.1\r\nHost: g\r\n\r\n");
    QByteArray both;
    QTRY_VERIFY_WITH_TIMEOUT((both += pipelined.readAll()).count("HTTP/1.1 200") == 2 && both.endsWith("}"), 5000);
    QCOMPARE(both.count("\"status\""), 1);
}

void TestHostileHttp::methodsAreNamed()
{
    Client client(port());
    client.send("BREW /healthz HTTP/1.1\r\nHost: g\r\n\r\n");
    QCOMPARE(client.next().status, 501);
    client.send("POST /healthz HTTP/1.1\r\nHost: g\r\nContent-Length: 0\r\n\r\n");
    const Answer wrong = client.next();
    QCOMPARE(wrong.status, 405);
    QCOMPARE(wrong.header("allow"), QByteArray("GET, HEAD"));
    client.send(get("/auth/login"));
    const Answer post = client.next();
    QCOMPARE(post.status, 405);
    QCOMPARE(post.header("allow"), QByteArray("POST"));
}

void TestHostileHttp::routesMatchThePathAsSent()
{
    Client client(port());
    for (const QByteArray path : { "/%61dmin/users", "/%6detrics", "/healthz%2f", "/admin%2fusers" }) {
        client.send(get(path));
        QCOMPARE(client.next().status, 404);
    }
}

void TestHostileHttp::upgradeIsFramedLikeAnyRequest_data()
{
    QTest::addColumn<QByteArray>("request");
    const QByteArray upgrade = "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                               "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";
    QTest::newRow("HTTP/1.0") << QByteArray("GET /ws HTTP/1.0\r\nHost: g\r\n" + upgrade + "\r\n");
    QTest::newRow("no Host") << QByteArray("GET /ws HTTP/1.1\r\n" + upgrade + "\r\n");
    QTest::newRow("two Host fields") << QByteArray("GET /ws HTTP/1.1\r\nHost: a\r\nHost: b\r\n" + upgrade + "\r\n");
    QTest::newRow("a body") << QByteArray("GET /ws HTTP/1.1\r\nHost: g\r\nContent-Length: 2\r\n" + upgrade
                                          + "\r\n\x81\x00");
    QTest::newRow("a chunked body") << QByteArray("GET /ws HTTP/1.1\r\nHost: g\r\nTransfer-Encoding: chunked\r\n"
                                                  + upgrade + "\r\n0\r\n\r\n");
}

void TestHostileHttp::upgradeIsFramedLikeAnyRequest()
{
    QFETCH(QByteArray, request);
    Client client(port());
    client.send(request);
    const Answer answer = client.next();
    QCOMPARE(answer.status, 400);
    QVERIFY(client.closedBy(3000));
}

void TestHostileHttp::silentSocketsMakeRoomWhenFull()
{
    // Sockets that never say a word, from many addresses, take every place; after a second,
    // newcomers with a request push the oldest of them out rather than being refused.
    std::vector<std::unique_ptr<Client>> silent;
    for (int i = 0; i < 40; ++i) {
        silent.push_back(std::make_unique<Client>(port(), QHostAddress(u"127.0.4.%1"_s.arg(i % 20 + 1))));
        QVERIFY(silent.back()->connected());
    }
    QTest::qWait(1300);
    int served = 0;
    for (int i = 0; i < 5; ++i) {
        Client newcomer(port(), QHostAddress(u"127.0.5.1"_s));
        newcomer.send(get("/healthz", "Connection: close\r\n"));
        served += newcomer.next().status == 200;
    }
    QVERIFY2(served >= 4, qPrintable(QString::number(served)));
}

QTEST_GUILESS_MAIN(TestHostileHttp)
#include "tst_hostilehttp.moc"
