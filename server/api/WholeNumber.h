#pragma once

#include <QJsonValue>

#include <cmath>
#include <optional>

/// A JSON number that is a whole number within [minimum, maximum], as an integer; nothing for
/// anything else. The range is checked before the conversion: converting 1e300 to an integer
/// is undefined behaviour.
inline std::optional<qint64> wholeNumberIn(const QJsonValue &value, qint64 minimum, qint64 maximum)
{
    if (!value.isDouble())
        return std::nullopt;
    const double number = value.toDouble();
    if (!(number >= double(minimum) && number <= double(maximum)) || number != std::floor(number))
        return std::nullopt;
    return static_cast<qint64>(number);
}
