#pragma once

#include <QObject>
#include <QTimer>

#include <chrono>
#include <functional>

class WebSocketStream;

/// Finds the WebSockets of one I/O thread whose peer is gone, without a timer per connection.
/// A stream silent for the ping interval is pinged (RFC 6455 §5.5.2); one that sends nothing,
/// pong or otherwise, within the pong timeout is closed with 4008. Streams sit in two lists in
/// time order: "heard" (by when bytes last arrived) and "pinged" (by when the ping left).
/// Bytes received move a stream to the end of "heard" in constant time, and one timer per
/// thread looks at the fronts only: a sweep costs what is due, not what the thread holds, and
/// it yields to the thread's other events after every `streamsPerSlice` streams, so that a
/// revocation never waits behind thousands of pings.
class PingSweep final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(PingSweep)

public:
    struct Timing {
        std::chrono::milliseconds pingInterval { 25000 };
        std::chrono::milliseconds pongTimeout { 20000 };
    };
    /// Read at every sweep: a change applies to the open connections at once.
    using TimingSource = std::function<Timing()>;
    /// Milliseconds of a monotonic clock.
    using Now = std::function<qint64()>;
    /// Pinged or closed in one go; the rest after the thread's other events.
    static constexpr int streamsPerSlice = 256;

    /// A stream's place in the sweep; each stream holds one. It leaves the sweep when it is
    /// destroyed, and a sweep destroyed first lets go of every entry.
    class Entry final {
    public:
        Entry() = default;
        ~Entry();
        Q_DISABLE_COPY_MOVE(Entry)

        bool isWatched() const { return m_sweep != nullptr; }
        /// Bytes arrived: the peer is there.
        void heard();
        void leave();

    private:
        friend class PingSweep;
        PingSweep *m_sweep = nullptr;
        WebSocketStream *m_stream = nullptr;
        Entry *m_previous = nullptr;
        Entry *m_next = nullptr;
        qint64 m_sinceMs = 0; ///< when last heard from, or when pinged
        bool m_pinged = false;
    };

    /// `now` defaults to the steady clock; tests bring their own.
    explicit PingSweep(TimingSource timing, Now now = {}, QObject *parent = nullptr);
    ~PingSweep() override;

    /// Watches `stream` from now on, as just heard from.
    void watch(Entry &entry, WebSocketStream *stream);
    qsizetype count() const { return m_count; }
    /// Closes what did not answer in time, then pings what has been silent long enough, at
    /// most streamsPerSlice of them (then it runs again as soon as the thread's other events
    /// are served). The timer runs it while any stream is watched; public for tests.
    void sweep();

private:
    struct List {
        Entry *first = nullptr;
        Entry *last = nullptr;
    };

    void heard(Entry &entry);
    void forget(Entry &entry);
    void append(Entry &entry);
    void unlink(Entry &entry);
    List &listOf(const Entry &entry);
    void schedule(const Timing &timing, bool more = false);

    TimingSource m_timing;
    Now m_now;
    List m_heard;
    List m_pinged;
    qsizetype m_count = 0;
    QTimer m_timer;
};
