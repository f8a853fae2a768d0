#include "auth/JsonWebKeySet.h"

#include <QJsonArray>
#include <QSet>

using namespace Qt::StringLiterals;

Result<QList<JsonWebKey>, QString> JsonWebKeySet::parse(const QJsonObject &document, Symmetric symmetric)
{
    if (!document.value("keys"_L1).isArray())
        return fail(u"not a JWK set ({\"keys\": [...]})"_s);
    const auto array = document.value("keys"_L1).toArray();
    QList<JsonWebKey> keys;
    QSet<QString> keyIds;
    for (qsizetype i = 0; i < array.size(); ++i) {
        if (!array.at(i).isObject())
            return fail(u"key %1: not a JSON object"_s.arg(i));
        auto key = JsonWebKey::fromJwk(array.at(i).toObject());
        if (!key)
            return fail(u"key %1: %2"_s.arg(i).arg(keyErrorName(key.error())));
        if (key->isSymmetric() && symmetric == Symmetric::Refused)
            return fail(u"key %1: shared secrets do not belong in a public key set"_s.arg(i));
        if (keyIds.contains(key->keyId()))
            return fail(u"key %1: kid \"%2\" appears twice"_s.arg(i).arg(key->keyId()));
        if (!keys.isEmpty() && keys.first().isSymmetric() != key->isSymmetric())
            return fail(u"key %1: the set mixes shared secrets and public keys"_s.arg(i));
        keyIds.insert(key->keyId());
        keys.append(*key);
    }
    if (keys.isEmpty())
        return fail(u"the key set is empty"_s);
    return keys;
}
