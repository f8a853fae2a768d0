#include "http/HttpFraming.h"

using namespace Qt::StringLiterals;

namespace {
using HttpFraming::Body;
using HttpFraming::Refusal;

Refusal badRequest(const QString &description)
{
    return Refusal { 400, u"bad_request"_s, description };
}

/// The values of every field called `name`, each as sent (not joined).
QList<QByteArray> fieldValues(const HttpHead &head, QByteArrayView name)
{
    QList<QByteArray> values;
    for (const auto &[fieldName, value] : head.fields) {
        if (fieldName == name)
            values.append(value);
    }
    return values;
}

/// RFC 9110 §8.6: Content-Length = 1*DIGIT. Nothing else: no sign, no hex, no list, and a
/// value that does not fit in 63 bits is as invalid as garbage.
std::optional<qint64> plainDecimal(const QByteArray &text)
{
    if (text.isEmpty() || text.size() > 18)
        return std::nullopt;
    qint64 value = 0;
    for (const char c : text) {
        if (c < '0' || c > '9')
            return std::nullopt;
        value = value * 10 + (c - '0');
    }
    return value;
}
} // namespace

Result<Body, Refusal> HttpFraming::of(const HttpHead &head, qint64 maximumBodySize)
{
    // RFC 9112 §3.2: a client MUST send exactly one Host in an HTTP/1.1 request, and a server
    // MUST answer 400 to a request with none or several.
    const qsizetype hosts = fieldValues(head, "host").size();
    if (hosts > 1 || (hosts == 0 && head.version == "HTTP/1.1"))
        return Result<Body, Refusal>::failure(badRequest(u"send exactly one Host header (RFC 9112 §3.2)"_s));

    Body body;
    const QList<QByteArray> encodings = fieldValues(head, "transfer-encoding");
    const QList<QByteArray> lengths = fieldValues(head, "content-length");
    if (!encodings.isEmpty()) {
        // §6.1: Transfer-Encoding with Content-Length is how requests are smuggled; refuse it
        // rather than pick one. HTTP/1.0 has no transfer codings.
        if (!lengths.isEmpty())
            return Result<Body, Refusal>::failure(
                badRequest(u"Content-Length and Transfer-Encoding together (RFC 9112 §6.1)"_s));
        if (head.version != "HTTP/1.1")
            return Result<Body, Refusal>::failure(badRequest(u"Transfer-Encoding in an HTTP/1.0 request"_s));
        // Only a lone "chunked": no other coding is supported, and chunked must be the last.
        if (encodings.size() != 1 || encodings.first().compare("chunked", Qt::CaseInsensitive) != 0)
            return Result<Body, Refusal>::failure(
                badRequest(u"the only transfer coding accepted is a single \"chunked\""_s));
        body.kind = Body::Kind::Chunked;
    } else if (!lengths.isEmpty()) {
        if (lengths.size() != 1)
            return Result<Body, Refusal>::failure(badRequest(u"Content-Length is repeated (RFC 9112 §6.3)"_s));
        const auto length = plainDecimal(lengths.first());
        if (!length)
            return Result<Body, Refusal>::failure(badRequest(u"Content-Length is not a plain decimal number"_s));
        if (*length > maximumBodySize)
            return Result<Body, Refusal>::failure(
                Refusal { 413, u"body_too_large"_s, u"the body may not exceed %1 bytes"_s.arg(maximumBodySize) });
        if (*length > 0) {
            body.kind = Body::Kind::Length;
            body.length = *length;
        }
    }

    const QList<QByteArray> expectations = fieldValues(head, "expect");
    if (!expectations.isEmpty()) {
        // RFC 9110 §10.1.1: 100-continue is the only expectation defined.
        if (expectations.size() != 1 || expectations.first().compare("100-continue", Qt::CaseInsensitive) != 0)
            return Result<Body, Refusal>::failure(
                Refusal { 417, u"expectation_failed"_s, u"the only expectation met is 100-continue"_s });
        body.expectsContinue = body.kind != Body::Kind::None && head.version == "HTTP/1.1";
    }
    return body;
}

bool HttpFraming::keepsAlive(const HttpHead &head)
{
    return head.version == "HTTP/1.1" && !head.hasToken("connection", "close");
}
