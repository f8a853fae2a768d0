// Controlled reconnection and brute-force defence, against a server with tight limits.
#include "SessionServer.h"
#include "core/Clock.h"
#include "identity/UserDirectory.h"
#include "store/Database.h"

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QSignalSpy>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>

using namespace Qt::StringLiterals;

class TestRateLimits final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void passwordGuessingIsSlowedDown();
    void handshakeStormFromOneAddressIsRefused();

private:
    std::tuple<int, QJsonObject, QByteArray> login(const QByteArray &password);

    QTemporaryDir m_dir;
    std::unique_ptr<SessionServer> m_server;
    QNetworkAccessManager m_network;
};

void TestRateLimits::initTestCase()
{
    {
        Database database;
        QVERIFY(database.open(m_dir.filePath(u"gatehouse.sqlite"_s)));
        SystemClock clock;
        QVERIFY(UserDirectory(database, clock).add(u"alice"_s, {}, "the right password", {}).ok());
    }
    QFile config(m_dir.filePath(u"gatehouse.json"_s));
    QVERIFY(config.open(QIODevice::WriteOnly));
    config.write(R"({"login_free_failures": 2, "login_rate_per_ip": 100, "handshake_rate_per_ip": 1})");
    config.close();
    m_server = std::make_unique<SessionServer>(SessionServerOptions { m_dir.path(), {}, u"127.0.0.1:0"_s, u"file"_s });
    m_server->start();
    QTRY_COMPARE_WITH_TIMEOUT(m_server->state(), ServerState::Running, 20000);
}

void TestRateLimits::cleanupTestCase()
{
    m_server.reset();
}

std::tuple<int, QJsonObject, QByteArray> TestRateLimits::login(const QByteArray &password)
{
    QNetworkRequest request(QUrl(u"http://"_s + m_server->listenAddress() + u"/auth/login"_s));
    request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArray("application/json"));
    std::unique_ptr<QNetworkReply> reply(
        m_network.post(request, R"({"username":"alice","device":"d","password":")" + password + "\"}"));
    QSignalSpy finished(reply.get(), &QNetworkReply::finished);
    [[maybe_unused]] const bool done = finished.wait(20000);
    return { reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(),
             QJsonDocument::fromJson(reply->readAll()).object(), reply->rawHeader("Retry-After") };
}

void TestRateLimits::passwordGuessingIsSlowedDown()
{
    QCOMPARE(std::get<0>(login("guess 1")), 401);
    QCOMPARE(std::get<0>(login("guess 2")), 401); // two failures are free: the third attempt waits
    const auto [status, body, retryAfter] = login("the right password");
    QCOMPARE(status, 429); // even the right password waits: the guesser learns nothing
    QCOMPARE(body["error"_L1].toString(), u"slow_down"_s);
    QCOMPARE(retryAfter, QByteArray("1"));
    QTest::qWait(1100);
    QCOMPARE(std::get<0>(login("the right password")), 200);
    QCOMPARE(std::get<0>(login("guess 4")), 401); // a success cleared the count
}

void TestRateLimits::handshakeStormFromOneAddressIsRefused()
{
    // One handshake a second, a burst of two: the third at once is refused before any token
    // is even looked at.
    QList<QByteArray> answers;
    for (int i = 0; i < 3; ++i) {
        QTcpSocket socket;
        socket.connectToHost(QHostAddress::LocalHost, m_server->listenAddress().section(u':', -1).toUShort());
        QVERIFY(socket.waitForConnected(5000));
        socket.write("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
        QByteArray response;
        QTRY_VERIFY_WITH_TIMEOUT((response += socket.readAll()).contains("\r\n\r\n"), 5000);
        answers.append(response);
    }
    QVERIFY2(answers[0].startsWith("HTTP/1.1 401"), answers[0].constData());
    QVERIFY2(answers[1].startsWith("HTTP/1.1 401"), answers[1].constData());
    QVERIFY2(answers[2].startsWith("HTTP/1.1 429"), answers[2].constData());
    QVERIFY(answers[2].contains("Retry-After: 1"));
    QVERIFY(answers[2].contains("rate_limited"));
}

QTEST_GUILESS_MAIN(TestRateLimits)
#include "tst_ratelimits.moc"
