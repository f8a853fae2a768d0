#pragma once

#include "Result.h"

#include <QByteArrayView>
#include <QJsonObject>

enum class JsonError {
    NotJson,
    NotAnObject,
    DuplicateMember,
    TooDeep,
};

/// Parses a JSON text that must be one object, refusing duplicate member names at any depth
/// (RFC 7515 §5.2 step 4, RFC 7519 §4: a JOSE header or claims set with duplicates is
/// invalid; QJsonDocument would silently keep one of them).
namespace StrictJson {
Result<QJsonObject, JsonError> parseObject(QByteArrayView text);
}
