#include "auth/KeySet.h"

#include <QJsonArray>

#include <algorithm>

using namespace Qt::StringLiterals;

Result<std::shared_ptr<const KeySet>, QString>
KeySet::build(const QList<JsonWebKey> &localKeys, const IssuerPolicy &local, const QList<TrustedIssuer> &trustedIssuers)
{
    auto keys = std::make_shared<KeySet>();
    auto localPolicy = std::make_shared<const IssuerPolicy>(local);
    for (const auto &key : localKeys) {
        if (!keys->add(key, localPolicy))
            return fail(u"signing key id %1 appears twice"_s.arg(key.keyId()));
    }
    for (const auto &trusted : trustedIssuers) {
        auto policy = std::make_shared<const IssuerPolicy>(trusted.policy);
        for (const auto &key : trusted.keys) {
            const bool added = trusted.keyWithoutId ? keys->setDefaultKey(key, policy) : keys->add(key, policy);
            if (!added && trusted.keyWithoutId)
                return fail(
                    u"trusted issuer %1: only one trusted key may be without a kid"_s.arg(trusted.policy.issuer));
            if (!added)
                return fail(
                    u"trusted issuer %1: key id %2 is already in use"_s.arg(trusted.policy.issuer, key.keyId()));
        }
    }
    return std::shared_ptr<const KeySet>(std::move(keys));
}

bool KeySet::add(const JsonWebKey &key, std::shared_ptr<const IssuerPolicy> policy)
{
    if (key.keyId().isEmpty() || m_entries.contains(key.keyId()))
        return false;
    m_entries.insert(key.keyId(), Entry { key, std::move(policy) });
    return true;
}

bool KeySet::setDefaultKey(const JsonWebKey &key, std::shared_ptr<const IssuerPolicy> policy)
{
    if (m_default)
        return false;
    m_default = Entry { key, std::move(policy) };
    return true;
}

const KeySet::Entry *KeySet::find(const QString &keyId) const
{
    const auto it = m_entries.constFind(keyId);
    return it == m_entries.cend() ? nullptr : &it.value();
}

QJsonObject KeySet::localJwks() const
{
    QList<QJsonObject> keys;
    for (const auto &entry : m_entries) {
        if (entry.policy->local && !entry.key.isSymmetric())
            keys.append(entry.key.publicJwk());
    }
    // A stable order keeps the document cacheable and diffable.
    std::sort(keys.begin(), keys.end(), [](const QJsonObject &a, const QJsonObject &b) {
        return a.value("kid"_L1).toString() < b.value("kid"_L1).toString();
    });
    QJsonArray array;
    for (const auto &key : keys)
        array.append(key);
    return QJsonObject { { "keys"_L1, array } };
}
