#pragma once

#include <QHash>
#include <QString>

#include <optional>

/// Slows down password guessing: after `freeFailures` failures in a row for a key, the next
/// attempt must wait 1 s, and each one after that twice as long as the last, up to
/// `maximumDelay` seconds. A success clears the key. Checked before the password is hashed, so
/// a locked-out guesser costs no Argon2 work. Pure: the time comes in.
class LoginBackoff final {
public:
    explicit LoginBackoff(int freeFailures = 5, int maximumDelay = 300, qsizetype maximumKeys = 100000);

    /// Seconds to wait before the next attempt may be tried, if any.
    std::optional<int> retryAfter(const QString &key, double nowSeconds) const;
    void recordFailure(const QString &key, double nowSeconds);
    void recordSuccess(const QString &key);

private:
    struct State {
        int failures = 0;
        double blockedUntil = 0; ///< seconds, with milliseconds
    };

    int m_freeFailures;
    int m_maximumDelay;
    qsizetype m_maximumKeys;
    QHash<QString, State> m_states;
};
