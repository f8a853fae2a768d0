// The live admin feed (/admin/ws) against a real server on 127.0.0.1: refused before the
// upgrade without an admin token, then a snapshot and the changes as they happen, actions
// checked against the token's scope and answered with their outcome, hostile messages answered
// without ending the feed (or closing it when the frame itself is wrong), and a feed closed at
// once when its token is revoked.
#include "SessionServer.h"
#include "admin/AdminTokens.h"
#include "audit/AuditLog.h"
#include "core/Clock.h"
#include "identity/UserDirectory.h"
#include "secrets/FileSecretStore.h"
#include "store/BackupFile.h"
#include "store/Database.h"

#include <QCryptographicHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QSignalSpy>
#include <QSqlQuery>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <QWebSocket>

#include "AdminFeedClient.h"
#include "PasswordLogin.h"
#include "SecretWaiter.h"

using namespace Qt::StringLiterals;

namespace {
using Feed = AdminFeedClient;

/// The status line's code of an upgrade to /admin/ws sent raw, with `headers`.
int upgradeStatus(const QString &address, const QByteArray &headers, const QByteArray &query = {})
{
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, quint16(address.section(u':', -1).toUInt()));
    if (!socket.waitForConnected(5000))
        return -1;
    socket.write("GET /admin/ws" + query
                 + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                 + headers + "\r\n");
    QByteArray answer;
    while (!answer.contains("\r\n") && socket.waitForReadyRead(5000))
        answer += socket.readAll();
    return answer.startsWith("HTTP/1.1 ") ? answer.mid(9, 3).toInt() : -1;
}
/// Sends an action and waits for its outcome, or the error that refused it.
QJsonObject ask(Feed &feed, const QString &id, QJsonObject action, int timeoutMs = 10000)
{
    action.insert("type"_L1, "action"_L1);
    action.insert("id"_L1, id);
    feed.send(action);
    QJsonObject answer;
    [[maybe_unused]] const bool answered = QTest::qWaitFor(
        [&] {
            for (const auto &message : std::as_const(feed.received)) {
                if (message["id"_L1] == id && (message["type"_L1] == "outcome"_L1 || message["type"_L1] == "error"_L1))
                    answer = message;
            }
            return !answer.isEmpty();
        },
        timeoutMs);
    return answer;
}
} // namespace

class TestAdminFeed final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void refusedBeforeTheUpgrade();
    void aSnapshotThenTheChanges();
    void actionsAreCheckedAgainstTheScope();
    void usersKeysAndTheAuditOverTheFeed();
    void hostileMessagesAreAnsweredAndTheFeedGoesOn();
    void wrongFramesCloseTheFeed();
    void aRevokedTokenClosesItsFeedAtOnce();
    void eventsOtherWritersAppendAreToldOnce();
    void aFullAdminTakesABackupAwayInParts();
    void aBackupNotTakenHoldsUpOnlyTheNextBackup();
    void feedsOpenedInALoopAreSlowed(); // last: it uses up this address's handshakes for a while

private:
    std::unique_ptr<QWebSocket> connectUser(const QString &device, QList<QJsonObject> *received = nullptr);
    QByteArray loginToken(const QString &device);

    QTemporaryDir m_dir;
    std::unique_ptr<SessionServer> m_server;
    QNetworkAccessManager m_network;
    QByteArray m_full;
    QByteArray m_operator;
    QByteArray m_viewer;
};

void TestAdminFeed::initTestCase()
{
    {
        Database database;
        QVERIFY(database.open(m_dir.filePath(u"gatehouse.sqlite"_s)));
        SystemClock clock;
        QVERIFY(UserDirectory(database, clock).add(u"alice"_s, {}, "a long password", {}).ok());
        AdminTokenRegistry tokens(database);
        m_operator = tokens.add(u"ops"_s, AdminScope::Operator, 1).value();
        m_viewer = tokens.add(u"room"_s, AdminScope::Viewer, 1).value();
    }
    m_server = std::make_unique<SessionServer>(SessionServerOptions { m_dir.path(), {}, u"127.0.0.1:0"_s, u"file"_s });
    m_server->start();
    QTRY_COMPARE_WITH_TIMEOUT(m_server->state(), ServerState::Running, 20000);
    FileSecretStore secrets(m_dir.filePath(u"secrets"_s));
    const auto token = SecretWaiter::read(secrets, u"admin-token"_s);
    QVERIFY(token.ok());
    m_full = *token;
}

void TestAdminFeed::cleanupTestCase()
{
    m_server.reset();
}

QByteArray TestAdminFeed::loginToken(const QString &device)
{
    return passwordLogin(m_network, m_server->listenAddress(), u"alice"_s, device).accessToken();
}

std::unique_ptr<QWebSocket> TestAdminFeed::connectUser(const QString &device, QList<QJsonObject> *received)
{
    auto socket = std::make_unique<QWebSocket>();
    QSignalSpy welcomed(socket.get(), &QWebSocket::textMessageReceived);
    if (received)
        connect(socket.get(), &QWebSocket::textMessageReceived, this,
                [received](const QString &text) { received->append(QJsonDocument::fromJson(text.toUtf8()).object()); });
    socket->open(QUrl(u"ws://"_s + m_server->listenAddress() + u"/ws?access_token="_s
                      + QString::fromLatin1(loginToken(device))));
    if (!welcomed.wait(10000))
        return {};
    return socket;
}

void TestAdminFeed::eventsOtherWritersAppendAreToldOnce()
{
    // The command line, or a backup, appends to the audit log through a connection of its own.
    // The server tells of those events as of its own (the console's live tail, the feed),
    // within its follower's second, each once, however they interleave with its own.
    QList<AuditEvent> told;
    QObject scope; // the connection ends with this test, not with the suite's server
    connect(m_server.get(), &ServerFacade::auditAppended, &scope,
            [&told](const QList<AuditEvent> &events) { told.append(events); });
    Feed feed(m_server->listenAddress(), m_viewer);
    QVERIFY(feed.waitFor(u"snapshot"_s));
    Database elsewhere;
    QVERIFY(elsewhere.open(m_dir.filePath(u"gatehouse.sqlite"_s)));
    SystemClock clock;
    AuditLog otherWriter(elsewhere, clock);
    QSet<qint64> external;
    QSet<qint64> own;
    for (int round = 0; round < 3; ++round) {
        for (int i = 0; i < 2; ++i) {
            AuditEvent event;
            event.type = u"backup_made"_s;
            event.actor = u"cli:elsewhere"_s;
            event.detail = { { "round"_L1, round }, { "i"_L1, i } };
            const auto appended = otherWriter.append(event);
            QVERIFY2(appended.ok(), qPrintable(appended.ok() ? QString() : appended.error()));
            external.insert(appended->id);
        }
        // The server's own, past the other writer's events it has not read yet.
        QString problem = u"pending"_s;
        m_server->setUserEnabled(u"alice"_s, round % 2 == 1, this,
                                 [&problem](const QString &error) { problem = error; });
        QTRY_VERIFY(problem != u"pending"_s);
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
    }
    m_server->setUserEnabled(u"alice"_s, true, this, [](const QString &) {});
    const qint64 last = AuditLog(elsewhere, clock).lastId().value();
    for (const auto &event :
         AuditLog(elsewhere, clock).after(*std::min_element(external.begin(), external.end()), 100)) {
        if (!external.contains(event.id))
            own.insert(event.id);
    }
    QVERIFY(!own.isEmpty());
    const auto toldOf = [&told](qint64 id) {
        return std::any_of(told.begin(), told.end(), [id](const AuditEvent &e) { return e.id == id; });
    };
    QTRY_VERIFY_WITH_TIMEOUT(toldOf(last) && std::all_of(external.begin(), external.end(), toldOf), 5000);
    QTest::qWait(1500); // another look of the follower: nothing is told twice
    QHash<qint64, int> times;
    for (const auto &event : told)
        ++times[event.id];
    for (const qint64 id : external + own)
        QVERIFY2(times.value(id) == 1, qPrintable(u"event %1 told %2 times"_s.arg(id).arg(times.value(id))));
    QVERIFY(feed.waitFor(u"audit_appended"_s, nullptr, 0, [](const QJsonObject &m) {
        const auto events = m["events"_L1].toArray();
        return std::any_of(events.begin(), events.end(),
                           [](const QJsonValue &e) { return e["actor"_L1] == "cli:elsewhere"_L1; });
    }));
}

void TestAdminFeed::aFullAdminTakesABackupAwayInParts()
{
    // The backup `gatehoused backup` would write, made by the server and carried over the feed
    // in parts, for an attached console to write on the admin's computer.
    Feed viewer(m_server->listenAddress(), m_viewer);
    Feed full(m_server->listenAddress(), m_full);
    QVERIFY(viewer.waitFor(u"snapshot"_s) && full.waitFor(u"snapshot"_s));
    const QString passphrase = u"kept apart from the file"_s;

    QCOMPARE(ask(viewer, u"b1"_s, { { "action"_L1, "backup"_L1 }, { "passphrase"_L1, passphrase } })["error"_L1],
             u"insufficient_scope"_s);
    const QList<QJsonObject> hostile {
        { { "action"_L1, "backup"_L1 } },
        { { "action"_L1, "backup"_L1 }, { "passphrase"_L1, ""_L1 } },
        { { "action"_L1, "backup"_L1 }, { "passphrase"_L1, QString(1025, u'x') } },
        { { "action"_L1, "backup"_L1 }, { "passphrase"_L1, 12345 } },
        { { "action"_L1, "backup"_L1 }, { "passphrase"_L1, passphrase }, { "to"_L1, "/etc/passwd"_L1 } },
    };
    for (qsizetype i = 0; i < hostile.size(); ++i) {
        const QJsonObject refused = ask(full, u"h%1"_s.arg(i), hostile[i]);
        QVERIFY2(refused["type"_L1] == "error"_L1 && refused["error"_L1] == "bad_message"_L1,
                 QJsonDocument(refused).toJson().constData());
    }

    // A store of a few MiB, so that the backup goes in many parts, paced as the feed reads.
    {
        Database elsewhere;
        QVERIFY(elsewhere.open(m_dir.filePath(u"gatehouse.sqlite"_s)));
        SystemClock clock;
        AuditLog log(elsewhere, clock);
        for (int i = 0; i < 1500; ++i) {
            AuditEvent event;
            event.type = u"bulk"_s;
            event.actor = u"cli:bulk"_s;
            event.detail = { { "filler"_L1, QString::fromLatin1(QByteArray(1500, char('a' + i % 26))) } };
            QVERIFY(log.append(event).ok());
        }
    }
    const qsizetype start = full.received.size();
    const QJsonObject answer
        = ask(full, u"b2"_s, { { "action"_L1, "backup"_L1 }, { "passphrase"_L1, passphrase } }, 60000);
    QVERIFY2(answer["ok"_L1].toBool(), QJsonDocument(answer).toJson().constData());
    QCOMPARE(answer["audit_type"_L1].toString(), u"backup_made"_s);
    QByteArray backup;
    int parts = 0;
    for (qsizetype i = start; i < full.received.size(); ++i) {
        const QJsonObject &message = full.received[i];
        if (message["type"_L1] != "backup_part"_L1 || message["id"_L1] != "b2"_L1)
            continue;
        QCOMPARE(message["offset"_L1].toInteger(), qint64(backup.size())); // in order, none missing
        backup += QByteArray::fromBase64(message["data"_L1].toString().toLatin1());
        ++parts;
    }
    QVERIFY2(parts >= 8, qPrintable(u"%1 parts"_s.arg(parts)));
    QCOMPARE(qint64(backup.size()), answer["bytes"_L1].toInteger());
    QCOMPARE(QString::fromLatin1(QCryptographicHash::hash(backup, QCryptographicHash::Sha256).toHex()),
             answer["sha256"_L1].toString());
    const auto opened = BackupFile::open(backup, passphrase.toUtf8());
    QVERIFY2(opened.ok(), qPrintable(opened.ok() ? QString() : opened.error()));
    QVERIFY(opened->database.startsWith("SQLite format 3"));
    const QJsonObject secrets = opened->secrets["secrets"_L1].toObject();
    QVERIFY(std::any_of(secrets.begin(), secrets.end(), [&](const QJsonValue &) { return true; }));
    QVERIFY2(secrets.contains(u"signing-key/"_s + opened->secrets["signing_key"_L1].toString()),
             QJsonDocument(opened->secrets).toJson().constData());
    QVERIFY(!BackupFile::open(backup, "not the passphrase").ok());

    // Audited as the token's, with where it went; and the feed goes on.
    QVERIFY(viewer.waitFor(u"audit_appended"_s, nullptr, 0, [](const QJsonObject &m) {
        const auto events = m["events"_L1].toArray();
        return std::any_of(events.begin(), events.end(), [](const QJsonValue &e) {
            return e["type"_L1] == "backup_made"_L1 && e["actor"_L1] == "admin:admin"_L1
                && e["remote_address"_L1] == "127.0.0.1"_L1
                && e["detail"_L1]["to"_L1].toString().startsWith(u"the admin feed of 127.0.0.1"_s);
        });
    }));
    QVERIFY(ask(full, u"b3"_s, { { "action"_L1, "verify_audit"_L1 } })["ok"_L1].toBool());
}

void TestAdminFeed::aBackupNotTakenHoldsUpOnlyTheNextBackup()
{
    // A feed asks for a backup of a store of some 16 MiB and then reads nothing: what is sent
    // waits in the kernel and at most about 1 MiB more in the server, not the whole file. Until
    // it is taken (or the feed goes), another backup is refused with a sentence (each would be
    // another copy in memory); everything else goes on.
    {
        Database elsewhere;
        QVERIFY(elsewhere.open(m_dir.filePath(u"gatehouse.sqlite"_s)));
        QSqlQuery fill(elsewhere.connection());
        QVERIFY(fill.exec(u"CREATE TABLE IF NOT EXISTS test_filler(x BLOB)"_s));
        QVERIFY(fill.exec(u"INSERT INTO test_filler SELECT randomblob(1024 * 1024) FROM "
                          "(WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 16) "
                          "SELECT i FROM n)"_s));
    }
    const QString address = m_server->listenAddress();
    QTcpSocket stuck;
    stuck.setReadBufferSize(4096); // Qt takes no more from the kernel than this: the window fills
    stuck.connectToHost(QHostAddress::LocalHost, quint16(address.section(u':', -1).toUInt()));
    QVERIFY(stuck.waitForConnected(5000));
    stuck.write("GET /admin/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer "
                + m_full + "\r\n\r\n");
    const QByteArray action = R"({"type":"action","id":"stuck","action":"backup","passphrase":"never taken"})";
    QVERIFY(action.size() < 126); // the 7-bit length: a server that reads RFC 6455 strictly wants the shortest
    QByteArray frame { "\x81" };
    frame.append(char(0x80 | action.size()));
    const QByteArray mask = "\x11\x22\x33\x44";
    frame.append(mask);
    for (qsizetype i = 0; i < action.size(); ++i)
        frame.append(char(action[i] ^ mask[i % 4]));
    stuck.write(frame);
    QVERIFY(stuck.waitForBytesWritten(5000));

    Feed other(address, m_full);
    QVERIFY(other.waitFor(u"snapshot"_s));
    // The stuck feed's backup is made (a second or so), then waits on its reader.
    QJsonObject refused;
    QVERIFY(QTest::qWaitFor(
        [&] {
            refused = ask(other, u"next%1"_s.arg(other.received.size()),
                          { { "action"_L1, "backup"_L1 }, { "passphrase"_L1, "another"_L1 } }, 30000);
            return refused["error"_L1].toString().contains(u"still on its way"_s);
        },
        60000));
    QCOMPARE(refused["ok"_L1].toBool(), false);
    QVERIFY(ask(other, u"v"_s, { { "action"_L1, "verify_audit"_L1 } })["ok"_L1].toBool());
    QCOMPARE(upgradeStatus(address, "Authorization: Bearer " + m_full + "\r\n"), 101);

    // The stuck feed goes: the next backup is made and arrives, to a reader that takes it as
    // fast as it can. Its parts go a few at a time: other feeds, whichever I/O thread they
    // share with it, are answered while it streams, not after.
    stuck.abort();
    std::vector<std::unique_ptr<Feed>> bystanders;
    for (int i = 0; i < 3; ++i) {
        bystanders.push_back(std::make_unique<Feed>(address, m_full));
        QVERIFY(bystanders.back()->waitFor(u"snapshot"_s));
    }
    QJsonObject made;
    qsizetype madeAt = -1;
    bool bystandersFirst = false;
    QVERIFY(QTest::qWaitFor(
        [&] {
            const QString id = u"after%1"_s.arg(other.received.size());
            const qsizetype from = other.received.size();
            other.send({ { "type"_L1, "action"_L1 },
                         { "id"_L1, id },
                         { "action"_L1, "backup"_L1 },
                         { "passphrase"_L1, "another"_L1 } });
            qsizetype firstPart = -1;
            const auto firstOrAnswer
                = other.waitFor([&](const QJsonObject &m) { return m["id"_L1] == id; }, &firstPart, from);
            if (!firstOrAnswer || (*firstOrAnswer)["type"_L1] != "backup_part"_L1)
                return false; // refused while the stuck feed's hold is let go: again
            // Streaming: each bystander is answered by its I/O thread between the parts, before
            // the last of them.
            for (auto &bystander : bystanders)
                bystander->send({ { "type"_L1, "action"_L1 }, { "id"_L1, "probe"_L1 }, { "action"_L1, "nope"_L1 } });
            for (auto &bystander : bystanders) {
                if (!bystander->waitFor(u"error"_s, nullptr, 0,
                                        [](const QJsonObject &m) { return m["id"_L1] == "probe"_L1; }))
                    return false;
            }
            bystandersFirst = std::none_of(other.received.begin() + firstPart, other.received.end(),
                                           [&](const QJsonObject &m) { return m["type"_L1] == "outcome"_L1; });
            const auto outcome
                = other.waitFor([&](const QJsonObject &m) { return m["id"_L1] == id && m["type"_L1] == "outcome"_L1; },
                                &madeAt, firstPart);
            if (!outcome)
                return false;
            made = *outcome;
            return made["ok"_L1].toBool();
        },
        90000));
    QVERIFY(made["bytes"_L1].toInteger() > 16 * 1024 * 1024);
    QVERIFY2(bystandersFirst, "the other feeds were answered only after the whole backup");
    {
        Database elsewhere;
        QVERIFY(elsewhere.open(m_dir.filePath(u"gatehouse.sqlite"_s)));
        QVERIFY(QSqlQuery(elsewhere.connection()).exec(u"DROP TABLE test_filler"_s));
    }
}

void TestAdminFeed::refusedBeforeTheUpgrade()
{
    const QString address = m_server->listenAddress();
    QCOMPARE(upgradeStatus(address, {}), 401);
    QCOMPARE(upgradeStatus(address, "Authorization: Bearer gha_not_a_token\r\n"), 401);
    // In the query, where logs would keep it: not taken.
    QCOMPARE(upgradeStatus(address, {}, "?access_token=" + m_full), 401);
    // A user's access token is not an admin token.
    QCOMPARE(upgradeStatus(address, "Authorization: Bearer " + loginToken(u"x"_s) + "\r\n"), 401);
    QCOMPARE(upgradeStatus(address, "Authorization: Bearer " + m_full + "\r\nOrigin: https://evil.example\r\n"), 403);
    QCOMPARE(upgradeStatus(address, "Authorization: Bearer " + m_full + "\r\n"), 101);
}

void TestAdminFeed::aSnapshotThenTheChanges()
{
    Feed feed(m_server->listenAddress(), m_viewer);
    const auto hello = feed.waitFor(u"hello"_s);
    QVERIFY(hello);
    QCOMPARE((*hello)["admin"_L1].toString(), u"room"_s);
    QCOMPARE((*hello)["scope"_L1].toString(), u"viewer"_s);
    qsizetype at = 0;
    const auto snapshot = feed.waitFor(u"snapshot"_s, &at);
    QVERIFY(snapshot);
    QCOMPARE(feed.received.first()["type"_L1].toString(), u"hello"_s);
    const auto users = (*snapshot)["users"_L1].toArray();
    QVERIFY(
        std::any_of(users.begin(), users.end(), [](const QJsonValue &u) { return u["username"_L1] == "alice"_L1; }));
    QVERIFY((*snapshot)["policy"_L1].toObject().contains("access_token_ttl"_L1));
    QVERIFY((*snapshot)["statistics"_L1].toObject().contains("listen_addresses"_L1));
    QVERIFY(feed.waitFor(u"connections"_s));

    // A user connects: the feed says so within its 100 ms coalescing, and then statistics.
    auto alice = connectUser(u"feed-laptop"_s);
    QVERIFY(alice);
    const auto opened = feed.waitFor(u"connections_changed"_s, nullptr, at, [](const QJsonObject &m) {
        const auto list = m["opened"_L1].toArray();
        return std::any_of(list.begin(), list.end(),
                           [](const QJsonValue &c) { return c["device"_L1] == "feed-laptop"_L1; });
    });
    QVERIFY(opened);
    QVERIFY(feed.waitFor(u"sessions_changed"_s, nullptr, at));
    QVERIFY(feed.waitFor(u"audit_appended"_s, nullptr, at));
    QVERIFY(feed.waitFor(u"statistics"_s, nullptr, at));
    alice->close();
    QVERIFY(feed.waitFor(u"connections_changed"_s, nullptr, at, [](const QJsonObject &m) {
        const auto list = m["closed"_L1].toArray();
        return std::any_of(list.begin(), list.end(),
                           [](const QJsonValue &c) { return c["device"_L1] == "feed-laptop"_L1; });
    }));
}

void TestAdminFeed::actionsAreCheckedAgainstTheScope()
{
    auto alice = connectUser(u"scoped"_s);
    QVERIFY(alice);
    Feed viewer(m_server->listenAddress(), m_viewer);
    Feed operatorFeed(m_server->listenAddress(), m_operator);
    Feed full(m_server->listenAddress(), m_full);
    QVERIFY(viewer.waitFor(u"snapshot"_s) && operatorFeed.waitFor(u"snapshot"_s) && full.waitFor(u"snapshot"_s));
    const auto connections = operatorFeed.waitFor(u"connections"_s, nullptr, 0, [](const QJsonObject &m) {
        const auto list = m["connections"_L1].toArray();
        return std::any_of(list.begin(), list.end(), [](const QJsonValue &c) { return c["device"_L1] == "scoped"_L1; });
    });
    QVERIFY(connections);
    QString id;
    for (const auto connection : (*connections)["connections"_L1].toArray()) {
        if (connection["device"_L1] == "scoped"_L1)
            id = connection["id"_L1].toString();
    }

    // A viewer's disconnect is refused and does nothing.
    viewer.send({ { "type"_L1, "action"_L1 },
                  { "id"_L1, "v1"_L1 },
                  { "action"_L1, "disconnect_connection"_L1 },
                  { "connection"_L1, id } });
    const auto refused = viewer.waitFor(u"error"_s);
    QVERIFY(refused);
    QCOMPARE((*refused)["id"_L1].toString(), u"v1"_s);
    QCOMPARE((*refused)["error"_L1].toString(), u"insufficient_scope"_s);
    QVERIFY((*refused)["error_description"_L1].toString().startsWith(u"viewer: read only"_s));
    QTest::qWait(200);
    QCOMPARE(alice->state(), QAbstractSocket::ConnectedState);

    // An operator may not change the limits; the full token may.
    operatorFeed.send({ { "type"_L1, "action"_L1 },
                        { "id"_L1, 7 },
                        { "action"_L1, "set_limits"_L1 },
                        { "limits"_L1, QJsonObject { { "max_connections"_L1, 5000 } } } });
    const auto notAllowed = operatorFeed.waitFor(u"error"_s);
    QVERIFY(notAllowed);
    QCOMPARE((*notAllowed)["id"_L1].toInt(), 7);
    QVERIFY((*notAllowed)["error_description"_L1].toString().startsWith(u"operator: "_s));
    full.send({ { "type"_L1, "action"_L1 },
                { "id"_L1, "f1"_L1 },
                { "action"_L1, "set_limits"_L1 },
                { "limits"_L1, QJsonObject { { "max_connections"_L1, 5000 } } } });
    const auto limitsSet = full.waitFor(u"outcome"_s);
    QVERIFY(limitsSet);
    QCOMPARE((*limitsSet)["ok"_L1].toBool(), true);
    QCOMPARE((*limitsSet)["limits"_L1].toObject()["max_connections"_L1].toInt(), 5000);
    QVERIFY(viewer.waitFor(u"limits_changed"_s)); // every feed hears of it

    // The operator disconnects: the outcome says what it did, the user hears 4000, the audit
    // names the token.
    operatorFeed.send({ { "type"_L1, "action"_L1 },
                        { "id"_L1, "o1"_L1 },
                        { "action"_L1, "disconnect_connection"_L1 },
                        { "connection"_L1, id } });
    const auto outcome = operatorFeed.waitFor(u"outcome"_s);
    QVERIFY(outcome);
    QCOMPARE((*outcome)["id"_L1].toString(), u"o1"_s);
    QCOMPARE((*outcome)["ok"_L1].toBool(), true);
    QCOMPARE((*outcome)["affected"_L1].toInt(), 1);
    QVERIFY((*outcome)["elapsed_ms"_L1].toDouble() < 1000);
    QTRY_COMPARE(alice->state(), QAbstractSocket::UnconnectedState);
    QCOMPARE(int(alice->closeCode()), 4000);
    QVERIFY(viewer.waitFor(u"audit_appended"_s, nullptr, 0, [](const QJsonObject &m) {
        const auto events = m["events"_L1].toArray();
        return std::any_of(events.begin(), events.end(), [](const QJsonValue &e) {
            return e["type"_L1] == "admin_disconnected_connection"_L1 && e["actor"_L1] == "admin:ops"_L1;
        });
    }));
}

void TestAdminFeed::usersKeysAndTheAuditOverTheFeed()
{
    Feed viewer(m_server->listenAddress(), m_viewer);
    Feed operatorFeed(m_server->listenAddress(), m_operator);
    Feed full(m_server->listenAddress(), m_full);
    QVERIFY(viewer.waitFor(u"snapshot"_s) && operatorFeed.waitFor(u"snapshot"_s) && full.waitFor(u"snapshot"_s));
    const QJsonObject addBob { { "action"_L1, "add_user"_L1 },
                               { "username"_L1, "bob"_L1 },
                               { "password"_L1, "bob's long password"_L1 },
                               { "display_name"_L1, "Bob Builder"_L1 },
                               { "roles"_L1, QJsonArray { "user"_L1, "editor"_L1 } } };
    // Users are the full token's: the viewer and the operator are refused, and say why.
    QCOMPARE(ask(viewer, u"u1"_s, addBob)["error"_L1].toString(), u"insufficient_scope"_s);
    QCOMPARE(ask(operatorFeed, u"u2"_s, addBob)["error"_L1].toString(), u"insufficient_scope"_s);
    const QJsonObject added = ask(full, u"u3"_s, addBob);
    QVERIFY2(added["ok"_L1].toBool(), qPrintable(added["error"_L1].toString()));
    QCOMPARE(added["user"_L1]["username"_L1].toString(), u"bob"_s);
    QCOMPARE(added["user"_L1]["roles"_L1].toArray().size(), 2);
    QVERIFY(viewer.waitFor(u"users_changed"_s, nullptr, 0, [](const QJsonObject &m) {
        const auto users = m["users"_L1].toArray();
        return std::any_of(users.begin(), users.end(),
                           [](const QJsonValue &u) { return u["username"_L1] == "bob"_L1; });
    }));
    QVERIFY(passwordLogin(m_network, m_server->listenAddress(), u"bob"_s, u"d"_s, u"bob's long password"_s).status
            == 200);
    // Adding bob again fails with the directory's sentence, not a crash or a silent success.
    const QJsonObject again = ask(full, u"u4"_s, addBob);
    QCOMPARE(again["ok"_L1].toBool(), false);
    QVERIFY(!again["error"_L1].toString().isEmpty());

    QVERIFY(ask(full, u"u5"_s,
                { { "action"_L1, "set_roles"_L1 },
                  { "username"_L1, "bob"_L1 },
                  { "roles"_L1, QJsonArray { "ops"_L1 } } })["ok"_L1]
                .toBool());
    QVERIFY(ask(full, u"u6"_s,
                { { "action"_L1, "set_password"_L1 },
                  { "username"_L1, "bob"_L1 },
                  { "password"_L1, "another long password"_L1 } })["ok"_L1]
                .toBool());
    QCOMPARE(passwordLogin(m_network, m_server->listenAddress(), u"bob"_s, u"d"_s, u"bob's long password"_s).status,
             401);
    const QJsonObject disabled
        = ask(full, u"u7"_s,
              { { "action"_L1, "set_user_enabled"_L1 }, { "username"_L1, "bob"_L1 }, { "enabled"_L1, false } });
    QVERIFY(disabled["ok"_L1].toBool());
    QCOMPARE(disabled["user"_L1]["enabled"_L1].toBool(), false);
    QVERIFY(passwordLogin(m_network, m_server->listenAddress(), u"bob"_s, u"d"_s, u"another long password"_s).status
            != 200);

    // Hostile members: the wrong types, sizes and extras are refused before anything is done.
    const auto errorOf
        = [&](const QString &id, const QJsonObject &action) { return ask(full, id, action)["error"_L1].toString(); };
    QCOMPARE(
        errorOf(u"h1"_s,
                { { "action"_L1, "set_user_enabled"_L1 }, { "username"_L1, "bob"_L1 }, { "enabled"_L1, "no"_L1 } }),
        u"bad_message"_s);
    QCOMPARE(
        errorOf(u"h2"_s, { { "action"_L1, "set_roles"_L1 }, { "username"_L1, "bob"_L1 }, { "roles"_L1, "admin"_L1 } }),
        u"bad_message"_s);
    QCOMPARE(
        errorOf(u"h3"_s,
                { { "action"_L1, "set_roles"_L1 }, { "username"_L1, "bob"_L1 }, { "roles"_L1, QJsonArray { 1 } } }),
        u"bad_message"_s);
    QCOMPARE(errorOf(u"h4"_s,
                     { { "action"_L1, "set_password"_L1 },
                       { "username"_L1, "bob"_L1 },
                       { "password"_L1, QString(1025, u'p') } }),
             u"bad_message"_s);
    QCOMPARE(errorOf(u"h5"_s, { { "action"_L1, "add_user"_L1 }, { "username"_L1, "carol"_L1 } }), u"bad_message"_s);
    QCOMPARE(errorOf(u"h6"_s,
                     { { "action"_L1, "add_user"_L1 },
                       { "username"_L1, "carol"_L1 },
                       { "password"_L1, "a long password"_L1 },
                       { "admin"_L1, true } }),
             u"bad_message"_s);
    // A username the directory refuses: an outcome that failed, with its sentence.
    const QJsonObject badName = ask(
        full, u"h7"_s,
        { { "action"_L1, "add_user"_L1 }, { "username"_L1, "ca rol\n"_L1 }, { "password"_L1, "a long password"_L1 } });
    QCOMPARE(badName["ok"_L1].toBool(), false);
    QVERIFY(!badName["error"_L1].toString().isEmpty());

    // Keys: the full token rotates, every feed hears of the new key.
    QCOMPARE(ask(operatorFeed, u"k1"_s, { { "action"_L1, "rotate_signing_key"_L1 } })["error"_L1].toString(),
             u"insufficient_scope"_s);
    // Twice at once: the second finds the first under way; the server says so and serves on
    // (it once stopped on it).
    full.send({ { "type"_L1, "action"_L1 }, { "id"_L1, "k3"_L1 }, { "action"_L1, "rotate_signing_key"_L1 } });
    QVERIFY(ask(full, u"k2"_s, { { "action"_L1, "rotate_signing_key"_L1 } })["ok"_L1].toBool());
    QVERIFY(viewer.waitFor(u"signing_keys_changed"_s));
    QTest::qWait(300);
    QCOMPARE(m_server->state(), ServerState::Running);

    // Verifying the audit chain is reading: a viewer may.
    const QJsonObject verified = ask(viewer, u"a1"_s, { { "action"_L1, "verify_audit"_L1 } });
    QVERIFY(verified["ok"_L1].toBool());
    QCOMPARE(verified["verification"_L1]["intact"_L1].toBool(), true);
    QVERIFY(verified["verification"_L1]["events"_L1].toInt() > 0);
    // Each change is audited with the token's name.
    QVERIFY(viewer.waitFor(u"audit_appended"_s, nullptr, 0, [](const QJsonObject &m) {
        const auto events = m["events"_L1].toArray();
        return std::any_of(events.begin(), events.end(), [](const QJsonValue &e) {
            return e["actor"_L1] == "admin:admin"_L1 && e["username"_L1] == "bob"_L1;
        });
    }));
}

void TestAdminFeed::hostileMessagesAreAnsweredAndTheFeedGoesOn()
{
    Feed feed(m_server->listenAddress(), m_operator);
    QVERIFY(feed.waitFor(u"snapshot"_s));
    const QList<std::pair<QByteArray, QString>> hostile {
        { "not json", u"bad_message"_s },
        { "[1,2]", u"bad_message"_s },
        { R"({"type":"action","id":"a","action":"revoke_user"})", u"bad_message"_s }, // no user
        { R"({"type":"action","id":"a","action":"revoke_user","user":""})", u"bad_message"_s },
        { R"({"type":"action","id":"a","action":"revoke_user","user":7})", u"bad_message"_s },
        { R"({"type":"action","id":"a","action":"revoke_user","user":"alice","extra":1})", u"bad_message"_s },
        { R"({"type":"action","id":"a","action":"disconnect_connection","connection":"12x"})", u"bad_message"_s },
        { R"({"type":"action","id":"a","action":"shutdown"})", u"unknown_action"_s },
        { R"({"type":"action","id":{"x":1},"action":"revoke_user","user":"alice"})", u"bad_message"_s },
        { R"({"type":"action","id":")" + QByteArray(65, 'i') + R"(","action":"revoke_user","user":"alice"})",
          u"bad_message"_s },
        { R"({"type":"action","id":"a","action":"revoke_user","user":"alice","user":"bob"})", u"bad_message"_s },
        { R"({"type":"subscribe"})", u"bad_message"_s },
        { R"({"type":"action","id":"a","action":"revoke_user","user":")" + QByteArray(300, 'u') + R"("})",
          u"bad_message"_s },
    };
    for (const auto &[text, error] : hostile) {
        const qsizetype before = feed.received.size();
        feed.socket->sendTextMessage(QString::fromUtf8(text));
        const auto answer = feed.waitFor(u"error"_s, nullptr, before);
        QVERIFY2(answer, text.constData());
        QCOMPARE((*answer)["error"_L1].toString(), error);
        QVERIFY(!(*answer)["error_description"_L1].toString().isEmpty());
    }
    // Still a feed: a good action after all of that is carried out.
    const qsizetype before = feed.received.size();
    feed.send({ { "type"_L1, "action"_L1 },
                { "id"_L1, "ok"_L1 },
                { "action"_L1, "broadcast"_L1 },
                { "payload"_L1, QJsonObject { { "notice"_L1, "hello"_L1 } } } });
    const auto outcome = feed.waitFor(u"outcome"_s, nullptr, before);
    QVERIFY(outcome);
    QCOMPARE((*outcome)["ok"_L1].toBool(), true);
    QCOMPARE(feed.socket->state(), QAbstractSocket::ConnectedState);
}

void TestAdminFeed::wrongFramesCloseTheFeed()
{
    // What is wrong at the WebSocket level ends it, as on /ws: a binary frame (1008), a message
    // over the size limit (1009).
    Feed binary(m_server->listenAddress(), m_viewer);
    QVERIFY(binary.waitFor(u"snapshot"_s));
    binary.socket->sendBinaryMessage("\x01\x02");
    QTRY_VERIFY(binary.closedWith(1008));
    Feed big(m_server->listenAddress(), m_viewer);
    QVERIFY(big.waitFor(u"snapshot"_s));
    big.socket->sendTextMessage(QString(100 * 1024, u'x'));
    QTRY_VERIFY(big.closedWith(1009));
}

void TestAdminFeed::aRevokedTokenClosesItsFeedAtOnce()
{
    Feed operatorFeed(m_server->listenAddress(), m_operator);
    Feed full(m_server->listenAddress(), m_full);
    QVERIFY(operatorFeed.waitFor(u"snapshot"_s) && full.waitFor(u"snapshot"_s));
    {
        Database database;
        QVERIFY(database.open(m_dir.filePath(u"gatehouse.sqlite"_s)));
        QCOMPARE(AdminTokenRegistry(database).revoke(u"ops"_s).value(), true);
    }
    // Within the server's second of following its store.
    QTRY_VERIFY_WITH_TIMEOUT(operatorFeed.closedWith(4003), 3000);
    QCOMPARE(full.socket->state(), QAbstractSocket::ConnectedState);
    QCOMPARE(upgradeStatus(m_server->listenAddress(), "Authorization: Bearer " + m_operator + "\r\n"), 401);
}

void TestAdminFeed::feedsOpenedInALoopAreSlowed()
{
    // Each feed costs the control thread a snapshot: a loop of opens is refused with 429 like
    // a reconnect storm (handshake_rate_per_ip: 50 a second, 100 at once), before any is built.
    int rateLimited = 0;
    for (int attempt = 0; attempt < 150 && rateLimited == 0; ++attempt)
        rateLimited += upgradeStatus(m_server->listenAddress(), "Authorization: Bearer " + m_viewer + "\r\n") == 429;
    QVERIFY(rateLimited > 0);
}

QTEST_MAIN(TestAdminFeed)
#include "tst_adminfeed.moc"
