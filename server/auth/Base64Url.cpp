#include "auth/Base64Url.h"

namespace {
constexpr auto encodingOptions = QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals;
}

QByteArray Base64Url::encode(QByteArrayView bytes)
{
    return bytes.toByteArray().toBase64(encodingOptions);
}

std::optional<QByteArray> Base64Url::decode(QByteArrayView text)
{
    if (text.size() % 4 == 1)
        return std::nullopt;
    for (const char c : text) {
        const bool inAlphabet
            = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
        if (!inAlphabet)
            return std::nullopt;
    }
    auto decoded
        = QByteArray::fromBase64Encoding(text.toByteArray(), encodingOptions | QByteArray::AbortOnBase64DecodingErrors);
    if (!decoded)
        return std::nullopt;
    // Canonical form only: a re-encoding that differs means unused trailing bits were set.
    if (encode(decoded.decoded) != text)
        return std::nullopt;
    return std::move(decoded.decoded);
}
