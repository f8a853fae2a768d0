#include "ws/MessageRate.h"

#include <algorithm>

MessageRate::MessageRate(qint64 perSecond, qint64 burst, qint64 nowMs)
    : m_perSecond(std::max<qint64>(0, perSecond))
    , m_burst(double(std::max<qint64>(1, burst)))
    , m_tokens(m_burst)
    , m_updatedMs(nowMs)
{
}

bool MessageRate::take(qint64 nowMs)
{
    if (m_perSecond == 0)
        return true;
    if (nowMs > m_updatedMs) { // an earlier time than the last refills nothing
        m_tokens = std::min(m_burst, m_tokens + double(nowMs - m_updatedMs) * double(m_perSecond) / 1000.0);
        m_updatedMs = nowMs;
    }
    if (m_tokens < 1.0)
        return false;
    m_tokens -= 1.0;
    return true;
}
