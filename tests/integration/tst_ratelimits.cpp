// Controlled reconnection and brute-force defence, against a server with tight limits. The
// guessers come from many loopback addresses (127.0.0.0/8 all reaches the server).
#include "RawHttp.h"
#include "SessionServer.h"
#include "core/Clock.h"
#include "identity/UserDirectory.h"
#include "store/Database.h"

#include <QElapsedTimer>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QSignalSpy>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>

using namespace Qt::StringLiterals;

namespace {
/// Spelling number `variant` of `name`: bit i upper-cases letter i.
QString spelling(const QString &name, int variant)
{
    QString spelled = name;
    for (qsizetype i = 0; i < spelled.size() && i < 31; ++i) {
        if (variant & (1 << i))
            spelled[i] = spelled[i].toUpper();
    }
    return spelled;
}
} // namespace

class TestRateLimits final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void passwordGuessingIsSlowedDown();
    void spellingsFromManyAddressesShareOneCount();
    void ownerGetsInWhileAGuesserKeepsFailing();
    void handshakeStormFromOneAddressIsRefused();

private:
    std::tuple<int, QJsonObject, QByteArray> login(const QByteArray &password);
    /// POST /auth/login from the loopback address `from`, with a Cookie header if given.
    RawReply loginFrom(const QString &from, const QString &username, const QString &password,
                       const QByteArray &cookie = {});

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
        UserDirectory users(database, clock);
        for (const auto &name : { u"alice"_s, u"bob"_s, u"carol"_s })
            QVERIFY(users.add(name, {}, "the right password", {}).ok());
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

RawReply TestRateLimits::loginFrom(const QString &from, const QString &username, const QString &password,
                                   const QByteArray &cookie)
{
    const QByteArray body
        = QJsonDocument(
              QJsonObject { { "username"_L1, username }, { "password"_L1, password }, { "device"_L1, "d"_L1 } })
              .toJson(QJsonDocument::Compact);
    return rawHttp(m_server->listenAddress(), "POST", u"/auth/login"_s,
                   "Content-Type: application/json\r\n"
                       + (cookie.isEmpty() ? QByteArray() : "Cookie: " + cookie + "\r\n"),
                   body, QHostAddress(from));
}

void TestRateLimits::passwordGuessingIsSlowedDown()
{
    QCOMPARE(std::get<0>(login("guess 1")), 401);
    QCOMPARE(std::get<0>(login("guess 2")), 401); // two failures are free: the third attempt waits
    const auto [status, body, retryAfter] = login("the right password");
    QCOMPARE(status, 429); // even the right password waits: the guesser learns nothing
    QCOMPARE(body["error"_L1].toString(), u"slow_down"_s);
    QCOMPARE(retryAfter, QByteArray("1"));
}

void TestRateLimits::spellingsFromManyAddressesShareOneCount()
{
    // Issue 12's attack: the lookup ignores case, so every spelling of "bob" reaches bob's
    // password; a new address every 5 tries. The count is bob's, however he is spelled.
    QElapsedTimer elapsed;
    elapsed.start();
    int checks = 0;
    for (int attempt = 0; attempt < 64; ++attempt) {
        const RawReply reply = loginFrom(u"127.0.1.%1"_s.arg(1 + attempt / 5), spelling(u"bob"_s, attempt % 8),
                                         u"guess %1"_s.arg(attempt));
        QVERIFY2(reply.status == 401 || reply.status == 429, qPrintable(QString::number(reply.status)));
        if (reply.status == 401)
            ++checks;
        else
            QVERIFY(reply.header("retry-after").toInt() >= 1);
    }
    // Two free failures, then waits of 1, 2, 4 … s: what fits in the time the test took.
    const double seconds = double(elapsed.elapsed()) / 1000.0;
    const int bound = 2 + int(std::floor(std::log2(seconds + 1)));
    QVERIFY2(checks <= bound, qPrintable(u"%1 passwords checked in %2 s"_s.arg(checks).arg(seconds)));
    QVERIFY(checks >= 2);
}

void TestRateLimits::ownerGetsInWhileAGuesserKeepsFailing()
{
    // Carol logs in from home once: her browser keeps a device cookie.
    const QString home = u"127.0.5.1"_s;
    const RawReply first = loginFrom(home, u"carol"_s, u"the right password"_s);
    QCOMPARE(first.status, 200);
    const QByteArray cookie = "gh_device=" + first.cookie("gh_device");

    // A guesser who knows only her name keeps failing, from many addresses and spellings,
    // and from her home address too.
    for (int attempt = 0; attempt < 20; ++attempt) {
        const auto guess
            = loginFrom(u"127.0.2.%1"_s.arg(1 + attempt / 3), spelling(u"carol"_s, attempt % 4), u"guess"_s);
        QVERIFY(guess.setCookies.isEmpty()); // a failure makes no device known
    }
    // Until her account is waiting (a back-off of a second or more: on a loaded machine the
    // guesses above may have taken longer than the last one), then at once from elsewhere.
    QVERIFY(QTest::qWaitFor([&] { return loginFrom(home, u"carol"_s, u"guess"_s).status == 429; }, 20000));
    QCOMPARE(loginFrom(u"127.0.3.1"_s, u"carol"_s, u"guess"_s).status, 429);
    QCOMPARE(loginFrom(home, u"carol"_s, u"guess"_s).status, 429);

    // A stranger with the right password is held back too ...
    QCOMPARE(loginFrom(u"127.0.3.1"_s, u"carol"_s, u"the right password"_s).status, 429);
    // ... but Carol's browser gets in, at home and away, and a forged cookie is a stranger.
    const RawReply away = loginFrom(u"127.0.3.1"_s, u"carol"_s, u"the right password"_s, cookie);
    QCOMPARE(away.status, 200);
    QVERIFY(!away.cookie("gh_device").isEmpty());
    QCOMPARE(loginFrom(home, u"CAROL"_s, u"the right password"_s, cookie).status, 200);
    QCOMPARE(loginFrom(u"127.0.3.2"_s, u"carol"_s, u"the right password"_s, cookie.chopped(2) + "AA").status, 429);
    const QByteArray attributes = first.setCookie("gh_device");
    for (const QByteArray attribute : { "HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=7776000" }) // 90 days
        QVERIFY2(attributes.contains(attribute), attributes.constData());
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
