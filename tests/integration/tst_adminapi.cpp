// The admin API over real sockets, against live WebSocket clients: every action closes what
// it says with the close code the client sees, answers with what it did, and is audited.
#include "SessionServer.h"
#include "core/Clock.h"
#include "identity/UserDirectory.h"
#include "secrets/FileSecretStore.h"
#include "store/Database.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>
#include <QWebSocket>

#include "RawWebSocket.h"
#include "SecretWaiter.h"
#include "admin/AdminTokens.h"

using namespace Qt::StringLiterals;

namespace {
struct Reply {
    int status = 0;
    QJsonObject body;
};

struct Client {
    std::unique_ptr<QWebSocket> socket = std::make_unique<QWebSocket>();
    QList<QJsonObject> received;
    Client()
    {
        QObject::connect(socket.get(), &QWebSocket::textMessageReceived, socket.get(), [this](const QString &text) {
            received.append(QJsonDocument::fromJson(text.toUtf8()).object());
        });
    }
    bool closedWith(int code) const
    {
        return socket->state() == QAbstractSocket::UnconnectedState && int(socket->closeCode()) == code;
    }
};
} // namespace

class TestAdminApi final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void requiresTheAdminToken_data();
    void requiresTheAdminToken();
    void listsUsersSessionsAndConnections();
    void disconnectLeavesTokensValid();
    void revokingAUserClosesEveryDeviceWith4003();
    void revokeBeforeRefusesOlderTokens();
    void revocationTakesEffectWhileTheControlThreadIsBusy();
    void disconnectionTakesEffectWhileTheControlThreadIsBusy();
    void consoleRevocationTakesEffectWhileTheControlThreadIsBusy();
    void broadcastReachesUserOrEveryone();
    void policyIsReadAndValidated();
    void jsonBodyRefusalsNameTheRule_data();
    void jsonBodyRefusalsNameTheRule();
    void scopedTokensAreCheckedOnEveryRoute();
    void everyActionIsAudited();
    void introspectionTellsLiveFromDead();
    void metricsCountWhatHappened();
    void hostileAdminRequests_data();
    void hostileAdminRequests();
    void limitsChangeLive();
    void policySurvivesARestart(); // last: it restarts the server, and the counters with it

private:
    Reply request(QByteArrayView method, const QString &path, const QByteArray &body = {},
                  const QByteArray &token = {});
    std::unique_ptr<Client> connectAs(const QString &username, const QString &device);
    QByteArray loginToken(const QString &username, const QString &device);
    std::unique_ptr<QNetworkReply> send(QByteArrayView method, const QString &path, const QByteArray &body = {});
    quint16 port() const { return quint16(m_server->listenAddress().section(u':', -1).toUInt()); }
    /// Holds the store's write lock from another connection (as a backup or the CLI may), then
    /// makes the control thread wait for it in a write; true once it is seen waiting
    /// (a health check it would answer at once goes unanswered). releaseControlThread() ends it.
    bool holdControlThread();
    void releaseControlThread();

    QTemporaryDir m_dir;
    std::unique_ptr<SessionServer> m_server;
    QNetworkAccessManager m_network;
    QByteArray m_adminToken;
    std::unique_ptr<QNetworkReply> m_heldRequest;
    std::unique_ptr<QNetworkReply> m_heldHealth;
};

void TestAdminApi::initTestCase()
{
    {
        Database database;
        QVERIFY(database.open(m_dir.filePath(u"gatehouse.sqlite"_s)));
        SystemClock clock;
        UserDirectory users(database, clock);
        for (const auto &name : { u"alice"_s, u"bob"_s, u"carol"_s })
            QVERIFY(users.add(name, {}, "a long password", {}).ok());
    }
    m_server = std::make_unique<SessionServer>(SessionServerOptions { m_dir.path(), {}, u"127.0.0.1:0"_s, u"file"_s });
    m_server->start();
    QTRY_COMPARE_WITH_TIMEOUT(m_server->state(), ServerState::Running, 20000);
    FileSecretStore secrets(m_dir.filePath(u"secrets"_s));
    const auto token = SecretWaiter::read(secrets, u"admin-token"_s);
    QVERIFY(token.ok());
    m_adminToken = *token;
    QVERIFY(m_adminToken.startsWith("gha_"));
}

void TestAdminApi::cleanupTestCase()
{
    m_server.reset();
}

Reply TestAdminApi::request(QByteArrayView method, const QString &path, const QByteArray &body, const QByteArray &token)
{
    QNetworkRequest request(QUrl(u"http://"_s + m_server->listenAddress() + path));
    request.setRawHeader("Authorization", "Bearer " + (token.isNull() ? m_adminToken : token));
    request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArray("application/json"));
    std::unique_ptr<QNetworkReply> reply(m_network.sendCustomRequest(request, method.toByteArray(), body));
    QSignalSpy finished(reply.get(), &QNetworkReply::finished);
    [[maybe_unused]] const bool done = finished.wait(20000);
    return Reply { reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(),
                   QJsonDocument::fromJson(reply->readAll()).object() };
}

QByteArray TestAdminApi::loginToken(const QString &username, const QString &device)
{
    const auto reply = send("POST", u"/auth/login"_s,
                            QJsonDocument(QJsonObject { { "username"_L1, username },
                                                        { "password"_L1, "a long password"_L1 },
                                                        { "device"_L1, device } })
                                .toJson());
    QSignalSpy finished(reply.get(), &QNetworkReply::finished);
    if (!reply->isFinished() && !finished.wait(20000))
        return {};
    return QJsonDocument::fromJson(reply->readAll()).object()["access_token"_L1].toString().toLatin1();
}

std::unique_ptr<QNetworkReply> TestAdminApi::send(QByteArrayView method, const QString &path, const QByteArray &body)
{
    QNetworkRequest request(QUrl(u"http://"_s + m_server->listenAddress() + path));
    if (path.startsWith("/admin/"_L1))
        request.setRawHeader("Authorization", "Bearer " + m_adminToken);
    request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArray("application/json"));
    return std::unique_ptr<QNetworkReply>(m_network.sendCustomRequest(request, method.toByteArray(), body));
}

bool TestAdminApi::holdControlThread()
{
    auto locker = QSqlDatabase::addDatabase(u"QSQLITE"_s, u"locker"_s);
    locker.setDatabaseName(m_dir.filePath(u"gatehouse.sqlite"_s));
    if (!locker.open() || !QSqlQuery(locker).exec(u"BEGIN IMMEDIATE"_s))
        return false;
    // Setting the policy writes it at once on the control thread (no password to check first),
    // which then waits for the lock, up to the store's 5 s busy timeout: the test releases it
    // well before.
    const QByteArray policy = QJsonDocument(request("GET", u"/admin/policy"_s).body).toJson();
    m_heldRequest = send("PUT", u"/admin/policy"_s, policy);
    return QTest::qWaitFor(
        [&] {
            m_heldHealth = send("GET", u"/healthz"_s);
            return !QTest::qWaitFor([&] { return m_heldHealth->isFinished(); }, 300);
        },
        3000);
}

void TestAdminApi::releaseControlThread()
{
    {
        auto locker = QSqlDatabase::database(u"locker"_s, false);
        QSqlQuery(locker).exec(u"ROLLBACK"_s);
        locker.close();
    }
    QSqlDatabase::removeDatabase(u"locker"_s);
}

std::unique_ptr<Client> TestAdminApi::connectAs(const QString &username, const QString &device)
{
    QNetworkRequest login(QUrl(u"http://"_s + m_server->listenAddress() + u"/auth/login"_s));
    login.setHeader(QNetworkRequest::ContentTypeHeader, QByteArray("application/json"));
    std::unique_ptr<QNetworkReply> reply(
        m_network.post(login,
                       QJsonDocument(QJsonObject { { "username"_L1, username },
                                                   { "password"_L1, "a long password"_L1 },
                                                   { "device"_L1, device } })
                           .toJson()));
    QSignalSpy finished(reply.get(), &QNetworkReply::finished);
    if (!finished.wait(20000))
        return {};
    const auto token = QJsonDocument::fromJson(reply->readAll()).object()["access_token"_L1].toString();
    auto client = std::make_unique<Client>();
    client->socket->open(QUrl(u"ws://"_s + m_server->listenAddress() + u"/ws?access_token="_s + token));
    if (!QTest::qWaitFor([&] { return !client->received.isEmpty(); }, 10000))
        return {};
    return client;
}

void TestAdminApi::requiresTheAdminToken_data()
{
    QTest::addColumn<QByteArray>("token");
    QTest::newRow("no token refused") << QByteArray("");
    QTest::newRow("wrong token refused") << QByteArray("gha_wrong");
    QTest::newRow("a user's access token refused") << QByteArray("eyJhbGciOiJFZERTQSJ9.e30.AAAA");
    QTest::newRow("token with one character changed refused") << QByteArray("flip");
}

void TestAdminApi::requiresTheAdminToken()
{
    QFETCH(QByteArray, token);
    if (token == "flip") {
        token = m_adminToken;
        token[5] = token[5] == 'A' ? 'B' : 'A';
    }
    const auto reply = request("GET", u"/admin/users"_s, {}, token);
    QCOMPARE(reply.status, 401);
    QVERIFY(!reply.body.contains("users"_L1));
}

void TestAdminApi::listsUsersSessionsAndConnections()
{
    auto laptop = connectAs(u"alice"_s, u"laptop"_s);
    auto phone = connectAs(u"alice"_s, u"phone"_s);
    QVERIFY(laptop && phone);
    const auto users = request("GET", u"/admin/users"_s).body["users"_L1].toArray();
    QCOMPARE(users.size(), 3);
    const auto alice
        = *std::find_if(users.begin(), users.end(), [](const QJsonValue &u) { return u["username"_L1] == "alice"_L1; });
    QCOMPARE(alice["online"_L1].toBool(), true);
    QCOMPARE(alice["devices_online"_L1].toInt(), 2);
    QCOMPARE(alice["connections"_L1].toInt(), 2);
    const auto connections = request("GET", u"/admin/connections?user=alice"_s).body["connections"_L1].toArray();
    QCOMPARE(connections.size(), 2);
    QCOMPARE(connections[0]["remote_address"_L1].toString(), u"127.0.0.1"_s);
    const auto sessions = request("GET", u"/admin/sessions?user=alice"_s).body["sessions"_L1].toArray();
    QVERIFY(sessions.size() >= 2);
    QVERIFY(sessions[0]["revoked_at"_L1].isNull());
}

void TestAdminApi::disconnectLeavesTokensValid()
{
    auto laptop = connectAs(u"bob"_s, u"laptop"_s);
    auto phone = connectAs(u"bob"_s, u"phone"_s);
    const auto connections = request("GET", u"/admin/connections?user=bob"_s).body["connections"_L1].toArray();
    const QString laptopId = connections[0]["device"_L1] == "laptop"_L1 ? connections[0]["id"_L1].toString()
                                                                        : connections[1]["id"_L1].toString();
    const auto one = request("POST", u"/admin/connections/%1/disconnect"_s.arg(laptopId));
    QCOMPARE(one.status, 200);
    QCOMPARE(one.body["closed"_L1].toInt(), 1);
    QVERIFY(one.body["elapsed_ms"_L1].toDouble() < 1000);
    QTRY_VERIFY(laptop->closedWith(4000));
    QVERIFY(phone->socket->state() == QAbstractSocket::ConnectedState);

    auto laptopAgain = connectAs(u"bob"_s, u"laptop"_s); // disconnect is not revocation
    QVERIFY(laptopAgain);
    QCOMPARE(request("POST", u"/admin/devices/bob/phone/disconnect"_s).body["closed"_L1].toInt(), 1);
    QTRY_VERIFY(phone->closedWith(4000));
    QCOMPARE(request("POST", u"/admin/users/bob/disconnect"_s).body["closed"_L1].toInt(), 1);
    QTRY_VERIFY(laptopAgain->closedWith(4000));
    QCOMPARE(request("POST", u"/admin/connections/999999/disconnect"_s).body["closed"_L1].toInt(), 0);
}

void TestAdminApi::revokingAUserClosesEveryDeviceWith4003()
{
    std::vector<std::unique_ptr<Client>> devices;
    for (int i = 0; i < 3; ++i)
        devices.push_back(connectAs(u"carol"_s, u"device-%1"_s.arg(i)));
    const auto reply = request("POST", u"/admin/users/carol/revoke"_s);
    QCOMPARE(reply.status, 200);
    QVERIFY(reply.body["revoked"_L1].toInt() >= 3);
    qInfo("single logout of 3 devices answered in %.3f ms", reply.body["elapsed_ms"_L1].toDouble());
    for (const auto &device : devices)
        QTRY_VERIFY(device->closedWith(4003));
    QVERIFY(request("GET", u"/admin/connections?user=carol"_s).body["connections"_L1].toArray().isEmpty());
}

void TestAdminApi::revokeBeforeRefusesOlderTokens()
{
    auto before = connectAs(u"alice"_s, u"old-tab"_s);
    QVERIFY(before);
    QTest::qWait(1100); // tokens carry whole seconds
    QCOMPARE(request("POST", u"/admin/users/alice/revoke-before"_s).status, 200);
    QTRY_VERIFY(before->closedWith(4003));
    QTest::qWait(1100);
    QVERIFY(connectAs(u"alice"_s, u"new-tab"_s)); // a login after the cut-off works
}

void TestAdminApi::revocationTakesEffectWhileTheControlThreadIsBusy()
{
    // The control thread serves logins, refreshes and every HTTP route, and here it waits in a
    // store write. An admin's revocation still closes the user's connections and refuses its
    // tokens at once, from the I/O thread that read it; it is answered (and audited) only once
    // it is on disk, after the wait.
    const QByteArray laptopToken = loginToken(u"bob"_s, u"busy-laptop"_s);
    const QByteArray phoneToken = loginToken(u"bob"_s, u"busy-phone"_s);
    RawWebSocket laptop;
    RawWebSocket phone;
    QVERIFY(laptop.upgrade(port(), laptopToken).startsWith("HTTP/1.1 101"));
    QVERIFY(phone.upgrade(port(), phoneToken).startsWith("HTTP/1.1 101"));
    QCOMPARE(laptop.next().opcode, 0x1); // the welcome
    QCOMPARE(phone.next().opcode, 0x1);

    QVERIFY(holdControlThread());
    const auto revoke = send("POST", u"/admin/users/BOB/revoke"_s); // any spelling of the name
    QCOMPARE(laptop.next(3000).closeCode(), 4003);
    QCOMPARE(phone.next(3000).closeCode(), 4003);
    RawWebSocket again;
    QVERIFY(again.upgrade(port(), laptopToken).startsWith("HTTP/1.1 401"));
    // All of that while the control thread still waits: nothing is acknowledged yet.
    QVERIFY(!m_heldHealth->isFinished());
    QVERIFY(!revoke->isFinished());

    releaseControlThread();
    QTRY_VERIFY_WITH_TIMEOUT(revoke->isFinished(), 10000);
    QCOMPARE(revoke->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 200);
    const auto answer = QJsonDocument::fromJson(revoke->readAll()).object();
    QVERIFY2(answer["revoked"_L1].toInt() >= 2, qPrintable(answer.value("error_description"_L1).toString()));
    QCOMPARE(answer["closed"_L1].toInt(), 2);
    QTRY_VERIFY(m_heldRequest->isFinished());
    QCOMPARE(m_heldRequest->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 200);
    const auto events
        = request("GET", u"/admin/audit?user=bob&type=user_sessions_revoked"_s).body["events"_L1].toArray();
    QVERIFY(!events.isEmpty());
    QCOMPARE(events.first()["detail"_L1]["sessions"_L1].toArray().size(), answer["revoked"_L1].toInt());
    QVERIFY(request("GET", u"/admin/connections?user=bob"_s).body["connections"_L1].toArray().isEmpty());
}

void TestAdminApi::disconnectionTakesEffectWhileTheControlThreadIsBusy()
{
    // A disconnection closes at once too, and only what was open then: the client that
    // reconnects meanwhile (its token is still good) is not closed when the control thread
    // gets to the request.
    const QByteArray token = loginToken(u"bob"_s, u"busy-tablet"_s);
    RawWebSocket tablet;
    QVERIFY(tablet.upgrade(port(), token).startsWith("HTTP/1.1 101"));
    QCOMPARE(tablet.next().opcode, 0x1);

    QVERIFY(holdControlThread());
    const auto disconnect = send("POST", u"/admin/users/bob/disconnect"_s);
    QCOMPARE(tablet.next(3000).closeCode(), 4000);
    RawWebSocket reconnected;
    QVERIFY(reconnected.upgrade(port(), token).startsWith("HTTP/1.1 101"));
    QCOMPARE(reconnected.next().opcode, 0x1);
    QVERIFY(!disconnect->isFinished());

    releaseControlThread();
    QTRY_VERIFY_WITH_TIMEOUT(disconnect->isFinished(), 10000);
    QCOMPARE(disconnect->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 200);
    QCOMPARE(QJsonDocument::fromJson(disconnect->readAll()).object()["closed"_L1].toInt(), 1);
    QTRY_VERIFY(m_heldRequest->isFinished());
    QCOMPARE(reconnected.next(500).opcode, -1); // still open: no close frame came
    QCOMPARE(reconnected.socket.state(), QAbstractSocket::ConnectedState);
}

void TestAdminApi::consoleRevocationTakesEffectWhileTheControlThreadIsBusy()
{
    // The console's actions go through the facade, not HTTP: the same at once.
    const QByteArray token = loginToken(u"bob"_s, u"busy-console"_s);
    RawWebSocket client;
    QVERIFY(client.upgrade(port(), token).startsWith("HTTP/1.1 101"));
    QCOMPARE(client.next().opcode, 0x1);

    QVERIFY(holdControlThread());
    std::optional<AdminOutcome> outcome;
    m_server->revokeUser(UserKey::local(u"Bob"_s), this, [&](const AdminOutcome &done) { outcome = done; });
    QCOMPARE(client.next(3000).closeCode(), 4003);
    QVERIFY(!outcome);

    releaseControlThread();
    QTRY_VERIFY_WITH_TIMEOUT(outcome.has_value(), 10000);
    QVERIFY2(outcome->ok(), qPrintable(outcome->error));
    QVERIFY(outcome->affected >= 1); // bob's earlier sessions too, in a full run
    QVERIFY(outcome->closed >= 1);
    QTRY_VERIFY(m_heldRequest->isFinished());
}

void TestAdminApi::broadcastReachesUserOrEveryone()
{
    auto alice = connectAs(u"alice"_s, u"b1"_s);
    auto bob = connectAs(u"bob"_s, u"b2"_s);
    const auto toBob = request("POST", u"/admin/broadcast"_s, R"({"user":"bob","payload":{"notice":"hi bob"}})");
    QCOMPARE(toBob.body["delivered"_L1].toInt(), 1);
    QTRY_COMPARE(bob->received.last()["payload"_L1]["notice"_L1].toString(), u"hi bob"_s);
    const auto toAll = request("POST", u"/admin/broadcast"_s, R"({"payload":"maintenance at noon"})");
    QVERIFY(toAll.body["delivered"_L1].toInt() >= 2);
    QTRY_COMPARE(alice->received.last()["payload"_L1].toString(), u"maintenance at noon"_s);
    QCOMPARE(alice->received.last()["type"_L1].toString(), u"broadcast"_s);
}

void TestAdminApi::policyIsReadAndValidated()
{
    const auto current = request("GET", u"/admin/policy"_s);
    QCOMPARE(current.body["access_token_ttl"_L1].toInt(), 7200);
    const auto changed = request("PUT", u"/admin/policy"_s, R"({"access_token_ttl": 120})");
    QCOMPARE(changed.status, 200);
    QCOMPARE(changed.body["access_token_ttl"_L1].toInt(), 120);
    QCOMPARE(request("PUT", u"/admin/policy"_s, R"({"access_token_ttl": -1})").status, 400);
    QCOMPARE(request("PUT", u"/admin/policy"_s, R"({"acces_token_ttl": 60})").body["error"_L1].toString(),
             u"invalid_policy"_s);
    QCOMPARE(request("PUT", u"/admin/policy"_s, "not json").status, 400);
    QCOMPARE(request("GET", u"/admin/policy"_s).body["access_token_ttl"_L1].toInt(), 120);
    request("PUT", u"/admin/policy"_s, R"({"access_token_ttl": 7200})");
}

void TestAdminApi::jsonBodyRefusalsNameTheRule_data()
{
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<QString>("error");
    QTest::addColumn<QString>("says");
    const auto nested
        = [](int levels) -> QByteArray { return "{\"x\":" + QByteArray(levels, '[') + QByteArray(levels, ']') + "}"; };
    QTest::newRow("32 levels exactly reach the policy's own check")
        << nested(31) << u"invalid_policy"_s << u"unknown member \"x\""_s;
    QTest::newRow("33 levels are refused as too deep")
        << nested(32) << u"invalid_request"_s << u"deeper than 32 levels"_s;
    QTest::newRow("2000 levels are refused as too deep")
        << nested(2000) << u"invalid_request"_s << u"deeper than 32 levels"_s;
    QTest::newRow("a repeated member is refused as repeated")
        << QByteArray(R"({"access_token_ttl":60,"access_token_ttl":7200})") << u"invalid_request"_s << u"twice"_s;
    QTest::newRow("a number a double cannot hold is refused")
        << QByteArray(R"({"access_token_ttl":1e400})") << u"invalid_request"_s << u"not JSON"_s;
    QTest::newRow("an array is refused as not an object")
        << QByteArray("[60]") << u"invalid_request"_s << u"not one object"_s;
}

void TestAdminApi::jsonBodyRefusalsNameTheRule()
{
    QFETCH(QByteArray, body);
    QFETCH(QString, error);
    QFETCH(QString, says);
    const auto reply = request("PUT", u"/admin/policy"_s, body);
    QCOMPARE(reply.status, 400);
    QCOMPARE(reply.body["error"_L1].toString(), error);
    const QString description = reply.body["error_description"_L1].toString();
    QVERIFY2(description.contains(says), qPrintable(description));
}

void TestAdminApi::limitsChangeLive()
{
    const auto current = request("GET", u"/admin/limits"_s);
    QCOMPARE(current.status, 200);
    QCOMPARE(current.body["max_connections_per_user"_L1].toInt(), 100);
    QCOMPARE(current.body["max_message_size"_L1].toInt(), 64 * 1024);

    // Refused, each with a sentence, and nothing changed.
    for (const QByteArray &hostile :
         { QByteArray(R"({"max_connections_per_user": 0})"),
           QByteArray(R"({"max_connections": 5, "max_connections_per_user": 10})"),
           QByteArray(R"({"max_message_size": "big"})"), QByteArray(R"({"max_message_size": 100})"),
           QByteArray(R"({"handshake_timeout": 1e9})"), QByteArray(R"({"maximum": 1})"), QByteArray("[1]"),
           QByteArray(R"({"ping_interval": 0})"), QByteArray(R"({"pong_timeout": 601})"),
           QByteArray(R"({"message_rate": -5})"), QByteArray(R"({"message_burst": true})"), QByteArray("not json") }) {
        const auto refused = request("PUT", u"/admin/limits"_s, hostile);
        QCOMPARE(refused.status, 400);
        QVERIFY2(!refused.body["error_description"_L1].toString().isEmpty(), hostile.constData());
    }
    QCOMPARE(request("GET", u"/admin/limits"_s).body, current.body);

    // One connection per user from now on; the one already open stays.
    auto first = connectAs(u"carol"_s, u"laptop"_s);
    QVERIFY(first);
    QCOMPARE(request("PUT", u"/admin/limits"_s, R"({"max_connections_per_user": 1, "max_message_size": 1024})").status,
             200);
    QVERIFY(!connectAs(u"carol"_s, u"phone"_s));
    QCOMPARE(first->socket->state(), QAbstractSocket::ConnectedState);
    // A new connection is held to the new message size (1009), the open one keeps its own.
    auto bob = connectAs(u"bob"_s, u"laptop"_s);
    QVERIFY(bob);
    bob->socket->sendTextMessage(QString(2000, u'x'));
    QTRY_VERIFY(bob->closedWith(1009));
    first->socket->sendTextMessage(uR"({"type":"ping","pad":")"_s + QString(2000, u'x') + uR"("})"_s);
    QTRY_VERIFY(std::any_of(first->received.begin(), first->received.end(),
                            [](const QJsonObject &message) { return message["type"_L1] == "pong"_L1; }));
    QCOMPARE(
        request("PUT", u"/admin/limits"_s, R"({"max_connections_per_user": 100, "max_message_size": 65536})").status,
        200);
    QVERIFY(connectAs(u"carol"_s, u"phone"_s));
    bool audited = false;
    for (const auto event : request("GET", u"/admin/audit?type=limits_changed"_s).body["events"_L1].toArray())
        audited = audited || event["detail"_L1]["max_connections_per_user"_L1].toInt() == 1;
    QVERIFY(audited);
}

void TestAdminApi::policySurvivesARestart()
{
    const auto restart = [this] {
        m_server.reset();
        m_server
            = std::make_unique<SessionServer>(SessionServerOptions { m_dir.path(), {}, u"127.0.0.1:0"_s, u"file"_s });
        m_server->start();
        return QTest::qWaitFor([this] { return m_server->state() == ServerState::Running; }, 20000);
    };
    QCOMPARE(request("PUT", u"/admin/policy"_s, R"({"session_idle_ttl": 4000, "sli_cookie_ttl": 30000})").status, 200);
    QCOMPARE(request("PUT", u"/admin/limits"_s, R"({"handshake_timeout": 7})").status, 200);
    QVERIFY(restart());
    QCOMPARE(request("GET", u"/admin/limits"_s).body["handshake_timeout"_L1].toInt(), 7);
    auto policy = request("GET", u"/admin/policy"_s).body;
    QCOMPARE(policy["session_idle_ttl"_L1].toInt(), 4000);
    QCOMPARE(policy["sli_cookie_ttl"_L1].toInt(), 30000);

    // A stored policy that no longer reads (edited by hand, an older version) is ignored,
    // with a warning, and the config file's lifetimes apply.
    m_server.reset();
    {
        Database database;
        QVERIFY(database.open(m_dir.filePath(u"gatehouse.sqlite"_s)));
        QVERIFY(database.setSetting(u"policy"_s, uR"({"session_idle_ttl": "soon"})"_s));
    }
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(u"the stored policy is ignored: session_idle_ttl"_s));
    QVERIFY(restart());
    policy = request("GET", u"/admin/policy"_s).body;
    QCOMPARE(policy["session_idle_ttl"_L1].toInt(), int(SessionPolicy {}.sessionIdleTtl.count()));
    QCOMPARE(request("PUT", u"/admin/policy"_s, R"({"session_idle_ttl": 604800})").status, 200);
}

void TestAdminApi::scopedTokensAreCheckedOnEveryRoute()
{
    // Named tokens made in the store by another connection, as `gatehoused admin-token add`
    // does while the server runs: it follows the store and knows them within a second.
    QByteArray viewer;
    QByteArray operatorToken;
    {
        Database database;
        QVERIFY(database.open(m_dir.filePath(u"gatehouse.sqlite"_s)));
        AdminTokenRegistry tokens(database);
        viewer = tokens.add(u"room"_s, AdminScope::Viewer, 1).value();
        operatorToken = tokens.add(u"ops"_s, AdminScope::Operator, 1).value();
        QVERIFY(!tokens.add(u"ops"_s, AdminScope::Full, 1).ok()); // a name is taken once
        QVERIFY(!tokens.add(u"admin"_s, AdminScope::Viewer, 1).ok()); // the built-in one
        QVERIFY(!tokens.add(u"Admin"_s, AdminScope::Viewer, 1).ok()); // nor one that reads like it
        QVERIFY(!tokens.add(u"a b"_s, AdminScope::Viewer, 1).ok());
        QVERIFY(!tokens.add(QString(65, u'x'), AdminScope::Viewer, 1).ok());
    }
    QTRY_COMPARE_WITH_TIMEOUT(request("GET", u"/admin/users"_s, {}, viewer).status, 200, 3000);
    QCOMPARE(request("GET", u"/admin/users"_s, {}, operatorToken).status, 200);

    auto client = connectAs(u"bob"_s, u"scope-test"_s);
    QVERIFY(client);
    const auto connections
        = request("GET", u"/admin/connections?user=bob"_s, {}, viewer).body["connections"_L1].toArray();
    QVERIFY(!connections.isEmpty());
    const QString connectionId = connections.last()["id"_L1].toString();

    // A viewer reads everything, and changes nothing: refused with a sentence, and its
    // disconnect does not take effect on the I/O thread either.
    for (const auto &[method, path, body] : std::initializer_list<std::tuple<QByteArrayView, QString, QByteArray>> {
             { "POST", u"/admin/connections/%1/disconnect"_s.arg(connectionId), {} },
             { "POST", u"/admin/users/bob/disconnect"_s, {} },
             { "POST", u"/admin/users/bob/revoke"_s, {} },
             { "POST", u"/admin/broadcast"_s, R"({"payload":"hi"})" },
             { "PUT", u"/admin/policy"_s, R"({"session_idle_ttl": 604800})" },
             { "PUT", u"/admin/limits"_s, R"({"max_connections": 100})" },
             { "POST", u"/admin/users/bob/password"_s, R"({"password":"another long one"})" },
             { "POST", u"/admin/tls/reload"_s, {} },
         }) {
        const auto refused = request(method, path, body, viewer);
        QCOMPARE(refused.status, 403);
        QCOMPARE(refused.body["error"_L1].toString(), u"insufficient_scope"_s);
        QVERIFY2(refused.body["error_description"_L1].toString().startsWith(u"viewer: read only"_s),
                 qPrintable(refused.body["error_description"_L1].toString()));
    }
    QTest::qWait(200);
    QCOMPARE(client->socket->state(), QAbstractSocket::ConnectedState);

    // An operator disconnects, revokes and broadcasts; it does not change policy, limits or passwords.
    for (const auto &[method, path, body] : std::initializer_list<std::tuple<QByteArrayView, QString, QByteArray>> {
             { "PUT", u"/admin/policy"_s, R"({"session_idle_ttl": 604800})" },
             { "PUT", u"/admin/limits"_s, R"({"max_connections": 100})" },
             { "POST", u"/admin/users/bob/password"_s, R"({"password":"another long one"})" },
         }) {
        const auto refused = request(method, path, body, operatorToken);
        QCOMPARE(refused.status, 403);
        QVERIFY(refused.body["error_description"_L1].toString().startsWith(u"operator: "_s));
    }
    QCOMPARE(request("POST", u"/admin/broadcast"_s, R"({"payload":"hi"})", operatorToken).status, 200);
    const auto closed = request("POST", u"/admin/connections/%1/disconnect"_s.arg(connectionId), {}, operatorToken);
    QCOMPARE(closed.status, 200);
    QCOMPARE(closed.body["closed"_L1].toInt(), 1);
    QTRY_VERIFY(client->closedWith(4000));
    // Audited as the token that did it.
    const auto audit = request("GET", u"/admin/audit?actor=admin:ops"_s, {}, viewer).body["events"_L1].toArray();
    QSet<QString> types;
    for (const auto &event : audit)
        types.insert(event["type"_L1].toString());
    QVERIFY(types.contains(u"admin_disconnected_connection"_s));
    QVERIFY(types.contains(u"admin_broadcast"_s));

    // Hostile spellings of a good token do not pass.
    QCOMPARE(request("GET", u"/admin/users"_s, {}, viewer + "x").status, 401);
    QCOMPARE(request("GET", u"/admin/users"_s, {}, viewer.left(viewer.size() - 1)).status, 401);
    QCOMPARE(request("GET", u"/admin/users"_s, {}, viewer.toUpper()).status, 401);

    // Revoked in the store: refused within a second, the others unaffected.
    {
        Database database;
        QVERIFY(database.open(m_dir.filePath(u"gatehouse.sqlite"_s)));
        AdminTokenRegistry tokens(database);
        QCOMPARE(tokens.revoke(u"ops"_s).value(), true);
        QVERIFY(!tokens.revoke(u"admin"_s).ok()); // rotated, never revoked
    }
    QTRY_COMPARE_WITH_TIMEOUT(request("GET", u"/admin/users"_s, {}, operatorToken).status, 401, 3000);
    QCOMPARE(request("GET", u"/admin/users"_s, {}, viewer).status, 200);
    QCOMPARE(request("GET", u"/admin/users"_s).status, 200);
}

void TestAdminApi::everyActionIsAudited()
{
    const auto events = request("GET", u"/admin/audit?actor=admin:admin"_s).body["events"_L1].toArray();
    QSet<QString> types;
    for (const auto &event : events)
        types.insert(event["type"_L1].toString());
    for (const auto &expected :
         { u"admin_disconnected_connection"_s, u"admin_disconnected_device"_s, u"admin_disconnected_user"_s,
           u"user_sessions_revoked"_s, u"tokens_revoked_before"_s, u"admin_broadcast"_s, u"policy_changed"_s })
        QVERIFY2(types.contains(expected), qPrintable(expected));
    const auto carol = request("GET", u"/admin/audit?user=carol&type=login_succeeded"_s).body["events"_L1].toArray();
    QCOMPARE(carol.size(), 3);
}

void TestAdminApi::introspectionTellsLiveFromDead()
{
    QNetworkRequest login(QUrl(u"http://"_s + m_server->listenAddress() + u"/auth/login"_s));
    login.setHeader(QNetworkRequest::ContentTypeHeader, QByteArray("application/json"));
    std::unique_ptr<QNetworkReply> reply(
        m_network.post(login, R"({"username":"bob","password":"a long password","device":"i"})"));
    QSignalSpy finished(reply.get(), &QNetworkReply::finished);
    QVERIFY(finished.wait(20000));
    const auto session = QJsonDocument::fromJson(reply->readAll()).object();
    const auto introspect = [&](const QByteArray &token, const QByteArray &admin = {}) {
        QNetworkRequest request(QUrl(u"http://"_s + m_server->listenAddress() + u"/oauth/introspect"_s));
        request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArray("application/x-www-form-urlencoded"));
        request.setRawHeader("Authorization", "Bearer " + (admin.isNull() ? m_adminToken : admin));
        std::unique_ptr<QNetworkReply> answer(m_network.post(request, "token=" + token.toPercentEncoding()));
        QSignalSpy done(answer.get(), &QNetworkReply::finished);
        [[maybe_unused]] const bool ok = done.wait(20000);
        return std::pair { answer->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(),
                           QJsonDocument::fromJson(answer->readAll()).object() };
    };
    const QByteArray access = session["access_token"_L1].toString().toLatin1();
    const QByteArray refresh = session["refresh_token"_L1].toString().toLatin1();
    const auto accessInfo = introspect(access).second;
    QCOMPARE(accessInfo["active"_L1].toBool(), true);
    QCOMPARE(accessInfo["sub"_L1].toString(), u"bob"_s);
    QCOMPARE(accessInfo["sid"_L1].toString(), session["session_id"_L1].toString());
    QCOMPARE(introspect(refresh).second["token_type"_L1].toString(), u"refresh_token"_s);
    QCOMPARE(introspect("garbage").second, (QJsonObject { { "active"_L1, false } }));
    QCOMPARE(introspect(access, "gha_not-the-admin").first, 401);
    QCOMPARE(introspect(access, access).first, 401); // a user's own token is not enough
    request("POST", u"/admin/sessions/%1/revoke"_s.arg(session["session_id"_L1].toString()));
    QCOMPARE(introspect(access).second, (QJsonObject { { "active"_L1, false } }));
    QCOMPARE(introspect(refresh).second, (QJsonObject { { "active"_L1, false } }));
}

void TestAdminApi::metricsCountWhatHappened()
{
    // A refused handshake, to be counted by reason and audited.
    QWebSocket refused;
    QSignalSpy gone(&refused, &QWebSocket::disconnected);
    refused.open(QUrl(u"ws://"_s + m_server->listenAddress() + u"/ws?access_token=expired.or.not"_s));
    QVERIFY(gone.wait(10000));

    std::unique_ptr<QNetworkReply> reply(
        m_network.get(QNetworkRequest(QUrl(u"http://"_s + m_server->listenAddress() + u"/metrics"_s))));
    QSignalSpy finished(reply.get(), &QNetworkReply::finished);
    QVERIFY(finished.wait(20000));
    QVERIFY(reply->header(QNetworkRequest::ContentTypeHeader).toString().startsWith(u"text/plain; version=0.0.4"_s));
    const QString text = QString::fromUtf8(reply->readAll());
    const auto value = [&](const QString &series) {
        for (const auto &line : text.split(u'\n')) {
            if (line.startsWith(series + u' '))
                return line.section(u' ', -1).toLongLong();
        }
        return qint64(-1);
    };
    QVERIFY2(value(u"gatehouse_handshakes_total"_s) >= 10, qPrintable(text));
    QVERIFY(value(u"gatehouse_handshake_rejects_total{reason=\"bad_base64url\"}"_s) >= 1);
    QVERIFY(value(u"gatehouse_logins_total{result=\"succeeded\"}"_s) >= 10);
    QVERIFY(value(u"gatehouse_revocations_total"_s) >= 3);
    QVERIFY(value(u"gatehouse_connections"_s) >= 0);
    QVERIFY(value(u"gatehouse_sessions_active"_s) >= 1);
    QVERIFY(text.contains(u"# TYPE gatehouse_handshake_rejects_total counter"_s));
    const auto refusals = request("GET", u"/admin/audit?type=handshake_refused"_s).body["events"_L1].toArray();
    QVERIFY(!refusals.isEmpty());
    QCOMPARE(refusals[0]["detail"_L1]["reason"_L1].toString(), u"bad_base64url"_s);
}

void TestAdminApi::hostileAdminRequests_data()
{
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QString>("path");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<int>("status");
    QTest::newRow("unknown admin path is 404") << QByteArray("GET") << u"/admin/secrets"_s << QByteArray() << 404;
    QTest::newRow("password without a body")
        << QByteArray("POST") << u"/admin/users/carol/password"_s << QByteArray() << 400;
    QTest::newRow("password not a string") << QByteArray("POST") << u"/admin/users/carol/password"_s
                                           << QByteArray(R"({"password": 12345678901234})") << 400;
    QTest::newRow("password with extra members")
        << QByteArray("POST") << u"/admin/users/carol/password"_s
        << QByteArray(R"({"password": "a long password", "user": "alice"})") << 400;
    QTest::newRow("password too short") << QByteArray("POST") << u"/admin/users/carol/password"_s
                                        << QByteArray(R"({"password": "short"})") << 400;
    QTest::newRow("password of nobody") << QByteArray("POST") << u"/admin/users/nobody/password"_s
                                        << QByteArray(R"({"password": "a long password"})") << 400;
    QTest::newRow("GET on an action is 404")
        << QByteArray("GET") << u"/admin/users/bob/revoke"_s << QByteArray() << 404;
    QTest::newRow("non-numeric connection id is 400")
        << QByteArray("POST") << u"/admin/connections/abc/disconnect"_s << QByteArray() << 400;
    QTest::newRow("encoded slash in a user name stays one segment")
        << QByteArray("POST") << u"/admin/users/bob%2F..%2Fadmin/disconnect"_s << QByteArray() << 200;
    QTest::newRow("overlong segment is 414")
        << QByteArray("POST") << u"/admin/users/"_s + QString(300, u'x') + u"/revoke"_s << QByteArray() << 414;
    QTest::newRow("broadcast without payload is 400")
        << QByteArray("POST") << u"/admin/broadcast"_s << QByteArray(R"({"user":"bob"})") << 400;
    QTest::newRow("broadcast with a numeric user is 400")
        << QByteArray("POST") << u"/admin/broadcast"_s << QByteArray(R"({"user":5,"payload":1})") << 400;
    QTest::newRow("100 KiB body is 413") << QByteArray("POST") << u"/admin/broadcast"_s << QByteArray(100 * 1024, '{')
                                         << 413;
}

void TestAdminApi::hostileAdminRequests()
{
    QFETCH(QByteArray, method);
    QFETCH(QString, path);
    QFETCH(QByteArray, body);
    QFETCH(int, status);
    QCOMPARE(request(method, path, body).status, status);
    QCOMPARE(request("GET", u"/healthz"_s).status, 200);
}

QTEST_GUILESS_MAIN(TestAdminApi)
#include "tst_adminapi.moc"
