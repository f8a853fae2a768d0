#pragma once

#include "UserKey.h"

#include <QHash>
#include <QString>

#include <atomic>
#include <mutex>
#include <optional>

/// How many WebSockets are open, in all and per user (our alice and an external issuer's
/// alice count apart), across every I/O thread. A handshake
/// reserves its place before the upgrade and gives it back when the connection ends (or the
/// upgrade fails), so the limits hold exactly, even when two threads accept at once.
class ConnectionCensus final {
public:
    enum class Refusal {
        TooMany,
        TooManyForUser,
    };

    ConnectionCensus(qsizetype maximum, qsizetype maximumPerUser);
    Q_DISABLE_COPY_MOVE(ConnectionCensus)

    std::optional<Refusal> reserve(const UserKey &user);
    void release(const UserKey &user);

    /// Cheap, lock-free: for the first check of a handshake and for gauges.
    qsizetype count() const { return m_total.load(std::memory_order_relaxed); }
    bool full() const { return count() >= m_maximum.load(std::memory_order_relaxed); }
    /// New maxima for reservations from now on; connections already counted stay.
    void setLimits(qsizetype maximum, qsizetype maximumPerUser);
    qsizetype countForUser(const UserKey &user) const;
    /// Connection ids, unique across threads.
    quint64 nextId() { return m_nextId.fetch_add(1, std::memory_order_relaxed); }

private:
    std::atomic<qsizetype> m_maximum;
    qsizetype m_maximumPerUser; ///< under m_mutex
    mutable std::mutex m_mutex;
    QHash<UserKey, qsizetype> m_perUser;
    std::atomic<qsizetype> m_total { 0 };
    std::atomic<quint64> m_nextId { 1 };
};
