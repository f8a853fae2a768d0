#include "ws/ConnectionCensus.h"

ConnectionCensus::ConnectionCensus(qsizetype maximum, qsizetype maximumPerUser)
    : m_maximum(maximum)
    , m_maximumPerUser(maximumPerUser)
{
}

std::optional<ConnectionCensus::Refusal> ConnectionCensus::reserve(const UserKey &user)
{
    const std::lock_guard lock(m_mutex);
    if (m_total.load(std::memory_order_relaxed) >= m_maximum.load(std::memory_order_relaxed))
        return Refusal::TooMany;
    qsizetype &mine = m_perUser[user];
    if (mine >= m_maximumPerUser)
        return Refusal::TooManyForUser;
    ++mine;
    m_total.fetch_add(1, std::memory_order_relaxed);
    return std::nullopt;
}

void ConnectionCensus::release(const UserKey &user)
{
    const std::lock_guard lock(m_mutex);
    const auto found = m_perUser.find(user);
    Q_ASSERT(found != m_perUser.end());
    if (found == m_perUser.end())
        return;
    if (--*found == 0)
        m_perUser.erase(found);
    m_total.fetch_sub(1, std::memory_order_relaxed);
}

qsizetype ConnectionCensus::countForUser(const UserKey &user) const
{
    const std::lock_guard lock(m_mutex);
    return m_perUser.value(user);
}

void ConnectionCensus::setLimits(qsizetype maximum, qsizetype maximumPerUser)
{
    const std::lock_guard lock(m_mutex);
    m_maximum.store(maximum, std::memory_order_relaxed);
    m_maximumPerUser = maximumPerUser;
}
