// The OpenID provider over real sockets: discovery, the authorization code flow with PKCE and
// its login page, silent re-authentication with the SLI cookie, and single logout with a real
// back-channel receiver and real WebSockets. The server runs in-process on its own thread, on
// a real SQLite file.
#include "RawHttp.h"
#include "SessionServer.h"
#include "core/Clock.h"
#include "identity/UserDirectory.h"
#include "oidc/ClientRegistry.h"
#include "store/Database.h"

#include <QJsonArray>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>
#include <QUrlQuery>
#include <QWebSocket>

using namespace Qt::StringLiterals;

namespace {
// RFC 7636 Appendix B.
constexpr auto verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
constexpr auto challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
constexpr auto password = "alice's password";

QJsonObject jwtPart(const QByteArray &token, int index)
{
    return QJsonDocument::fromJson(QByteArray::fromBase64(token.split('.').value(index), QByteArray::Base64UrlEncoding))
        .object();
}

QUrlQuery queryOf(const QByteArray &location)
{
    return QUrlQuery(QUrl(QString::fromUtf8(location)));
}

/// What a page gives its form against forgery: the nonce cookie and the token in the form.
struct FormGuard {
    QByteArray cookie; ///< "gh_form=…"
    QByteArray token;
};

FormGuard guardOf(const RawReply &page)
{
    const QByteArray field = "name=\"form_token\" value=\"";
    const qsizetype start = page.content.indexOf(field);
    if (start < 0)
        return { "gh_form=" + page.cookie("gh_form"), {} };
    const qsizetype end = page.content.indexOf('"', start + field.size());
    return { "gh_form=" + page.cookie("gh_form"),
             page.content.sliced(start + field.size(), end - start - field.size()) };
}

/// A relying party's logout endpoints: records every request and answers 200.
class Receiver final : public QTcpServer {
public:
    struct Request {
        QByteArray head;
        QByteArray body;
    };
    QList<Request> requests;

    Receiver()
    {
        connect(this, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *socket = nextPendingConnection()) {
                connect(socket, &QTcpSocket::readyRead, socket, [this, socket] {
                    const QByteArray data = socket->peek(socket->bytesAvailable());
                    const qsizetype end = data.indexOf("\r\n\r\n");
                    if (end < 0)
                        return;
                    qsizetype length = 0;
                    for (const auto &line : data.first(end).split('\n')) {
                        if (line.toLower().startsWith("content-length:"))
                            length = line.sliced(15).trimmed().toLongLong();
                    }
                    if (data.size() < end + 4 + length)
                        return;
                    socket->readAll();
                    requests.append({ data.first(end), data.sliced(end + 4, length) });
                    socket->write("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                    socket->disconnectFromHost();
                });
                connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
            }
        });
    }
};
} // namespace

class TestOidc final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void discoveryNamesEveryEndpoint();
    void hostileAuthorizationRequests_data();
    void hostileAuthorizationRequests();
    void codeFlowWithPkce();
    void loginFormsFromElsewhereAreRefused_data();
    void loginFormsFromElsewhereAreRefused();
    void hostileCodeRedemptions_data();
    void hostileCodeRedemptions();
    void silentReauthentication();
    void webLoginIsASingleLogin();
    void logoutFormsFromElsewhereAreRefused_data();
    void logoutFormsFromElsewhereAreRefused();
    void singleLogoutEndsEverySessionOfTheUser();
    void loginPageSharesTheLoginLimits();

private:
    QString address() const { return m_server->listenAddress(); }
    QString redirectUri() const { return u"http://127.0.0.1:%1/cb"_s.arg(m_receiver.serverPort()); }
    /// An authorization request for the registered client; `extra` overrides or adds parameters.
    QString authorizePath(const QList<std::pair<QString, QString>> &extra = {}) const;
    QByteArray loginForm(const QString &user, const QString &secret) const;
    /// The login page's POST, as a browser sends it after loading the page (its cookie and
    /// token, and `cookies`, "name=value; …"); returns the redirect.
    RawReply logInAtAuthorize(const QString &user = u"alice"_s, const QString &secret = QString::fromUtf8(password),
                              const QByteArray &cookies = {}, const QHostAddress &from = {});
    RawReply redeem(const QByteArray &code, const QByteArray &codeVerifier = verifier);
    std::unique_ptr<QWebSocket> connectWith(const QByteArray &header, const QByteArray &value);

    QTemporaryDir m_dir;
    Receiver m_receiver;
    std::unique_ptr<SessionServer> m_server;
};

void TestOidc::initTestCase()
{
    QVERIFY(m_receiver.listen(QHostAddress::LocalHost));
    {
        Database database;
        QVERIFY(database.open(m_dir.filePath(u"gatehouse.sqlite"_s)));
        SystemClock clock;
        UserDirectory users(database, clock);
        QVERIFY(users.add(u"alice"_s, {}, password, {}).ok());
        QVERIFY(users.add(u"dave"_s, {}, password, {}).ok());
        ClientRegistry clients(database);
        const QString receiver = u"http://127.0.0.1:%1"_s.arg(m_receiver.serverPort());
        QVERIFY(
            clients
                .add(
                    OidcClient {
                        u"notes"_s, { redirectUri() }, receiver + u"/backchannel"_s, receiver + u"/frontchannel"_s, 0 },
                    clock.nowSeconds())
                .ok());
    }
    m_server = std::make_unique<SessionServer>(SessionServerOptions { m_dir.path(), {}, u"127.0.0.1:0"_s, u"file"_s });
    m_server->start();
    QTRY_COMPARE_WITH_TIMEOUT(m_server->state(), ServerState::Running, 20000);
}

void TestOidc::cleanupTestCase()
{
    m_server.reset();
}

QString TestOidc::authorizePath(const QList<std::pair<QString, QString>> &extra) const
{
    QList<std::pair<QString, QString>> parameters { { u"client_id"_s, u"notes"_s },
                                                    { u"redirect_uri"_s, redirectUri() },
                                                    { u"response_type"_s, u"code"_s },
                                                    { u"scope"_s, u"openid"_s },
                                                    { u"state"_s, u"st&te=1"_s },
                                                    { u"nonce"_s, u"n-0S6"_s },
                                                    { u"code_challenge"_s, QString::fromLatin1(challenge) },
                                                    { u"code_challenge_method"_s, u"S256"_s } };
    for (const auto &[name, value] : extra) {
        const auto found = std::find_if(parameters.begin(), parameters.end(),
                                        [&name](const auto &parameter) { return parameter.first == name; });
        if (found != parameters.end())
            found->second = value;
        else
            parameters.append({ name, value });
    }
    QStringList pairs;
    for (const auto &[name, value] : parameters) {
        if (!value.isNull())
            pairs.append(name + u'=' + QString::fromLatin1(QUrl::toPercentEncoding(value)));
    }
    return u"/oauth/authorize?"_s + pairs.join(u'&');
}

QByteArray TestOidc::loginForm(const QString &user, const QString &secret) const
{
    return authorizePath().section(u'?', 1).toLatin1() + "&username=" + QUrl::toPercentEncoding(user)
        + "&password=" + QUrl::toPercentEncoding(secret);
}

RawReply TestOidc::logInAtAuthorize(const QString &user, const QString &secret, const QByteArray &cookies,
                                    const QHostAddress &from)
{
    const QByteArray cookie = cookies.isEmpty() ? QByteArray() : "Cookie: " + cookies + "\r\n";
    const FormGuard guard = guardOf(rawHttp(address(), "GET", authorizePath(), cookie, {}, from));
    return rawHttp(address(), "POST", u"/oauth/authorize"_s,
                   "Content-Type: application/x-www-form-urlencoded\r\nOrigin: http://" + address().toLatin1()
                       + "\r\nCookie: " + guard.cookie + (cookies.isEmpty() ? QByteArray() : "; " + cookies) + "\r\n",
                   loginForm(user, secret) + "&form_token=" + guard.token, from);
}

RawReply TestOidc::redeem(const QByteArray &code, const QByteArray &codeVerifier)
{
    const QByteArray form = "grant_type=authorization_code&code=" + QUrl::toPercentEncoding(QString::fromLatin1(code))
        + "&redirect_uri=" + QUrl::toPercentEncoding(redirectUri()) + "&client_id=notes&code_verifier=" + codeVerifier;
    return rawHttp(address(), "POST", u"/oauth/token"_s, "Content-Type: application/x-www-form-urlencoded\r\n", form);
}

std::unique_ptr<QWebSocket> TestOidc::connectWith(const QByteArray &header, const QByteArray &value)
{
    auto socket = std::make_unique<QWebSocket>();
    QNetworkRequest request(QUrl(u"ws://"_s + address() + u"/ws"_s));
    request.setRawHeader(header, value);
    QSignalSpy connected(socket.get(), &QWebSocket::connected);
    socket->open(request);
    if (!connected.wait(10000))
        return nullptr;
    return socket;
}

void TestOidc::discoveryNamesEveryEndpoint()
{
    const auto reply = rawHttp(address(), "GET", u"/.well-known/openid-configuration"_s);
    QCOMPARE(reply.status, 200);
    const QString issuer = u"http://"_s + address();
    QCOMPARE(reply.body["issuer"_L1].toString(), issuer);
    QCOMPARE(reply.body["authorization_endpoint"_L1].toString(), issuer + u"/oauth/authorize"_s);
    QCOMPARE(reply.body["token_endpoint"_L1].toString(), issuer + u"/oauth/token"_s);
    QCOMPARE(reply.body["end_session_endpoint"_L1].toString(), issuer + u"/oauth/logout"_s);
    QCOMPARE(reply.body["jwks_uri"_L1].toString(), issuer + u"/.well-known/jwks.json"_s);
    QCOMPARE(reply.body["code_challenge_methods_supported"_L1].toArray(), QJsonArray { u"S256"_s });
    QCOMPARE(reply.body["id_token_signing_alg_values_supported"_L1].toArray(), QJsonArray { u"EdDSA"_s });
    QVERIFY(reply.body["backchannel_logout_supported"_L1].toBool());
    QVERIFY(reply.body["frontchannel_logout_session_supported"_L1].toBool());
    // Every endpoint named answers here.
    for (const auto name : { "jwks_uri"_L1, "userinfo_endpoint"_L1 }) {
        const QString path = QUrl(reply.body[name].toString()).path();
        QVERIFY2(rawHttp(address(), "GET", path).status != 404, qPrintable(path));
    }
    QCOMPARE(rawHttp(address(), "POST", u"/.well-known/openid-configuration"_s).status, 405);
}

void TestOidc::hostileAuthorizationRequests_data()
{
    QTest::addColumn<QString>("path");
    QTest::addColumn<int>("status");
    QTest::addColumn<QString>("error"); // in the redirect, or the text of the error page

    using Extra = QList<std::pair<QString, QString>>;
    // Nothing is redirected to an address that is not registered.
    QTest::newRow("unknown client") << authorizePath(Extra { { u"client_id"_s, u"evil"_s } }) << 400
                                    << u"No client \"evil\" is registered here."_s;
    QTest::newRow("no client") << authorizePath(Extra { { u"client_id"_s, QString() } }) << 400
                               << u"The request names no client (client_id is missing)."_s;
    QTest::newRow("redirect elsewhere") << authorizePath(Extra { { u"redirect_uri"_s, u"https://evil.example/cb"_s } })
                                        << 400 << u"This redirect_uri is not registered for client \"notes\"."_s;
    QTest::newRow("redirect with a suffix") << authorizePath(Extra { { u"redirect_uri"_s, redirectUri() + u"/x"_s } })
                                            << 400 << u"This redirect_uri is not registered for client \"notes\"."_s;
    QTest::newRow("no redirect") << authorizePath(Extra { { u"redirect_uri"_s, QString() } }) << 400
                                 << u"The request has no redirect_uri."_s;
    QTest::newRow("repeated parameter") << authorizePath() + u"&client_id=notes"_s << 400
                                        << u"parameter \"client_id\" appears twice."_s;
    QTest::newRow("too large") << authorizePath(Extra { { u"junk"_s, QString(9000, u'a') } }) << 413
                               << u"The request is too large."_s;
    // The client is known: the error goes back to it, with the state.
    QTest::newRow("token flow") << authorizePath(Extra { { u"response_type"_s, u"token"_s } }) << 302
                                << u"unsupported_response_type"_s;
    QTest::newRow("no openid") << authorizePath(Extra { { u"scope"_s, u"profile"_s } }) << 302 << u"invalid_scope"_s;
    QTest::newRow("no PKCE") << authorizePath(Extra { { u"code_challenge"_s, QString() } }) << 302
                             << u"invalid_request"_s;
    QTest::newRow("plain PKCE") << authorizePath(Extra { { u"code_challenge_method"_s, u"plain"_s } }) << 302
                                << u"invalid_request"_s;
    QTest::newRow("short challenge") << authorizePath(Extra { { u"code_challenge"_s, u"abc"_s } }) << 302
                                     << u"invalid_request"_s;
    QTest::newRow("unknown prompt") << authorizePath(Extra { { u"prompt"_s, u"now"_s } }) << 302
                                    << u"invalid_request"_s;
    QTest::newRow("control characters") << authorizePath(Extra { { u"nonce"_s, u"a\nb"_s } }) << 302
                                        << u"invalid_request"_s;
    QTest::newRow("prompt=none without a login")
        << authorizePath(Extra { { u"prompt"_s, u"none"_s } }) << 302 << u"login_required"_s;
}

void TestOidc::hostileAuthorizationRequests()
{
    QFETCH(QString, path);
    QFETCH(int, status);
    QFETCH(QString, error);
    const auto reply = rawHttp(address(), "GET", path);
    QCOMPARE(reply.status, status);
    if (status == 302) {
        const QByteArray location = reply.header("location");
        QVERIFY2(location.startsWith(QByteArray(redirectUri().toLatin1() + '?')), location.constData());
        const QUrlQuery query = queryOf(location);
        QCOMPARE(query.queryItemValue(u"error"_s), error);
        QCOMPARE(query.queryItemValue(u"state"_s, QUrl::FullyDecoded), u"st&te=1"_s);
        QCOMPARE(query.queryItemValue(u"iss"_s, QUrl::FullyDecoded), u"http://"_s + address());
        QVERIFY(!query.hasQueryItem(u"code"_s));
    } else {
        QVERIFY(reply.header("location").isEmpty());
        QVERIFY2(QString::fromUtf8(reply.content).contains(error.toHtmlEscaped()), reply.content.constData());
        QVERIFY(reply.header("content-security-policy").contains("frame-ancestors 'none'"));
    }
    QVERIFY(reply.setCookies.isEmpty());
}

void TestOidc::codeFlowWithPkce()
{
    // No SLI cookie: the login page, naming the client, with the request in hidden fields.
    const auto page = rawHttp(address(), "GET", authorizePath());
    QCOMPARE(page.status, 200);
    QVERIFY(page.header("content-type").startsWith("text/html"));
    QVERIFY(page.content.contains("<strong id=\"client\">notes</strong>"));
    QVERIFY(page.content.contains("name=\"state\" value=\"st&amp;te=1\""));
    // With its anti-forgery pair: a token in the form, its nonce in a short-lived cookie.
    QVERIFY(!guardOf(page).token.isEmpty());
    const QByteArray formCookie = page.setCookie("gh_form");
    for (const QByteArray attribute : { "HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=3600" })
        QVERIFY2(formCookie.contains(attribute), formCookie.constData());

    // A wrong password shows the page again; a form from another site is refused.
    const auto wrong = logInAtAuthorize(u"alice"_s, u"guess"_s);
    QCOMPARE(wrong.status, 401);
    QVERIFY(wrong.content.contains("The username or password is wrong."));
    QVERIFY(wrong.setCookie("gh_sli").isEmpty() && wrong.setCookie("gh_device").isEmpty());
    QVERIFY(!guardOf(wrong).token.isEmpty()); // a fresh form
    const auto crossSite
        = rawHttp(address(), "POST", u"/oauth/authorize"_s,
                  "Content-Type: application/x-www-form-urlencoded\r\nOrigin: https://evil.example\r\n",
                  loginForm(u"alice"_s, QString::fromUtf8(password)));
    QCOMPARE(crossSite.status, 403);
    // An authorization request may also come by POST (from any site): without credentials it
    // is answered as by GET, never taken for a failed login.
    const auto posted = rawHttp(address(), "POST", u"/oauth/authorize"_s,
                                "Content-Type: application/x-www-form-urlencoded\r\nOrigin: https://notes.example\r\n",
                                authorizePath({ { u"prompt"_s, u"none"_s } }).section(u'?', 1).toLatin1());
    QCOMPARE(posted.status, 302);
    QCOMPARE(queryOf(posted.header("location")).queryItemValue(u"error"_s), u"login_required"_s);
    QCOMPARE(rawHttp(address(), "POST", u"/oauth/authorize"_s, "Content-Type: application/x-www-form-urlencoded\r\n",
                     authorizePath().section(u'?', 1).toLatin1())
                 .status,
             200);

    // The right one: a code for the registered redirect URI, with the state and the issuer,
    // and the SLI cookie (HttpOnly, Lax: relying parties send the browser here from their site).
    const auto loggedIn = logInAtAuthorize();
    QCOMPARE(loggedIn.status, 302);
    const QUrlQuery query = queryOf(loggedIn.header("location"));
    QCOMPARE(query.queryItemValue(u"state"_s, QUrl::FullyDecoded), u"st&te=1"_s);
    const QByteArray code = query.queryItemValue(u"code"_s, QUrl::FullyDecoded).toLatin1();
    QCOMPARE(code.size(), 43);
    const QByteArray sli = loggedIn.setCookie("gh_sli");
    QVERIFY2(sli.contains("HttpOnly") && sli.contains("SameSite=Lax") && sli.contains("Path=/"), sli.constData());
    QVERIFY(sli.contains("Max-Age=21600")); // 3 × 7200 s by default

    // A wrong verifier does not spend the code; the right one does.
    QCOMPARE(redeem(code, "wrong-verifier-wrong-verifier-wrong-verifier-1").body["error"_L1].toString(),
             u"invalid_grant"_s);
    auto tokens = redeem(code);
    QCOMPARE(tokens.status, 200);
    QVERIFY(tokens.header("cache-control").contains("no-store"));
    const QByteArray idToken = tokens.body["id_token"_L1].toString().toLatin1();
    const QJsonObject header = jwtPart(idToken, 0);
    const QJsonObject claims = jwtPart(idToken, 1);
    QCOMPARE(header["typ"_L1].toString(), u"JWT"_s);
    QCOMPARE(header["alg"_L1].toString(), u"EdDSA"_s);
    QCOMPARE(claims["iss"_L1].toString(), u"http://"_s + address());
    QCOMPARE(claims["sub"_L1].toString(), u"alice"_s);
    QCOMPARE(claims["aud"_L1].toString(), u"notes"_s);
    QCOMPARE(claims["nonce"_L1].toString(), u"n-0S6"_s);
    QCOMPARE(claims["exp"_L1].toInteger() - claims["iat"_L1].toInteger(), 7200);
    QVERIFY(claims["sid"_L1].toString().startsWith(u"l_"_s));
    QVERIFY(claims["auth_time"_L1].toInteger() > 0);
    const QByteArray accessToken = tokens.body["access_token"_L1].toString().toLatin1();
    QCOMPARE(jwtPart(accessToken, 1)["client_id"_L1].toString(), u"notes"_s);
    QCOMPARE(tokens.body["expires_in"_L1].toInt(), 7200);
    const QByteArray bearer = "Authorization: Bearer " + accessToken + "\r\n";
    QCOMPARE(rawHttp(address(), "GET", u"/api/me"_s, bearer).status, 200);

    // The code again is a theft: refused, and the session it opened is revoked.
    const auto replay = redeem(code);
    QCOMPARE(replay.status, 400);
    QCOMPARE(replay.body["error"_L1].toString(), u"invalid_grant"_s);
    QCOMPARE(rawHttp(address(), "GET", u"/api/me"_s, bearer).status, 401);
}

void TestOidc::loginFormsFromElsewhereAreRefused_data()
{
    QTest::addColumn<QByteArray>("signals");
    QTest::addColumn<QString>("form"); // whose token and cookie the POST carries
    QTest::addColumn<int>("status");
    const QByteArray self = "http://" + address().toLatin1();

    QTest::newRow("the page's form with its Origin logs in") << "Origin: " + self + "\r\n" << u"page"_s << 302;
    QTest::newRow("the page's form with Sec-Fetch-Site same-origin and no Origin")
        << QByteArray("Sec-Fetch-Site: same-origin\r\n") << u"page"_s << 302;
    QTest::newRow("the page's form with only its Referer") << "Referer: " + self + authorizePath().toLatin1() + "\r\n"
                                                           << u"page"_s << 302;
    QTest::newRow("the page's form from a client that sends no signal") << QByteArray() << u"page"_s << 302;

    QTest::newRow("no Origin, but Sec-Fetch-Site cross-site")
        << QByteArray("Sec-Fetch-Site: cross-site\r\n") << u"page"_s << 403;
    QTest::newRow("no Origin, but Sec-Fetch-Site same-site (a sibling host)")
        << QByteArray("Sec-Fetch-Site: same-site\r\n") << u"page"_s << 403;
    QTest::newRow("no Origin, but another site's Referer")
        << QByteArray("Referer: https://evil.example/login.html\r\n") << u"page"_s << 403;
    QTest::newRow("Origin null (a sandboxed frame)") << QByteArray("Origin: null\r\n") << u"page"_s << 403;
    QTest::newRow("a look-alike Origin") << "Origin: " + self + ".evil.example\r\n" << u"page"_s << 403;
    QTest::newRow("no token") << "Origin: " + self + "\r\n" << u"no token"_s << 403;
    QTest::newRow("the token without its cookie") << "Origin: " + self + "\r\n" << u"no cookie"_s << 403;
    QTest::newRow("the token with the attacker's own cookie") << QByteArray() << u"other cookie"_s << 403;
    QTest::newRow("a token for another authorization request") << QByteArray() << u"other request"_s << 403;
    QTest::newRow("the logout page's token") << QByteArray() << u"logout page"_s << 403;
}

void TestOidc::loginFormsFromElsewhereAreRefused()
{
    QFETCH(QByteArray, signals);
    QFETCH(QString, form);
    QFETCH(int, status);
    const FormGuard page = guardOf(rawHttp(address(), "GET", authorizePath()));
    const QByteArray ours = "Cookie: " + page.cookie + "\r\n";
    QByteArray cookie = ours;
    QByteArray token = page.token;
    if (form == "no token"_L1)
        token.clear();
    else if (form == "no cookie"_L1)
        cookie.clear();
    else if (form == "other cookie"_L1)
        cookie = "Cookie: " + guardOf(rawHttp(address(), "GET", authorizePath())).cookie + "\r\n";
    else if (form == "other request"_L1)
        token = guardOf(rawHttp(address(), "GET", authorizePath({ { u"state"_s, u"other"_s } }), ours)).token;
    else if (form == "logout page"_L1)
        token = guardOf(rawHttp(address(), "GET", u"/oauth/logout"_s, ours)).token;

    const auto reply = rawHttp(address(), "POST", u"/oauth/authorize"_s,
                               "Content-Type: application/x-www-form-urlencoded\r\n" + signals + cookie,
                               loginForm(u"alice"_s, QString::fromUtf8(password)) + "&form_token=" + token);
    QCOMPARE(reply.status, status);
    if (status == 302) {
        QVERIFY(queryOf(reply.header("location")).hasQueryItem(u"code"_s));
        return;
    }
    QVERIFY(reply.header("location").isEmpty());
    QVERIFY(reply.cookie("gh_sli").isEmpty());
    // A forged form is told why, with a fresh form to log in for real.
    if (signals.isEmpty() || form != "page"_L1) {
        QVERIFY2(reply.content.contains("id=\"login-error\""), reply.content.constData());
        QVERIFY(!guardOf(reply).token.isEmpty());
    } else {
        QVERIFY(reply.content.contains("A login form from another site is refused."));
    }
}

void TestOidc::hostileCodeRedemptions_data()
{
    QTest::addColumn<QByteArray>("form");
    QTest::addColumn<int>("status");
    QTest::addColumn<QString>("error");
    const QByteArray redirect = "&redirect_uri=" + QUrl::toPercentEncoding(redirectUri());
    QTest::newRow("no code") << ("grant_type=authorization_code&client_id=notes&code_verifier=x" + redirect) << 400
                             << u"invalid_request"_s;
    QTest::newRow("no verifier") << ("grant_type=authorization_code&client_id=notes&code=abc" + redirect) << 400
                                 << u"invalid_request"_s;
    QTest::newRow("unknown client") << ("grant_type=authorization_code&client_id=evil&code=abc&code_verifier="
                                        + QByteArray(verifier) + redirect)
                                    << 401 << u"invalid_client"_s;
    QTest::newRow("unknown code") << ("grant_type=authorization_code&client_id=notes&code=abc&code_verifier="
                                      + QByteArray(verifier) + redirect)
                                  << 400 << u"invalid_grant"_s;
    QTest::newRow("repeated code") << ("grant_type=authorization_code&client_id=notes&code=a&code=b" + redirect) << 400
                                   << u"invalid_request"_s;
    QTest::newRow("unknown grant") << QByteArray("grant_type=password&username=alice") << 400
                                   << u"unsupported_grant_type"_s;
}

void TestOidc::hostileCodeRedemptions()
{
    QFETCH(QByteArray, form);
    QFETCH(int, status);
    QFETCH(QString, error);
    const auto reply
        = rawHttp(address(), "POST", u"/oauth/token"_s, "Content-Type: application/x-www-form-urlencoded\r\n", form);
    QCOMPARE(reply.status, status);
    QCOMPARE(reply.body["error"_L1].toString(), error);
}

void TestOidc::silentReauthentication()
{
    const auto loggedIn = logInAtAuthorize();
    QCOMPARE(loggedIn.status, 302);
    const QByteArray sli = loggedIn.cookie("gh_sli");
    QVERIFY(!sli.isEmpty());
    const auto first = redeem(queryOf(loggedIn.header("location")).queryItemValue(u"code"_s).toLatin1());
    QCOMPARE(first.status, 200);
    const QString sid = jwtPart(first.body["id_token"_L1].toString().toLatin1(), 1)["sid"_L1].toString();
    const QByteArray cookie = "Cookie: gh_sli=" + sli + "\r\n";

    // Without prompt and with prompt=none: a new code at once, and the SLI cookie extended.
    for (const QString &prompt : { QString(), u"none"_s }) {
        const auto silent = rawHttp(address(), "GET", authorizePath({ { u"prompt"_s, prompt } }), cookie);
        QCOMPARE(silent.status, 302);
        const QByteArray code = queryOf(silent.header("location")).queryItemValue(u"code"_s).toLatin1();
        QVERIFY(!code.isEmpty());
        QCOMPARE(silent.cookie("gh_sli"), sli);
        QVERIFY(silent.setCookie("gh_sli").contains("Max-Age=21600"));
        const auto tokens = redeem(code);
        QCOMPARE(tokens.status, 200);
        // The same login, so the same sid: single logout will find every session of it.
        QCOMPARE(jwtPart(tokens.body["id_token"_L1].toString().toLatin1(), 1)["sid"_L1].toString(), sid);
    }
    // An application's local logout (RFC 7009 on its refresh token) leaves the login to the others.
    const auto revoked
        = rawHttp(address(), "POST", u"/oauth/revoke"_s, "Content-Type: application/x-www-form-urlencoded\r\n",
                  "token=" + first.body["refresh_token"_L1].toString().toLatin1());
    QCOMPARE(revoked.status, 200);
    const auto stillSilent = rawHttp(address(), "GET", authorizePath({ { u"prompt"_s, u"none"_s } }), cookie);
    QVERIFY(queryOf(stillSilent.header("location")).hasQueryItem(u"code"_s));
    // prompt=login always asks.
    QCOMPARE(rawHttp(address(), "GET", authorizePath({ { u"prompt"_s, u"login"_s } }), cookie).status, 200);
    // A cookie nobody issued is no login.
    const auto forged = rawHttp(address(), "GET", authorizePath({ { u"prompt"_s, u"none"_s } }),
                                "Cookie: gh_sli=" + QByteArray(43, 'A') + "\r\n");
    QCOMPARE(queryOf(forged.header("location")).queryItemValue(u"error"_s), u"login_required"_s);

    // A new password ends the login: no more silent re-authentication.
    m_server->setPassword(u"alice"_s, password, this,
                          [this](const QString &error) { setObjectName(error.isEmpty() ? u"password set"_s : error); });
    QTRY_COMPARE(objectName(), u"password set"_s);
    const auto after = rawHttp(address(), "GET", authorizePath({ { u"prompt"_s, u"none"_s } }), cookie);
    QCOMPARE(queryOf(after.header("location")).queryItemValue(u"error"_s), u"login_required"_s);
    QCOMPARE(rawHttp(address(), "GET", authorizePath(), cookie).status, 200);
    // The cut-off refuses every token of the second it was set in (`iat` has one-second
    // resolution): the next tests log in after it.
    QTest::qWait(1100);
}

void TestOidc::webLoginIsASingleLogin()
{
    // The web client's login sets the SLI cookie too, and /api/me tells the page its lifetime.
    const auto web = rawHttp(address(), "POST", u"/auth/login"_s, "Content-Type: application/json\r\n",
                             R"({"username":"alice","password":"alice's password","device":"web","cookies":true})");
    QCOMPARE(web.status, 200);
    const QByteArray sli = web.cookie("gh_sli");
    QVERIFY(!sli.isEmpty());
    const QByteArray cookies = "Cookie: gh_session=" + web.cookie("gh_session") + "; gh_sli=" + sli + "\r\n";
    const auto me = rawHttp(address(), "GET", u"/api/me"_s, cookies);
    QCOMPARE(me.status, 200);
    QVERIFY(me.body["sli_expires_in"_L1].toInt() > 21000);
    // So another application gets in silently ...
    const auto silent
        = rawHttp(address(), "GET", authorizePath({ { u"prompt"_s, u"none"_s } }), "Cookie: gh_sli=" + sli + "\r\n");
    QVERIFY(queryOf(silent.header("location")).hasQueryItem(u"code"_s));
    // ... until the page logs out, which ends the login as well as the session.
    const auto out = rawHttp(address(), "POST", u"/auth/logout"_s, cookies);
    QCOMPARE(out.status, 200);
    QVERIFY(out.setCookie("gh_sli").contains("Max-Age=0"));
    const auto after
        = rawHttp(address(), "GET", authorizePath({ { u"prompt"_s, u"none"_s } }), "Cookie: gh_sli=" + sli + "\r\n");
    QCOMPARE(queryOf(after.header("location")).queryItemValue(u"error"_s), u"login_required"_s);
}

void TestOidc::logoutFormsFromElsewhereAreRefused_data()
{
    QTest::addColumn<QByteArray>("signals");
    QTest::addColumn<QString>("form");
    QTest::newRow("no Origin, but Sec-Fetch-Site cross-site")
        << QByteArray("Sec-Fetch-Site: cross-site\r\n") << u"page"_s;
    QTest::newRow("no Origin, but another site's Referer")
        << QByteArray("Referer: https://evil.example/\r\n") << u"page"_s;
    QTest::newRow("no token") << QByteArray() << u"no token"_s;
    QTest::newRow("the token with the attacker's own cookie") << QByteArray() << u"other cookie"_s;
    QTest::newRow("the login page's token") << QByteArray() << u"login page"_s;
    QTest::newRow("the token of a page for another redirect") << QByteArray() << u"other redirect"_s;
}

void TestOidc::logoutFormsFromElsewhereAreRefused()
{
    QFETCH(QByteArray, signals);
    QFETCH(QString, form);
    const auto loggedIn = logInAtAuthorize();
    QCOMPARE(loggedIn.status, 302);
    const QByteArray sli = "gh_sli=" + loggedIn.cookie("gh_sli");
    const QByteArray redirect = "post_logout_redirect_uri=" + QUrl::toPercentEncoding(redirectUri()) + "&state=bye";
    const FormGuard page = guardOf(
        rawHttp(address(), "GET", u"/oauth/logout?"_s + QString::fromLatin1(redirect), "Cookie: " + sli + "\r\n"));
    QByteArray cookie = page.cookie;
    QByteArray token = page.token;
    if (form == "no token"_L1)
        token.clear();
    else if (form == "other cookie"_L1)
        cookie = guardOf(rawHttp(address(), "GET", u"/oauth/logout"_s)).cookie;
    else if (form == "login page"_L1)
        token = guardOf(rawHttp(address(), "GET", authorizePath(), "Cookie: " + page.cookie + "\r\n")).token;
    else if (form == "other redirect"_L1)
        token
            = guardOf(rawHttp(address(), "GET", u"/oauth/logout?state=bye"_s, "Cookie: " + page.cookie + "\r\n")).token;

    const auto reply = rawHttp(address(), "POST", u"/oauth/logout"_s,
                               "Content-Type: application/x-www-form-urlencoded\r\nCookie: " + sli + "; " + cookie
                                   + "\r\n" + signals,
                               redirect + "&form_token=" + token);
    QCOMPARE(reply.status, 403);
    QVERIFY(reply.setCookie("gh_sli").isEmpty()); // nothing cleared ...
    const auto silent
        = rawHttp(address(), "GET", authorizePath({ { u"prompt"_s, u"none"_s } }), "Cookie: " + sli + "\r\n");
    QVERIFY(queryOf(silent.header("location")).hasQueryItem(u"code"_s)); // ... and the login lives on
    if (signals.isEmpty()) {
        QVERIFY2(reply.content.contains("id=\"logout-error\""), reply.content.constData());
        QVERIFY(reply.content.contains("Nothing was ended"));
        QVERIFY(!guardOf(reply).token.isEmpty());
    }
}

void TestOidc::singleLogoutEndsEverySessionOfTheUser()
{
    // Browser A: the web client (session cookie WebSocket). Browser B: an application that
    // went through the code flow (bearer WebSocket), on its own single login.
    const auto web = rawHttp(address(), "POST", u"/auth/login"_s, "Content-Type: application/json\r\n",
                             R"({"username":"alice","password":"alice's password","device":"web","cookies":true})");
    QCOMPARE(web.status, 200);
    const QByteArray sliA = web.cookie("gh_sli");
    const auto loggedIn = logInAtAuthorize();
    const auto tokens = redeem(queryOf(loggedIn.header("location")).queryItemValue(u"code"_s).toLatin1());
    QCOMPARE(tokens.status, 200);
    const QString sidB = jwtPart(tokens.body["id_token"_L1].toString().toLatin1(), 1)["sid"_L1].toString();
    const QByteArray sliB = loggedIn.cookie("gh_sli");
    auto socketA = connectWith("Cookie", "gh_session=" + web.cookie("gh_session"));
    auto socketB = connectWith("Authorization", "Bearer " + tokens.body["access_token"_L1].toString().toLatin1());
    QVERIFY(socketA && socketB);

    // GET only asks; a POST from another site is refused.
    const auto confirm = rawHttp(address(), "GET", u"/oauth/logout"_s, "Cookie: gh_sli=" + sliA + "\r\n");
    QCOMPARE(confirm.status, 200);
    QVERIFY(confirm.content.contains("You are signed in as <strong>alice</strong>."));
    QVERIFY(confirm.content.contains("action=\"/oauth/logout\""));
    // Hostile requests to the end-session endpoint change nothing.
    QCOMPARE(rawHttp(address(), "GET", u"/oauth/logout?state=a&state=b"_s).status, 400);
    QCOMPARE(rawHttp(address(), "GET", u"/oauth/logout?junk="_s + QString(9000, u'x')).status, 413);
    QCOMPARE(rawHttp(address(), "PUT", u"/oauth/logout"_s).status, 405);
    QCOMPARE(rawHttp(address(), "POST", u"/oauth/logout"_s,
                     "Cookie: gh_sli=" + sliA + "\r\nContent-Type: application/x-www-form-urlencoded\r\n", "%zz=&=")
                 .status,
             400);
    QCOMPARE(rawHttp(address(), "POST", u"/oauth/logout"_s,
                     "Cookie: gh_sli=" + sliA + "\r\nOrigin: https://evil.example\r\n")
                 .status,
             403);
    QCOMPARE(socketA->state(), QAbstractSocket::ConnectedState);

    QSignalSpy closedA(socketA.get(), &QWebSocket::disconnected);
    QSignalSpy closedB(socketB.get(), &QWebSocket::disconnected);
    const qsizetype received = m_receiver.requests.size();
    const QByteArray redirect = "post_logout_redirect_uri=" + QUrl::toPercentEncoding(redirectUri()) + "&state=bye";
    const FormGuard guard = guardOf(rawHttp(address(), "GET", u"/oauth/logout?"_s + QString::fromLatin1(redirect),
                                            "Cookie: gh_sli=" + sliA + "\r\n"));
    const auto out = rawHttp(address(), "POST", u"/oauth/logout"_s,
                             "Cookie: gh_sli=" + sliA + "; " + guard.cookie
                                 + "\r\nContent-Type: application/x-www-form-urlencoded\r\n",
                             redirect + "&form_token=" + guard.token);
    QCOMPARE(out.status, 200);
    QVERIFY(out.setCookie("gh_sli").contains("Max-Age=0"));
    QVERIFY(out.setCookie("gh_session").contains("Max-Age=0"));
    // Front channel: the client's logout page in an iframe, with the issuer and its sid.
    const QByteArray frame
        = "/frontchannel?iss=" + QUrl::toPercentEncoding(u"http://"_s + address()) + "&amp;sid=" + sidB.toLatin1();
    QVERIFY2(out.content.contains(frame), out.content.constData());
    QVERIFY(out.header("content-security-policy").contains("frame-src http://127.0.0.1:"));
    QVERIFY(out.content.contains(QByteArray("href=\"" + redirectUri().toLatin1() + "?state=bye\"")));

    // Every WebSocket of the user closes with 4003, in both browsers.
    QTRY_COMPARE_WITH_TIMEOUT(closedA.size(), 1, 5000);
    QTRY_COMPARE_WITH_TIMEOUT(closedB.size(), 1, 5000);
    QCOMPARE(int(socketA->closeCode()), 4003);
    QCOMPARE(int(socketB->closeCode()), 4003);

    // Back channel: a signed logout token for the client, with sub and sid and no nonce.
    QTRY_COMPARE_WITH_TIMEOUT(m_receiver.requests.size(), received + 1, 10000);
    const auto &request = m_receiver.requests.last();
    QVERIFY(request.head.startsWith("POST /backchannel HTTP/1.1"));
    QVERIFY(request.body.startsWith("logout_token="));
    const QByteArray logoutToken = QByteArray::fromPercentEncoding(request.body.sliced(13));
    QCOMPARE(jwtPart(logoutToken, 0)["typ"_L1].toString(), u"logout+jwt"_s);
    const QJsonObject claims = jwtPart(logoutToken, 1);
    QCOMPARE(claims["aud"_L1].toString(), u"notes"_s);
    QCOMPARE(claims["sub"_L1].toString(), u"alice"_s);
    QCOMPARE(claims["sid"_L1].toString(), sidB);
    QVERIFY(claims["events"_L1].toObject().contains("http://schemas.openid.net/event/backchannel-logout"_L1));
    QVERIFY(!claims.contains("nonce"_L1));

    // Nothing of the user is left: B's refresh token and both logins are dead.
    const auto refreshed
        = rawHttp(address(), "POST", u"/oauth/token"_s, "Content-Type: application/x-www-form-urlencoded\r\n",
                  "grant_type=refresh_token&refresh_token=" + tokens.body["refresh_token"_L1].toString().toLatin1());
    QCOMPARE(refreshed.body["error"_L1].toString(), u"invalid_grant"_s);
    for (const QByteArray &sli : { sliA, sliB }) {
        const auto silent = rawHttp(address(), "GET", authorizePath({ { u"prompt"_s, u"none"_s } }),
                                    "Cookie: gh_sli=" + sli + "\r\n");
        QCOMPARE(queryOf(silent.header("location")).queryItemValue(u"error"_s), u"login_required"_s);
    }
}

void TestOidc::loginPageSharesTheLoginLimits()
{
    // /auth/login and the login page are two doors to one password: one count per account,
    // whatever the spelling, and one device cookie.
    const QByteArray json = "Content-Type: application/json\r\n";
    const auto first = rawHttp(address(), "POST", u"/auth/login"_s, json,
                               R"({"username":"dave","password":"alice's password","device":"laptop"})",
                               QHostAddress(u"127.0.8.1"_s));
    QCOMPARE(first.status, 200);
    const QByteArray device = "gh_device=" + first.cookie("gh_device");

    // A guesser fails five times at the login page, in other spellings, from other addresses.
    int next = 1;
    for (const auto &spelling : { u"DAVE"_s, u"dAve"_s, u"daVe"_s, u"davE"_s, u"DaVe"_s }) {
        const auto guess = logInAtAuthorize(spelling, u"guess"_s, {}, QHostAddress(u"127.0.9.%1"_s.arg(next++)));
        QCOMPARE(guess.status, 401);
    }
    // Strangers are held back at both doors, even with the right password ...
    const auto api
        = rawHttp(address(), "POST", u"/auth/login"_s, json,
                  R"({"username":"Dave","password":"alice's password","device":"x"})", QHostAddress(u"127.0.9.20"_s));
    QCOMPARE(api.status, 429);
    const auto page = logInAtAuthorize(u"Dave"_s, QString::fromUtf8(password), {}, QHostAddress(u"127.0.9.21"_s));
    QCOMPARE(page.status, 429);
    QVERIFY(page.content.contains("Too many attempts; try again in 1 s."));
    QVERIFY(page.header("location").isEmpty());
    // ... and Dave's browser gets in at the login page with the cookie /auth/login gave it.
    const auto in = logInAtAuthorize(u"dave"_s, QString::fromUtf8(password), device, QHostAddress(u"127.0.9.22"_s));
    QCOMPARE(in.status, 302);
    QVERIFY(queryOf(in.header("location")).hasQueryItem(u"code"_s));
    QVERIFY(in.setCookie("gh_device").contains("SameSite=Strict"));
}

QTEST_MAIN(TestOidc)
#include "tst_oidc.moc"
