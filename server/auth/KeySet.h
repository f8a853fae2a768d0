#pragma once

#include "auth/IssuerPolicy.h"
#include "auth/JsonWebKey.h"
#include "auth/TrustedIssuer.h"
#include "Result.h"

#include <QHash>
#include <QJsonObject>

#include <memory>
#include <optional>

/// The verification keys in force, each bound to the issuer policy its tokens must meet.
/// Immutable once built, so one snapshot can be shared by every thread that verifies.
class KeySet final {
public:
    struct Entry {
        JsonWebKey key;
        std::shared_ptr<const IssuerPolicy> policy;
    };

    /// Our keys under `local`, then each trusted issuer's; a clash of `kid`s is an error.
    static Result<std::shared_ptr<const KeySet>, QString>
    build(const QList<JsonWebKey> &localKeys, const IssuerPolicy &local, const QList<TrustedIssuer> &trustedIssuers);

    /// Adds a key; false if its `kid` is taken (an ambiguous key set is refused, not guessed at).
    bool add(const JsonWebKey &key, std::shared_ptr<const IssuerPolicy> policy);
    /// The one key that may verify tokens without a `kid` (an external issuer with a single
    /// configured key); refused when another is already set.
    bool setDefaultKey(const JsonWebKey &key, std::shared_ptr<const IssuerPolicy> policy);

    const Entry *find(const QString &keyId) const;
    const Entry *defaultEntry() const { return m_default ? &*m_default : nullptr; }
    qsizetype size() const { return m_entries.size() + (m_default ? 1 : 0); }

    /// RFC 7517 §5 document with the public halves of the local keys.
    QJsonObject localJwks() const;

private:
    QHash<QString, Entry> m_entries;
    std::optional<Entry> m_default;
};
