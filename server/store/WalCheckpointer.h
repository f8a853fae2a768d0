#pragma once

#include <QString>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

/// Copies a database's write-ahead log back into the database file on a thread of its own,
/// with a connection of its own, so that no commit on the thread that serves revocations ever
/// does it. SQLite otherwise checkpoints inside whichever commit crosses 1000 pages of log:
/// that commit writes the pages back and syncs the database file (measured: 5–8 ms while
/// refreshes commit at 1 800 a second). The server's own connection opens with
/// Database::Checkpoints::Elsewhere. Checkpoints are PASSIVE: they never wait for a writer or
/// reader, and the writer never waits for them.
class WalCheckpointer final {
public:
    explicit WalCheckpointer(QString databasePath, std::chrono::milliseconds interval = std::chrono::milliseconds(200));
    /// Stops the thread (after the checkpoint under way, if any) and closes its connection.
    ~WalCheckpointer();
    WalCheckpointer(const WalCheckpointer &) = delete;
    WalCheckpointer &operator=(const WalCheckpointer &) = delete;

    /// What the latest checkpoint found: frames in the log, and how many of them are now in the
    /// database file (all of them once no reader holds an older snapshot).
    struct Progress {
        int checkpoints = 0;
        qint64 logFrames = 0;
        qint64 copiedFrames = 0;
    };
    Progress progress() const;
    /// Checkpoints that failed (the first of a run is logged; the next tick tries again).
    int failures() const { return m_failures.load(std::memory_order_relaxed); }

private:
    void run();

    const QString m_path;
    const std::chrono::milliseconds m_interval;
    mutable std::mutex m_mutex;
    std::condition_variable m_wake;
    bool m_stopping = false; ///< guarded by m_mutex
    Progress m_progress; ///< guarded by m_mutex
    std::atomic<int> m_failures { 0 };
    std::thread m_thread; ///< last: starts once the rest is ready
};
