// What the gate does with a request after its head: HttpFraming::of decides the body's
// framing from the head, and ChunkedBodyDecoder reads a chunked body from the bytes behind
// it. The input is a whole request (head and what follows). The body is decoded once whole
// and once in pieces; both must agree, never read past the body's end, and never exceed the
// limit.
#include "FuzzCheck.h"

#include "http/ChunkedBodyDecoder.h"
#include "http/HttpFraming.h"
#include "ws/HttpHeadParser.h"

namespace {
constexpr qint64 maximumBody = 1024; // small, so that the limit is within the fuzzer's reach

struct Decoded {
    ChunkedBodyDecoder::Status status = ChunkedBodyDecoder::Status::NeedMore;
    qsizetype consumed = 0;
    QByteArray body;
};

Decoded decode(QByteArrayView bytes, quint32 seed, bool inPieces)
{
    ChunkedBodyDecoder decoder(maximumBody);
    Decoded result;
    qsizetype offset = 0;
    while (offset < bytes.size() && decoder.status() == ChunkedBodyDecoder::Status::NeedMore) {
        seed = seed * 1103515245u + 12345u;
        const qsizetype piece = inPieces ? 1 + qsizetype((seed >> 16) % 13) : bytes.size();
        const QByteArrayView next = bytes.sliced(offset, std::min(piece, bytes.size() - offset));
        qsizetype consumed = 0;
        decoder.feed(next, consumed);
        FUZZ_CHECK(consumed >= 0 && consumed <= next.size());
        // Everything given is consumed while more is needed: nothing is read twice.
        if (decoder.status() == ChunkedBodyDecoder::Status::NeedMore)
            FUZZ_CHECK(consumed == next.size());
        offset += consumed;
        if (consumed < next.size())
            break;
    }
    result.status = decoder.status();
    result.consumed = offset;
    result.body = decoder.body();
    FUZZ_CHECK(result.body.size() <= maximumBody);
    return result;
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView received(data, qsizetype(size));
    const auto parsed = HttpHeadParser::parse(received);
    if (parsed.status != HttpHeadParser::Status::Complete)
        return 0;
    const HttpHead &head = parsed.head;
    const auto body = HttpFraming::of(head, maximumBody);
    if (!body) {
        FUZZ_CHECK(body.error().status == 400 || body.error().status == 413 || body.error().status == 417);
        FUZZ_CHECK(!body.error().description.isEmpty());
        return 0;
    }
    // What was accepted is unambiguous: never both framings, never a repeated length.
    const bool hasLength = !head.value("content-length").isEmpty();
    const bool hasEncoding = !head.value("transfer-encoding").isEmpty();
    FUZZ_CHECK(!(hasLength && hasEncoding));
    FUZZ_CHECK(!head.value("content-length").contains(','));
    if (body->kind == HttpFraming::Body::Kind::Length)
        FUZZ_CHECK(body->length > 0 && body->length <= maximumBody && hasLength);
    if (body->kind != HttpFraming::Body::Kind::Chunked)
        return 0;
    FUZZ_CHECK(hasEncoding && head.version == "HTTP/1.1");
    const QByteArrayView rest = received.sliced(head.size);
    quint32 seed = 2166136261u;
    for (const auto byte : rest)
        seed = (seed ^ quint8(byte)) * 16777619u;
    const Decoded whole = decode(rest, seed, false);
    const Decoded pieces = decode(rest, seed, true);
    FUZZ_CHECK(whole.status == pieces.status);
    if (whole.status == ChunkedBodyDecoder::Status::Complete) {
        FUZZ_CHECK(whole.consumed == pieces.consumed && whole.body == pieces.body);
        FUZZ_CHECK(rest.first(whole.consumed).endsWith("\r\n\r\n") || rest.first(whole.consumed).endsWith("\r\n"));
    }
    return 0;
}
