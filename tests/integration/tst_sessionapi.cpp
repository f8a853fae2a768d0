// The session endpoints over real sockets: the server runs in-process on its own thread
// (SessionServer), on a real SQLite file, and is driven with QNetworkAccessManager.
#include "RawHttp.h"
#include "SessionServer.h"
#include "audit/AuditLog.h"
#include "core/Clock.h"
#include "identity/UserDirectory.h"
#include "store/Database.h"

#include <QJsonDocument>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QSignalSpy>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <QUrlQuery>
#include <QWebSocket>

using namespace Qt::StringLiterals;

namespace {
struct Reply {
    int status = 0;
    QJsonObject body;
    QByteArray cacheControl;
};
} // namespace

class TestSessionApi final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void loginReturnsTokens();
    void loginRefusals_data();
    void loginRefusals();
    void refreshRotatesAndReuseRevokes();
    void tokenEndpointRefusals_data();
    void tokenEndpointRefusals();
    void revocationEndpoint();
    void cookieHandoff();
    void cookieRefreshRefusals_data();
    void cookieRefreshRefusals();
    void logoutEndsTheSessionOrAll();
    void bearerWebSocketIsNotExtendedByAnHttpRefresh();
    void revocationsSurviveARestart();

private:
    Reply post(const QString &path, const QByteArray &body, const QByteArray &contentType);
    Reply login(const QString &username, const QString &password, const QString &device);
    Reply refresh(const QByteArray &refreshToken);
    Reply me(const QByteArray &accessToken);
    void startServer();
    /// One request over a raw socket, to see every header as sent (Set-Cookie twice).
    RawReply raw(const QByteArray &method, const QString &path, const QByteArray &headers = {},
                 const QByteArray &body = {});

    QTemporaryDir m_dir;
    std::unique_ptr<SessionServer> m_server;
    QNetworkAccessManager m_network;
};

void TestSessionApi::initTestCase()
{
    {
        Database database;
        QVERIFY(database.open(m_dir.filePath(u"gatehouse.sqlite"_s)));
        SystemClock clock;
        UserDirectory users(database, clock);
        QVERIFY(users.add(u"alice"_s, {}, "alice's password", { u"admin"_s }).ok());
        QVERIFY(users.add(u"dora"_s, {}, "dora's password", {}).ok());
        QVERIFY(users.setEnabled(u"dora"_s, false).ok());
    }
    startServer();
}

void TestSessionApi::startServer()
{
    m_server = std::make_unique<SessionServer>(SessionServerOptions { m_dir.path(), {}, u"127.0.0.1:0"_s, u"file"_s });
    m_server->start();
    QTRY_COMPARE_WITH_TIMEOUT(m_server->state(), ServerState::Running, 20000);
}

void TestSessionApi::cleanupTestCase()
{
    m_server.reset();
}

Reply TestSessionApi::post(const QString &path, const QByteArray &body, const QByteArray &contentType)
{
    QNetworkRequest request(QUrl(u"http://"_s + m_server->listenAddress() + path));
    if (!contentType.isEmpty())
        request.setHeader(QNetworkRequest::ContentTypeHeader, contentType);
    std::unique_ptr<QNetworkReply> reply(m_network.post(request, body));
    QSignalSpy finished(reply.get(), &QNetworkReply::finished);
    [[maybe_unused]] const bool done = finished.wait(20000);
    return Reply { reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(),
                   QJsonDocument::fromJson(reply->readAll()).object(), reply->rawHeader("Cache-Control") };
}

Reply TestSessionApi::login(const QString &username, const QString &password, const QString &device)
{
    return post(
        u"/auth/login"_s,
        QJsonDocument(QJsonObject { { "username"_L1, username }, { "password"_L1, password }, { "device"_L1, device } })
            .toJson(),
        "application/json");
}

Reply TestSessionApi::refresh(const QByteArray &refreshToken)
{
    return post(u"/oauth/token"_s, "grant_type=refresh_token&refresh_token=" + refreshToken.toPercentEncoding(),
                "application/x-www-form-urlencoded");
}

Reply TestSessionApi::me(const QByteArray &accessToken)
{
    QNetworkRequest request(QUrl(u"http://"_s + m_server->listenAddress() + u"/api/me"_s));
    request.setRawHeader("Authorization", "Bearer " + accessToken);
    std::unique_ptr<QNetworkReply> reply(m_network.get(request));
    QSignalSpy finished(reply.get(), &QNetworkReply::finished);
    [[maybe_unused]] const bool done = finished.wait(20000);
    return Reply { reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(),
                   QJsonDocument::fromJson(reply->readAll()).object(),
                   {} };
}

void TestSessionApi::loginReturnsTokens()
{
    const auto reply = login(u"alice"_s, u"alice's password"_s, u"laptop"_s);
    QCOMPARE(reply.status, 200);
    QCOMPARE(reply.cacheControl, QByteArray("no-store"));
    QCOMPARE(reply.body["token_type"_L1].toString(), u"Bearer"_s);
    QCOMPARE(reply.body["expires_in"_L1].toInt(), 7200);
    QVERIFY(reply.body["refresh_token"_L1].toString().startsWith(u"ghr_"_s));
    QVERIFY(reply.body["session_id"_L1].toString().startsWith(u"s_"_s));
    const auto identity = me(reply.body["access_token"_L1].toString().toLatin1());
    QCOMPARE(identity.status, 200);
    QCOMPARE(identity.body["sub"_L1].toString(), u"alice"_s);
    QCOMPARE(identity.body["sid"_L1].toString(), reply.body["session_id"_L1].toString());
}

void TestSessionApi::loginRefusals_data()
{
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QByteArray>("contentType");
    QTest::addColumn<int>("status");
    QTest::addColumn<QString>("error");
    const auto json = [](const QJsonObject &object) { return QJsonDocument(object).toJson(); };
    const QJsonObject good { { "username"_L1, "alice"_L1 },
                             { "password"_L1, "alice's password"_L1 },
                             { "device"_L1, "d"_L1 } };
    auto wrong = good;
    wrong.insert("password"_L1, "guess"_L1);
    auto disabled = good;
    disabled.insert("username"_L1, "dora"_L1);
    disabled.insert("password"_L1, "dora's password"_L1);
    auto noDevice = good;
    noDevice.remove("device"_L1);
    auto badDevice = good;
    badDevice.insert("device"_L1, "tab\u0001"_L1);
    auto numericPassword = good;
    numericPassword.insert("password"_L1, 12345678);

    QTest::newRow("wrong password is 401")
        << json(wrong) << QByteArray("application/json") << 401 << u"invalid_credentials"_s;
    QTest::newRow("disabled user is 403")
        << json(disabled) << QByteArray("application/json") << 403 << u"user_disabled"_s;
    QTest::newRow("missing device is 400")
        << json(noDevice) << QByteArray("application/json") << 400 << u"invalid_request"_s;
    QTest::newRow("control character in device is 400")
        << json(badDevice) << QByteArray("application/json") << 400 << u"invalid_request"_s;
    QTest::newRow("numeric password is 400")
        << json(numericPassword) << QByteArray("application/json") << 400 << u"invalid_request"_s;
    QTest::newRow("form body is 415") << QByteArray("username=alice") << QByteArray("application/x-www-form-urlencoded")
                                      << 415 << u"invalid_request"_s;
    QTest::newRow("truncated JSON is 400")
        << QByteArray(R"({"username":"alice",)") << QByteArray("application/json") << 400 << u"invalid_request"_s;
    QTest::newRow("duplicate member is 400")
        << QByteArray(R"({"username":"nobody","username":"alice","password":"alice's password","device":"d"})")
        << QByteArray("application/json") << 400 << u"invalid_request"_s;
    QTest::newRow("20 KiB body is 413") << QByteArray(20 * 1024, ' ') << QByteArray("application/json") << 413
                                        << u"invalid_request"_s;
}

void TestSessionApi::loginRefusals()
{
    QFETCH(QByteArray, body);
    QFETCH(QByteArray, contentType);
    QFETCH(int, status);
    QFETCH(QString, error);
    const auto reply = post(u"/auth/login"_s, body, contentType);
    QCOMPARE(reply.status, status);
    QCOMPARE(reply.body["error"_L1].toString(), error);
    QVERIFY(!reply.body.contains("access_token"_L1));
}

void TestSessionApi::refreshRotatesAndReuseRevokes()
{
    const auto first = login(u"alice"_s, u"alice's password"_s, u"phone"_s);
    const QByteArray firstRefresh = first.body["refresh_token"_L1].toString().toLatin1();
    const auto second = refresh(firstRefresh);
    QCOMPARE(second.status, 200);
    QCOMPARE(second.cacheControl, QByteArray("no-store"));
    QVERIFY(second.body["refresh_token"_L1].toString().toLatin1() != firstRefresh);
    QCOMPARE(second.body["session_id"_L1], first.body["session_id"_L1]);

    const auto replay = refresh(firstRefresh);
    QCOMPARE(replay.status, 400);
    QCOMPARE(replay.body["error"_L1].toString(), u"invalid_grant"_s);
    QCOMPARE(replay.body["error_description"_L1].toString(), u"refresh_token_reused"_s);
    const auto afterReuse = refresh(second.body["refresh_token"_L1].toString().toLatin1());
    QCOMPARE(afterReuse.body["error_description"_L1].toString(), u"session_revoked"_s);
    const auto identity = me(second.body["access_token"_L1].toString().toLatin1());
    QCOMPARE(identity.status, 401);
    QCOMPARE(identity.body["error_description"_L1].toString(), u"session_revoked"_s);
}

void TestSessionApi::tokenEndpointRefusals_data()
{
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QByteArray>("contentType");
    QTest::addColumn<QString>("error");
    const QByteArray form = "application/x-www-form-urlencoded";
    QTest::newRow("missing grant_type") << QByteArray("refresh_token=ghr_x") << form << u"invalid_request"_s;
    QTest::newRow("password grant unsupported")
        << QByteArray("grant_type=password&username=a&password=b") << form << u"unsupported_grant_type"_s;
    QTest::newRow("missing refresh_token") << QByteArray("grant_type=refresh_token") << form << u"invalid_request"_s;
    QTest::newRow("repeated parameter") << QByteArray("grant_type=refresh_token&refresh_token=a&refresh_token=b")
                                        << form << u"invalid_request"_s;
    QTest::newRow("unknown refresh token") << QByteArray("grant_type=refresh_token&refresh_token=ghr_")
            + QByteArray(43, 'Q') << form << u"invalid_grant"_s;
    QTest::newRow("percent-encoded garbage")
        << QByteArray("grant_type=refresh_token&refresh_token=%00%ff%zz") << form << u"invalid_grant"_s;
    QTest::newRow("JSON instead of a form")
        << QByteArray(R"({"grant_type":"refresh_token"})") << QByteArray("application/json") << u"invalid_request"_s;
}

void TestSessionApi::tokenEndpointRefusals()
{
    QFETCH(QByteArray, body);
    QFETCH(QByteArray, contentType);
    QFETCH(QString, error);
    const auto reply = post(u"/oauth/token"_s, body, contentType);
    QCOMPARE(reply.status, 400);
    QCOMPARE(reply.body["error"_L1].toString(), error);
}

void TestSessionApi::revocationEndpoint()
{
    const QByteArray form = "application/x-www-form-urlencoded";
    const auto session = login(u"alice"_s, u"alice's password"_s, u"tablet"_s);
    const QByteArray refreshToken = session.body["refresh_token"_L1].toString().toLatin1();
    QCOMPARE(post(u"/oauth/revoke"_s, "token=" + refreshToken + "&token_type_hint=refresh_token", form).status, 200);
    QCOMPARE(refresh(refreshToken).body["error"_L1].toString(), u"invalid_grant"_s);

    const auto other = login(u"alice"_s, u"alice's password"_s, u"watch"_s);
    const QByteArray accessToken = other.body["access_token"_L1].toString().toLatin1();
    QCOMPARE(me(accessToken).status, 200);
    QCOMPARE(post(u"/oauth/revoke"_s, "token=" + accessToken, form).status, 200);
    QCOMPARE(me(accessToken).body["error_description"_L1].toString(), u"session_revoked"_s);
    QCOMPARE(refresh(other.body["refresh_token"_L1].toString().toLatin1()).status, 200); // only that token died

    QCOMPARE(post(u"/oauth/revoke"_s, "token=unknown-token", form).status, 200); // RFC 7009 §2.2
    QCOMPARE(post(u"/oauth/revoke"_s, "token_type_hint=access_token", form).status, 400);
    QCOMPARE(post(u"/oauth/revoke"_s, "token=" + accessToken, "text/plain").status, 400);
}

RawReply TestSessionApi::raw(const QByteArray &method, const QString &path, const QByteArray &headers,
                             const QByteArray &body)
{
    return rawHttp(m_server->listenAddress(), method, path, headers, body);
}

void TestSessionApi::cookieHandoff()
{
    const QByteArray json = "Content-Type: application/json\r\n";
    const auto login = raw("POST", u"/auth/login"_s, json,
                           R"({"username":"alice","password":"alice's password","device":"browser","cookies":true})");
    QCOMPARE(login.status, 200);
    // The tokens are in HttpOnly cookies only, never in the body a script could read.
    QVERIFY(!login.body.contains("access_token"_L1));
    QVERIFY(!login.body.contains("refresh_token"_L1));
    QCOMPARE(login.body["token_type"_L1].toString(), u"cookie"_s);
    QCOMPARE(login.body["expires_in"_L1].toInt(), 300); // the local session, shorter than the access token
    // And the single login (SLI), tested with the OIDC endpoints, and the login limits' device
    // cookie, tested with them.
    QCOMPARE(login.setCookies.size(), 4);
    QVERIFY(!login.cookie("gh_device").isEmpty());
    const QByteArray session = login.cookie("gh_session");
    const QByteArray refresh = login.cookie("gh_refresh");
    QVERIFY(!session.isEmpty() && !refresh.isEmpty());
    const QByteArray sessionLine = login.setCookies.at(login.setCookies.at(0).startsWith("gh_session") ? 0 : 1);
    const QByteArray refreshLine = login.setCookies.at(login.setCookies.at(0).startsWith("gh_session") ? 1 : 0);
    for (const QByteArray attribute : { "Path=/;", "Max-Age=300;", "HttpOnly", "SameSite=Strict" })
        QVERIFY2(sessionLine.contains(attribute), sessionLine.constData());
    for (const QByteArray attribute : { "Path=/auth/refresh;", "HttpOnly", "SameSite=Strict" })
        QVERIFY2(refreshLine.contains(attribute), refreshLine.constData());
    QVERIFY(!sessionLine.contains("Secure")); // plain HTTP: a Secure cookie would never come back

    // The session cookie authenticates the API and the WebSocket.
    const auto me = raw("GET", u"/api/me"_s, "Cookie: theme=dark; gh_session=" + session + "\r\n");
    QCOMPARE(me.status, 200);
    QCOMPARE(me.body["sub"_L1].toString(), u"alice"_s);
    QWebSocket socket;
    QNetworkRequest upgrade(QUrl(u"ws://%1/ws"_s.arg(m_server->listenAddress())));
    upgrade.setRawHeader("Cookie", "gh_session=" + session);
    QSignalSpy welcomed(&socket, &QWebSocket::textMessageReceived);
    socket.open(upgrade);
    QVERIFY(welcomed.wait(10000));
    QVERIFY(welcomed.first().first().toString().contains(u"welcome"_s));

    // The refresh cookie buys a fresh session cookie and is rotated.
    const auto refreshed = raw("POST", u"/auth/refresh"_s, "Cookie: gh_refresh=" + refresh + "\r\n");
    QCOMPARE(refreshed.status, 200);
    QVERIFY(!refreshed.cookie("gh_session").isEmpty());
    QVERIFY(refreshed.cookie("gh_session") != session);
    const QByteArray rotated = refreshed.cookie("gh_refresh");
    QVERIFY(!rotated.isEmpty() && rotated != refresh);
    // The page's WebSocket, authenticated by the cookie, cannot be sent the new token in band:
    // the refresh extends it and it is told so.
    QTRY_VERIFY(std::any_of(welcomed.begin(), welcomed.end(), [](const QList<QVariant> &message) {
        return QJsonDocument::fromJson(message.first().toString().toUtf8())["type"_L1] == "refreshed"_L1;
    }));

    // The old one again is reuse: refused, both cookies cleared, the session revoked (its
    // WebSocket closed with 4003), and the rotated cookie dead with it.
    QSignalSpy closed(&socket, &QWebSocket::disconnected);
    const auto reused = raw("POST", u"/auth/refresh"_s, "Cookie: gh_refresh=" + refresh + "\r\n");
    QCOMPARE(reused.status, 401);
    QCOMPARE(reused.body["error"_L1].toString(), u"invalid_grant"_s);
    QCOMPARE(reused.setCookies.size(), 2);
    for (const auto &line : reused.setCookies)
        QVERIFY2(line.contains("Max-Age=0"), line.constData());
    QVERIFY(closed.wait(5000));
    QCOMPARE(int(socket.closeCode()), 4003);
    QCOMPARE(raw("POST", u"/auth/refresh"_s, "Cookie: gh_refresh=" + rotated + "\r\n").status, 401);
}

void TestSessionApi::cookieRefreshRefusals_data()
{
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QString>("path");
    QTest::addColumn<QByteArray>("headers");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<int>("status");
    QTest::addColumn<QString>("says");
    QTest::newRow("no cookie") << QByteArray("POST") << u"/auth/refresh"_s << QByteArray() << QByteArray() << 401
                               << u"no refresh cookie"_s;
    QTest::newRow("only the session cookie")
        << QByteArray("POST") << u"/auth/refresh"_s << QByteArray("Cookie: gh_session=abc\r\n") << QByteArray() << 401
        << u"no refresh cookie"_s;
    QTest::newRow("garbage") << QByteArray("POST") << u"/auth/refresh"_s
                             << QByteArray("Cookie: gh_refresh=%00\xff;;==\r\n") << QByteArray() << 401
                             << u"invalid_grant"_s;
    QTest::newRow("huge") << QByteArray("POST") << u"/auth/refresh"_s
                          << "Cookie: gh_refresh=" + QByteArray(6000, 'A') + "\r\n"
                          << QByteArray() << 401 << u"invalid_grant"_s;
    QTest::newRow("GET") << QByteArray("GET") << u"/auth/refresh"_s << QByteArray() << QByteArray() << 405
                         << u"use POST"_s;
    QTest::newRow("cookies not a boolean")
        << QByteArray("POST") << u"/auth/login"_s << QByteArray("Content-Type: application/json\r\n")
        << QByteArray(R"({"username":"alice","password":"alice's password","device":"b","cookies":"yes"})") << 400
        << u"\"cookies\" is true or false"_s;
}

void TestSessionApi::cookieRefreshRefusals()
{
    QFETCH(QByteArray, method);
    QFETCH(QString, path);
    QFETCH(QByteArray, headers);
    QFETCH(QByteArray, body);
    QFETCH(int, status);
    QFETCH(QString, says);
    const auto reply = raw(method, path, headers, body);
    QCOMPARE(reply.status, status);
    const QString text = reply.body["error"_L1].toString() + u' ' + reply.body["error_description"_L1].toString();
    QVERIFY2(text.contains(says), qPrintable(text));
}

void TestSessionApi::logoutEndsTheSessionOrAll()
{
    const QByteArray json = "Content-Type: application/json\r\n";
    const auto browser = raw("POST", u"/auth/login"_s, json,
                             R"({"username":"alice","password":"alice's password","device":"tablet","cookies":true})");
    QCOMPARE(browser.status, 200);
    const QByteArray cookies = "Cookie: gh_session=" + browser.cookie("gh_session")
        + "; gh_refresh=" + browser.cookie("gh_refresh") + "\r\n";
    QWebSocket socket;
    QNetworkRequest upgrade(QUrl(u"ws://%1/ws"_s.arg(m_server->listenAddress())));
    upgrade.setRawHeader("Cookie", "gh_session=" + browser.cookie("gh_session"));
    QSignalSpy welcomed(&socket, &QWebSocket::textMessageReceived);
    socket.open(upgrade);
    QVERIFY(welcomed.wait(10000));
    const auto phone = login(u"alice"_s, u"alice's password"_s, u"phone"_s);
    QCOMPARE(phone.status, 200);

    // Hostile first: nothing changes.
    QCOMPARE(raw("POST", u"/auth/logout"_s).status, 401);
    QCOMPARE(raw("POST", u"/auth/logout"_s, cookies + json, "[]").status, 400);
    QCOMPARE(raw("POST", u"/auth/logout"_s, cookies + json, R"({"everywhere":"yes"})").status, 400);
    QCOMPARE(raw("GET", u"/auth/logout"_s, cookies).status, 405);
    QCOMPARE(socket.state(), QAbstractSocket::ConnectedState);

    // This browser's session only: its socket closes with 4003, its cookies are cleared, the
    // phone carries on.
    QSignalSpy closed(&socket, &QWebSocket::disconnected);
    const auto out = raw("POST", u"/auth/logout"_s, cookies);
    QCOMPARE(out.status, 200);
    QCOMPARE(out.body["revoked"_L1].toInt(), 1);
    QCOMPARE(out.setCookies.size(), 3);
    for (const auto &line : out.setCookies)
        QVERIFY2(line.contains("Max-Age=0"), line.constData());
    QVERIFY(closed.wait(5000));
    QCOMPARE(int(socket.closeCode()), 4003);
    QCOMPARE(raw("GET", u"/api/me"_s, cookies).status, 401);
    QCOMPARE(raw("POST", u"/auth/refresh"_s, cookies).status, 401);
    const QByteArray phoneToken = phone.body["access_token"_L1].toString().toLatin1();
    QCOMPARE(me(phoneToken).status, 200);

    // Everywhere: every session of the user ends, the phone's too.
    const auto tv = login(u"alice"_s, u"alice's password"_s, u"tv"_s);
    const QByteArray bearer = "Authorization: Bearer " + tv.body["access_token"_L1].toString().toLatin1() + "\r\n";
    const auto all = raw("POST", u"/auth/logout"_s, bearer + json, R"({"everywhere":true})");
    QCOMPARE(all.status, 200);
    QVERIFY(all.body["revoked"_L1].toInt() >= 2);
    QCOMPARE(me(phoneToken).status, 401);
    QCOMPARE(refresh(phone.body["refresh_token"_L1].toString().toLatin1()).status, 400);
}

void TestSessionApi::bearerWebSocketIsNotExtendedByAnHttpRefresh()
{
    // A bearer connection's life is its token's: whoever refreshes the session over HTTP must
    // also present the new token in band. (Only the browser's cookie connections are extended.)
    const auto pair = login(u"alice"_s, u"alice's password"_s, u"kiosk"_s);
    QCOMPARE(pair.status, 200);
    QWebSocket socket;
    QNetworkRequest upgrade(QUrl(u"ws://%1/ws"_s.arg(m_server->listenAddress())));
    upgrade.setRawHeader("Authorization", "Bearer " + pair.body["access_token"_L1].toString().toLatin1());
    QSignalSpy received(&socket, &QWebSocket::textMessageReceived);
    socket.open(upgrade);
    QVERIFY(received.wait(10000));
    QCOMPARE(refresh(pair.body["refresh_token"_L1].toString().toLatin1()).status, 200);
    QTest::qWait(500);
    QCOMPARE(received.size(), 1); // the welcome, and nothing since
}

void TestSessionApi::revocationsSurviveARestart()
{
    const auto session = login(u"alice"_s, u"alice's password"_s, u"desktop"_s);
    const QByteArray refreshToken = session.body["refresh_token"_L1].toString().toLatin1();
    QCOMPARE(refresh(refreshToken).status, 200);
    m_server.reset(); // joins the server thread
    startServer();
    QCOMPARE(refresh(refreshToken).body["error_description"_L1].toString(), u"refresh_token_reused"_s);

    m_server.reset();
    Database database;
    QVERIFY(database.open(m_dir.filePath(u"gatehouse.sqlite"_s)));
    SystemClock clock;
    const auto verified = AuditLog(database, clock).verify();
    QVERIFY(verified.ok());
    QVERIFY(*verified >= 10);
    database.close();
    startServer();
}

QTEST_GUILESS_MAIN(TestSessionApi)
#include "tst_sessionapi.moc"
