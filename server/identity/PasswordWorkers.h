#pragma once

#include <QObject>
#include <QThreadPool>

#include <atomic>
#include <functional>

/// A bounded pool of threads for Argon2 password checks, so that tens of milliseconds of
/// hashing per login never hold up the control thread (and the revocations waiting on it).
/// Past `maximumWaiting` checks not yet started, a new one is refused at once: the caller
/// answers 503 with Retry-After rather than grow a backlog strangers can fill.
class PasswordWorkers final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(PasswordWorkers)

public:
    /// How a password is checked against a hash: PasswordHasher::verify, unless a test says.
    using Check = std::function<bool(const QByteArray &password, const QByteArray &hash)>;

    PasswordWorkers(int threads, int maximumWaiting, QObject *parent = nullptr);
    PasswordWorkers(int threads, int maximumWaiting, Check check, QObject *parent = nullptr);
    /// Waits for the checks under way; their results are dropped.
    ~PasswordWorkers() override;

    /// Checks `password` against the PHC-encoded `hash` on a worker; `done(matches)` then runs
    /// on `context`'s thread (or not at all, if the context is deleted first). `context` must
    /// outlive this pool, whose destructor waits for the checks under way. False when the
    /// queue is full: nothing runs and `done` is never called.
    bool verify(QByteArray password, QByteArray hash, QObject *context, std::function<void(bool)> done);
    int waiting() const { return m_waiting.load(std::memory_order_relaxed); }

private:
    QThreadPool m_pool;
    const int m_maximumWaiting;
    const Check m_check;
    std::atomic<int> m_waiting { 0 };
};
