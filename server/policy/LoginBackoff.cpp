#include "policy/LoginBackoff.h"

#include <algorithm>
#include <cmath>

LoginBackoff::LoginBackoff(int freeFailures, int maximumDelay, qsizetype maximumKeys)
    : m_freeFailures(freeFailures)
    , m_maximumDelay(maximumDelay)
    , m_maximumKeys(maximumKeys)
{
}

std::optional<int> LoginBackoff::retryAfter(const QString &key, double nowSeconds) const
{
    const auto it = m_states.constFind(key);
    if (it == m_states.cend() || it->blockedUntil <= nowSeconds)
        return std::nullopt;
    return static_cast<int>(std::ceil(it->blockedUntil - nowSeconds)); // whole seconds, rounded up
}

void LoginBackoff::recordFailure(const QString &key, double nowSeconds)
{
    if (!m_states.contains(key) && m_states.size() >= m_maximumKeys) {
        // Forget keys that are no longer blocked; their failure counts start over.
        for (auto it = m_states.begin(); it != m_states.end();)
            it = it->blockedUntil <= nowSeconds ? m_states.erase(it) : std::next(it);
        if (m_states.size() >= m_maximumKeys)
            return;
    }
    State &state = m_states[key];
    ++state.failures;
    // The failure that uses up the last free one already makes the next attempt wait: with 5
    // free failures, the 6th attempt waits 1 s. The first attempt is always free, so 0 is 1.
    const int over = state.failures - std::max(1, m_freeFailures) + 1;
    if (over <= 0)
        return;
    const qint64 delay = over >= 20 ? m_maximumDelay : std::min<qint64>(m_maximumDelay, qint64(1) << (over - 1));
    state.blockedUntil = nowSeconds + delay;
}

void LoginBackoff::recordSuccess(const QString &key)
{
    m_states.remove(key);
}
