// WebSocketFrame's pure functions on what a client sends: parseClientFrame over a buffer of
// frames, isValidUtf8, and what the server builds from a client's bytes (closePayload, encode).
// The first two bytes are the payload limit; the rest is the byte stream after the upgrade.
#include "FuzzCheck.h"

#include "ws/WebSocketFrame.h"

#include <QString>
#include <QtEndian>

using namespace WebSocketFrame;

namespace {
bool isControl(Opcode opcode)
{
    return (quint8(opcode) & 0x8) != 0;
}

/// The client frame `frame` with `mask`, its length in the shortest form (RFC 6455 §5.2).
QByteArray clientFrame(const Frame &frame, const char mask[4])
{
    QByteArray bytes(1, char((frame.final ? 0x80 : 0) | quint8(frame.opcode)));
    const auto length = quint64(frame.payload.size());
    if (length < 126) {
        bytes.append(char(0x80 | length));
    } else if (length <= 0xffff) {
        bytes.append(char(0x80 | 126));
        char size[2];
        qToBigEndian<quint16>(quint16(length), size);
        bytes.append(size, 2);
    } else {
        bytes.append(char(0x80 | 127));
        char size[8];
        qToBigEndian<quint64>(length, size);
        bytes.append(size, 8);
    }
    bytes.append(mask, 4);
    for (qsizetype i = 0; i < frame.payload.size(); ++i)
        bytes.append(char(frame.payload[i] ^ mask[i & 3]));
    return bytes;
}

/// Qt's decoder as a second opinion: text is valid UTF-8 exactly when decoding it and encoding
/// it again gives it back unchanged (invalid sequences become U+FFFD).
bool qtSaysUtf8(QByteArrayView bytes)
{
    return QString::fromUtf8(bytes).toUtf8() == bytes;
}

void checkFrame(QByteArrayView input, const ParseResult &parsed, qint64 maximumPayload)
{
    const Frame &frame = parsed.frame;
    FUZZ_CHECK(parsed.consumed >= 6 && parsed.consumed <= input.size());
    FUZZ_CHECK(frame.payload.size() <= maximumPayload);
    FUZZ_CHECK(!isControl(frame.opcode) || (frame.final && frame.payload.size() <= 125));
    // Lengths must be minimal, so a frame has one encoding: built again, it is the same bytes.
    const qsizetype header = parsed.consumed - frame.payload.size() - 4;
    FUZZ_CHECK(header == 2 || header == 4 || header == 10);
    const QByteArrayView bytes = input.first(parsed.consumed);
    FUZZ_CHECK(clientFrame(frame, bytes.data() + header) == bytes);
    // Cut anywhere, it is still a frame waiting for its end; with more after it, the same frame.
    for (const qsizetype cut : { qsizetype(1), header, parsed.consumed / 2, parsed.consumed - 1 })
        FUZZ_CHECK(parseClientFrame(bytes.first(cut), maximumPayload).status == ParseResult::Status::NeedMore);
}

void checkPayload(const QByteArray &payload)
{
    const bool valid = isValidUtf8(payload);
    FUZZ_CHECK(valid == qtSaysUtf8(payload));
    // The close frame the server builds from a client's text fits in a control frame, and its
    // reason is still UTF-8 when cut (RFC 6455 §5.5, §5.5.1).
    const QByteArray close = closePayload(WebSocketClose { 1000 }, QString::fromUtf8(payload));
    FUZZ_CHECK(close.size() >= 2 && close.size() <= 125);
    FUZZ_CHECK(isValidUtf8(QByteArrayView(close).sliced(2)));
    // What the server sends back (a pong echoes the ping's payload) is one final, unmasked frame.
    const QByteArray echoed = encode(Opcode::Pong, payload);
    FUZZ_CHECK(echoed.endsWith(payload) && (quint8(echoed[0]) == 0x8A) && (quint8(echoed[1]) & 0x80) == 0);
    const QByteArray accept = acceptKey(payload);
    FUZZ_CHECK(accept.isEmpty() || accept.size() == 28);
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    const qint64 maximumPayload = qFromBigEndian<quint16>(data);
    QByteArrayView input(data + 2, qsizetype(size) - 2);
    while (!input.isEmpty()) {
        const auto parsed = parseClientFrame(input, maximumPayload);
        if (parsed.status == ParseResult::Status::NeedMore)
            break;
        if (parsed.status == ParseResult::Status::Error) {
            FUZZ_CHECK(parsed.error == WebSocketClose { 1002 } || parsed.error == WebSocketClose { 1009 });
            FUZZ_CHECK(!parsed.reason.isEmpty());
            break;
        }
        checkFrame(input, parsed, maximumPayload);
        checkPayload(parsed.frame.payload);
        input = input.sliced(parsed.consumed);
    }
    return 0;
}
