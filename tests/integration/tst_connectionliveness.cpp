// Dead peers leave, floods stop: the server in-process with pings every second of silence, a
// 2 s pong timeout and 20 messages a second (burst 40), driven over real sockets by raw
// clients that keep silent, answer pings, or flood, and by QWebSocket as a library client.
#include "PasswordLogin.h"
#include "RawWebSocket.h"
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
#include <QTemporaryDir>
#include <QTest>
#include <QWebSocket>

#include <memory>
#include <optional>

using namespace Qt::StringLiterals;

namespace {
constexpr int textFrame = 0x1;
constexpr int pingFrame = 0x9;
constexpr int closeFrame = 0x8;
} // namespace

class TestConnectionLiveness final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void silentPeerIsPingedThenClosedWith4008();
    void answeringPeersStay();
    void aPeerThatNeverFinishesAFrameIsClosedWith4008();
    void vanishedPeersFreeTheirPlacesAndAreAudited();
    void floodIsClosedWith1008();
    void messagesUnderTheRatePass();

private:
    QByteArray token(const QString &username, const QString &device);
    /// Connections of `username` audited as timed out (m_audited: the events), -1 without an answer.
    qint64 timeoutsAudited(const QString &username);
    quint16 port() const { return m_server->listenAddress().section(u':', -1).toUShort(); }

    QTemporaryDir m_dir;
    std::unique_ptr<SessionServer> m_server;
    QNetworkAccessManager m_network;
    QList<AuditEvent> m_audited;
};

void TestConnectionLiveness::initTestCase()
{
    {
        Database database;
        QVERIFY(database.open(m_dir.filePath(u"gatehouse.sqlite"_s)));
        SystemClock clock;
        UserDirectory users(database, clock);
        for (const auto &name : { u"dora"_s, u"erin"_s, u"finn"_s, u"gus"_s })
            QVERIFY(users.add(name, {}, "a long password", {}).ok());
    }
    QFile config(m_dir.filePath(u"gatehouse.json"_s));
    QVERIFY(config.open(QIODevice::WriteOnly));
    // Two I/O threads: a user's connections may land on either, and each has its own sweep.
    config.write(R"({"ping_interval": 1, "pong_timeout": 2, "message_rate": 20, "message_burst": 40,
                    "max_connections_per_user": 2, "io_threads": 2})");
    config.close();
    m_server = std::make_unique<SessionServer>(SessionServerOptions { m_dir.path(), {}, u"127.0.0.1:0"_s, u"file"_s });
    m_server->start();
    QTRY_COMPARE_WITH_TIMEOUT(m_server->state(), ServerState::Running, 20000);
}

void TestConnectionLiveness::cleanupTestCase()
{
    m_server.reset();
}

QByteArray TestConnectionLiveness::token(const QString &username, const QString &device)
{
    return passwordLogin(m_network, m_server->listenAddress(), username, device).accessToken();
}

qint64 TestConnectionLiveness::timeoutsAudited(const QString &username)
{
    AuditFilter filter;
    filter.type = u"connection_timed_out"_s;
    filter.username = username;
    auto found = std::make_shared<std::optional<QList<AuditEvent>>>();
    m_server->queryAudit(filter, this, [found](const QList<AuditEvent> &events) { *found = events; });
    if (!QTest::qWaitFor([&] { return found->has_value(); }, 5000))
        return -1;
    m_audited = **found;
    qint64 count = 0;
    for (const auto &event : std::as_const(m_audited))
        count += event.detail["count"_L1].toInteger();
    return count;
}

void TestConnectionLiveness::silentPeerIsPingedThenClosedWith4008()
{
    RawWebSocket laptop; // closed without a FIN: it never answers again
    QVERIFY(laptop.upgrade(port(), token(u"dora"_s, u"laptop"_s)).startsWith("HTTP/1.1 101"));
    QCOMPARE(laptop.next().opcode, textFrame); // welcome
    QCOMPARE(laptop.next(5000).opcode, pingFrame);
    QElapsedTimer sincePing;
    sincePing.start();
    const auto closing = laptop.next(8000);
    QCOMPARE(closing.opcode, closeFrame);
    QCOMPARE(closing.closeCode(), 4008);
    QVERIFY2(closing.closeReason().contains("no answer to a ping within 2 s"), closing.closeReason().constData());
    QVERIFY2(sincePing.elapsed() >= 1500, "closed before the 2 s pong timeout");
    QTRY_COMPARE_WITH_TIMEOUT(laptop.socket.state(), QAbstractSocket::UnconnectedState, 5000);
}

void TestConnectionLiveness::aPeerThatNeverFinishesAFrameIsClosedWith4008()
{
    // A byte of a frame every 400 ms, never the whole frame: bytes, but no answer to a ping.
    RawWebSocket slow;
    QVERIFY(slow.upgrade(port(), token(u"dora"_s, u"dribble"_s)).startsWith("HTTP/1.1 101"));
    QCOMPARE(slow.next().opcode, textFrame); // welcome
    slow.socket.write("\x81\xfe\x10\x00"); // a masked text frame of 4096 bytes, begun
    QElapsedTimer elapsed;
    elapsed.start();
    while (slow.socket.state() == QAbstractSocket::ConnectedState && elapsed.elapsed() < 10000) {
        slow.socket.write("x");
        slow.socket.flush();
        QTest::qWait(400);
        slow.input += slow.socket.readAll();
    }
    slow.input += slow.socket.readAll();
    QCOMPARE(slow.socket.state(), QAbstractSocket::UnconnectedState);
    QVERIFY2(elapsed.elapsed() < 6000, "held open by a frame that never ends");
    QVERIFY(slow.input.contains("no answer to a ping"));
}

void TestConnectionLiveness::answeringPeersStay()
{
    const QByteArray bearer = token(u"erin"_s, u"desk"_s);
    RawWebSocket raw;
    raw.answerPings = true;
    QVERIFY(raw.upgrade(port(), bearer).startsWith("HTTP/1.1 101"));
    QCOMPARE(raw.next().opcode, textFrame);
    QWebSocket library; // answers pings by itself, as browsers do
    QNetworkRequest request(QUrl(u"ws://"_s + m_server->listenAddress() + u"/ws"_s));
    request.setRawHeader("Authorization", "Bearer " + bearer);
    QSignalSpy libraryPongs(&library, &QWebSocket::textMessageReceived);
    library.open(request);
    QVERIFY(libraryPongs.wait(5000)); // welcome
    QSignalSpy libraryClosed(&library, &QWebSocket::disconnected);
    // Six seconds of silence from both: several pings, each answered well within the timeout.
    QElapsedTimer held;
    held.start();
    while (held.elapsed() < 6000)
        QCOMPARE(raw.next(250).opcode, -1); // nothing but pings, answered inside next()
    QVERIFY2(raw.pingsSeen >= 3, QByteArray::number(raw.pingsSeen).constData());
    QCOMPARE(raw.socket.state(), QAbstractSocket::ConnectedState);
    QCOMPARE(libraryClosed.count(), 0);
    QCOMPARE(library.state(), QAbstractSocket::ConnectedState);
    library.close();
}

void TestConnectionLiveness::vanishedPeersFreeTheirPlacesAndAreAudited()
{
    // finn may hold two connections; two vanished laptops hold both until they are found out.
    const QByteArray bearer = token(u"finn"_s, u"laptop"_s);
    QSignalSpy changes(m_server.get(), &SessionServer::connectionsChanged);
    RawWebSocket first, second, third;
    QVERIFY(first.upgrade(port(), bearer).startsWith("HTTP/1.1 101"));
    QVERIFY(second.upgrade(port(), bearer).startsWith("HTTP/1.1 101"));
    QVERIFY(third.upgrade(port(), bearer).startsWith("HTTP/1.1 429"));
    const auto closedWith4008 = [&] {
        int count = 0;
        for (const auto &emission : std::as_const(changes)) {
            for (const auto &info : emission.at(1).value<QList<ConnectionInfo>>())
                count += info.user == UserKey::local(u"finn"_s) && info.closeCode == 4008;
        }
        return count;
    };
    QTRY_COMPARE_WITH_TIMEOUT(closedWith4008(), 2, 10000); // what the console's session tree shows
    RawWebSocket again;
    QVERIFY(again.upgrade(port(), bearer).startsWith("HTTP/1.1 101"));

    // One event per batch of closes: the user's two may come in one or in two.
    QTRY_COMPARE_WITH_TIMEOUT(timeoutsAudited(u"finn"_s), 2, 10000);
    QCOMPARE(m_audited.first().actor, u"system"_s);
    QCOMPARE(m_audited.first().deviceId, u"laptop"_s);
    QCOMPARE(m_audited.first().detail["close_code"_L1].toInt(), 4008);
}

void TestConnectionLiveness::floodIsClosedWith1008()
{
    RawWebSocket flood;
    QVERIFY(flood.upgrade(port(), token(u"gus"_s, u"script"_s)).startsWith("HTTP/1.1 101"));
    QCOMPARE(flood.next().opcode, textFrame);
    QByteArray burst;
    for (int i = 0; i < 100; ++i)
        burst += flood.frame(0x1, R"({"type":"ping"})");
    flood.socket.write(burst);
    int pongs = 0;
    RawWebSocket::Frame frame;
    while ((frame = flood.next()).opcode == textFrame)
        ++pongs;
    QCOMPARE(frame.opcode, closeFrame);
    QCOMPARE(frame.closeCode(), 1008);
    QCOMPARE(frame.closeReason(), QByteArray("more than 20 messages a second"));
    QVERIFY2(pongs >= 40 && pongs < 100, QByteArray::number(pongs).constData()); // the burst, and no more
}

void TestConnectionLiveness::messagesUnderTheRatePass()
{
    RawWebSocket steady;
    steady.answerPings = true;
    QVERIFY(steady.upgrade(port(), token(u"gus"_s, u"typist"_s)).startsWith("HTTP/1.1 101"));
    QCOMPARE(steady.next().opcode, textFrame);
    // 15 a second for four seconds: more than the burst in all, never over the rate.
    for (int i = 0; i < 60; ++i) {
        steady.send(0x1, R"({"type":"ping"})");
        QCOMPARE(steady.next().opcode, textFrame);
        QTest::qWait(1000 / 15);
    }
    QCOMPARE(steady.socket.state(), QAbstractSocket::ConnectedState);
}

QTEST_GUILESS_MAIN(TestConnectionLiveness)
#include "tst_connectionliveness.moc"
