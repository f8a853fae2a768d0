#include "ws/HttpHeadParser.h"

namespace {
using HttpHeadParser::ParseResult;
using HttpHeadParser::Status;

bool isTokenCharacter(char c)
{
    // RFC 9110 §5.6.2 tchar
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
        || QByteArrayView("!#$%&'*+-.^_`|~").contains(c);
}

bool isToken(QByteArrayView text)
{
    return !text.isEmpty() && std::all_of(text.begin(), text.end(), isTokenCharacter);
}

bool isFieldValue(QByteArrayView text)
{
    // Visible characters, spaces, tabs and obs-text; never CR, LF or NUL.
    return std::none_of(text.begin(), text.end(), [](char c) {
        const auto byte = static_cast<unsigned char>(c);
        return (byte < 0x20 && c != '\t') || byte == 0x7f;
    });
}

/// RFC 9110 §5.6.3: optional white space is SP and HTAB only; a vertical tab or a form feed
/// around a value is not trimmed away (QByteArray::trimmed() would) but refused with it.
QByteArrayView withoutOws(QByteArrayView text)
{
    while (!text.isEmpty() && (text.front() == ' ' || text.front() == '\t'))
        text = text.sliced(1);
    while (!text.isEmpty() && (text.back() == ' ' || text.back() == '\t'))
        text.chop(1);
    return text;
}

/// RFC 9112 §3.2.1 origin-form, RFC 3986 characters only: no white space, controls or bytes
/// above 0x7f (those arrive percent-encoded).
bool isOriginForm(QByteArrayView target)
{
    if (target.isEmpty() || target.front() != '/')
        return false;
    return std::all_of(target.begin(), target.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
            || QByteArrayView("-._~%!$&'()*+,;=:@/?").contains(c);
    });
}

ParseResult invalid()
{
    return ParseResult { Status::Invalid, {} };
}
} // namespace

namespace {
ParseResult parseHead(QByteArrayView received, qsizetype maximumSize)
{
    const qsizetype end = received.indexOf("\r\n\r\n");
    if (end < 0) {
        // A bare LF line ending or garbage can be refused before the head is complete.
        const qsizetype firstLineEnd = received.indexOf('\n');
        if (firstLineEnd >= 0 && (firstLineEnd == 0 || received[firstLineEnd - 1] != '\r'))
            return invalid();
        return ParseResult { received.size() > maximumSize ? Status::TooLarge : Status::NeedMore, {} };
    }
    if (end + 4 > maximumSize)
        return ParseResult { Status::TooLarge, {} };

    const QByteArray headText = received.first(end).toByteArray();
    const QList<QByteArray> lines = headText.split('\n');
    HttpHead head;
    head.size = end + 4;
    for (qsizetype i = 0; i < lines.size(); ++i) {
        QByteArray line = lines[i];
        if (i + 1 < lines.size()) { // every line but the last ended with "\r\n"
            if (!line.endsWith('\r'))
                return invalid();
            line.chop(1);
        }
        if (line.contains('\r'))
            return invalid();
        if (i == 0) {
            const auto parts = line.split(' ');
            if (parts.size() != 3 || !isToken(parts[0]) || !isOriginForm(parts[1])
                || (parts[2] != "HTTP/1.1" && parts[2] != "HTTP/1.0"))
                return invalid();
            head.method = parts[0];
            head.target = parts[1];
            head.version = parts[2];
            continue;
        }
        if (line.startsWith(' ') || line.startsWith('\t'))
            return invalid(); // obs-fold (RFC 9112 §5.2)
        const qsizetype colon = line.indexOf(':');
        if (colon <= 0 || !isToken(line.first(colon)))
            return invalid(); // includes white space before the colon (RFC 9112 §5.1)
        const QByteArray value = withoutOws(QByteArrayView(line).sliced(colon + 1)).toByteArray();
        if (!isFieldValue(value))
            return invalid();
        if (head.fields.size() >= HttpHeadParser::maximumFields)
            return ParseResult { Status::TooManyFields, {} };
        head.fields.append({ line.first(colon).toLower(), value });
    }
    return ParseResult { Status::Complete, head };
}
} // namespace

ParseResult HttpHeadParser::parse(QByteArrayView received, qsizetype maximumSize)
{
    // RFC 9112 §2.2: an empty line before the request line (left over from a previous body)
    // is ignored; one, not any number.
    qsizetype skipped = 0;
    if (received.startsWith("\r\n"))
        skipped = 2;
    const ParseResult result = parseHead(received.sliced(skipped), maximumSize - skipped);
    if (result.status != Status::Complete || skipped == 0)
        return result;
    ParseResult shifted = result;
    shifted.head.size += skipped;
    return shifted;
}
