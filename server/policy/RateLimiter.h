#pragma once

#include <QHash>
#include <QString>

#include <optional>

/// Token buckets by key (an IP address, a username): `burst` requests at once, refilled at
/// `perSecond`. Pure: the time comes in. Memory stays bounded: past `maximumKeys` the full
/// (idle) buckets are dropped, and if that is not enough, the stalest.
class RateLimiter final {
public:
    RateLimiter(double perSecond, double burst, qsizetype maximumKeys = 100000);

    /// Takes one token; when none is left, the whole seconds until one is.
    std::optional<int> take(const QString &key, double nowSeconds);
    qsizetype keyCount() const { return m_buckets.size(); }

private:
    struct Bucket {
        double tokens = 0;
        double updatedAt = 0;
    };
    void shrink(double nowSeconds);

    double m_perSecond;
    double m_burst;
    qsizetype m_maximumKeys;
    QHash<QString, Bucket> m_buckets;
};
