#pragma once

#include "ws/HttpHead.h"

#include <QByteArrayView>

/// Parses an HTTP/1.1 request head (RFC 9112 §2–5) from the bytes received so far, without
/// touching a socket. Strict where leniency has caused request smuggling: no obs-fold, no white
/// space before the colon, no bare CR, only "HTTP/1.0" and "HTTP/1.1".
namespace HttpHeadParser {
enum class Status {
    NeedMore, ///< no blank line yet, and still under the size limit
    Complete,
    Invalid,
    TooLarge, ///< more than the size limit
    TooManyFields, ///< more than maximumFields header fields
};

struct ParseResult {
    Status status = Status::NeedMore;
    HttpHead head;
};

constexpr qsizetype defaultMaximumSize = 16 * 1024;
constexpr int maximumFields = 100;

ParseResult parse(QByteArrayView received, qsizetype maximumSize = defaultMaximumSize);
} // namespace HttpHeadParser
