#pragma once

#include "ConnectionLimits.h"

#include <atomic>
#include <chrono>

/// The limits every gate reads at each handshake, changeable while running from the control
/// thread; any thread reads them without a lock. (The connection counts' maxima live in
/// ConnectionCensus, which checks them under its own lock.)
class LiveLimits final {
public:
    explicit LiveLimits(const ConnectionLimits &limits) { set(limits); }
    Q_DISABLE_COPY_MOVE(LiveLimits)

    void set(const ConnectionLimits &limits)
    {
        m_maximumMessageSize.store(limits.maximumMessageSize, std::memory_order_relaxed);
        m_headTimeoutMs.store(limits.handshakeTimeoutSeconds * 1000, std::memory_order_relaxed);
    }
    qint64 maximumMessageSize() const { return m_maximumMessageSize.load(std::memory_order_relaxed); }
    std::chrono::milliseconds headTimeout() const
    {
        return std::chrono::milliseconds(m_headTimeoutMs.load(std::memory_order_relaxed));
    }

private:
    std::atomic<qint64> m_maximumMessageSize { 0 };
    std::atomic<qint64> m_headTimeoutMs { 0 };
};
