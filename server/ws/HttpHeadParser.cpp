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

ParseResult invalid()
{
    return ParseResult { Status::Invalid, {} };
}
} // namespace

ParseResult HttpHeadParser::parse(QByteArrayView received, qsizetype maximumSize)
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
            if (parts.size() != 3 || !isToken(parts[0]) || parts[1].isEmpty() || !parts[1].startsWith('/')
                || (parts[2] != "HTTP/1.1" && parts[2] != "HTTP/1.0") || !isFieldValue(parts[1]))
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
        const QByteArray value = line.sliced(colon + 1).trimmed();
        if (!isFieldValue(value))
            return invalid();
        if (head.fields.size() >= maximumFields)
            return ParseResult { Status::TooManyFields, {} };
        head.fields.append({ line.first(colon).toLower(), value });
    }
    return ParseResult { Status::Complete, head };
}
