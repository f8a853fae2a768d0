// The WebSocket gateway over real sockets: the server in-process on its own thread, a real
// SQLite file, QWebSocket clients and raw TCP sockets for what a browser would never send.
#include "PasswordLogin.h"
#include "SessionServer.h"
#include "core/Clock.h"
#include "identity/UserDirectory.h"
#include "store/Database.h"

#include <QDateTime>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>

#include "RawWebSocket.h"
#include <QWebSocket>
#include <QtEndian>

using namespace Qt::StringLiterals;

namespace {
struct Client {
    std::unique_ptr<QWebSocket> socket = std::make_unique<QWebSocket>();
    QList<QJsonObject> received;
    QList<QByteArray> texts; ///< the same messages as the bytes that arrived
    bool opened = false;

    explicit Client(const QString &origin = {})
    {
        if (!origin.isEmpty())
            socket = std::make_unique<QWebSocket>(origin);
        QObject::connect(socket.get(), &QWebSocket::textMessageReceived, socket.get(), [this](const QString &text) {
            received.append(QJsonDocument::fromJson(text.toUtf8()).object());
            texts.append(text.toUtf8());
        });
        QObject::connect(socket.get(), &QWebSocket::connected, socket.get(), [this] { opened = true; });
    }
    QJsonObject last(const QString &type) const
    {
        for (auto it = received.crbegin(); it != received.crend(); ++it) {
            if ((*it)["type"_L1].toString() == type)
                return *it;
        }
        return {};
    }
    void send(const QJsonObject &message)
    {
        socket->sendTextMessage(QString::fromUtf8(QJsonDocument(message).toJson()));
    }
};
} // namespace

class TestWebSocketGateway final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void acceptsTokensFromEveryPlace_data();
    void acceptsTokensFromEveryPlace();
    void refusesBeforeTheUpgrade_data();
    void refusesBeforeTheUpgrade();
    void challengeNamesAnErrorOnlyForAToken_data();
    void challengeNamesAnErrorOnlyForAToken();
    void repeatedTokenSourcesAreRefused_data();
    void repeatedTokenSourcesAreRefused();
    void plainHttpStillWorksThroughTheGate();
    void slowHeadIsCutOff();
    void headInPiecesIsServed();
    void revocationClosesWith4003AtOnce();
    void refreshTokenReuseClosesTheSession();
    void inBandRefreshExtendsTheConnection();
    void expiryWarnsThenClosesWith4001();
    void idleSessionIsSweptAndClosedWith4003();
    void syncReachesTheUsersOtherDevicesOnly();
    void syncPayloadIsRelayedAsWritten_data();
    void syncPayloadIsRelayedAsWritten();
    void badFramesAreAnsweredOrClosed();
    void rawFramesFollowTheProtocol();
    void connectionsPerUserAreLimited();
    void facadeReportsConnections();

private:
    QJsonObject login(const QString &username, const QString &device, int expectedStatus = 200);
    QJsonObject postForm(const QString &path, const QByteArray &body);
    bool connectClient(Client &client, const QString &query, const QByteArray &header = {},
                       const QByteArray &value = {});
    QByteArray rawHandshake(const QByteArray &pathAndQuery, const QList<QByteArray> &extraHeaders);

    QTemporaryDir m_dir;
    std::unique_ptr<SessionServer> m_server;
    QNetworkAccessManager m_network;
    std::unique_ptr<Client> m_syncSender; ///< dave's two devices, shared by the rows of the sync test
    std::unique_ptr<Client> m_syncReceiver;
};

void TestWebSocketGateway::initTestCase()
{
    // A timer created on one thread and started on another never fires: make that a failure.
    QTest::failOnWarning(QRegularExpression(u"Timers cannot be started from another thread"_s));
    {
        Database database;
        QVERIFY(database.open(m_dir.filePath(u"gatehouse.sqlite"_s)));
        SystemClock clock;
        UserDirectory users(database, clock);
        for (const auto &name : { u"alice"_s, u"bob"_s, u"carol"_s, u"dave"_s, u"erin"_s })
            QVERIFY(users.add(name, {}, "a long password", {}).ok());
    }
    QFile config(m_dir.filePath(u"gatehouse.json"_s));
    QVERIFY(config.open(QIODevice::WriteOnly));
    // Three I/O threads on two cores: connections of one user land on different threads, so
    // revocation, sync and the limits are exercised across threads.
    config.write(R"({"handshake_timeout": 1, "max_connections_per_user": 3, "access_token_ttl": 300,
                    "allowed_origins": ["https://app.example"], "io_threads": 3})");
    config.close();
    m_server = std::make_unique<SessionServer>(SessionServerOptions { m_dir.path(), {}, u"127.0.0.1:0"_s, u"file"_s });
    m_server->start();
    QTRY_COMPARE_WITH_TIMEOUT(m_server->state(), ServerState::Running, 20000);
}

void TestWebSocketGateway::cleanupTestCase()
{
    m_server.reset();
}

QJsonObject TestWebSocketGateway::login(const QString &username, const QString &device, int expectedStatus)
{
    const LoginAnswer answer = passwordLogin(m_network, m_server->listenAddress(), username, device);
    return answer.status == expectedStatus ? answer.body : QJsonObject();
}

QJsonObject TestWebSocketGateway::postForm(const QString &path, const QByteArray &body)
{
    QNetworkRequest request(QUrl(u"http://"_s + m_server->listenAddress() + path));
    request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArray("application/x-www-form-urlencoded"));
    std::unique_ptr<QNetworkReply> reply(m_network.post(request, body));
    QSignalSpy finished(reply.get(), &QNetworkReply::finished);
    [[maybe_unused]] const bool done = finished.wait(20000);
    return QJsonDocument::fromJson(reply->readAll()).object();
}

bool TestWebSocketGateway::connectClient(Client &client, const QString &query, const QByteArray &header,
                                         const QByteArray &value)
{
    QNetworkRequest request(QUrl(u"ws://"_s + m_server->listenAddress() + u"/ws"_s + query));
    if (!header.isEmpty())
        request.setRawHeader(header, value);
    client.socket->open(request);
    return QTest::qWaitFor([&] { return client.opened && !client.last(u"welcome"_s).isEmpty(); }, 10000);
}

QByteArray TestWebSocketGateway::rawHandshake(const QByteArray &pathAndQuery, const QList<QByteArray> &extraHeaders)
{
    QTcpSocket socket;
    const auto port = m_server->listenAddress().section(u':', -1).toUShort();
    socket.connectToHost(QHostAddress::LocalHost, port);
    if (!socket.waitForConnected(5000))
        return {};
    QByteArray request = "GET " + pathAndQuery + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    for (const auto &header : extraHeaders)
        request += header + "\r\n";
    socket.write(request + "\r\n");
    QByteArray response;
    [[maybe_unused]] const bool complete = QTest::qWaitFor(
        [&] {
            response += socket.readAll();
            return socket.state() != QAbstractSocket::ConnectedState || response.contains("\r\n\r\n{");
        },
        5000);
    response += socket.readAll();
    return response;
}

void TestWebSocketGateway::acceptsTokensFromEveryPlace_data()
{
    QTest::addColumn<QString>("place");
    QTest::newRow("Authorization header accepted") << u"header"_s;
    QTest::newRow("session cookie accepted") << u"cookie"_s;
    QTest::newRow("access_token query parameter accepted") << u"query"_s;
}

void TestWebSocketGateway::acceptsTokensFromEveryPlace()
{
    QFETCH(QString, place);
    const auto session = login(u"alice"_s, u"laptop-"_s + place);
    const QByteArray token = session["access_token"_L1].toString().toLatin1();
    Client client;
    bool connected = false;
    if (place == "header"_L1)
        connected = connectClient(client, {}, "Authorization", "Bearer " + token);
    else if (place == "cookie"_L1)
        connected = connectClient(client, {}, "Cookie", "theme=dark; gh_session=" + token);
    else
        connected = connectClient(client, u"?access_token="_s + QString::fromLatin1(token));
    QVERIFY(connected);
    const auto welcome = client.last(u"welcome"_s);
    QCOMPARE(welcome["user"_L1].toString(), u"alice"_s);
    QCOMPARE(welcome["device"_L1].toString(), u"laptop-"_s + place);
    QCOMPARE(welcome["session_id"_L1].toString(), session["session_id"_L1].toString());
    QVERIFY(welcome["expires_in"_L1].toInt() > 290);
    client.socket->close();
}

void TestWebSocketGateway::refusesBeforeTheUpgrade_data()
{
    QTest::addColumn<QByteArray>("pathAndQuery");
    QTest::addColumn<QList<QByteArray>>("headers");
    QTest::addColumn<QByteArray>("status");
    QTest::addColumn<QByteArray>("mentions");
    const QList<QByteArray> upgrade { "Upgrade: websocket", "Connection: Upgrade",
                                      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13" };
    const auto with = [&](QList<QByteArray> extra) { return upgrade + extra; };
    QTest::newRow("missing token is 401")
        << QByteArray("/ws") << upgrade << QByteArray("401") << QByteArray("token_missing");
    QTest::newRow("garbage token is 401") << QByteArray("/ws") << with({ "Authorization: Bearer garbage" })
                                          << QByteArray("401") << QByteArray("token_malformed");
    QTest::newRow("unsigned token is 401") << QByteArray("/ws?access_token=eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9.")
                                           << upgrade << QByteArray("401") << QByteArray("alg_none");
    QTest::newRow("foreign origin is 403")
        << QByteArray("/ws") << with({ "Origin: https://evil.example" }) << QByteArray("403") << QByteArray("origin");
    QTest::newRow("look-alike loopback origin is 403")
        << QByteArray("/ws") << with({ "Origin: http://127.0.0.1.evil.example" }) << QByteArray("403")
        << QByteArray("origin");
    QTest::newRow("plain GET on /ws is 400")
        << QByteArray("/ws") << QList<QByteArray> {} << QByteArray("400") << QByteArray("WebSocket upgrade");
    QTest::newRow("wrong WebSocket version is 400")
        << QByteArray("/ws")
        << QList<QByteArray> { "Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Key: x",
                               "Sec-WebSocket-Version: 8" }
        << QByteArray("400") << QByteArray("WebSocket upgrade");
    QTest::newRow("upgrade to an HTTP route is 400")
        << QByteArray("/healthz") << upgrade << QByteArray("400") << QByteArray("upgrade_not_allowed");
    QTest::newRow("header with obs-fold is 400")
        << QByteArray("/ws") << with({ "X-Folded: a", " b" }) << QByteArray("400") << QByteArray("malformed");
    QTest::newRow("20 KiB header is 431") << QByteArray("/ws") << with({ "X-Big: " + QByteArray(20000, 'b') })
                                          << QByteArray("431") << QByteArray("16 KiB");
}

void TestWebSocketGateway::refusesBeforeTheUpgrade()
{
    QFETCH(QByteArray, pathAndQuery);
    QFETCH(QList<QByteArray>, headers);
    QFETCH(QByteArray, status);
    QFETCH(QByteArray, mentions);
    const QByteArray response = rawHandshake(pathAndQuery, headers);
    QVERIFY2(response.startsWith(QByteArray("HTTP/1.1 " + status)), response.left(200).constData());
    QVERIFY2(response.contains(mentions), response.constData());
    QVERIFY(!response.contains(" 101 "));
}

void TestWebSocketGateway::challengeNamesAnErrorOnlyForAToken_data()
{
    QTest::addColumn<QByteArray>("path");
    QTest::addColumn<QList<QByteArray>>("headers");
    QTest::addColumn<QByteArray>("challenge");
    const QList<QByteArray> upgrade { "Upgrade: websocket", "Connection: Upgrade",
                                      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13" };
    const QByteArray realmOnly = R"(Bearer realm="gatehouse")";
    // RFC 6750 §3.1: a request without credentials gets no error code; a refused token does.
    QTest::newRow("/ws without a token: the realm only") << QByteArray("/ws") << upgrade << realmOnly;
    QTest::newRow("/ws with an empty session cookie: the realm only")
        << QByteArray("/ws") << upgrade + QList<QByteArray> { "Cookie: gh_session=" } << realmOnly;
    QTest::newRow("/api/me without credentials: the realm only")
        << QByteArray("/api/me") << QList<QByteArray> {} << realmOnly;
    QTest::newRow("/ws with a bad token: invalid_token")
        << QByteArray("/ws") << upgrade + QList<QByteArray> { "Authorization: Bearer garbage" }
        << QByteArray(R"(Bearer realm="gatehouse", error="invalid_token")");
    QTest::newRow("/api/me with a bad token: invalid_token and why")
        << QByteArray("/api/me") << QList<QByteArray> { "Authorization: Bearer garbage" }
        << QByteArray(R"(Bearer realm="gatehouse", error="invalid_token", error_description="token_malformed")");
}

void TestWebSocketGateway::challengeNamesAnErrorOnlyForAToken()
{
    QFETCH(QByteArray, path);
    QFETCH(QList<QByteArray>, headers);
    QFETCH(QByteArray, challenge);
    const QByteArray response = rawHandshake(path, headers);
    QVERIFY2(response.startsWith("HTTP/1.1 401"), response.constData());
    QList<QByteArray> challenges;
    for (const QByteArray &line : response.first(response.indexOf("\r\n\r\n")).split('\n')) {
        if (line.toLower().startsWith("www-authenticate:"))
            challenges.append(line.sliced(17).trimmed());
    }
    QCOMPARE(challenges, QList<QByteArray> { challenge });
}

void TestWebSocketGateway::repeatedTokenSourcesAreRefused_data()
{
    // TOKEN stands for a good access token: first-wins would let these in.
    QTest::addColumn<QByteArray>("path");
    QTest::addColumn<QByteArray>("header");
    QTest::newRow("access_token twice, both good")
        << QByteArray("/ws?access_token=TOKEN&access_token=TOKEN") << QByteArray();
    QTest::newRow("access_token twice, the good one first")
        << QByteArray("/ws?access_token=TOKEN&access_token=other") << QByteArray();
    QTest::newRow("access_token twice, once with its name percent-encoded")
        << QByteArray("/ws?access_token=TOKEN&access%5Ftoken=other") << QByteArray();
    QTest::newRow("gh_session twice") << QByteArray("/ws") << QByteArray("Cookie: gh_session=TOKEN; gh_session=other");
    QTest::newRow("a repeated cookie beside a good Authorization header")
        << QByteArray("/ws") << QByteArray("Authorization: Bearer TOKEN\r\nCookie: gh_session=a; gh_session=b");
}

void TestWebSocketGateway::repeatedTokenSourcesAreRefused()
{
    QFETCH(QByteArray, path);
    QFETCH(QByteArray, header);
    const QByteArray token = login(u"alice"_s, u"twice"_s)["access_token"_L1].toString().toLatin1();
    QVERIFY(!token.isEmpty());
    QList<QByteArray> headers { "Upgrade: websocket", "Connection: Upgrade",
                                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13" };
    if (!header.isEmpty())
        headers.append(QByteArray(header).replace("TOKEN", token));
    const QByteArray response = rawHandshake(QByteArray(path).replace("TOKEN", token), headers);
    QVERIFY2(response.startsWith("HTTP/1.1 400"), response.left(300).constData());
    QVERIFY(response.contains("invalid_request"));
    QVERIFY(!response.contains(" 101 "));
}

void TestWebSocketGateway::plainHttpStillWorksThroughTheGate()
{
    for (int i = 0; i < 3; ++i) { // several in a row, each through the hand-off
        std::unique_ptr<QNetworkReply> reply(
            m_network.get(QNetworkRequest(QUrl(u"http://"_s + m_server->listenAddress() + u"/healthz"_s))));
        QSignalSpy finished(reply.get(), &QNetworkReply::finished);
        QVERIFY(finished.wait(10000));
        QCOMPARE(reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 200);
    }
}

void TestWebSocketGateway::headInPiecesIsServed()
{
    // The gate only peeks at the kernel's buffer; a head that arrives in pieces is looked at
    // again until it is whole, and then served untouched, over HTTP and as an upgrade.
    const QString token = login(u"erin"_s, u"pieces"_s)["access_token"_L1].toString();
    QVERIFY(!token.isEmpty());
    const QList<QByteArray> requests {
        "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
        "GET /ws?access_token=" + token.toLatin1()
            + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    };
    const QList<QByteArray> expected { "HTTP/1.1 200", "HTTP/1.1 101" };
    for (qsizetype i = 0; i < requests.size(); ++i) {
        QTcpSocket socket;
        socket.connectToHost(QHostAddress::LocalHost, m_server->listenAddress().section(u':', -1).toUShort());
        QVERIFY(socket.waitForConnected(5000));
        const QByteArray &request = requests[i];
        const qsizetype third = request.size() / 3;
        for (const auto &piece : { request.first(third), request.sliced(third, third), request.sliced(2 * third) }) {
            socket.write(piece);
            QVERIFY(socket.waitForBytesWritten(1000));
            QTest::qWait(60);
        }
        QByteArray response;
        QVERIFY(QTest::qWaitFor(
            [&] {
                response += socket.readAll();
                return response.contains("\r\n\r\n");
            },
            5000));
        QVERIFY2(response.startsWith(expected[i]), response.constData());
    }
}

void TestWebSocketGateway::slowHeadIsCutOff()
{
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, m_server->listenAddress().section(u':', -1).toUShort());
    QVERIFY(socket.waitForConnected(5000));
    socket.write("GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\n"); // and never the blank line
    QSignalSpy disconnected(&socket, &QTcpSocket::disconnected);
    QElapsedTimer timer;
    timer.start();
    QVERIFY(disconnected.wait(5000));
    QVERIFY2(timer.elapsed() >= 800, "cut off before the configured 1 s deadline");
}

void TestWebSocketGateway::revocationClosesWith4003AtOnce()
{
    const auto session = login(u"bob"_s, u"phone"_s);
    Client client;
    QVERIFY(connectClient(client, {}, "Authorization", "Bearer " + session["access_token"_L1].toString().toLatin1()));
    QSignalSpy disconnected(client.socket.get(), &QWebSocket::disconnected);
    QElapsedTimer timer;
    timer.start();
    postForm(u"/oauth/revoke"_s, "token=" + session["refresh_token"_L1].toString().toLatin1());
    // The close often arrives before the revoke's own HTTP answer: count, don't wait for a new one.
    QTRY_COMPARE_WITH_TIMEOUT(disconnected.count(), 1, 5000);
    qInfo("revoke request to close seen by the client: %lld ms", timer.elapsed());
    QCOMPARE(int(client.socket->closeCode()), 4003);
    QVERIFY(client.socket->closeReason().contains(u"revoked"_s));
    // And the same token cannot come back.
    Client again;
    QVERIFY(!connectClient(again, {}, "Authorization", "Bearer " + session["access_token"_L1].toString().toLatin1()));
}

void TestWebSocketGateway::refreshTokenReuseClosesTheSession()
{
    const auto session = login(u"carol"_s, u"tablet"_s);
    Client client;
    QVERIFY(connectClient(client, {}, "Authorization", "Bearer " + session["access_token"_L1].toString().toLatin1()));
    QSignalSpy disconnected(client.socket.get(), &QWebSocket::disconnected);
    const QByteArray form
        = "grant_type=refresh_token&refresh_token=" + session["refresh_token"_L1].toString().toLatin1();
    QVERIFY(postForm(u"/oauth/token"_s, form).contains("access_token"_L1));
    QCOMPARE(postForm(u"/oauth/token"_s, form)["error_description"_L1].toString(), u"refresh_token_reused"_s);
    QTRY_COMPARE_WITH_TIMEOUT(disconnected.count(), 1, 5000);
    QCOMPARE(int(client.socket->closeCode()), 4003);
}

void TestWebSocketGateway::inBandRefreshExtendsTheConnection()
{
    const auto session = login(u"alice"_s, u"desk"_s);
    Client client;
    QVERIFY(connectClient(client, {}, "Authorization", "Bearer " + session["access_token"_L1].toString().toLatin1()));
    const auto rotated
        = postForm(u"/oauth/token"_s,
                   "grant_type=refresh_token&refresh_token=" + session["refresh_token"_L1].toString().toLatin1());
    client.send({ { "type"_L1, "refresh"_L1 }, { "access_token"_L1, rotated["access_token"_L1] } });
    QTRY_VERIFY(!client.last(u"refreshed"_s).isEmpty());
    QVERIFY(client.last(u"refreshed"_s)["expires_in"_L1].toInt() > 290);

    const auto other = login(u"alice"_s, u"other"_s);
    client.send({ { "type"_L1, "refresh"_L1 }, { "access_token"_L1, other["access_token"_L1] } });
    QTRY_COMPARE(client.last(u"error"_s)["error_description"_L1].toString(), u"the token belongs to another session"_s);
    client.send({ { "type"_L1, "refresh"_L1 }, { "access_token"_L1, "not-a-token"_L1 } });
    QTRY_COMPARE(client.last(u"error"_s)["error_description"_L1].toString(), u"token_malformed"_s);
    QVERIFY(client.socket->state() == QAbstractSocket::ConnectedState);
    client.socket->close();
}

void TestWebSocketGateway::expiryWarnsThenClosesWith4001()
{
    // A second server whose access tokens live 5 s (the shortest policy allows).
    QTemporaryDir dir;
    {
        Database database;
        QVERIFY(database.open(dir.filePath(u"gatehouse.sqlite"_s)));
        SystemClock clock;
        QVERIFY(UserDirectory(database, clock).add(u"erin"_s, {}, "a long password", {}).ok());
    }
    QFile config(dir.filePath(u"gatehouse.json"_s));
    QVERIFY(config.open(QIODevice::WriteOnly));
    config.write(R"({"access_token_ttl": 5, "clock_skew": 0})");
    config.close();
    SessionServer shortLived(SessionServerOptions { dir.path(), {}, u"127.0.0.1:0"_s, u"file"_s });
    shortLived.start();
    QTRY_COMPARE_WITH_TIMEOUT(shortLived.state(), ServerState::Running, 20000);
    const QString address = shortLived.listenAddress();
    QNetworkRequest request(QUrl(u"http://"_s + address + u"/auth/login"_s));
    request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArray("application/json"));
    std::unique_ptr<QNetworkReply> reply(
        m_network.post(request, R"({"username":"erin","password":"a long password","device":"d"})"));
    QSignalSpy finished(reply.get(), &QNetworkReply::finished);
    QVERIFY(finished.wait(20000));
    const QByteArray token
        = QJsonDocument::fromJson(reply->readAll()).object()["access_token"_L1].toString().toLatin1();
    Client client;
    QNetworkRequest wsRequest(QUrl(u"ws://"_s + address + u"/ws"_s));
    wsRequest.setRawHeader("Authorization", "Bearer " + token);
    client.socket->open(wsRequest);
    QSignalSpy disconnected(client.socket.get(), &QWebSocket::disconnected);
    QVERIFY(disconnected.wait(10000));
    QVERIFY(!client.last(u"welcome"_s).isEmpty());
    QVERIFY(!client.last(u"expiring"_s).isEmpty());
    QCOMPARE(int(client.socket->closeCode()), 4001);
}

void TestWebSocketGateway::idleSessionIsSweptAndClosedWith4003()
{
    // A server whose sessions end after 5 s without a refresh, swept every second.
    QTemporaryDir dir;
    {
        Database database;
        QVERIFY(database.open(dir.filePath(u"gatehouse.sqlite"_s)));
        SystemClock clock;
        QVERIFY(UserDirectory(database, clock).add(u"erin"_s, {}, "a long password", {}).ok());
    }
    QFile config(dir.filePath(u"gatehouse.json"_s));
    QVERIFY(config.open(QIODevice::WriteOnly));
    config.write(R"({"session_idle_ttl": 5, "sweep_interval": 1, "refresh_token_idle_ttl": 5})");
    config.close();
    SessionServer sweeping(SessionServerOptions { dir.path(), {}, u"127.0.0.1:0"_s, u"file"_s });
    sweeping.start();
    QTRY_COMPARE_WITH_TIMEOUT(sweeping.state(), ServerState::Running, 20000);
    QNetworkRequest request(QUrl(u"http://"_s + sweeping.listenAddress() + u"/auth/login"_s));
    request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArray("application/json"));
    std::unique_ptr<QNetworkReply> reply(
        m_network.post(request, R"({"username":"erin","password":"a long password","device":"d"})"));
    QSignalSpy finished(reply.get(), &QNetworkReply::finished);
    QVERIFY(finished.wait(20000));
    const QByteArray token
        = QJsonDocument::fromJson(reply->readAll()).object()["access_token"_L1].toString().toLatin1();
    Client client;
    QNetworkRequest wsRequest(QUrl(u"ws://"_s + sweeping.listenAddress() + u"/ws"_s));
    wsRequest.setRawHeader("Authorization", "Bearer " + token);
    client.socket->open(wsRequest);
    QSignalSpy disconnected(client.socket.get(), &QWebSocket::disconnected);
    QVERIFY(disconnected.wait(15000));
    QVERIFY(!client.last(u"welcome"_s).isEmpty()); // it was connected, then swept
    QCOMPARE(int(client.socket->closeCode()), 4003);
    QVERIFY2(client.socket->closeReason().contains(u"session_expired"_s), qPrintable(client.socket->closeReason()));
}

void TestWebSocketGateway::syncReachesTheUsersOtherDevicesOnly()
{
    Client laptop, phone, stranger;
    QVERIFY(connectClient(laptop, {}, "Authorization",
                          "Bearer " + login(u"bob"_s, u"laptop"_s)["access_token"_L1].toString().toLatin1()));
    QVERIFY(connectClient(phone, {}, "Authorization",
                          "Bearer " + login(u"bob"_s, u"phone2"_s)["access_token"_L1].toString().toLatin1()));
    QVERIFY(connectClient(stranger, {}, "Authorization",
                          "Bearer " + login(u"erin"_s, u"x"_s)["access_token"_L1].toString().toLatin1()));
    laptop.send({ { "type"_L1, "sync"_L1 }, { "payload"_L1, QJsonObject { { "draft"_L1, "hello"_L1 } } } });
    QTRY_VERIFY(!phone.last(u"sync"_s).isEmpty());
    QCOMPARE(phone.last(u"sync"_s)["from_device"_L1].toString(), u"laptop"_s);
    QCOMPARE(phone.last(u"sync"_s)["payload"_L1]["draft"_L1].toString(), u"hello"_s);
    QTest::qWait(200); // show that nothing else arrives
    QVERIFY(laptop.last(u"sync"_s).isEmpty());
    QVERIFY(stranger.last(u"sync"_s).isEmpty());
}

namespace {
QByteArray nested(int levels, const QByteArray &inside = "1")
{
    return QByteArray(levels, '[') + inside + QByteArray(levels, ']');
}
} // namespace

void TestWebSocketGateway::syncPayloadIsRelayedAsWritten_data()
{
    // The whole message as the client writes it; the payload the other device must get, byte
    // for byte (empty: refused, nothing relayed); what the refusal must say.
    QTest::addColumn<QByteArray>("message");
    QTest::addColumn<QByteArray>("relayed");
    QTest::addColumn<QString>("refusal");

    const auto sync
        = [](const QByteArray &payload) -> QByteArray { return R"({"type":"sync","payload":)" + payload + "}"; };
    const auto row = [&](const char *name, const QByteArray &payload) {
        QTest::newRow(name) << sync(payload) << payload << QString();
    };
    row("an integer beyond 64 bits arrives as written", "12345678901234567890");
    row("a negative integer beyond 64 bits arrives as written", "-12345678901234567890");
    row("an integer beyond 64 bits inside an object arrives as written", R"({"id":12345678901234567890,"n":[1]})");
    row("a hundred digits arrive as written", "1" + QByteArray(99, '7'));
    row("a decimal beyond a double's precision arrives as written", "0.10000000000000000555111512312578270211815834");
    row("exponents, minus zero and trailing zeros arrive as written", "[1E+2,-0,1.0,2.50e-3]");
    row("string escapes arrive as written", R"("caf\u00e9 \/ \ud83d\ude00 \"q\"")");
    row("white space inside the payload is kept", "{ \"a\" :\t[ 1 , 2 ]\n}");
    row("the largest double arrives as written", "1.7976931348623157e308");
    row("31 levels inside the message, 32 in all, arrive as written", nested(31));
    QTest::newRow("a payload named with an escape is still the payload")
        << QByteArray(R"({"type":"sync","p\u0061yload":12345678901234567890})") << QByteArray("12345678901234567890")
        << QString();
    QTest::newRow("a payload before the type, with a payload member inside, is the outer one")
        << QByteArray(R"({ "payload" : {"payload":1, "x":"}"} , "type":"sync"})")
        << QByteArray(R"({"payload":1, "x":"}"})") << QString();

    const auto refused = [&](const char *name, const QByteArray &payload, const QString &says) {
        QTest::newRow(name) << sync(payload) << QByteArray() << says;
    };
    refused("32 levels inside the message, 33 in all, are refused as too deep", nested(32), u"deeper than 32 levels"_s);
    refused("2000 levels are refused as too deep", nested(2000), u"deeper than 32 levels"_s);
    refused("1e400 is refused, not relayed as something else", "1e400", u"not JSON"_s);
    refused("-1e400 is refused", "-1e400", u"not JSON"_s);
    refused("a fraction without digits is refused", "1.", u"not JSON"_s);
    refused("a fraction without an integer part is refused", "-.5", u"not JSON"_s);
    refused("a raw control character in a string is refused", "\"a\x01z\"", u"not JSON"_s);
    refused("an unknown escape in a string is refused", R"("\x41")", u"not JSON"_s);
    refused("a member repeated inside the payload is refused", R"({"a":1,"a":2})", u"twice"_s);
}

void TestWebSocketGateway::syncPayloadIsRelayedAsWritten()
{
    QFETCH(QByteArray, message);
    QFETCH(QByteArray, relayed);
    QFETCH(QString, refusal);
    if (!m_syncSender) {
        m_syncSender = std::make_unique<Client>();
        m_syncReceiver = std::make_unique<Client>();
        QVERIFY(connectClient(*m_syncSender, {}, "Authorization",
                              "Bearer " + login(u"dave"_s, u"laptop"_s)["access_token"_L1].toString().toLatin1()));
        QVERIFY(connectClient(*m_syncReceiver, {}, "Authorization",
                              "Bearer " + login(u"dave"_s, u"phone"_s)["access_token"_L1].toString().toLatin1()));
    }
    Client &sender = *m_syncSender;
    Client &receiver = *m_syncReceiver;
    const qsizetype received = receiver.texts.size();
    const qsizetype answered = sender.texts.size();
    sender.socket->sendTextMessage(QString::fromUtf8(message));
    if (refusal.isEmpty()) {
        QTRY_COMPARE(receiver.texts.size(), received + 1);
        const QByteArray text = receiver.texts.last();
        // The payload member's value, byte for byte, wherever the server puts the member.
        const QByteArray member = "\"payload\":" + relayed;
        const qsizetype at = text.indexOf(member);
        QVERIFY2(at > 0 && QByteArrayView(",}").contains(text.at(at + member.size())), text.constData());
        QCOMPARE(receiver.received.last()["type"_L1].toString(), u"sync"_s);
        QCOMPARE(receiver.received.last()["from_device"_L1].toString(), u"laptop"_s);
        return;
    }
    QTRY_COMPARE(sender.texts.size(), answered + 1);
    const QJsonObject error = sender.received.last();
    QCOMPARE(error["error"_L1].toString(), u"bad_message"_s);
    QVERIFY2(error["error_description"_L1].toString().contains(refusal), sender.texts.last().constData());
    QTest::qWait(100); // show that nothing is relayed
    QCOMPARE(receiver.texts.size(), received);
}

void TestWebSocketGateway::badFramesAreAnsweredOrClosed()
{
    Client client;
    const QByteArray token = login(u"alice"_s, u"fuzz"_s)["access_token"_L1].toString().toLatin1();
    QVERIFY(connectClient(client, {}, "Authorization", "Bearer " + token));
    client.socket->sendTextMessage(u"not json"_s);
    QTRY_COMPARE(client.last(u"error"_s)["error"_L1].toString(), u"bad_message"_s);
    // The refusal names the rule: 33 levels, the message's own object the first of them.
    client.socket->sendTextMessage(u"{\"type\":\"ping\",\"a\":"_s + QString(32, u'[') + QString(32, u']') + u"}"_s);
    QTRY_VERIFY(client.last(u"error"_s)["error_description"_L1].toString().contains(u"deeper than 32 levels"_s));
    client.socket->sendTextMessage(uR"({"type":"launch"})"_s);
    QTRY_COMPARE(client.last(u"error"_s)["error"_L1].toString(), u"unknown_type"_s);
    client.socket->sendTextMessage(uR"({"type":"ping","type":"refresh"})"_s);
    QTRY_COMPARE(client.received.last()["error"_L1].toString(), u"bad_message"_s);
    QSignalSpy disconnected(client.socket.get(), &QWebSocket::disconnected);
    client.socket->sendTextMessage(QString(70 * 1024, u'x'));
    QVERIFY(disconnected.wait(5000));
    QCOMPARE(int(client.socket->closeCode()), 1009);

    Client binary;
    QVERIFY(connectClient(binary, {}, "Authorization", "Bearer " + token));
    QSignalSpy binaryClosed(binary.socket.get(), &QWebSocket::disconnected);
    binary.socket->sendBinaryMessage("\x00\x01\x02");
    QVERIFY(binaryClosed.wait(5000));
    QCOMPARE(int(binary.socket->closeCode()), 1008);
}

void TestWebSocketGateway::rawFramesFollowTheProtocol()
{
    const QByteArray token = login(u"alice"_s, u"raw"_s)["access_token"_L1].toString().toLatin1();
    const quint16 port = m_server->listenAddress().section(u':', -1).toUShort();

    RawWebSocket client;
    const QByteArray head = client.upgrade(port, token);
    QVERIFY2(head.startsWith("HTTP/1.1 101"), head.constData());
    QVERIFY(head.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n")); // RFC 6455 §1.3
    auto [opcode, welcome] = client.next();
    QCOMPARE(opcode, 1);
    QVERIFY(welcome.contains("\"welcome\""));
    client.sendWithFirstByte(0x89, "are you there"); // ping → pong, same payload
    const auto pongAnswer = client.next();
    QCOMPARE(pongAnswer.opcode, 0xA);
    QCOMPARE(pongAnswer.payload, QByteArray("are you there"));
    client.sendWithFirstByte(0x01, R"({"type":"pi)"); // a message in two fragments, a ping between them
    client.sendWithFirstByte(0x89, "mid");
    client.sendWithFirstByte(0x80, R"(ng"})");
    const auto midPong = client.next();
    QCOMPARE(midPong.opcode, 0xA);
    QCOMPARE(midPong.payload, QByteArray("mid"));
    const auto pong = client.next();
    QCOMPARE(pong.opcode, 1);
    QCOMPARE(pong.payload, QByteArray(R"({"type":"pong"})"));
    client.sendWithFirstByte(0x81, "\xC0\xAF"); // not UTF-8
    const auto closed = client.next();
    QCOMPARE(closed.opcode, 8);
    QCOMPARE(closed.closeCode(), 1007);

    const std::pair<QByteArray, int> violations[] = {
        { QByteArray("\x81\x02hi", 4), 1002 }, // unmasked
        { QByteArray("\x83\x80\x00\x00\x00\x00", 6), 1002 }, // opcode 3
        { QByteArray("\x00\x80\x00\x00\x00\x00", 6), 1002 }, // a continuation of nothing
    };
    for (const auto &[frame, code] : violations) {
        RawWebSocket bad;
        QVERIFY(bad.upgrade(port, token).startsWith("HTTP/1.1 101"));
        QCOMPARE(bad.next().opcode, 1); // welcome
        bad.socket.write(frame);
        const auto answer = bad.next();
        QCOMPARE(answer.opcode, 8);
        QCOMPARE(answer.closeCode(), code);
    }

    // A client's close is echoed, and then the server ends the stream.
    RawWebSocket polite;
    QVERIFY(polite.upgrade(port, token).startsWith("HTTP/1.1 101"));
    QCOMPARE(polite.next().opcode, 1);
    polite.sendWithFirstByte(0x88, QByteArray("\x0B\xB8see you", 9)); // 3000
    const auto echo = polite.next();
    QCOMPARE(echo.opcode, 8);
    QCOMPARE(echo.closeCode(), 3000);
    QTRY_COMPARE_WITH_TIMEOUT(polite.socket.state(), QAbstractSocket::UnconnectedState, 5000);
}

void TestWebSocketGateway::connectionsPerUserAreLimited()
{
    // carol's only earlier connection was closed by revocation in an earlier test.
    const QByteArray token = login(u"carol"_s, u"tabs"_s)["access_token"_L1].toString().toLatin1();
    std::vector<std::unique_ptr<Client>> tabs;
    for (int i = 0; i < 3; ++i) { // the configured maximum per user
        tabs.push_back(std::make_unique<Client>());
        QVERIFY(connectClient(*tabs.back(), {}, "Authorization", "Bearer " + token));
    }
    const QByteArray response
        = rawHandshake("/ws?access_token=" + token,
                       { "Upgrade: websocket", "Connection: Upgrade",
                         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13" });
    QVERIFY2(response.startsWith("HTTP/1.1 429"), response.constData());
    QVERIFY(response.contains("Retry-After:"));
}

void TestWebSocketGateway::facadeReportsConnections()
{
    // What the console sees: coalesced changes, and a snapshot on request, both as values
    // delivered on this (the caller's) thread.
    QSignalSpy changes(m_server.get(), &SessionServer::connectionsChanged);
    QSignalSpy snapshots(m_server.get(), &SessionServer::connectionsSnapshot);
    const QByteArray token = login(u"bob"_s, u"facade"_s)["access_token"_L1].toString().toLatin1();
    Client client;
    QVERIFY(connectClient(client, {}, "Authorization", "Bearer " + token));
    const auto openedFor = [&](const QString &device) {
        for (const auto &emission : std::as_const(changes)) {
            for (const auto &info : emission.at(0).value<QList<ConnectionInfo>>()) {
                if (info.deviceId == device)
                    return info;
            }
        }
        return ConnectionInfo {};
    };
    QTRY_COMPARE_WITH_TIMEOUT(openedFor(u"facade"_s).user, UserKey::local(u"bob"_s), 5000);
    const ConnectionInfo opened = openedFor(u"facade"_s);
    QCOMPARE(opened.remoteAddress, u"127.0.0.1"_s);
    QVERIFY(opened.accessExpiresAt > QDateTime::currentSecsSinceEpoch());

    m_server->requestConnections();
    QTRY_COMPARE_WITH_TIMEOUT(snapshots.count(), 1, 5000);
    const auto all = snapshots.first().first().value<QList<ConnectionInfo>>();
    QVERIFY(std::any_of(all.cbegin(), all.cend(), [&](const ConnectionInfo &info) { return info.id == opened.id; }));

    changes.clear();
    client.socket->close();
    const auto closedIds = [&] {
        QList<quint64> ids;
        for (const auto &emission : std::as_const(changes)) {
            for (const auto &info : emission.at(1).value<QList<ConnectionInfo>>())
                ids.append(info.id);
        }
        return ids;
    };
    QTRY_VERIFY_WITH_TIMEOUT(closedIds().contains(opened.id), 5000);
}

QTEST_GUILESS_MAIN(TestWebSocketGateway)
#include "tst_websocketgateway.moc"
