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
        m_pingIntervalMs.store(limits.pingIntervalSeconds * 1000, std::memory_order_relaxed);
        m_pongTimeoutMs.store(limits.pongTimeoutSeconds * 1000, std::memory_order_relaxed);
        m_messageRate.store(limits.messageRatePerSecond, std::memory_order_relaxed);
        m_messageBurst.store(limits.messageBurst, std::memory_order_relaxed);
    }
    qint64 maximumMessageSize() const { return m_maximumMessageSize.load(std::memory_order_relaxed); }
    std::chrono::milliseconds headTimeout() const
    {
        return std::chrono::milliseconds(m_headTimeoutMs.load(std::memory_order_relaxed));
    }
    std::chrono::milliseconds pingInterval() const
    {
        return std::chrono::milliseconds(m_pingIntervalMs.load(std::memory_order_relaxed));
    }
    std::chrono::milliseconds pongTimeout() const
    {
        return std::chrono::milliseconds(m_pongTimeoutMs.load(std::memory_order_relaxed));
    }
    qint64 messageRate() const { return m_messageRate.load(std::memory_order_relaxed); }
    qint64 messageBurst() const { return m_messageBurst.load(std::memory_order_relaxed); }

private:
    std::atomic<qint64> m_maximumMessageSize { 0 };
    std::atomic<qint64> m_headTimeoutMs { 0 };
    std::atomic<qint64> m_pingIntervalMs { 0 };
    std::atomic<qint64> m_pongTimeoutMs { 0 };
    std::atomic<qint64> m_messageRate { 0 };
    std::atomic<qint64> m_messageBurst { 0 };
};
