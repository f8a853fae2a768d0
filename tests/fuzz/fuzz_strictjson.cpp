// StrictJson::parseObject and memberText, the JSON of every JOSE header, claims set and
// WebSocket message, and the sync payload relayed as written.
#include "FuzzCheck.h"

#include "auth/StrictJson.h"

#include <QJsonArray>
#include <QJsonDocument>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView text(data, qsizetype(size));
    const auto strict = StrictJson::parseObject(text);

    QJsonParseError error;
    const auto lenient = QJsonDocument::fromJson(text.toByteArray(), &error);
    if (!strict) {
        // Whatever Qt refuses is refused (as too deep when Qt says so); beyond that, an object
        // Qt takes with a member lost, too deep, or written as RFC 8259 does not allow.
        if (error.error != QJsonParseError::NoError)
            FUZZ_CHECK(strict.error()
                       == (error.error == QJsonParseError::DeepNesting ? JsonError::TooDeep : JsonError::NotJson));
        else
            FUZZ_CHECK((strict.error() == JsonError::NotAnObject) == !lenient.isObject());
        return 0;
    }
    // Accepted: the same object Qt reads, and what it writes back is accepted too and written
    // back the same. (Not compared as objects: Qt 6.4 reads a member name that starts with
    // U+FEFF as the name without it, yet finds no member by either name, so such an object is
    // not equal to itself written and read again.)
    FUZZ_CHECK(error.error == QJsonParseError::NoError && lenient.isObject());
    FUZZ_CHECK(lenient.object() == *strict);
    // Each member's text, as relayed verbatim, is one JSON value that reads as Qt reads it.
    for (auto it = strict->begin(); it != strict->end(); ++it) {
        if (!strict->contains(it.key()))
            continue; // a name that starts with U+FEFF (see above)
        const QByteArrayView member = StrictJson::memberText(text, it.key());
        const auto value = QJsonDocument::fromJson("[" + member.toByteArray() + "]", &error);
        FUZZ_CHECK(error.error == QJsonParseError::NoError && value.array().size() == 1);
        FUZZ_CHECK(value.array().at(0) == it.value());
    }
    const QByteArray written = QJsonDocument(*strict).toJson(QJsonDocument::Compact);
    const auto again = StrictJson::parseObject(written);
    FUZZ_CHECK(again.ok() && QJsonDocument(*again).toJson(QJsonDocument::Compact) == written);
    return 0;
}
