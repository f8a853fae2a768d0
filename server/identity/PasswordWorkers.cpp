#include "identity/PasswordWorkers.h"

#include "identity/PasswordHasher.h"

#include <algorithm>

#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace {
constexpr int workerNiceness = 10;

/// Hashing yields to the threads that serve sockets and requests: a worker runs at nice 10 and
/// as a batch task (it does not preempt others when it wakes). Linux sets both per thread.
void yieldToServingThreads()
{
    static thread_local const bool lowered = [] {
        const auto thread = pid_t(::syscall(SYS_gettid));
        const sched_param parameters {};
        ::sched_setscheduler(thread, SCHED_BATCH, &parameters);
        // Never raised: a server started at nice 15 keeps its workers there.
        const int current = ::getpriority(PRIO_PROCESS, id_t(thread));
        return ::setpriority(PRIO_PROCESS, id_t(thread), std::max(current, workerNiceness)) == 0;
    }();
    Q_UNUSED(lowered);
}
} // namespace

PasswordWorkers::PasswordWorkers(int threads, int maximumWaiting, QObject *parent)
    : PasswordWorkers(
        threads, maximumWaiting,
        [](const QByteArray &password, const QByteArray &hash) { return PasswordHasher::verify(password, hash); },
        parent)
{
}

PasswordWorkers::PasswordWorkers(int threads, int maximumWaiting, Check check, QObject *parent)
    : QObject(parent)
    , m_maximumWaiting(maximumWaiting)
    , m_check(std::move(check))
{
    m_pool.setMaxThreadCount(std::max(1, threads));
    m_pool.setObjectName(QStringLiteral("gatehouse-passwords"));
}

PasswordWorkers::~PasswordWorkers()
{
    m_pool.clear();
    m_pool.waitForDone();
}

bool PasswordWorkers::verify(QByteArray password, QByteArray hash, QObject *context, std::function<void(bool)> done)
{
    // Counted from the request until a worker takes it: running checks are bounded by the
    // thread count, waiting ones by this.
    if (m_waiting.fetch_add(1, std::memory_order_relaxed) >= m_maximumWaiting) {
        m_waiting.fetch_sub(1, std::memory_order_relaxed);
        return false;
    }
    // The result is posted to the context's thread, and dropped if the context goes first.
    m_pool.start(
        [this, password = std::move(password), hash = std::move(hash), context, done = std::move(done)]() mutable {
            m_waiting.fetch_sub(1, std::memory_order_relaxed);
            yieldToServingThreads();
            const bool matches = m_check(password, hash);
            // The password leaves memory as soon as it is no longer needed.
            password.fill('\0');
            QMetaObject::invokeMethod(
                context, [done = std::move(done), matches] { done(matches); }, Qt::QueuedConnection);
        });
    return true;
}
