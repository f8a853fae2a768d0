#include "auth/StrictJson.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonParseError>
#include <QSet>

#include <vector>

namespace {
constexpr int maximumDepth = 32;

/// The decoded text of a JSON string literal (with its quotes), so that "a" and "\u0061"
/// count as the same member name. Literals without escapes need no decoding.
QString decodeStringLiteral(QByteArrayView literal)
{
    if (!literal.contains('\\'))
        return QString::fromUtf8(literal.sliced(1, literal.size() - 2));
    const auto array = QJsonDocument::fromJson(QByteArray("[") + literal.toByteArray() + QByteArray("]"));
    return array.array().at(0).toString();
}

/// Walks a text that QJsonDocument has already accepted, so only nesting and string
/// literals need tracking.
Result<bool, JsonError> scanForDuplicates(QByteArrayView text)
{
    struct Frame {
        bool isObject = false;
        QSet<QString> names;
    };
    std::vector<Frame> frames;
    qsizetype i = 0;
    while (i < text.size()) {
        const char c = text[i];
        if (c == '{' || c == '[') {
            if (frames.size() >= maximumDepth)
                return fail(JsonError::TooDeep);
            frames.push_back(Frame { c == '{', {} });
            ++i;
        } else if (c == '}' || c == ']') {
            frames.pop_back();
            ++i;
        } else if (c == '"') {
            const qsizetype start = i++;
            while (i < text.size() && text[i] != '"')
                i += text[i] == '\\' ? 2 : 1;
            ++i; // closing quote
            qsizetype next = i;
            while (next < text.size()
                   && (text[next] == ' ' || text[next] == '\t' || text[next] == '\n' || text[next] == '\r'))
                ++next;
            const bool isName = next < text.size() && text[next] == ':' && !frames.empty() && frames.back().isObject;
            if (isName) {
                const QString name = decodeStringLiteral(text.sliced(start, i - start));
                if (frames.back().names.contains(name))
                    return fail(JsonError::DuplicateMember);
                frames.back().names.insert(name);
            }
        } else {
            ++i;
        }
    }
    return true;
}
} // namespace

Result<QJsonObject, JsonError> StrictJson::parseObject(QByteArrayView text)
{
    QJsonParseError error;
    const auto document = QJsonDocument::fromJson(text.toByteArray(), &error);
    if (error.error != QJsonParseError::NoError)
        return fail(JsonError::NotJson);
    if (!document.isObject())
        return fail(JsonError::NotAnObject);
    if (const auto scan = scanForDuplicates(text); !scan)
        return fail(scan.error());
    return document.object();
}
