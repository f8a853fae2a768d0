#pragma once

#include <QAbstractEventDispatcher>
#include <QHash>
#include <QMultiHash>
#include <QSet>

#include <atomic>
#include <set>

class QSocketNotifier;
struct epoll_event;

/// An event dispatcher for the I/O threads, on Linux epoll. Qt 6.4's own dispatchers (glib's
/// and the UNIX one) poll() every registered descriptor and keep timers in a sorted list, so
/// each wake-up costs time in proportion to the connections a thread holds: with thousands of
/// idle WebSockets, every handshake and every close pays for all of them. Here a wake-up costs
/// what happened (epoll), and a timer is added, found or removed in logarithmic time.
///
/// Semantics are Qt's: level-triggered socket notifiers, posted events first, timers with
/// millisecond resolution (coarse and very coarse timers are treated as precise), wakeUp() and
/// interrupt() from any thread.
class EpollEventDispatcher final : public QAbstractEventDispatcher {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(EpollEventDispatcher)

public:
    explicit EpollEventDispatcher(QObject *parent = nullptr);
    ~EpollEventDispatcher() override;

    bool processEvents(QEventLoop::ProcessEventsFlags flags) override;
    void registerSocketNotifier(QSocketNotifier *notifier) override;
    void unregisterSocketNotifier(QSocketNotifier *notifier) override;
    void registerTimer(int timerId, qint64 interval, Qt::TimerType timerType, QObject *object) override;
    bool unregisterTimer(int timerId) override;
    bool unregisterTimers(QObject *object) override;
    QList<TimerInfo> registeredTimers(QObject *object) const override;
    int remainingTime(int timerId) override;
    void wakeUp() override;
    void interrupt() override;

private:
    struct Socket {
        QSocketNotifier *notifiers[3] = {}; ///< by QSocketNotifier::Type: Read, Write, Exception
        bool registered = false; ///< in the epoll set
    };
    struct Timer {
        qint64 interval = 0; ///< milliseconds
        Qt::TimerType type = Qt::CoarseTimer;
        QObject *object = nullptr;
        qint64 deadline = 0; ///< steady clock, milliseconds
    };

    void updateInterest(int descriptor, const Socket &socket);
    bool activateSockets(const epoll_event *events, int ready);
    bool activateTimers();
    int waitTimeout(QEventLoop::ProcessEventsFlags flags) const;

    int m_epoll = -1;
    int m_wakeFd = -1; ///< an eventfd: wakeUp() writes it from any thread
    std::atomic<bool> m_wakeUpPending { false };
    std::atomic<bool> m_interrupted { false };
    QHash<int, Socket> m_sockets;
    /// Descriptors with no notifier left that may still be in the epoll set: removing them
    /// is put off until they report an event (or a notifier comes back, which then costs one
    /// call instead of two). Closing a descriptor removes it from epoll by itself.
    QSet<int> m_lingering;
    QHash<int, Timer> m_timers;
    QMultiHash<QObject *, int> m_timersByObject;
    std::set<std::pair<qint64, int>> m_deadlines; ///< (deadline, timer id), soonest first
};
