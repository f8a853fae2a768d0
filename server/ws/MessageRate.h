#pragma once

#include <QtGlobal>

/// One connection's budget of messages, a token bucket: `burst` at once, refilled at
/// `perSecond`. Pure: the time comes in, in milliseconds of a monotonic clock. Without a rate
/// (the default) every message passes.
class MessageRate final {
public:
    MessageRate() = default;
    MessageRate(qint64 perSecond, qint64 burst, qint64 nowMs);

    /// Takes one message's place; false when the budget is spent.
    bool take(qint64 nowMs);
    bool isLimited() const { return m_perSecond > 0; }
    qint64 perSecond() const { return m_perSecond; }

private:
    qint64 m_perSecond = 0;
    double m_burst = 0;
    double m_tokens = 0;
    qint64 m_updatedMs = 0;
};
