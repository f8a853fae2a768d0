#pragma once

#include "auth/AccessClaims.h"

#include <QByteArray>
#include <QHash>

#include <optional>

/// Tokens whose signature and claims were verified already, by their exact bytes: a user's
/// tabs and reconnects present the same token again, and identical bytes verify identically.
/// An entry holds until the moment the verifier would have refused the token for its time
/// (`exp` plus skew); revocation is not cached here (the AccessGuard is asked every time).
/// One per thread, no locking; bounded: when full it starts over, which costs only
/// verifications.
class VerifiedTokenCache final {
public:
    explicit VerifiedTokenCache(qsizetype capacity = 4096)
        : m_capacity(capacity)
    {
    }

    std::optional<AccessClaims> find(const QByteArray &token, qint64 nowSeconds, const void *verifier) const
    {
        if (verifier != m_verifier)
            return std::nullopt;
        const auto found = m_entries.constFind(token);
        if (found == m_entries.cend() || nowSeconds >= found->validUntil || nowSeconds < found->validFrom)
            return std::nullopt;
        return found->claims;
    }

    /// `verifier` identifies the key set: a new one (a rotation) empties the cache.
    void insert(const QByteArray &token, const AccessClaims &claims, qint64 validFrom, qint64 validUntil,
                const void *verifier)
    {
        if (verifier != m_verifier || m_entries.size() >= m_capacity) {
            m_entries.clear();
            m_verifier = verifier;
        }
        m_entries.insert(token, { claims, validFrom, validUntil });
    }

    qsizetype size() const { return m_entries.size(); }

private:
    struct Entry {
        AccessClaims claims;
        qint64 validFrom = 0;
        qint64 validUntil = 0;
    };
    qsizetype m_capacity;
    const void *m_verifier = nullptr;
    QHash<QByteArray, Entry> m_entries;
};
