#pragma once

#include "auth/JsonWebKey.h"
#include "Result.h"

#include <QJsonObject>
#include <QList>

/// Reads a JWK Set (RFC 7517 §5). The whole set is refused when any key is unfit, when two
/// keys share a `kid`, or when shared secrets and public keys are mixed: an ambiguous set
/// is how algorithm-confusion attacks start.
namespace JsonWebKeySet {
enum class Symmetric { Refused, Allowed };
Result<QList<JsonWebKey>, QString> parse(const QJsonObject &document, Symmetric symmetric);
} // namespace JsonWebKeySet
