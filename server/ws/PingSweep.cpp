#include "ws/PingSweep.h"

#include "ws/CloseCode.h"
#include "ws/WebSocketStream.h"

#include <algorithm>

using namespace Qt::StringLiterals;
using namespace std::chrono_literals;

namespace {
/// How often the sweep looks: a quarter of the shorter setting, within these bounds, so that a
/// ping or a close comes at most that late and an idle thread wakes at most once a second.
constexpr auto shortestPeriod = 100ms;
constexpr auto longestPeriod = 1000ms;

qint64 steadyMilliseconds()
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}
} // namespace

PingSweep::Entry::~Entry()
{
    leave();
}

void PingSweep::Entry::heard()
{
    if (m_sweep)
        m_sweep->heard(*this);
}

void PingSweep::Entry::leave()
{
    if (m_sweep)
        m_sweep->forget(*this);
}

PingSweep::PingSweep(TimingSource timing, Now now, QObject *parent)
    : QObject(parent)
    , m_timing(std::move(timing))
    , m_now(now ? std::move(now) : Now(steadyMilliseconds))
    , m_timer(this)
{
    connect(&m_timer, &QTimer::timeout, this, &PingSweep::sweep);
}

PingSweep::~PingSweep()
{
    for (List *list : { &m_heard, &m_pinged }) {
        while (list->first)
            forget(*list->first);
    }
}

PingSweep::List &PingSweep::listOf(const Entry &entry)
{
    return entry.m_pinged ? m_pinged : m_heard;
}

void PingSweep::watch(Entry &entry, WebSocketStream *stream)
{
    entry.leave();
    entry.m_sweep = this;
    entry.m_stream = stream;
    entry.m_pinged = false;
    entry.m_sinceMs = m_now();
    append(entry);
    ++m_count;
    if (!m_timer.isActive())
        schedule(m_timing());
}

void PingSweep::heard(Entry &entry)
{
    unlink(entry);
    entry.m_pinged = false; // whatever arrived answers the ping: the peer is there
    entry.m_sinceMs = m_now();
    append(entry);
}

void PingSweep::forget(Entry &entry)
{
    unlink(entry);
    entry.m_sweep = nullptr;
    entry.m_stream = nullptr;
    --m_count;
}

void PingSweep::append(Entry &entry)
{
    List &list = listOf(entry);
    entry.m_previous = list.last;
    entry.m_next = nullptr;
    (list.last ? list.last->m_next : list.first) = &entry;
    list.last = &entry;
}

void PingSweep::unlink(Entry &entry)
{
    List &list = listOf(entry);
    (entry.m_previous ? entry.m_previous->m_next : list.first) = entry.m_next;
    (entry.m_next ? entry.m_next->m_previous : list.last) = entry.m_previous;
    entry.m_previous = entry.m_next = nullptr;
}

void PingSweep::sweep()
{
    const Timing timing = m_timing();
    const qint64 now = m_now();
    int budget = streamsPerSlice;
    // Each list is in time order: the first entry not yet due ends the walk.
    const auto due = [&](const List &list, std::chrono::milliseconds after) {
        return list.first && now - list.first->m_sinceMs >= after.count();
    };
    if (due(m_pinged, timing.pongTimeout)) {
        const QString reason = u"no answer to a ping within %1 s"_s.arg(timing.pongTimeout.count() / 1000.0);
        for (; budget > 0 && due(m_pinged, timing.pongTimeout); --budget) {
            WebSocketStream *stream = m_pinged.first->m_stream;
            forget(*m_pinged.first);
            stream->close(CloseCode::pingTimeout, reason);
        }
    }
    for (; budget > 0 && due(m_heard, timing.pingInterval); --budget) {
        Entry &entry = *m_heard.first;
        unlink(entry);
        entry.m_pinged = true;
        entry.m_sinceMs = now;
        append(entry);
        entry.m_stream->ping(); // a failed write ends the stream, which leaves the sweep
    }
    schedule(timing, due(m_pinged, timing.pongTimeout) || due(m_heard, timing.pingInterval));
}

void PingSweep::schedule(const Timing &timing, bool more)
{
    if (m_count == 0) {
        m_timer.stop();
        return;
    }
    // More due than one slice: again once the events waiting now are served (a zero timer
    // comes after the sockets that are ready).
    const auto period = more
        ? std::chrono::milliseconds(0)
        : std::clamp(std::min(timing.pingInterval, timing.pongTimeout) / 4, std::chrono::milliseconds(shortestPeriod),
                     std::chrono::milliseconds(longestPeriod));
    if (!m_timer.isActive() || m_timer.intervalAsDuration() != period)
        m_timer.start(period);
}
