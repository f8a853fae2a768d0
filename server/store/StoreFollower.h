#pragma once

#include <QString>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

class Database;

/// Notices that another connection wrote to a database (the command line's, another
/// process's), on a thread of its own with a connection of its own: every `interval` it reads
/// SQLite's `PRAGMA data_version`, and when that moved it runs `changed` there, with that
/// connection. A control thread busy with logins and refresh rotations cannot delay it: a
/// revoked admin token is refused within the interval whatever else the server is doing. Any
/// commit of another connection moves the version, the server's own included: `changed` reads
/// what it follows and acts only on a difference.
class StoreFollower final {
public:
    using Changed = std::function<void(Database &database)>;

    StoreFollower(QString databasePath, std::chrono::milliseconds interval, Changed changed);
    /// Stops the thread (after the `changed` under way, if any) and closes its connection.
    ~StoreFollower();
    StoreFollower(const StoreFollower &) = delete;
    StoreFollower &operator=(const StoreFollower &) = delete;

private:
    void run();

    const QString m_path;
    const std::chrono::milliseconds m_interval;
    const Changed m_changed;
    std::mutex m_mutex;
    std::condition_variable m_wake;
    bool m_stopping = false; ///< guarded by m_mutex
    std::thread m_thread; ///< last: starts once the rest is ready
};
