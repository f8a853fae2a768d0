#pragma once

#include "Result.h"

#include <QByteArrayView>
#include <QHash>
#include <QString>

/// `application/x-www-form-urlencoded` bodies (as OAuth 2.0 token endpoints take them):
/// `+` is a space, `%XX` a byte. A repeated parameter is refused (RFC 6749 §3.2).
namespace FormBody {
Result<QHash<QString, QString>, QString> parse(QByteArrayView body);
}
