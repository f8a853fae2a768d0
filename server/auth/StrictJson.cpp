#include "auth/StrictJson.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonParseError>
#include <QSet>

#include <vector>

using namespace Qt::StringLiterals;

namespace {
bool isDigit(char c)
{
    return c >= '0' && c <= '9';
}

bool isWhiteSpace(char c) // RFC 8259 §2
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/// The decoded text of a JSON string literal (with its quotes), so that "a" and "\u0061"
/// count as the same member name. Literals without escapes need no decoding.
QString decodeStringLiteral(QByteArrayView literal)
{
    if (!literal.contains('\\'))
        return QString::fromUtf8(literal.sliced(1, literal.size() - 2));
    const auto array = QJsonDocument::fromJson(QByteArray("[") + literal.toByteArray() + QByteArray("]"));
    return array.array().at(0).toString();
}

/// The code unit a `\uXXXX` escape at `at` writes, or -1 if it is not one.
int escapedUnit(QByteArrayView text, qsizetype at)
{
    if (at + 6 > text.size() || text[at] != '\\' || text[at + 1] != 'u')
        return -1;
    int unit = 0;
    for (const char digit : text.sliced(at + 2, 4)) {
        const char lower = char(digit | 0x20);
        if (isDigit(digit))
            unit = unit * 16 + (digit - '0');
        else if (lower >= 'a' && lower <= 'f')
            unit = unit * 16 + (lower - 'a' + 10);
        else
            return -1;
    }
    return unit;
}

/// Just past the string literal whose opening quote is at `start`; -1 if it holds what
/// RFC 8259 §7 does not allow and QJsonDocument takes: a raw control character, an unknown
/// escape; or a lone surrogate escape (I-JSON, RFC 7493 §2.1: it is no character, and Qt
/// writes it back as another, so two names could become one).
qsizetype endOfString(QByteArrayView text, qsizetype start)
{
    qsizetype i = start + 1;
    while (i < text.size()) {
        const char c = text[i];
        if (c == '"')
            return i + 1;
        if (static_cast<unsigned char>(c) < 0x20)
            return -1;
        // U+FEFF (a byte order mark), raw: Qt 6.4 drops it in places (a member name that
        // begins with it is read without it, yet found by neither name), so what it writes
        // back is not what it read. No header, claim or message needs one.
        if (text.sliced(i).startsWith("\xef\xbb\xbf"))
            return -1;
        if (c != '\\') {
            ++i;
            continue;
        }
        if (i + 1 >= text.size())
            return -1;
        if (text[i + 1] != 'u') {
            if (!QByteArrayView("\"\\/bfnrt").contains(text[i + 1]))
                return -1;
            i += 2;
            continue;
        }
        const int unit = escapedUnit(text, i);
        if (unit < 0 || (unit >= 0xdc00 && unit <= 0xdfff) || unit == 0xfeff)
            return -1; // not an escape, the second half of a pair without the first, or U+FEFF
        if (unit >= 0xd800 && unit <= 0xdbff) {
            const int low = escapedUnit(text, i + 6);
            if (low < 0xdc00 || low > 0xdfff)
                return -1; // the first half of a pair without the second
            i += 6;
        }
        i += 6;
    }
    return -1;
}

/// Just past the number that starts at `start`; -1 if it is not written as RFC 8259 §6 says
/// (QJsonDocument also takes `1.`, `.5` and `-.5`).
qsizetype endOfNumber(QByteArrayView text, qsizetype start)
{
    qsizetype i = start;
    const auto at = [&](char c) { return i < text.size() && text[i] == c; };
    const auto digits = [&] {
        const qsizetype first = i;
        while (i < text.size() && isDigit(text[i]))
            ++i;
        return i > first;
    };
    if (at('-'))
        ++i;
    if (at('0'))
        ++i;
    else if (!digits())
        return -1;
    if (at('.')) {
        ++i;
        if (!digits())
            return -1;
    }
    if (at('e') || at('E')) {
        ++i;
        if (at('+') || at('-'))
            ++i;
        if (!digits())
            return -1;
    }
    return i;
}

/// Whether the string literal that ends before `end` is followed by a colon: a member name.
bool isName(QByteArrayView text, qsizetype end)
{
    while (end < text.size() && isWhiteSpace(text[end]))
        ++end;
    return end < text.size() && text[end] == ':';
}

/// Walks a text that QJsonDocument has already accepted, so only nesting, member names,
/// string literals and numbers need checking.
Result<bool, JsonError> scanStrictly(QByteArrayView text)
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
            if (frames.size() >= StrictJson::maximumDepth)
                return fail(JsonError::TooDeep);
            frames.push_back(Frame { c == '{', {} });
            ++i;
        } else if (c == '}' || c == ']') {
            frames.pop_back();
            ++i;
        } else if (c == '"') {
            const qsizetype end = endOfString(text, i);
            if (end < 0)
                return fail(JsonError::NotJson);
            if (!frames.empty() && frames.back().isObject && isName(text, end)) {
                const QString name = decodeStringLiteral(text.sliced(i, end - i));
                if (frames.back().names.contains(name))
                    return fail(JsonError::DuplicateMember);
                frames.back().names.insert(name);
            }
            i = end;
        } else if (c == '-' || c == '.' || isDigit(c)) {
            i = endOfNumber(text, i);
            if (i < 0)
                return fail(JsonError::NotJson);
        } else {
            ++i; // white space, a separator, or a letter of true, false or null
        }
    }
    return true;
}
} // namespace

Result<QJsonObject, JsonError> StrictJson::parseObject(QByteArrayView text)
{
    QJsonParseError error;
    const auto document = QJsonDocument::fromJson(text.toByteArray(), &error);
    if (error.error == QJsonParseError::DeepNesting) // Qt's own limit, far beyond ours
        return fail(JsonError::TooDeep);
    if (error.error != QJsonParseError::NoError)
        return fail(JsonError::NotJson);
    if (!document.isObject())
        return fail(JsonError::NotAnObject);
    if (const auto scan = scanStrictly(text); !scan)
        return fail(scan.error());
    return document.object();
}

QByteArrayView StrictJson::memberText(QByteArrayView object, QStringView name)
{
    int depth = 0;
    qsizetype valueStart = -1;
    qsizetype i = 0;
    while (i < object.size()) {
        const char c = object[i];
        if (c == '{' || c == '[') {
            ++depth;
        } else if (c == '}' || c == ']' || c == ',') {
            if (depth == 1 && valueStart >= 0) {
                QByteArrayView value = object.sliced(valueStart, i - valueStart);
                while (!value.isEmpty() && isWhiteSpace(value.back()))
                    value.chop(1);
                return value;
            }
            if (c != ',')
                --depth;
        } else if (c == '"') {
            const qsizetype end = endOfString(object, i);
            if (end < 0)
                return {};
            if (depth == 1 && valueStart < 0 && isName(object, end)
                && decodeStringLiteral(object.sliced(i, end - i)) == name) {
                valueStart = object.indexOf(':', end) + 1;
                while (valueStart < object.size() && isWhiteSpace(object[valueStart]))
                    ++valueStart;
                i = valueStart;
                continue;
            }
            i = end;
            continue;
        }
        ++i;
    }
    return {};
}

QString StrictJson::errorString(JsonError error)
{
    switch (error) {
    case JsonError::NotJson:
        return u"it is not JSON (RFC 8259), or holds a number beyond a double's range"_s;
    case JsonError::NotAnObject:
        return u"it is JSON, but not one object"_s;
    case JsonError::DuplicateMember:
        return u"a member name appears twice in one object"_s;
    case JsonError::TooDeep:
        return u"objects and arrays nest deeper than %1 levels"_s.arg(maximumDepth);
    }
    return {};
}
