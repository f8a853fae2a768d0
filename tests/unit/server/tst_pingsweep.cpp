// PingSweep with its own clock: real WebSocketStreams on socketpairs, the test as their
// clients. Silent peers are pinged after the interval and closed with 4008 after the timeout;
// any byte answers; the order of the lists is the order of silence; settings change live.
#include "ws/PingSweep.h"
#include "ws/WebSocketStream.h"

#include <QPointer>
#include <QSignalSpy>
#include <QTest>

#include <memory>
#include <vector>

#include <sys/socket.h>
#include <unistd.h>

using namespace Qt::StringLiterals;
using namespace std::chrono_literals;

namespace {
/// One stream and the client end of its socketpair.
struct Peer {
    int client = -1;
    QPointer<WebSocketStream> stream;

    Peer()
    {
        int ends[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, ends) != 0)
            qFatal("socketpair failed");
        client = ends[0];
        stream = new WebSocketStream(StreamTransport(ends[1]), {}, {});
        stream->uncork();
    }
    ~Peer()
    {
        delete stream.data();
        ::close(client);
    }
    Q_DISABLE_COPY_MOVE(Peer)

    /// The opcodes (and close codes) of what the server wrote since the last call (the stream
    /// writes pings and closes at once: no event loop needed).
    QList<int> received()
    {
        QByteArray bytes(4096, Qt::Uninitialized);
        const auto size = ::recv(client, bytes.data(), size_t(bytes.size()), 0);
        QList<int> frames;
        for (qsizetype at = 0; size > 0 && at + 2 <= size;) {
            const int opcode = quint8(bytes[at]) & 0x0f;
            const qsizetype length = quint8(bytes[at + 1]) & 0x7f; // the server's control frames are short
            frames.append(opcode == 0x8 && length >= 2 ? (quint8(bytes[at + 2]) << 8 | quint8(bytes[at + 3])) : opcode);
            at += 2 + length;
        }
        return frames;
    }
    /// A masked text frame from the client, and the stream has read it.
    bool say(const QByteArray &text)
    {
        QSignalSpy spy(stream.data(), &WebSocketStream::textReceived);
        QByteArray frame { "\x81" };
        frame.append(char(0x80 | text.size()));
        frame.append(4, '\0'); // a zero mask: the payload as it is
        frame.append(text);
        return ::send(client, frame.constData(), size_t(frame.size()), 0) == frame.size() && spy.wait(5000);
    }
};

constexpr int ping = 0x9;
constexpr int pingTimeout = 4008;
} // namespace

class TestPingSweep final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void init();
    void silentPeerIsPingedThenClosed();
    void anyMessageAnswersThePing();
    void silenceIsServedInOrder();
    void settingsApplyAtOnce();
    void aSweepYieldsAfterASlice();
    void streamsLeaveWhenTheyEnd();
    void sweepMayGoFirst();

private:
    qint64 m_now = 1'000'000;
    PingSweep::Timing m_timing;
    std::unique_ptr<PingSweep> m_sweep;

    void at(std::chrono::milliseconds sinceStart)
    {
        m_now = 1'000'000 + sinceStart.count();
        m_sweep->sweep();
    }
};

void TestPingSweep::init()
{
    m_now = 1'000'000;
    m_timing = { 25s, 20s };
    m_sweep = std::make_unique<PingSweep>([this] { return m_timing; }, [this] { return m_now; });
}

void TestPingSweep::silentPeerIsPingedThenClosed()
{
    Peer peer;
    QSignalSpy disconnected(peer.stream.data(), &WebSocketStream::disconnected);
    peer.stream->setPingSweep(*m_sweep);
    QCOMPARE(m_sweep->count(), 1);
    at(24999ms);
    QCOMPARE(peer.received(), QList<int> {});
    at(25s);
    QCOMPARE(peer.received(), QList<int> { ping });
    at(44999ms);
    QCOMPARE(peer.received(), QList<int> {});
    at(45s);
    QCOMPARE(peer.received(), QList<int> { pingTimeout });
    QCOMPARE(disconnected.count(), 1);
    QCOMPARE(peer.stream->closeCode(), pingTimeout);
    QCOMPARE(m_sweep->count(), 0);
}

void TestPingSweep::anyMessageAnswersThePing()
{
    Peer peer;
    peer.stream->setPingSweep(*m_sweep);
    at(25s);
    QCOMPARE(peer.received(), QList<int> { ping });
    m_now += 5000; // at 30 s
    QVERIFY(peer.say("still here"));
    at(45s); // the ping's deadline, but it was answered
    at(54999ms);
    QCOMPARE(peer.received(), QList<int> {});
    QVERIFY(peer.stream->isOpen());
    at(55s); // 25 s after it was last heard from
    QCOMPARE(peer.received(), QList<int> { ping });
}

void TestPingSweep::silenceIsServedInOrder()
{
    Peer first, second, third;
    first.stream->setPingSweep(*m_sweep);
    m_now += 10'000;
    second.stream->setPingSweep(*m_sweep);
    third.stream->setPingSweep(*m_sweep);
    m_now += 5000;
    QVERIFY(second.say("hello")); // second: heard at 15 s, now the last in line
    at(25s);
    QCOMPARE(first.received(), QList<int> { ping });
    QCOMPARE(second.received(), QList<int> {});
    QCOMPARE(third.received(), QList<int> {});
    at(35s);
    QCOMPARE(third.received(), QList<int> { ping });
    QCOMPARE(second.received(), QList<int> {});
    at(40s);
    QCOMPARE(second.received(), QList<int> { ping });
    at(45s);
    QCOMPARE(first.received(), QList<int> { pingTimeout });
    QVERIFY(third.stream->isOpen() && second.stream->isOpen());
    at(55s);
    QCOMPARE(third.received(), QList<int> { pingTimeout });
    QVERIFY(second.stream->isOpen());
    QCOMPARE(m_sweep->count(), 1);
}

void TestPingSweep::settingsApplyAtOnce()
{
    Peer peer;
    peer.stream->setPingSweep(*m_sweep);
    at(5s);
    QCOMPARE(peer.received(), QList<int> {});
    m_timing = { 5s, 2s }; // an admin lowers both
    at(5s);
    QCOMPARE(peer.received(), QList<int> { ping });
    at(7s);
    QCOMPARE(peer.received(), QList<int> { pingTimeout });
}

void TestPingSweep::aSweepYieldsAfterASlice()
{
    // Thousands due at once (a burst of connections a ping interval ago): a slice at a time,
    // the thread's other events served in between.
    constexpr int peers = PingSweep::streamsPerSlice + 44;
    std::vector<std::unique_ptr<Peer>> all;
    for (int i = 0; i < peers; ++i) {
        all.push_back(std::make_unique<Peer>());
        all.back()->stream->setPingSweep(*m_sweep);
    }
    const auto pinged = [&] {
        int count = 0;
        for (const auto &peer : all)
            count += peer->received() == QList<int> { ping };
        return count;
    };
    at(25s);
    QCOMPARE(pinged(), PingSweep::streamsPerSlice);
    at(25s); // what the zero timer does next
    QCOMPARE(pinged(), 44);
    at(45s);
    QCOMPARE(m_sweep->count(), peers - PingSweep::streamsPerSlice);
    at(45s);
    QCOMPARE(m_sweep->count(), 0);
}

void TestPingSweep::streamsLeaveWhenTheyEnd()
{
    Peer closing, leaving;
    closing.stream->setPingSweep(*m_sweep);
    leaving.stream->setPingSweep(*m_sweep);
    QCOMPARE(m_sweep->count(), 2);
    closing.stream->close(WebSocketClose { 1000 }, {}); // closed by the server: lingering, not watched
    QCOMPARE(m_sweep->count(), 1);
    ::shutdown(leaving.client, SHUT_RDWR); // the client went away: the stream ends and deletes itself
    QTRY_VERIFY(leaving.stream.isNull());
    QCOMPARE(m_sweep->count(), 0);
    at(60s); // nothing left to ping or close
}

void TestPingSweep::sweepMayGoFirst()
{
    Peer peer;
    peer.stream->setPingSweep(*m_sweep);
    m_sweep.reset(); // the registry (and its sweep) may go before the streams it holds
    QVERIFY(peer.stream->isOpen());
    peer.stream->close(WebSocketClose { 1000 }, {});
}

QTEST_GUILESS_MAIN(TestPingSweep)
#include "tst_pingsweep.moc"
