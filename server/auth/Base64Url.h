#pragma once

#include <QByteArray>
#include <QByteArrayView>

#include <optional>

/// Base64url without padding (RFC 7515 §2, Appendix C), decoded strictly: padding, white
/// space, characters outside the alphabet and non-zero trailing bits are all refused, so
/// that every byte string has exactly one accepted encoding.
namespace Base64Url {
QByteArray encode(QByteArrayView bytes);
std::optional<QByteArray> decode(QByteArrayView text);
} // namespace Base64Url
