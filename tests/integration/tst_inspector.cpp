// The live message inspector against real servers on 127.0.0.1: a real client's messages come
// through in order, in and out, with their types and sizes; payloads only where the server's
// configuration allows them (and cut at 4 KiB); stopping the inspector or closing the
// connection ends the flow; a flood is counted, not queued without end; every opening and
// closing is audited; and the admin feed offers the same to scripts, checked like its other
// actions, hostile ones included.
#include "SessionServer.h"
#include "admin/AdminTokens.h"
#include "core/Clock.h"
#include "identity/UserDirectory.h"
#include "store/Database.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QWebSocket>

#include "AdminFeedClient.h"
#include "PasswordLogin.h"

using namespace Qt::StringLiterals;

namespace {
/// A server in its own directory, with alice and a viewer's admin token, and `config` as its
/// gatehouse.json.
struct Server {
    QTemporaryDir dir;
    std::unique_ptr<SessionServer> server;
    QByteArray viewerToken;
    QList<InspectionBatch> batches; ///< every batch the facade reported, in order

    explicit Server(const QByteArray &config)
    {
        {
            Database database;
            if (!database.open(dir.filePath(u"gatehouse.sqlite"_s)))
                return;
            SystemClock clock;
            if (!UserDirectory(database, clock).add(u"alice"_s, {}, "a long password", {}).ok())
                return;
            viewerToken = AdminTokenRegistry(database).add(u"room"_s, AdminScope::Viewer, 1).value();
        }
        QFile file(dir.filePath(u"gatehouse.json"_s));
        if (!config.isEmpty() && file.open(QIODevice::WriteOnly))
            file.write(config);
        file.close();
        server = std::make_unique<SessionServer>(SessionServerOptions { dir.path(), {}, u"127.0.0.1:0"_s, u"file"_s });
        QObject::connect(server.get(), &ServerFacade::inspected, server.get(),
                         [this](const InspectionBatch &batch) { batches.append(batch); });
        server->start();
    }
    bool running()
    {
        return QTest::qWaitFor([&] { return server->state() == ServerState::Running; }, 20000);
    }

    /// The messages reported for `connection` so far, in order.
    QList<InspectedMessage> messagesOf(quint64 connection) const
    {
        QList<InspectedMessage> messages;
        for (const auto &batch : batches) {
            if (batch.connectionId == connection)
                messages += batch.messages;
        }
        return messages;
    }
    std::optional<InspectionBatch> endOf(quint64 connection) const
    {
        for (const auto &batch : batches) {
            if (batch.connectionId == connection && batch.ended)
                return batch;
        }
        return std::nullopt;
    }
    QList<AuditEvent> audit(const QString &type)
    {
        QList<AuditEvent> events;
        bool done = false;
        QObject context;
        AuditFilter filter;
        filter.type = type;
        server->queryAudit(filter, &context, [&](const QList<AuditEvent> &found) {
            events = found;
            done = true;
        });
        [[maybe_unused]] const bool answered = QTest::qWaitFor([&] { return done; }, 10000);
        return events;
    }
};

/// A user's WebSocket: everything it received, in order.
struct Client {
    std::unique_ptr<QWebSocket> socket = std::make_unique<QWebSocket>();
    QStringList received;
    quint64 id = 0; ///< its connection id on the server

    bool open(QNetworkAccessManager &network, SessionServer &server, const QString &device)
    {
        QObject::connect(socket.get(), &QWebSocket::textMessageReceived, socket.get(),
                         [this](const QString &text) { received.append(text); });
        const QByteArray token = passwordLogin(network, server.listenAddress(), u"alice"_s, device).accessToken();
        socket->open(QUrl(u"ws://"_s + server.listenAddress() + u"/ws?access_token="_s + QString::fromLatin1(token)));
        if (!QTest::qWaitFor([&] { return !received.isEmpty(); }, 10000))
            return false;
        QSignalSpy snapshot(&server, &ServerFacade::connectionsSnapshot);
        server.requestConnections();
        if (!snapshot.wait(10000))
            return false;
        for (const auto &connection : snapshot.first().first().value<QList<ConnectionInfo>>()) {
            if (connection.deviceId == device)
                id = connection.id;
        }
        return id != 0;
    }
    void send(const QByteArray &text) { socket->sendTextMessage(QString::fromUtf8(text)); }
};

AdminOutcome inspect(SessionServer &server, quint64 connection)
{
    AdminOutcome outcome;
    bool done = false;
    QObject context;
    server.inspectConnection(connection, &context, [&](const AdminOutcome &answer) {
        outcome = answer;
        done = true;
    });
    [[maybe_unused]] const bool answered = QTest::qWaitFor([&] { return done; }, 10000);
    return outcome;
}

using Feed = AdminFeedClient;
} // namespace

class TestInspector final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void messagesAppearInOrderWithoutPayloads();
    void stoppingEndsTheFlow();
    void theConnectionsCloseEndsIt();
    void aFloodIsCountedNotQueued();
    void payloadsOnlyWhereTheServerAllowsThem();
    void theFeedInspectsForScripts();
    void hostileInspectActions();
    void aClosedFeedClosesEachOfItsInspections();
    void whatAClientChoosesIsBounded();

private:
    QNetworkAccessManager m_network;
    std::unique_ptr<Server> m_hidden; ///< inspect_payloads off (the default)
    std::unique_ptr<Server> m_shown; ///< inspect_payloads on
};

void TestInspector::initTestCase()
{
    qRegisterMetaType<QList<ConnectionInfo>>();
    // A flood of 1 500 messages must reach the connection: the message rate is raised for it.
    m_hidden = std::make_unique<Server>(R"({"message_rate": 100000, "message_burst": 100000})");
    m_shown = std::make_unique<Server>(R"({"inspect_payloads": true})");
    QVERIFY(m_hidden->running());
    QVERIFY(m_shown->running());
}

void TestInspector::messagesAppearInOrderWithoutPayloads()
{
    Client client;
    QVERIFY(client.open(m_network, *m_hidden->server, u"inspected-laptop"_s));
    // Before the inspector opens, nothing is recorded.
    client.send(R"({"type":"ping"})");
    QTRY_COMPARE(client.received.size(), 2);
    const AdminOutcome opened = inspect(*m_hidden->server, client.id);
    QVERIFY2(opened.ok(), qPrintable(opened.error));
    client.send(R"({"type":"sync","payload":{"secret":"do not show"}})");
    client.send(R"({"type":"ping"})");
    client.send("not json at all");
    QTRY_COMPARE_WITH_TIMEOUT(m_hidden->messagesOf(client.id).size(), 5, 5000);
    const auto messages = m_hidden->messagesOf(client.id);
    const QList<std::pair<bool, QString>> expected {
        { false, u"sync"_s }, { false, u"ping"_s }, { true, u"pong"_s }, { false, QString() }, { true, u"error"_s }
    };
    for (qsizetype i = 0; i < expected.size(); ++i) {
        QCOMPARE(messages[i].outgoing, expected[i].first);
        QCOMPARE(messages[i].type, expected[i].second);
        QVERIFY(messages[i].payload.isEmpty()); // inspect_payloads is off
        QVERIFY(i == 0 || messages[i].atMs >= messages[i - 1].atMs);
    }
    QCOMPARE(messages[0].size, qint64(strlen(R"({"type":"sync","payload":{"secret":"do not show"}})")));
    QCOMPARE(messages[3].size, qint64(strlen("not json at all")));
    for (const auto &batch : std::as_const(m_hidden->batches))
        QVERIFY(!batch.payloads);

    const auto audit = m_hidden->audit(u"inspector_opened"_s);
    QVERIFY(!audit.isEmpty());
    QCOMPARE(audit.first().actor, m_hidden->server->actor());
    QCOMPARE(audit.first().username, u"alice"_s);
    QCOMPARE(audit.first().detail["connection"_L1].toString(), QString::number(client.id));
    QCOMPARE(audit.first().detail["payloads"_L1].toBool(), false);
    m_hidden->server->stopInspecting(client.id);
    QTRY_VERIFY(m_hidden->endOf(client.id));
}

void TestInspector::stoppingEndsTheFlow()
{
    Client client;
    QVERIFY(client.open(m_network, *m_hidden->server, u"stopped-laptop"_s));
    QVERIFY(inspect(*m_hidden->server, client.id).ok());
    // Opening again from the same console is the same inspection, not a second one.
    QVERIFY(inspect(*m_hidden->server, client.id).ok());
    client.send(R"({"type":"ping"})");
    QTRY_COMPARE(m_hidden->messagesOf(client.id).size(), 2);
    m_hidden->server->stopInspecting(client.id);
    QTRY_VERIFY(m_hidden->endOf(client.id));
    QVERIFY2(m_hidden->endOf(client.id)->reason.contains(u"closed by "_s + m_hidden->server->actor()),
             qPrintable(m_hidden->endOf(client.id)->reason));
    QCOMPARE(m_hidden->endOf(client.id)->closeCode, 0);
    // Messages after the stop are not reported.
    client.send(R"({"type":"ping"})");
    QTRY_COMPARE(client.received.size(), 3); // welcome, pong, pong
    QTest::qWait(300); // three batch intervals
    QCOMPARE(m_hidden->messagesOf(client.id).size(), 2);
    int opened = 0;
    for (const auto &event : m_hidden->audit(u"inspector_opened"_s))
        opened += event.detail["connection"_L1].toString() == QString::number(client.id);
    QCOMPARE(opened, 1);
    const auto closed = m_hidden->audit(u"inspector_closed"_s);
    QVERIFY(std::any_of(closed.begin(), closed.end(), [&](const AuditEvent &event) {
        return event.detail["connection"_L1].toString() == QString::number(client.id)
            && event.detail["reason"_L1].toString() == u"closed by "_s + m_hidden->server->actor();
    }));
}

void TestInspector::theConnectionsCloseEndsIt()
{
    Client client;
    QVERIFY(client.open(m_network, *m_hidden->server, u"closing-laptop"_s));
    QVERIFY(inspect(*m_hidden->server, client.id).ok());
    client.send(R"({"type":"ping"})");
    // The pong is in before the close: a pong still on its way when the client closes and
    // goes can meet a reset that ends the connection as 1006 before its close frame is read.
    QTRY_COMPARE(client.received.size(), 2);
    client.socket->close(QWebSocketProtocol::CloseCodeNormal);
    QTRY_VERIFY(m_hidden->endOf(client.id));
    QCOMPARE(m_hidden->endOf(client.id)->closeCode, 1000);
    QCOMPARE(m_hidden->messagesOf(client.id).size(), 2); // what passed before the close came first
    QTRY_VERIFY(std::ranges::any_of(m_hidden->audit(u"inspector_closed"_s), [&](const AuditEvent &event) {
        return event.detail["connection"_L1].toString() == QString::number(client.id)
            && event.detail["reason"_L1].toString().contains(u"1000"_s);
    }));
    // A closed connection cannot be inspected.
    const AdminOutcome again = inspect(*m_hidden->server, client.id);
    QVERIFY(!again.ok());
    QVERIFY(again.error.contains(u"no live connection"_s));
}

void TestInspector::aFloodIsCountedNotQueued()
{
    Client client;
    QVERIFY(client.open(m_network, *m_hidden->server, u"flooding-laptop"_s));
    QVERIFY(inspect(*m_hidden->server, client.id).ok());
    const qsizetype before = m_hidden->batches.size();
    // Within the message rate's burst or not, every frame that reaches the connection counts.
    for (int i = 0; i < 1500; ++i)
        client.send(R"({"type":"sync","payload":1})");
    QVERIFY(QTest::qWaitFor(
        [&] {
            qint64 counted = 0;
            for (qsizetype i = before; i < m_hidden->batches.size(); ++i)
                counted += m_hidden->batches[i].messages.size() + m_hidden->batches[i].dropped;
            return counted >= 1500;
        },
        10000));
    for (qsizetype i = before; i < m_hidden->batches.size(); ++i)
        QVERIFY(m_hidden->batches[i].messages.size() <= InspectionBatch::maximumMessages);
    qint64 dropped = 0;
    for (qsizetype i = before; i < m_hidden->batches.size(); ++i)
        dropped += m_hidden->batches[i].dropped;
    QVERIFY2(dropped > 0, "1500 messages at once fit no batch");
    m_hidden->server->stopInspecting(client.id);
    QTRY_VERIFY(m_hidden->endOf(client.id));
}

void TestInspector::payloadsOnlyWhereTheServerAllowsThem()
{
    Client client;
    QVERIFY(client.open(m_network, *m_shown->server, u"open-laptop"_s));
    QVERIFY(inspect(*m_shown->server, client.id).ok());
    const QByteArray small = R"({"type":"sync","payload":{"note":"grüße"}})";
    // Over 4 KiB, with a two-byte character where the cut falls.
    const QByteArray large = R"({"type":"sync","payload":")" + QByteArray(4070, 'a') + "\xc3\xa9\xc3\xa9\xc3\xa9"
        + QByteArray(100, 'b') + R"("})";
    client.send(small);
    client.send(large);
    QTRY_COMPARE(m_shown->messagesOf(client.id).size(), 2);
    const auto messages = m_shown->messagesOf(client.id);
    QCOMPARE(messages[0].payload, small);
    QVERIFY(!messages[0].truncated);
    QCOMPARE(messages[1].size, large.size());
    QVERIFY(messages[1].truncated);
    QVERIFY(messages[1].payload.size() <= InspectedMessage::maximumPayload);
    QVERIFY(messages[1].payload.size() >= InspectedMessage::maximumPayload - 3);
    QVERIFY(large.startsWith(messages[1].payload));
    QCOMPARE(QString::fromUtf8(messages[1].payload).toUtf8(), messages[1].payload); // no character cut in two
    QVERIFY(m_shown->batches.last().payloads);
    const auto audit = m_shown->audit(u"inspector_opened"_s);
    QVERIFY(!audit.isEmpty());
    QCOMPARE(audit.first().detail["payloads"_L1].toBool(), true);
    m_shown->server->stopInspecting(client.id);
}

void TestInspector::theFeedInspectsForScripts()
{
    Client client;
    QVERIFY(client.open(m_network, *m_shown->server, u"scripted-laptop"_s));
    const QString id = QString::number(client.id);
    Feed feed(m_shown->server->listenAddress(), m_shown->viewerToken);
    QVERIFY(feed.waitFor([](const QJsonObject &m) { return m["type"_L1] == "snapshot"_L1; }));
    // A viewer may inspect: reading is every scope's.
    feed.send(
        { { "type"_L1, "action"_L1 }, { "id"_L1, "i1"_L1 }, { "action"_L1, "inspect"_L1 }, { "connection"_L1, id } });
    const auto opened = feed.answerTo(u"i1"_s);
    QVERIFY(opened);
    QVERIFY2((*opened)["ok"_L1].toBool(), qPrintable((*opened)["error"_L1].toString()));
    QCOMPARE((*opened)["payloads"_L1].toBool(), true);
    QCOMPARE((*opened)["user"_L1].toString(), u"alice"_s);
    QCOMPARE((*opened)["audit_type"_L1].toString(), u"inspector_opened"_s);
    client.send(R"({"type":"sync","payload":[1,2,3]})");
    client.send(R"({"type":"ping"})");
    QTRY_COMPARE(feed.inspected(id).size(), 3);
    const QJsonArray messages = feed.inspected(id);
    QCOMPARE(messages[0]["direction"_L1].toString(), u"in"_s);
    QCOMPARE(messages[0]["type"_L1].toString(), u"sync"_s);
    QCOMPARE(messages[0]["payload"_L1].toString(), u"{\"type\":\"sync\",\"payload\":[1,2,3]}"_s);
    QCOMPARE(messages[2]["direction"_L1].toString(), u"out"_s);
    QCOMPARE(messages[2]["type"_L1].toString(), u"pong"_s);
    const auto audit = m_shown->audit(u"inspector_opened"_s);
    QVERIFY(std::ranges::any_of(audit, [&](const AuditEvent &event) {
        return event.actor == "admin:room"_L1 && event.detail["connection"_L1].toString() == id;
    }));

    feed.send({ { "type"_L1, "action"_L1 },
                { "id"_L1, "i2"_L1 },
                { "action"_L1, "stop_inspecting"_L1 },
                { "connection"_L1, id } });
    QVERIFY(feed.answerTo(u"i2"_s).value()["ok"_L1].toBool());
    QVERIFY(feed.waitFor(
        [&](const QJsonObject &m) { return m["type"_L1] == "inspection_ended"_L1 && m["connection"_L1] == id; }));
    client.send(R"({"type":"ping"})");
    QTest::qWait(300);
    QCOMPARE(feed.inspected(id).size(), 3);

    // A feed that closes closes its inspections, audited.
    feed.send(
        { { "type"_L1, "action"_L1 }, { "id"_L1, "i3"_L1 }, { "action"_L1, "inspect"_L1 }, { "connection"_L1, id } });
    QVERIFY(feed.answerTo(u"i3"_s).value()["ok"_L1].toBool());
    feed.socket->close();
    QTRY_VERIFY(std::ranges::any_of(m_shown->audit(u"inspector_closed"_s), [&](const AuditEvent &event) {
        return event.actor == "admin:room"_L1 && event.detail["reason"_L1] == "the admin feed closed"_L1;
    }));
}

void TestInspector::hostileInspectActions()
{
    Feed feed(m_hidden->server->listenAddress(), m_hidden->viewerToken);
    QVERIFY(feed.waitFor([](const QJsonObject &m) { return m["type"_L1] == "snapshot"_L1; }));
    const auto errorOf = [&](const QString &id, const QJsonObject &action) {
        QJsonObject message = action;
        message.insert("type"_L1, "action"_L1);
        message.insert("id"_L1, id);
        feed.send(message);
        const auto answer = feed.answerTo(id);
        return answer ? (*answer)["error"_L1].toString() : u"(no answer)"_s;
    };
    QCOMPARE(errorOf(u"h1"_s, { { "action"_L1, "inspect"_L1 } }), u"bad_message"_s);
    QCOMPARE(errorOf(u"h2"_s, { { "action"_L1, "inspect"_L1 }, { "connection"_L1, "one"_L1 } }), u"bad_message"_s);
    QCOMPARE(errorOf(u"h3"_s, { { "action"_L1, "inspect"_L1 }, { "connection"_L1, 7 } }), u"bad_message"_s);
    QCOMPARE(errorOf(u"h4"_s, { { "action"_L1, "inspect"_L1 }, { "connection"_L1, "7"_L1 }, { "payloads"_L1, true } }),
             u"bad_message"_s);
    QCOMPARE(errorOf(u"h5"_s, { { "action"_L1, "inspect"_L1 }, { "connection"_L1, "-1"_L1 } }), u"bad_message"_s);
    // Only the feed's own spelling of an id: no leading zero, sign, space, or text after a NUL.
    for (const auto &spelling : { u"01"_s, u"+1"_s, u" 1"_s, u"1 "_s, QString(u"1\0tail"_s), u"0"_s })
        QCOMPARE(errorOf(u"h5-"_s + QString::number(qHash(spelling)),
                         { { "action"_L1, "inspect"_L1 }, { "connection"_L1, spelling } }),
                 u"bad_message"_s);
    // Well-formed, but no such connection, or not inspected by this feed: an outcome that failed.
    QCOMPARE(errorOf(u"h6"_s, { { "action"_L1, "inspect"_L1 }, { "connection"_L1, "999999"_L1 } }),
             u"no live connection 999999"_s);
    QCOMPARE(errorOf(u"h7"_s, { { "action"_L1, "stop_inspecting"_L1 }, { "connection"_L1, "999999"_L1 } }),
             u"this feed is not inspecting connection 999999"_s);
    // The feed goes on.
    feed.send({ { "type"_L1, "action"_L1 },
                { "id"_L1, "h8"_L1 },
                { "action"_L1, "inspect"_L1 },
                { "connection"_L1, "1"_L1 } });
    QVERIFY(feed.answerTo(u"h8"_s));
    QCOMPARE(feed.socket->state(), QAbstractSocket::ConnectedState);
}

void TestInspector::aClosedFeedClosesEachOfItsInspections()
{
    // Found by attacking it: closing a feed with several inspections erased from a hash while
    // walking it (a crash in a checked build, inspections left open in a release one).
    std::vector<std::unique_ptr<Client>> clients;
    for (int i = 0; i < 12; ++i) {
        clients.push_back(std::make_unique<Client>());
        QVERIFY(clients.back()->open(m_network, *m_hidden->server, u"many-%1"_s.arg(i)));
    }
    const auto closedBefore = m_hidden->audit(u"inspector_closed"_s).size();
    for (int round = 0; round < 3; ++round) {
        Feed feed(m_hidden->server->listenAddress(), m_hidden->viewerToken);
        QVERIFY(feed.waitFor([](const QJsonObject &m) { return m["type"_L1] == "snapshot"_L1; }));
        for (const auto &client : clients) {
            const QString id = u"r%1-%2"_s.arg(round).arg(client->id);
            feed.send({ { "type"_L1, "action"_L1 },
                        { "id"_L1, id },
                        { "action"_L1, "inspect"_L1 },
                        { "connection"_L1, QString::number(client->id) } });
            QVERIFY(feed.answerTo(id).value()["ok"_L1].toBool());
        }
        feed.socket->close();
        QTRY_COMPARE(m_hidden->audit(u"inspector_closed"_s).size(), closedBefore + 12 * (round + 1));
    }
    QCOMPARE(m_hidden->server->state(), ServerState::Running);
}

void TestInspector::whatAClientChoosesIsBounded()
{
    // The "type" is the client's text, shown even without payloads: a word, not a message.
    Client client;
    QVERIFY(client.open(m_network, *m_shown->server, u"bounded-laptop"_s));
    QVERIFY(inspect(*m_shown->server, client.id).ok());
    const QByteArray longType = R"({"type":")" + QByteArray(5000, 'S') + R"("})";
    client.send(longType);
    QTRY_VERIFY(!m_shown->messagesOf(client.id).isEmpty());
    const auto first = m_shown->messagesOf(client.id).first();
    QVERIFY2(first.type.size() <= InspectedMessage::maximumType + 1, qPrintable(QString::number(first.type.size())));
    QCOMPARE(first.size, longType.size());
    // Large messages: a batch carries at most maximumPayloadBytes of payload, the rest without.
    const QByteArray large = R"({"type":"sync","payload":")" + QByteArray(8000, 'x') + R"("})";
    const qsizetype before = m_shown->batches.size();
    for (int i = 0; i < 150; ++i)
        client.send(large);
    QVERIFY(QTest::qWaitFor(
        [&] {
            qint64 seen = 0;
            for (qsizetype i = before; i < m_shown->batches.size(); ++i)
                seen += m_shown->batches[i].messages.size() + m_shown->batches[i].dropped;
            return seen >= 150;
        },
        10000));
    for (qsizetype i = before; i < m_shown->batches.size(); ++i) {
        qsizetype payloadBytes = 0;
        for (const auto &message : m_shown->batches[i].messages)
            payloadBytes += message.payload.size();
        QVERIFY2(payloadBytes <= InspectionBatch::maximumPayloadBytes, qPrintable(QString::number(payloadBytes)));
    }
    m_shown->server->stopInspecting(client.id);
}

QTEST_GUILESS_MAIN(TestInspector)
#include "tst_inspector.moc"
