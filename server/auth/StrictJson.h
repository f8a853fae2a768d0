#pragma once

#include "Result.h"

#include <QByteArrayView>
#include <QJsonObject>

enum class JsonError {
    NotJson, ///< not JSON as RFC 8259 writes it, or a number beyond a double's range
    NotAnObject,
    DuplicateMember,
    TooDeep, ///< objects and arrays nested deeper than StrictJson::maximumDepth
};

/// Parses a JSON text that must be one object, refusing duplicate member names at any depth
/// (RFC 7515 §5.2 step 4, RFC 7519 §4: a JOSE header or claims set with duplicates is
/// invalid; QJsonDocument would silently keep one of them), nesting deeper than
/// `maximumDepth`, and what QJsonDocument reads but RFC 8259 does not allow (`1.`, `.5`, raw
/// control characters and unknown escapes in strings): an accepted text can be relayed as written.
namespace StrictJson {
/// Levels of objects and arrays, the outermost object included.
constexpr int maximumDepth = 32;

Result<QJsonObject, JsonError> parseObject(QByteArrayView text);
/// The value of the member `name` of the outermost object, exactly as `object` writes it (white
/// space around it left out); empty if there is none. `object` is a text parseObject accepted.
QByteArrayView memberText(QByteArrayView object, QStringView name);
/// Why a text was refused, in words that complete "the body must be one JSON object: …".
QString errorString(JsonError error);
} // namespace StrictJson
