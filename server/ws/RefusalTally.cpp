#include "ws/RefusalTally.h"

void RefusalTally::count(const QString &reason, const QString &address)
{
    // An attacker spraying source addresses must not grow this without bound either.
    const bool known = m_counts.contains({ reason, address });
    const QString kept = known || m_counts.size() < maximumAddresses ? address : QString();
    ++m_counts[{ reason, kept }];
}

QList<RefusalCount> RefusalTally::take()
{
    QList<RefusalCount> counts;
    counts.reserve(m_counts.size());
    for (auto it = m_counts.cbegin(); it != m_counts.cend(); ++it)
        counts.append(RefusalCount { it.key().first, it.key().second, it.value() });
    m_counts.clear();
    return counts;
}
