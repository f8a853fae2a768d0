// One identity per issuer, over real sockets: our user "alice" and the "alice" of a trusted
// external issuer are two people. Neither gets the other's sync or broadcast, each has its own
// connection limit, and an admin action on one leaves the other connected; listings show both.
#include "PasswordLogin.h"
#include "SessionServer.h"
#include "auth/Base64Url.h"
#include "auth/JsonWebKey.h"
#include "core/Clock.h"
#include "identity/UserDirectory.h"
#include "secrets/FileSecretStore.h"
#include "store/Database.h"

#include <QDateTime>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QScopeGuard>
#include <QSignalSpy>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <QUrlQuery>
#include <QWebSocket>

#include <limits>

#include "SecretWaiter.h"

using namespace Qt::StringLiterals;

namespace {
const auto idp = u"https://idp.example"_s; ///< HS256, typ JWT, no kid (as `jsonwebtoken` makes them)
const auto other = u"https://other.example"_s; ///< HS256 with a kid
const QByteArray idpSecret = "the identity provider's shared secret, 32+ bytes";
const QByteArray otherSecret = "the other provider's shared secret, also 32+ bytes";
constexpr qint64 maximumLifetime = 3600; ///< max_access_token_ttl in this test's config
constexpr qint64 withoutIat = std::numeric_limits<qint64>::min();

struct Reply {
    int status = 0;
    QJsonObject body;
};

struct Client {
    std::unique_ptr<QWebSocket> socket = std::make_unique<QWebSocket>();
    QList<QJsonObject> received;
    bool ended = false; ///< refused, or closed

    Client()
    {
        QObject::connect(socket.get(), &QWebSocket::textMessageReceived, socket.get(), [this](const QString &text) {
            received.append(QJsonDocument::fromJson(text.toUtf8()).object());
        });
        QObject::connect(socket.get(), &QWebSocket::disconnected, socket.get(), [this] { ended = true; });
    }
    QList<QJsonObject> all(const QString &type) const
    {
        QList<QJsonObject> matching;
        for (const auto &message : received) {
            if (message["type"_L1].toString() == type)
                matching.append(message);
        }
        return matching;
    }
    QJsonObject welcome() const { return all(u"welcome"_s).value(0); }
    void send(const QJsonObject &message)
    {
        socket->sendTextMessage(QString::fromUtf8(QJsonDocument(message).toJson(QJsonDocument::Compact)));
    }
    bool isOpen() const { return socket->state() == QAbstractSocket::ConnectedState; }
    bool closedWith(int code) const
    {
        return socket->state() == QAbstractSocket::UnconnectedState && int(socket->closeCode()) == code;
    }
    /// Still served: a ping is answered.
    bool answers()
    {
        const auto before = all(u"pong"_s).size();
        send({ { "type"_L1, "ping"_L1 } });
        return QTest::qWaitFor([&] { return all(u"pong"_s).size() > before; }, 5000);
    }
};

/// A token of an external issuer with a shared secret: `iat` so many seconds ago (none with
/// `withoutIat`), and `exp` as given or in ten minutes.
QByteArray externalToken(const QString &issuer, const QString &subject, const QString &device, qint64 issuedAgo = 0,
                         std::optional<qint64> expiresAt = std::nullopt)
{
    const qint64 now = QDateTime::currentSecsSinceEpoch();
    QJsonObject claims { { "iss"_L1, issuer },
                         { "aud"_L1, "realtime"_L1 },
                         { "sub"_L1, subject },
                         { "device"_L1, device },
                         { "exp"_L1, expiresAt.value_or(now + 600) } };
    if (issuedAgo != withoutIat)
        claims.insert("iat"_L1, now - issuedAgo);
    const bool fromIdp = issuer == idp;
    const QByteArray header
        = fromIdp ? R"({"alg":"HS256","typ":"JWT"})" : R"({"alg":"HS256","kid":"other-1","typ":"at+jwt"})";
    const auto key = JsonWebKey::fromSecret(fromIdp ? idpSecret : otherSecret, JwsAlgorithm::HS256,
                                            fromIdp ? u"idp"_s : u"other-1"_s);
    const QByteArray input
        = Base64Url::encode(header) + '.' + Base64Url::encode(QJsonDocument(claims).toJson(QJsonDocument::Compact));
    return input + '.' + Base64Url::encode(key->sign(input));
}

QString percent(const QString &text)
{
    return QString::fromLatin1(QUrl::toPercentEncoding(text));
}
} // namespace

class TestIssuerIdentity final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void cleanup();
    void welcomeNamesTheIssuer();
    void syncStaysWithinOneIdentity();
    void broadcastReachesOneIdentity();
    void perUserLimitCountsEachIdentityApart();
    void listingsShowBothApart();
    void disconnectingOneLeavesTheOther();
    void revokingOneLeavesTheOther();
    void inBandRefreshCannotChangeTheIssuer();
    void externalTokenBeyondTheMaximumLifetimeIsRefused();

private:
    Reply request(QByteArrayView method, const QString &path, const QJsonObject &body = {});
    QByteArray login(const QString &username, const QString &device);
    std::unique_ptr<Client> connectWith(const QByteArray &token);
    QByteArray rawHandshake(const QByteArray &token);

    QTemporaryDir m_dir;
    std::unique_ptr<SessionServer> m_server;
    QNetworkAccessManager m_network;
    QByteArray m_adminToken;
};

void TestIssuerIdentity::initTestCase()
{
    {
        Database database;
        QVERIFY(database.open(m_dir.filePath(u"gatehouse.sqlite"_s)));
        SystemClock clock;
        UserDirectory users(database, clock);
        for (const auto &name : { u"alice"_s, u"bob"_s })
            QVERIFY(users.add(name, {}, "a long password", {}).ok());
    }
    const QJsonArray issuers {
        QJsonObject { { "issuer"_L1, idp },
                      { "audience"_L1, "realtime"_L1 },
                      { "typ"_L1, "JWT"_L1 },
                      { "algorithm"_L1, "HS256"_L1 },
                      { "shared_secret"_L1, QString::fromLatin1(idpSecret) } },
        QJsonObject { { "issuer"_L1, other },
                      { "audience"_L1, "realtime"_L1 },
                      { "algorithm"_L1, "HS256"_L1 },
                      { "kid"_L1, "other-1"_L1 },
                      { "shared_secret"_L1, QString::fromLatin1(otherSecret) } },
    };
    QFile config(m_dir.filePath(u"gatehouse.json"_s));
    QVERIFY(config.open(QIODevice::WriteOnly));
    // Three I/O threads: one user's connections land on different threads, so the relay, the
    // limits and the admin actions are exercised across threads.
    config.write(QJsonDocument(QJsonObject { { "trusted_issuers"_L1, issuers },
                                             { "max_connections_per_user"_L1, 10 },
                                             { "max_access_token_ttl"_L1, maximumLifetime },
                                             { "access_token_ttl"_L1, 600 },
                                             { "handshake_rate_per_user"_L1, 1000 },
                                             { "io_threads"_L1, 3 } })
                     .toJson());
    config.close();
    m_server = std::make_unique<SessionServer>(SessionServerOptions { m_dir.path(), {}, u"127.0.0.1:0"_s, u"file"_s });
    m_server->start();
    QTRY_COMPARE_WITH_TIMEOUT(m_server->state(), ServerState::Running, 20000);
    FileSecretStore secrets(m_dir.filePath(u"secrets"_s));
    const auto token = SecretWaiter::read(secrets, u"admin-token"_s);
    QVERIFY(token.ok());
    m_adminToken = *token;
}

void TestIssuerIdentity::cleanupTestCase()
{
    m_server.reset();
}

void TestIssuerIdentity::cleanup()
{
    // Each test's clients are gone when it returns; the next starts once the server saw them go.
    QTRY_VERIFY_WITH_TIMEOUT(request("GET", u"/admin/connections"_s).body["connections"_L1].toArray().isEmpty(), 10000);
}

Reply TestIssuerIdentity::request(QByteArrayView method, const QString &path, const QJsonObject &body)
{
    QNetworkRequest request(QUrl(u"http://"_s + m_server->listenAddress() + path));
    request.setRawHeader("Authorization", "Bearer " + m_adminToken);
    request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArray("application/json"));
    std::unique_ptr<QNetworkReply> reply(m_network.sendCustomRequest(
        request, method.toByteArray(), body.isEmpty() ? QByteArray() : QJsonDocument(body).toJson()));
    QSignalSpy finished(reply.get(), &QNetworkReply::finished);
    [[maybe_unused]] const bool done = finished.wait(20000);
    return Reply { reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(),
                   QJsonDocument::fromJson(reply->readAll()).object() };
}

QByteArray TestIssuerIdentity::login(const QString &username, const QString &device)
{
    return passwordLogin(m_network, m_server->listenAddress(), username, device).accessToken();
}

std::unique_ptr<Client> TestIssuerIdentity::connectWith(const QByteArray &token)
{
    auto client = std::make_unique<Client>();
    QNetworkRequest request(QUrl(u"ws://"_s + m_server->listenAddress() + u"/ws"_s));
    request.setRawHeader("Authorization", "Bearer " + token);
    client->socket->open(request);
    if (!QTest::qWaitFor([&] { return !client->welcome().isEmpty() || client->ended; }, 10000)
        || client->welcome().isEmpty())
        return {};
    return client;
}

QByteArray TestIssuerIdentity::rawHandshake(const QByteArray &token)
{
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, m_server->listenAddress().section(u':', -1).toUShort());
    if (!socket.waitForConnected(5000))
        return {};
    socket.write("GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                 "Authorization: Bearer "
                 + token + "\r\n\r\n");
    QByteArray response;
    [[maybe_unused]] const bool complete = QTest::qWaitFor(
        [&] {
            response += socket.readAll();
            return socket.state() != QAbstractSocket::ConnectedState || response.contains("\r\n\r\n");
        },
        5000);
    QTest::qWait(50);
    return response + socket.readAll();
}

void TestIssuerIdentity::welcomeNamesTheIssuer()
{
    auto ours = connectWith(login(u"alice"_s, u"laptop"_s));
    auto theirs = connectWith(externalToken(idp, u"alice"_s, u"laptop"_s));
    QVERIFY(ours && theirs);
    QCOMPARE(ours->welcome()["user"_L1].toString(), u"alice"_s);
    QVERIFY(!ours->welcome().contains("issuer"_L1));
    QCOMPARE(theirs->welcome()["user"_L1].toString(), u"alice"_s);
    QCOMPARE(theirs->welcome()["issuer"_L1].toString(), idp);
    QCOMPARE(theirs->welcome()["session_id"_L1].toString(), QString());
}

void TestIssuerIdentity::syncStaysWithinOneIdentity()
{
    auto ourLaptop = connectWith(login(u"alice"_s, u"laptop"_s));
    auto ourPhone = connectWith(login(u"alice"_s, u"phone"_s));
    auto theirLaptop = connectWith(externalToken(idp, u"alice"_s, u"laptop"_s));
    auto theirPhone = connectWith(externalToken(idp, u"alice"_s, u"phone"_s));
    auto otherAlice = connectWith(externalToken(other, u"alice"_s, u"tablet"_s));
    QVERIFY(ourLaptop && ourPhone && theirLaptop && theirPhone && otherAlice);

    ourLaptop->send({ { "type"_L1, "sync"_L1 }, { "payload"_L1, QJsonObject { { "from"_L1, "ours"_L1 } } } });
    theirLaptop->send({ { "type"_L1, "sync"_L1 }, { "payload"_L1, QJsonObject { { "from"_L1, "theirs"_L1 } } } });
    QTRY_COMPARE_WITH_TIMEOUT(ourPhone->all(u"sync"_s).size(), 1, 5000);
    QTRY_COMPARE_WITH_TIMEOUT(theirPhone->all(u"sync"_s).size(), 1, 5000);
    QTest::qWait(300); // show that nothing else arrives
    QCOMPARE(ourPhone->all(u"sync"_s).first()["payload"_L1]["from"_L1].toString(), u"ours"_s);
    QCOMPARE(ourPhone->all(u"sync"_s).first()["from_device"_L1].toString(), u"laptop"_s);
    QCOMPARE(theirPhone->all(u"sync"_s).first()["payload"_L1]["from"_L1].toString(), u"theirs"_s);
    QCOMPARE(ourPhone->all(u"sync"_s).size(), 1);
    QCOMPARE(theirPhone->all(u"sync"_s).size(), 1);
    QCOMPARE(ourLaptop->all(u"sync"_s).size(), 0);
    QCOMPARE(theirLaptop->all(u"sync"_s).size(), 0);
    QCOMPARE(otherAlice->all(u"sync"_s).size(), 0); // a third issuer's alice is a third person
}

void TestIssuerIdentity::broadcastReachesOneIdentity()
{
    auto ours = connectWith(login(u"alice"_s, u"laptop"_s));
    auto theirs = connectWith(externalToken(idp, u"alice"_s, u"laptop"_s));
    QVERIFY(ours && theirs);

    const auto toOurs
        = request("POST", u"/admin/broadcast"_s,
                  { { "user"_L1, "alice"_L1 }, { "payload"_L1, QJsonObject { { "to"_L1, "ours"_L1 } } } });
    QCOMPARE(toOurs.status, 200);
    QCOMPARE(toOurs.body["delivered"_L1].toInt(), 1);
    const auto toTheirs = request("POST", u"/admin/broadcast"_s,
                                  { { "user"_L1, "alice"_L1 },
                                    { "issuer"_L1, idp },
                                    { "payload"_L1, QJsonObject { { "to"_L1, "theirs"_L1 } } } });
    QCOMPARE(toTheirs.status, 200);
    QCOMPARE(toTheirs.body["delivered"_L1].toInt(), 1);
    QTRY_COMPARE_WITH_TIMEOUT(ours->all(u"broadcast"_s).size(), 1, 5000);
    QTRY_COMPARE_WITH_TIMEOUT(theirs->all(u"broadcast"_s).size(), 1, 5000);
    QTest::qWait(300); // show that nothing else arrives
    QCOMPARE(ours->all(u"broadcast"_s).size(), 1);
    QCOMPARE(theirs->all(u"broadcast"_s).size(), 1);
    QCOMPARE(ours->all(u"broadcast"_s).first()["payload"_L1]["to"_L1].toString(), u"ours"_s);
    QCOMPARE(theirs->all(u"broadcast"_s).first()["payload"_L1]["to"_L1].toString(), u"theirs"_s);

    const auto issuerAlone
        = request("POST", u"/admin/broadcast"_s, { { "issuer"_L1, idp }, { "payload"_L1, QJsonObject {} } });
    QCOMPARE(issuerAlone.status, 400);
    const auto emptyIssuer = request("POST", u"/admin/broadcast"_s,
                                     { { "user"_L1, "alice"_L1 }, { "issuer"_L1, ""_L1 }, { "payload"_L1, 1 } });
    QCOMPARE(emptyIssuer.status, 400);
}

void TestIssuerIdentity::perUserLimitCountsEachIdentityApart()
{
    // With max_connections_per_user at 2, two of ours and two of theirs all fit.
    QCOMPARE(request("PUT", u"/admin/limits"_s, { { "max_connections_per_user"_L1, 2 } }).status, 200);
    const auto restore = qScopeGuard([this] {
        request("PUT", u"/admin/limits"_s, { { "max_connections_per_user"_L1, 10 } });
    });
    const QByteArray ourToken = login(u"alice"_s, u"tabs"_s);
    const QByteArray theirToken = externalToken(idp, u"alice"_s, u"tabs"_s);
    std::vector<std::unique_ptr<Client>> tabs;
    for (int i = 0; i < 2; ++i) {
        tabs.push_back(connectWith(ourToken));
        QVERIFY2(tabs.back(), "our alice's connection was refused");
        tabs.push_back(connectWith(theirToken));
        QVERIFY2(tabs.back(), "the external alice's connection was refused");
    }
    const QByteArray ourThird = rawHandshake(ourToken);
    QVERIFY2(ourThird.startsWith("HTTP/1.1 429") && ourThird.contains("too_many_connections"), ourThird.constData());
    const QByteArray theirThird = rawHandshake(theirToken);
    QVERIFY2(theirThird.startsWith("HTTP/1.1 429") && theirThird.contains("too_many_connections"),
             theirThird.constData());
    // A third issuer's alice has a count of her own.
    auto otherAlice = connectWith(externalToken(other, u"alice"_s, u"tabs"_s));
    QVERIFY(otherAlice);
    // When one of theirs goes, a place frees up for theirs, not for ours.
    tabs[1]->socket->close();
    QTRY_VERIFY_WITH_TIMEOUT(connectWith(theirToken) != nullptr, 5000);
    QVERIFY(rawHandshake(ourToken).startsWith("HTTP/1.1 429"));
}

void TestIssuerIdentity::listingsShowBothApart()
{
    auto ours = connectWith(login(u"alice"_s, u"laptop"_s));
    auto theirs = connectWith(externalToken(idp, u"alice"_s, u"phone"_s));
    QVERIFY(ours && theirs);

    const auto all = request("GET", u"/admin/connections"_s).body["connections"_L1].toArray();
    QCOMPARE(all.size(), 2);
    const auto issuers
        = QSet<QString> { all[0]["issuer"_L1].toString(u"(ours)"_s), all[1]["issuer"_L1].toString(u"(ours)"_s) };
    QCOMPARE(issuers, (QSet<QString> { u"(ours)"_s, idp }));
    QVERIFY(all[0]["user"_L1] == "alice"_L1 && all[1]["user"_L1] == "alice"_L1);

    const auto ourList = request("GET", u"/admin/connections?user=alice"_s).body["connections"_L1].toArray();
    QCOMPARE(ourList.size(), 1);
    QVERIFY(ourList[0]["issuer"_L1].isNull());
    QCOMPARE(ourList[0]["device"_L1].toString(), u"laptop"_s);
    const auto theirList
        = request("GET", u"/admin/connections?user=alice&issuer="_s + percent(idp)).body["connections"_L1].toArray();
    QCOMPARE(theirList.size(), 1);
    QCOMPARE(theirList[0]["issuer"_L1].toString(), idp);
    QCOMPARE(theirList[0]["device"_L1].toString(), u"phone"_s);
    QCOMPARE(request("GET", u"/admin/connections?issuer="_s + percent(idp)).status, 400);

    const auto users = request("GET", u"/admin/users"_s).body["users"_L1].toArray();
    QList<QJsonObject> alices;
    for (const auto &user : users) {
        if (user["username"_L1] == "alice"_L1)
            alices.append(user.toObject());
    }
    QCOMPARE(alices.size(), 2);
    const QJsonObject ourEntry = alices[0]["issuer"_L1].isNull() ? alices[0] : alices[1];
    const QJsonObject theirEntry = alices[0]["issuer"_L1].isNull() ? alices[1] : alices[0];
    QVERIFY(ourEntry["issuer"_L1].isNull());
    QCOMPARE(ourEntry["connections"_L1].toInt(), 1);
    QCOMPARE(ourEntry["enabled"_L1].toBool(), true);
    QCOMPARE(theirEntry["issuer"_L1].toString(), idp);
    QCOMPARE(theirEntry["connections"_L1].toInt(), 1);
    QCOMPARE(theirEntry["display_name"_L1].toString(), u"alice @ https://idp.example"_s);
    QVERIFY(!theirEntry.contains("enabled"_L1)); // not in our directory

    // Sessions are ours alone.
    QVERIFY(!request("GET", u"/admin/sessions?user=alice"_s).body["sessions"_L1].toArray().isEmpty());
    QVERIFY(
        request("GET", u"/admin/sessions?user=alice&issuer="_s + percent(idp)).body["sessions"_L1].toArray().isEmpty());
}

void TestIssuerIdentity::disconnectingOneLeavesTheOther()
{
    auto ours = connectWith(login(u"alice"_s, u"laptop"_s));
    auto theirs = connectWith(externalToken(idp, u"alice"_s, u"laptop"_s));
    QVERIFY(ours && theirs);

    const auto ourDisconnect = request("POST", u"/admin/users/alice/disconnect"_s);
    QCOMPARE(ourDisconnect.body["closed"_L1].toInt(), 1);
    QTRY_VERIFY_WITH_TIMEOUT(ours->closedWith(4000), 5000);
    QVERIFY(theirs->answers());

    ours = connectWith(login(u"alice"_s, u"laptop"_s));
    QVERIFY(ours);
    const auto theirDevice = request("POST", u"/admin/devices/alice/laptop/disconnect?issuer="_s + percent(idp));
    QCOMPARE(theirDevice.body["closed"_L1].toInt(), 1);
    QTRY_VERIFY_WITH_TIMEOUT(theirs->closedWith(4000), 5000);
    QVERIFY(ours->answers());

    theirs = connectWith(externalToken(idp, u"alice"_s, u"laptop"_s));
    QVERIFY(theirs);
    const auto theirDisconnect = request("POST", u"/admin/users/alice/disconnect?issuer="_s + percent(idp));
    QCOMPARE(theirDisconnect.body["closed"_L1].toInt(), 1);
    QTRY_VERIFY_WITH_TIMEOUT(theirs->closedWith(4000), 5000);
    QVERIFY(ours->answers());

    // The audit log names whom each action concerned.
    const auto audited = [&](const QString &query) {
        return request("GET", u"/admin/audit?type=admin_disconnected_user&"_s + query).body["events"_L1].toArray();
    };
    const auto ourEvents = audited(u"user=alice"_s);
    const auto theirEvents = audited(u"user=alice&issuer="_s + percent(idp));
    QCOMPARE(ourEvents.size(), 1);
    QCOMPARE(theirEvents.size(), 1);
    QCOMPARE(theirEvents[0]["username"_L1].toString(), u"https://idp.example#alice"_s);
}

void TestIssuerIdentity::revokingOneLeavesTheOther()
{
    auto ours = connectWith(login(u"alice"_s, u"laptop"_s));
    auto theirs = connectWith(externalToken(idp, u"alice"_s, u"laptop"_s, 10));
    QVERIFY(ours && theirs);

    // Single logout of ours: our sessions end; theirs has none here and stays.
    const auto revoked = request("POST", u"/admin/users/alice/revoke"_s);
    QCOMPARE(revoked.status, 200);
    QTRY_VERIFY_WITH_TIMEOUT(ours->closedWith(4003), 5000);
    QVERIFY(theirs->answers());

    // Our cut-off refuses our older tokens only.
    ours = connectWith(login(u"alice"_s, u"laptop"_s));
    QVERIFY(ours);
    const qint64 ourCutoff = QDateTime::currentSecsSinceEpoch();
    QCOMPARE(request("POST", u"/admin/users/alice/revoke-before"_s).status, 200);
    QTRY_VERIFY_WITH_TIMEOUT(ours->closedWith(4003), 5000);
    QVERIFY(theirs->answers());
    auto theirSecond = connectWith(externalToken(idp, u"alice"_s, u"phone"_s, 10)); // issued before the cut-off
    QVERIFY2(theirSecond, "our cut-off refused the external alice's token");

    // Their user has no sessions and no password here: such requests do not fall through to ours.
    const auto theirRevoke = request("POST", u"/admin/users/alice/revoke?issuer="_s + percent(idp));
    QCOMPARE(theirRevoke.status, 400);
    QVERIFY(theirRevoke.body["error_description"_L1].toString().contains(u"no sessions"_s));
    const auto theirPassword = request("POST", u"/admin/users/alice/password?issuer="_s + percent(idp),
                                       { { "password"_L1, "a new long password"_L1 } });
    QCOMPARE(theirPassword.status, 400);
    QVERIFY(theirs->answers());

    // Their cut-off refuses their older tokens only.
    QTRY_VERIFY_WITH_TIMEOUT(QDateTime::currentSecsSinceEpoch() > ourCutoff, 2000); // a token of a later second
    ours = connectWith(login(u"alice"_s, u"laptop"_s));
    QVERIFY(ours);
    const auto cutOff = request("POST", u"/admin/users/alice/revoke-before?issuer="_s + percent(idp));
    QCOMPARE(cutOff.status, 200);
    QTRY_VERIFY_WITH_TIMEOUT(theirs->closedWith(4003), 5000);
    QTRY_VERIFY_WITH_TIMEOUT(theirSecond->closedWith(4003), 5000);
    QVERIFY(ours->answers());
    const QByteArray older = rawHandshake(externalToken(idp, u"alice"_s, u"laptop"_s, 10));
    QVERIFY2(older.startsWith("HTTP/1.1 401") && older.contains("session_revoked"), older.constData());
    // Without `iat` a token cannot show that it came after the cut-off.
    const QByteArray undated = rawHandshake(externalToken(idp, u"alice"_s, u"laptop"_s, withoutIat));
    QVERIFY2(undated.startsWith("HTTP/1.1 401") && undated.contains("session_revoked"), undated.constData());
    QVERIFY(connectWith(externalToken(idp, u"alice"_s, u"laptop"_s, -2))); // issued after it (within the skew)
    QVERIFY(connectWith(externalToken(other, u"alice"_s, u"laptop"_s, 10))); // another issuer's alice
    QVERIFY(connectWith(login(u"alice"_s, u"phone"_s)));
}

void TestIssuerIdentity::inBandRefreshCannotChangeTheIssuer()
{
    // erin, since alice's external tokens of this second were cut off by the test before.
    auto theirs = connectWith(externalToken(idp, u"erin"_s, u"refresh"_s));
    QVERIFY(theirs);
    theirs->send({ { "type"_L1, "refresh"_L1 },
                   { "access_token"_L1, QString::fromLatin1(externalToken(other, u"erin"_s, u"refresh"_s)) } });
    QTRY_COMPARE_WITH_TIMEOUT(theirs->all(u"error"_s).size(), 1, 5000);
    QCOMPARE(theirs->all(u"error"_s).first()["error"_L1].toString(), u"invalid_token"_s);
    theirs->send({ { "type"_L1, "refresh"_L1 },
                   { "access_token"_L1, QString::fromLatin1(externalToken(idp, u"erin"_s, u"refresh"_s)) } });
    QTRY_COMPARE_WITH_TIMEOUT(theirs->all(u"refreshed"_s).size(), 1, 5000);
}

void TestIssuerIdentity::externalTokenBeyondTheMaximumLifetimeIsRefused()
{
    const qint64 year9999 = 253402300799;
    const QByteArray forever = rawHandshake(externalToken(idp, u"bob"_s, u"laptop"_s, 0, year9999));
    QVERIFY2(forever.startsWith("HTTP/1.1 401") && forever.contains("token_lifetime_too_long"), forever.constData());
    const QByteArray foreverWithoutIat = rawHandshake(externalToken(idp, u"bob"_s, u"laptop"_s, withoutIat, year9999));
    QVERIFY2(foreverWithoutIat.startsWith("HTTP/1.1 401") && foreverWithoutIat.contains("token_lifetime_too_long"),
             foreverWithoutIat.constData());
    const qint64 now = QDateTime::currentSecsSinceEpoch();
    QVERIFY(connectWith(externalToken(idp, u"bob"_s, u"laptop"_s, 0, now + maximumLifetime)));
}

QTEST_GUILESS_MAIN(TestIssuerIdentity)
#include "tst_issueridentity.moc"
