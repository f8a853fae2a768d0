#include "policy/RateLimiter.h"

#include <algorithm>
#include <cmath>
#include <vector>

RateLimiter::RateLimiter(double perSecond, double burst, qsizetype maximumKeys)
    : m_perSecond(perSecond)
    , m_burst(std::max(1.0, burst))
    , m_maximumKeys(maximumKeys)
{
}

std::optional<int> RateLimiter::take(const QString &key, double nowSeconds)
{
    const std::lock_guard lock(m_mutex);
    auto it = m_buckets.find(key);
    if (it == m_buckets.end()) {
        if (m_buckets.size() >= m_maximumKeys)
            shrink(nowSeconds);
        it = m_buckets.insert(key, Bucket { m_burst, nowSeconds });
    }
    Bucket &bucket = it.value();
    bucket.tokens = std::min(m_burst, bucket.tokens + std::max(0.0, nowSeconds - bucket.updatedAt) * m_perSecond);
    bucket.updatedAt = nowSeconds;
    if (bucket.tokens >= 1.0) {
        bucket.tokens -= 1.0;
        return std::nullopt;
    }
    return static_cast<int>(std::ceil((1.0 - bucket.tokens) / m_perSecond));
}

void RateLimiter::shrink(double nowSeconds)
{
    // A bucket that would be full again is indistinguishable from a new one: drop those first.
    for (auto it = m_buckets.begin(); it != m_buckets.end();) {
        const double refilled = it->tokens + (nowSeconds - it->updatedAt) * m_perSecond;
        it = refilled >= m_burst ? m_buckets.erase(it) : std::next(it);
    }
    // Always down to half the limit, so that shrinking stays rare (amortised O(1) per key).
    const qsizetype target = m_maximumKeys / 2;
    if (m_buckets.size() <= target)
        return;
    std::vector<std::pair<double, QString>> byAge;
    for (auto it = m_buckets.cbegin(); it != m_buckets.cend(); ++it)
        byAge.emplace_back(it->updatedAt, it.key());
    std::sort(byAge.begin(), byAge.end());
    const auto excess = static_cast<std::size_t>(m_buckets.size() - target);
    for (std::size_t i = 0; i < excess; ++i)
        m_buckets.remove(byAge[i].second);
}

qsizetype RateLimiter::keyCount() const
{
    const std::lock_guard lock(m_mutex);
    return m_buckets.size();
}
