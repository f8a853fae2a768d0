#include "auth/BearerChallenge.h"

namespace {
/// RFC 6750 §3: error and error_description hold %x20-21 / %x23-5B / %x5D-7E only.
QByteArray quoted(QByteArrayView value)
{
    QByteArray text = "\"";
    for (const char c : value) {
        if (c >= 0x20 && c <= 0x7e && c != '"' && c != '\\')
            text += c;
    }
    text += '"';
    return text;
}
} // namespace

QByteArray BearerChallenge::header(QByteArrayView error, QByteArrayView description)
{
    QByteArray challenge = "Bearer realm=\"gatehouse\"";
    if (error.isEmpty())
        return challenge;
    challenge += ", error=";
    challenge += quoted(error);
    if (!description.isEmpty()) {
        challenge += ", error_description=";
        challenge += quoted(description);
    }
    return challenge;
}
