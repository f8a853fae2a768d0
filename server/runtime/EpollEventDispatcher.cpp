#include "runtime/EpollEventDispatcher.h"

#include <QCoreApplication>
#include <QLoggingCategory>
#include <QSocketNotifier>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <limits>

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

Q_LOGGING_CATEGORY(lcDispatcher, "gatehouse.runtime.dispatcher")

namespace {
constexpr int maximumEvents = 256;

qint64 nowMilliseconds()
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}
} // namespace

EpollEventDispatcher::EpollEventDispatcher(QObject *parent)
    : QAbstractEventDispatcher(parent)
    , m_epoll(epoll_create1(EPOLL_CLOEXEC))
    , m_wakeFd(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC))
{
    if (m_epoll < 0 || m_wakeFd < 0)
        qFatal("gatehouse: cannot create an epoll event dispatcher: %s", qPrintable(qt_error_string(errno)));
    epoll_event event {};
    event.events = EPOLLIN;
    event.data.fd = m_wakeFd;
    epoll_ctl(m_epoll, EPOLL_CTL_ADD, m_wakeFd, &event);
}

EpollEventDispatcher::~EpollEventDispatcher()
{
    ::close(m_wakeFd);
    ::close(m_epoll);
}

void EpollEventDispatcher::updateInterest(int descriptor, const Socket &socket)
{
    uint32_t events = 0;
    if (socket.notifiers[QSocketNotifier::Read])
        events |= EPOLLIN;
    if (socket.notifiers[QSocketNotifier::Write])
        events |= EPOLLOUT;
    if (socket.notifiers[QSocketNotifier::Exception])
        events |= EPOLLPRI;
    if (events == 0) {
        m_sockets.remove(descriptor);
        m_lingering.insert(descriptor);
        return;
    }
    epoll_event event {};
    event.events = events;
    event.data.fd = descriptor;
    // A descriptor epoll may know (registered before, or lingering) is modified, a new one
    // added; if epoll says otherwise (it forgets closed descriptors), the other call is made.
    const bool known = socket.registered || m_lingering.remove(descriptor);
    const int first = known ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    const int second = known ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
    if (epoll_ctl(m_epoll, first, descriptor, &event) != 0 && epoll_ctl(m_epoll, second, descriptor, &event) != 0)
        qCWarning(lcDispatcher) << "cannot watch descriptor" << descriptor << ":" << qt_error_string(errno);
}

void EpollEventDispatcher::registerSocketNotifier(QSocketNotifier *notifier)
{
    const int descriptor = static_cast<int>(notifier->socket());
    Socket &socket = m_sockets[descriptor];
    QSocketNotifier *&slot = socket.notifiers[notifier->type()];
    if (slot && slot != notifier)
        qCWarning(lcDispatcher) << "a second notifier of the same type for descriptor" << descriptor;
    slot = notifier;
    updateInterest(descriptor, socket);
    socket.registered = true;
}

void EpollEventDispatcher::unregisterSocketNotifier(QSocketNotifier *notifier)
{
    const int descriptor = static_cast<int>(notifier->socket());
    const auto found = m_sockets.find(descriptor);
    if (found == m_sockets.end() || found->notifiers[notifier->type()] != notifier)
        return;
    found->notifiers[notifier->type()] = nullptr;
    updateInterest(descriptor, *found);
}

void EpollEventDispatcher::registerTimer(int timerId, qint64 interval, Qt::TimerType timerType, QObject *object)
{
    const qint64 deadline = nowMilliseconds() + interval;
    m_timers.insert(timerId, { interval, timerType, object, deadline });
    m_timersByObject.insert(object, timerId);
    m_deadlines.emplace(deadline, timerId);
}

bool EpollEventDispatcher::unregisterTimer(int timerId)
{
    const auto found = m_timers.constFind(timerId);
    if (found == m_timers.cend())
        return false;
    m_deadlines.erase({ found->deadline, timerId });
    m_timersByObject.remove(found->object, timerId);
    m_timers.erase(found);
    return true;
}

bool EpollEventDispatcher::unregisterTimers(QObject *object)
{
    const QList<int> ids = m_timersByObject.values(object);
    for (const int id : ids)
        unregisterTimer(id);
    return !ids.isEmpty();
}

QList<QAbstractEventDispatcher::TimerInfo> EpollEventDispatcher::registeredTimers(QObject *object) const
{
    QList<TimerInfo> list;
    for (auto it = m_timersByObject.constFind(object); it != m_timersByObject.cend() && it.key() == object; ++it) {
        const Timer &timer = m_timers[it.value()];
        list.append(TimerInfo(it.value(), int(timer.interval), timer.type));
    }
    return list;
}

int EpollEventDispatcher::remainingTime(int timerId)
{
    const auto found = m_timers.constFind(timerId);
    if (found == m_timers.cend())
        return -1;
    return int(std::max<qint64>(0, found->deadline - nowMilliseconds()));
}

void EpollEventDispatcher::wakeUp()
{
    if (m_wakeUpPending.exchange(true))
        return; // already on its way
    const eventfd_t one = 1;
    [[maybe_unused]] const auto written = ::write(m_wakeFd, &one, sizeof one);
}

void EpollEventDispatcher::interrupt()
{
    m_interrupted = true;
    wakeUp();
}

int EpollEventDispatcher::waitTimeout(QEventLoop::ProcessEventsFlags flags) const
{
    if (!(flags & QEventLoop::WaitForMoreEvents) || m_interrupted || m_wakeUpPending)
        return 0;
    if (m_deadlines.empty())
        return -1;
    const qint64 remaining = m_deadlines.begin()->first - nowMilliseconds();
    return int(std::clamp<qint64>(remaining, 0, std::numeric_limits<int>::max()));
}

bool EpollEventDispatcher::processEvents(QEventLoop::ProcessEventsFlags flags)
{
    m_interrupted = false;
    Q_EMIT awake();
    QCoreApplication::sendPostedEvents();
    if (m_interrupted)
        return false;

    const int timeout = waitTimeout(flags);
    if (timeout != 0)
        Q_EMIT aboutToBlock();
    epoll_event events[maximumEvents];
    int ready = epoll_wait(m_epoll, events, maximumEvents, timeout);
    if (ready < 0 && errno != EINTR)
        qCWarning(lcDispatcher) << "epoll_wait:" << qt_error_string(errno);
    ready = std::max(ready, 0);
    if (timeout != 0)
        Q_EMIT awake();

    bool handled = activateSockets(events, ready);
    if (!(flags & QEventLoop::X11ExcludeTimers))
        handled = activateTimers() || handled;
    return handled;
}

bool EpollEventDispatcher::activateSockets(const epoll_event *events, int ready)
{
    bool handled = false;
    for (int i = 0; i < ready; ++i) {
        const int descriptor = events[i].data.fd;
        if (descriptor == m_wakeFd) {
            eventfd_t value = 0;
            [[maybe_unused]] const auto read = ::read(m_wakeFd, &value, sizeof value);
            m_wakeUpPending = false;
            QCoreApplication::sendPostedEvents();
            handled = true;
            continue;
        }
        if (!m_sockets.contains(descriptor)) { // a lingering descriptor: now it goes
            epoll_ctl(m_epoll, EPOLL_CTL_DEL, descriptor, nullptr);
            m_lingering.remove(descriptor);
            continue;
        }
        const uint32_t what = events[i].events;
        const bool failed = what & (EPOLLERR | EPOLLHUP);
        const bool wanted[3] = { (what & EPOLLIN) || failed, (what & EPOLLOUT) || failed, bool(what & EPOLLPRI) };
        for (int type = 0; type < 3; ++type) {
            if (!wanted[type])
                continue;
            // Looked up again for each: an earlier activation may have removed this notifier.
            const auto found = m_sockets.constFind(descriptor);
            if (found == m_sockets.cend())
                break;
            if (QSocketNotifier *notifier = found->notifiers[type]) {
                QEvent event(QEvent::SockAct);
                QCoreApplication::sendEvent(notifier, &event);
                handled = true;
            }
        }
    }
    return handled;
}

bool EpollEventDispatcher::activateTimers()
{
    if (m_deadlines.empty())
        return false;
    const qint64 now = nowMilliseconds();
    // Only the timers due now, each once: a handler that starts a zero-interval timer must
    // not keep this loop from returning.
    QList<int> due;
    for (auto it = m_deadlines.begin(); it != m_deadlines.end() && it->first <= now; ++it)
        due.append(it->second);
    for (const int id : std::as_const(due)) {
        const auto found = m_timers.find(id);
        if (found == m_timers.end() || found->deadline > now)
            continue; // unregistered or restarted by an earlier handler
        m_deadlines.erase({ found->deadline, id });
        // The next deadline keeps the rhythm, unless the thread fell behind by a whole interval.
        found->deadline += found->interval;
        if (found->deadline <= now && found->interval > 0)
            found->deadline = now + found->interval;
        m_deadlines.emplace(found->deadline, id);
        QObject *object = found->object;
        QTimerEvent event(id);
        QCoreApplication::sendEvent(object, &event);
    }
    return !due.isEmpty();
}
