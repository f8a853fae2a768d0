// The admin feed's values in JSON, both ways: every member survives the trip, and hostile
// or mistaken input is refused with a sentence that names the member, never half-read.
#include "FeedCodec.h"

#include <QJsonDocument>
#include <QTest>

using namespace Qt::StringLiterals;

class TestFeedCodec final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void everyMemberSurvivesTheTrip();
    void refusalsNameTheMember_data();
    void refusalsNameTheMember();
    void missingMembersKeepTheirDefaults();
};

void TestFeedCodec::everyMemberSurvivesTheTrip()
{
    const User user { 7, u"alice"_s, u"Alice Martin"_s, { u"user"_s, u"editor"_s }, false, 11, 12, 13 };
    const User userBack = FeedCodec::userFrom(FeedCodec::toJson(user)).value();
    QCOMPARE(userBack.id, user.id);
    QCOMPARE(userBack.username, user.username);
    QCOMPARE(userBack.displayName, user.displayName);
    QCOMPARE(userBack.roles, user.roles);
    QCOMPARE(userBack.enabled, user.enabled);
    QCOMPARE(userBack.passwordChangedAt, user.passwordChangedAt);
    QCOMPARE(userBack.createdAt, user.createdAt);
    QCOMPARE(userBack.updatedAt, user.updatedAt);

    const SessionRecord session { u"s_1"_s, u"alice"_s, u"laptop"_s,           u"Firefox"_s, u"10.0.0.7"_s, 1, 2, 3, 4,
                                  5,        6,          u"revoked_by_admin"_s, u"sli_1"_s,   u"notes"_s };
    const SessionRecord sessionBack = FeedCodec::sessionFrom(FeedCodec::toJson(session)).value();
    QCOMPARE(sessionBack.id, session.id);
    QCOMPARE(sessionBack.username, session.username);
    QCOMPARE(sessionBack.deviceId, session.deviceId);
    QCOMPARE(sessionBack.userAgent, session.userAgent);
    QCOMPARE(sessionBack.remoteAddress, session.remoteAddress);
    QCOMPARE(sessionBack.createdAt, session.createdAt);
    QCOMPARE(sessionBack.lastRefreshAt, session.lastRefreshAt);
    QCOMPARE(sessionBack.absoluteExpiresAt, session.absoluteExpiresAt);
    QCOMPARE(sessionBack.accessExpiresAt, session.accessExpiresAt);
    QCOMPARE(sessionBack.refreshExpiresAt, session.refreshExpiresAt);
    QCOMPARE(sessionBack.revokedAt, session.revokedAt);
    QCOMPARE(sessionBack.revokeReason, session.revokeReason);
    QCOMPARE(sessionBack.loginId, session.loginId);
    QCOMPARE(sessionBack.clientId, session.clientId);

    ConnectionInfo connection;
    connection.id = 18446744073709551557ULL; // beyond a double's whole numbers: sent as a string
    connection.user = { u"https://idp.example"_s, u"alice"_s };
    connection.deviceId = u"phone"_s;
    connection.sessionId = u"s_2"_s;
    connection.remoteAddress = u"::1"_s;
    connection.userAgent = u"Android"_s;
    connection.connectedAtMs = 1700000000123;
    connection.lastActivityAtMs = 1700000000456;
    connection.accessExpiresAt = 1700003600;
    connection.viaCookie = true;
    connection.messagesIn = 3;
    connection.messagesOut = 4;
    connection.bytesIn = 5;
    connection.bytesOut = 6;
    connection.closeCode = 4003;
    connection.closedAtMs = 1700000000789;
    const ConnectionInfo connectionBack = FeedCodec::connectionFrom(FeedCodec::toJson(connection)).value();
    QCOMPARE(connectionBack.id, connection.id);
    QCOMPARE(connectionBack.user, connection.user);
    QCOMPARE(connectionBack.deviceId, connection.deviceId);
    QCOMPARE(connectionBack.sessionId, connection.sessionId);
    QCOMPARE(connectionBack.remoteAddress, connection.remoteAddress);
    QCOMPARE(connectionBack.userAgent, connection.userAgent);
    QCOMPARE(connectionBack.connectedAtMs, connection.connectedAtMs);
    QCOMPARE(connectionBack.lastActivityAtMs, connection.lastActivityAtMs);
    QCOMPARE(connectionBack.accessExpiresAt, connection.accessExpiresAt);
    QCOMPARE(connectionBack.viaCookie, connection.viaCookie);
    QCOMPARE(connectionBack.messagesIn, connection.messagesIn);
    QCOMPARE(connectionBack.messagesOut, connection.messagesOut);
    QCOMPARE(connectionBack.bytesIn, connection.bytesIn);
    QCOMPARE(connectionBack.bytesOut, connection.bytesOut);
    QCOMPARE(connectionBack.closeCode, connection.closeCode);
    QCOMPARE(connectionBack.closedAtMs, connection.closedAtMs);
    // Our own user has no issuer: null on the wire, empty again here.
    connection.user = UserKey::local(u"bob"_s);
    QVERIFY(FeedCodec::toJson(connection).value("issuer"_L1).isNull());
    QCOMPARE(FeedCodec::connectionFrom(FeedCodec::toJson(connection)).value().user, connection.user);

    ServerStatistics statistics;
    statistics.sampledAtMs = 1;
    statistics.startedAtMs = 2;
    statistics.listenAddresses = { u"127.0.0.1:8443"_s };
    statistics.tls = true;
    statistics.tlsSubject = u"CN=lab"_s;
    statistics.tlsNames = { u"localhost"_s, u"127.0.0.1"_s };
    statistics.tlsFingerprint = u"AB:CD"_s;
    statistics.tlsNotAfterMs = 3;
    statistics.tlsProblem = u"the key does not match"_s;
    statistics.tlsReloadable = true;
    statistics.connections = 4;
    statistics.activeSessions = 5;
    statistics.handshakesAccepted = 6;
    statistics.handshakesRefused = { { u"token_expired"_s, 7 }, { u"rate_limited"_s, 8 } };
    statistics.loginsSucceeded = 9;
    statistics.loginsFailed = 10;
    statistics.refreshes = 11;
    statistics.refreshTokenReuses = 12;
    statistics.revocations = 13;
    statistics.maximumConnections = 14;
    statistics.maximumConnectionsPerUser = 15;
    statistics.maximumMessageSize = 16;
    statistics.handshakeTimeoutMs = 17;
    statistics.ioThreads = 18;
    statistics.inspectPayloads = true;
    const ServerStatistics back = FeedCodec::statisticsFrom(FeedCodec::toJson(statistics)).value();
    QCOMPARE(back.sampledAtMs, statistics.sampledAtMs);
    QCOMPARE(back.startedAtMs, statistics.startedAtMs);
    QCOMPARE(back.listenAddresses, statistics.listenAddresses);
    QCOMPARE(back.tls, statistics.tls);
    QCOMPARE(back.tlsSubject, statistics.tlsSubject);
    QCOMPARE(back.tlsNames, statistics.tlsNames);
    QCOMPARE(back.tlsFingerprint, statistics.tlsFingerprint);
    QCOMPARE(back.tlsNotAfterMs, statistics.tlsNotAfterMs);
    QCOMPARE(back.tlsProblem, statistics.tlsProblem);
    QCOMPARE(back.tlsReloadable, statistics.tlsReloadable);
    QCOMPARE(back.connections, statistics.connections);
    QCOMPARE(back.activeSessions, statistics.activeSessions);
    QCOMPARE(back.handshakesAccepted, statistics.handshakesAccepted);
    QCOMPARE(back.handshakesRefused, statistics.handshakesRefused);
    QCOMPARE(back.loginsSucceeded, statistics.loginsSucceeded);
    QCOMPARE(back.loginsFailed, statistics.loginsFailed);
    QCOMPARE(back.refreshes, statistics.refreshes);
    QCOMPARE(back.refreshTokenReuses, statistics.refreshTokenReuses);
    QCOMPARE(back.revocations, statistics.revocations);
    QCOMPARE(back.maximumConnections, statistics.maximumConnections);
    QCOMPARE(back.maximumConnectionsPerUser, statistics.maximumConnectionsPerUser);
    QCOMPARE(back.maximumMessageSize, statistics.maximumMessageSize);
    QCOMPARE(back.handshakeTimeoutMs, statistics.handshakeTimeoutMs);
    QCOMPARE(back.ioThreads, statistics.ioThreads);
    QCOMPARE(back.inspectPayloads, true);

    InspectionBatch batch;
    batch.connectionId = 18446744073709551557ULL; // beyond a double's 2^53
    batch.payloads = true;
    batch.dropped = 12;
    batch.messages = { { 1700000000123, false, u"sync"_s, 31, R"({"type":"sync","payload":"é"})", false },
                       { 1700000000124, true, u"pong"_s, 5000, "{\"type\":\"pong\"", true } };
    const auto batchBack = FeedCodec::inspectionBatchFrom(FeedCodec::toJson(batch)).value();
    QCOMPARE(batchBack.connectionId, batch.connectionId);
    QCOMPARE(batchBack.payloads, true);
    QCOMPARE(batchBack.dropped, 12);
    QCOMPARE(batchBack.ended, false);
    QCOMPARE(batchBack.messages.size(), 2);
    for (qsizetype i = 0; i < 2; ++i) {
        QCOMPARE(batchBack.messages[i].atMs, batch.messages[i].atMs);
        QCOMPARE(batchBack.messages[i].outgoing, batch.messages[i].outgoing);
        QCOMPARE(batchBack.messages[i].type, batch.messages[i].type);
        QCOMPARE(batchBack.messages[i].size, batch.messages[i].size);
        QCOMPARE(batchBack.messages[i].payload, batch.messages[i].payload);
        QCOMPARE(batchBack.messages[i].truncated, batch.messages[i].truncated);
    }
    // Without payloads allowed, none is written, whatever the batch holds.
    batch.payloads = false;
    const QJsonObject hidden = FeedCodec::toJson(batch);
    QVERIFY(!hidden["messages"_L1].toArray()[0].toObject().contains("payload"_L1));
    InspectionBatch end;
    end.connectionId = 7;
    end.ended = true;
    end.closeCode = 4003;
    end.reason = u"the connection closed (4003)"_s;
    const auto endBack = FeedCodec::inspectionBatchFrom(FeedCodec::toJson(end)).value();
    QCOMPARE(endBack.ended, true);
    QCOMPARE(endBack.closeCode, 4003);
    QCOMPARE(endBack.reason, end.reason);

    ConsoleSnapshot snapshot;
    snapshot.users = { user };
    snapshot.sessions = { session };
    snapshot.policy.accessTokenTtl = std::chrono::seconds(600);
    snapshot.limits.maximumConnections = 1234;
    snapshot.signingKeys = { SigningKeyInfo { u"kid-1"_s, u"EdDSA"_s, 1, 2, 3, true } };
    snapshot.jwks = QJsonObject { { "keys"_L1, QJsonArray() } };
    snapshot.statistics = statistics;
    AuditEvent event;
    event.id = 42;
    event.atMs = 1700000000000;
    event.type = u"admin_disconnected_connection"_s;
    event.actor = u"admin:ops"_s;
    event.username = u"alice"_s;
    event.deviceId = u"laptop"_s;
    event.sessionId = u"s_1"_s;
    event.remoteAddress = u"127.0.0.1"_s;
    event.detail = QJsonObject { { "closed"_L1, 1 } };
    event.previousHash = u"00"_s;
    event.hash = u"ff"_s;
    snapshot.recentAudit = { event };
    // Through text, as on the wire.
    const QJsonObject wire = QJsonDocument::fromJson(QJsonDocument(FeedCodec::toJson(snapshot)).toJson()).object();
    const auto snapshotBack = FeedCodec::snapshotFrom(wire);
    QVERIFY2(snapshotBack.ok(), qPrintable(snapshotBack.ok() ? QString() : snapshotBack.error()));
    QCOMPARE(snapshotBack->users.size(), 1);
    QCOMPARE(snapshotBack->users[0].displayName, user.displayName);
    QCOMPARE(snapshotBack->sessions[0].clientId, session.clientId);
    QCOMPARE(snapshotBack->policy.accessTokenTtl, std::chrono::seconds(600));
    QCOMPARE(snapshotBack->limits.maximumConnections, qint64(1234));
    QCOMPARE(snapshotBack->signingKeys[0].keyId, u"kid-1"_s);
    QCOMPARE(snapshotBack->signingKeys[0].active, true);
    QCOMPARE(snapshotBack->jwks, snapshot.jwks);
    QCOMPARE(snapshotBack->statistics.handshakesRefused, statistics.handshakesRefused);
    QCOMPARE(snapshotBack->recentAudit[0].toJson(), event.toJson());
}

void TestFeedCodec::refusalsNameTheMember_data()
{
    QTest::addColumn<QByteArray>("kind");
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QString>("mentions");
    QTest::newRow("a user's roles as a string")
        << QByteArray("user") << QByteArray(R"({"username":"a","roles":"admin"})") << u"roles"_s;
    QTest::newRow("a user's enabled as a number")
        << QByteArray("user") << QByteArray(R"({"username":"a","enabled":1})") << u"enabled"_s;
    QTest::newRow("a user without a name") << QByteArray("user") << QByteArray(R"({"id":1})") << u"username"_s;
    QTest::newRow("a fractional time") << QByteArray("session") << QByteArray(R"({"id":"s","created_at":1.5})")
                                       << u"created_at"_s;
    QTest::newRow("a time beyond 2^53") << QByteArray("session") << QByteArray(R"({"id":"s","created_at":1e300})")
                                        << u"created_at"_s;
    QTest::newRow("a session without an id") << QByteArray("session") << QByteArray(R"({"user":"a"})") << u"id"_s;
    QTest::newRow("a connection id as a number") << QByteArray("connection") << QByteArray(R"({"id":5})") << u"id"_s;
    QTest::newRow("a connection id that is not one")
        << QByteArray("connection") << QByteArray(R"({"id":"5x"})") << u"id"_s;
    QTest::newRow("a negative counter") << QByteArray("connection") << QByteArray(R"({"id":"5","messages_in":-1})")
                                        << u"messages_in"_s;
    QTest::newRow("refusals that are not counts")
        << QByteArray("statistics") << QByteArray(R"({"handshakes_refused":{"x":"many"}})") << u"handshakes_refused"_s;
    QTest::newRow("audit detail as a string") << QByteArray("audit") << QByteArray(R"({"detail":"x"})") << u"detail"_s;
    QTest::newRow("an inspection of no connection")
        << QByteArray("inspection") << QByteArray(R"({"type":"inspected","messages":[]})") << u"connection"_s;
    QTest::newRow("an inspection without its messages")
        << QByteArray("inspection") << QByteArray(R"({"type":"inspected","connection":"3"})") << u"messages"_s;
    QTest::newRow("an inspected message going sideways")
        << QByteArray("inspection")
        << QByteArray(R"({"type":"inspected","connection":"3","messages":[{"direction":"up"}]})") << u"direction"_s;
    QTest::newRow("an inspected size as a string")
        << QByteArray("inspection")
        << QByteArray(R"({"type":"inspected","connection":"3","messages":[{"direction":"in","size":"9"}]})")
        << u"size"_s;
    QTest::newRow("an inspection of another type")
        << QByteArray("inspection") << QByteArray(R"({"type":"hello","connection":"3"})") << u"type"_s;
    QTest::newRow("a snapshot without users") << QByteArray("snapshot") << QByteArray(R"({})") << u"users"_s;
    QTest::newRow("a snapshot with a bad session")
        << QByteArray("snapshot") << QByteArray(R"({"users":[],"sessions":[{"id":7}]})") << u"sessions: item 0"_s;
    QTest::newRow("a snapshot with a policy out of bounds")
        << QByteArray("snapshot")
        << QByteArray(R"({"users":[],"sessions":[],"policy":{"access_token_ttl":-5},"limits":{}})") << u"policy"_s;
}

void TestFeedCodec::refusalsNameTheMember()
{
    QFETCH(QByteArray, kind);
    QFETCH(QByteArray, json);
    QFETCH(QString, mentions);
    const QJsonObject object = QJsonDocument::fromJson(json).object();
    QString error;
    const auto take = [&](const auto &result) {
        QVERIFY(!result.ok());
        error = result.error();
    };
    if (kind == "user")
        take(FeedCodec::userFrom(object));
    else if (kind == "session")
        take(FeedCodec::sessionFrom(object));
    else if (kind == "connection")
        take(FeedCodec::connectionFrom(object));
    else if (kind == "statistics")
        take(FeedCodec::statisticsFrom(object));
    else if (kind == "audit")
        take(FeedCodec::auditEventFrom(object));
    else if (kind == "inspection")
        take(FeedCodec::inspectionBatchFrom(object));
    else
        take(FeedCodec::snapshotFrom(object));
    QVERIFY2(error.contains(mentions), qPrintable(error));
}

void TestFeedCodec::missingMembersKeepTheirDefaults()
{
    // A newer server may drop a member, an older one never sent it: the default stays.
    const User user = FeedCodec::userFrom(QJsonObject { { "username"_L1, "alice"_L1 } }).value();
    QCOMPARE(user.enabled, true);
    QVERIFY(user.roles.isEmpty());
    const ConnectionInfo connection
        = FeedCodec::connectionFrom(QJsonObject { { "id"_L1, "9"_L1 }, { "future_member"_L1, 1 } }).value();
    QCOMPARE(connection.id, quint64(9));
    QCOMPARE(connection.closeCode, 0);
}

QTEST_GUILESS_MAIN(TestFeedCodec)
#include "tst_feedcodec.moc"
