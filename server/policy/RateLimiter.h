#pragma once

#include <QHash>
#include <QString>

#include <mutex>
#include <optional>

/// Token buckets by key (an IP address, a username): `burst` requests at once, refilled at
/// `perSecond`. Pure: the time comes in. Memory stays bounded: past `maximumKeys` the full
/// (idle) buckets are dropped, and if that is not enough, the stalest. Safe to share between
/// threads (the I/O threads share one per kind).
class RateLimiter final {
public:
    RateLimiter(double perSecond, double burst, qsizetype maximumKeys = 100000);
    Q_DISABLE_COPY_MOVE(RateLimiter)

    /// Takes one token; when none is left, the whole seconds until one is.
    std::optional<int> take(const QString &key, double nowSeconds);
    qsizetype keyCount() const;

private:
    struct Bucket {
        double tokens = 0;
        double updatedAt = 0;
    };
    void shrink(double nowSeconds);

    double m_perSecond;
    double m_burst;
    qsizetype m_maximumKeys;
    mutable std::mutex m_mutex;
    QHash<QString, Bucket> m_buckets;
};
