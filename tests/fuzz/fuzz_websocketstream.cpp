// The real WebSocketStream reading a client's bytes from a socket: frame parsing, reassembly of
// fragmented messages, control frames between fragments, UTF-8 checks, close handshakes and the
// message size limit. The first byte picks how the rest is cut into the writes that reach the
// socket; the same bytes sent in one write must give exactly the same messages and answers.
#include "FuzzCheck.h"
#include "StreamHarness.h"

#include <QObject>

using WebSocketFrame::Opcode;

namespace {
constexpr qint64 maximumMessageSize = 1000;

struct Outcome {
    QList<QByteArray> texts;
    QList<qint64> binarySizes;
    int disconnections = 0;
    bool eventAfterDisconnection = false;
    bool open = true;
    int closeCode = 0;
    QByteArray output;

    bool operator==(const Outcome &) const = default;
};

Outcome run(QByteArrayView bytes, quint8 cutSeed)
{
    // Binary messages on, as the conformance harness has them: both message paths are fuzzed
    // (the session protocol's refusal of binary is one branch before them). No message rate:
    // it reads the clock, and the same bytes must give the same outcome.
    WebSocketStream::Limits limits { maximumMessageSize, 4 * 1024 * 1024 };
    limits.binaryMessages = true;
    StreamHarness harness(limits);
    WebSocketStream *stream = harness.stream();
    Outcome outcome;
    QObject context;
    QObject::connect(stream, &WebSocketStream::textReceived, &context, [&](const QByteArray &text) {
        outcome.eventAfterDisconnection |= outcome.disconnections > 0;
        outcome.texts.append(text);
    });
    QObject::connect(stream, &WebSocketStream::binaryReceived, &context, [&](const QByteArray &bytes) {
        outcome.eventAfterDisconnection |= outcome.disconnections > 0;
        outcome.binarySizes.append(bytes.size());
    });
    QObject::connect(stream, &WebSocketStream::disconnected, &context, [&] { ++outcome.disconnections; });
    stream->uncork();

    quint32 state = cutSeed;
    for (qsizetype at = 0; at < bytes.size();) {
        qsizetype piece = bytes.size() - at;
        if (cutSeed != 0) {
            state = state * 1103515245u + 12345u;
            piece = std::min(piece, qsizetype(1 + (state >> 16) % 64));
        }
        harness.sendFromClient(bytes.sliced(at, piece));
        at += piece;
    }
    outcome.open = harness.stream() && harness.stream()->isOpen();
    outcome.closeCode = harness.stream() ? harness.stream()->closeCode() : -1;
    outcome.output = harness.receiveAtClient();
    return outcome;
}

void checkOutcome(const Outcome &outcome)
{
    for (const auto &text : outcome.texts)
        FUZZ_CHECK(text.size() <= maximumMessageSize && WebSocketFrame::isValidUtf8(text));
    for (const qint64 size : outcome.binarySizes)
        FUZZ_CHECK(size <= maximumMessageSize);
    FUZZ_CHECK(outcome.disconnections <= 1 && !outcome.eventAfterDisconnection);
    FUZZ_CHECK(outcome.open == (outcome.disconnections == 0));

    // What the server wrote: pongs, then at most one close frame, last; all final, unmasked.
    const auto frames = parseServerFrames(outcome.output);
    FUZZ_CHECK(frames.has_value());
    for (qsizetype i = 0; i < frames->size(); ++i) {
        const ServerFrame &frame = frames->at(i);
        FUZZ_CHECK(frame.final && frame.payload.size() <= 125);
        FUZZ_CHECK(frame.opcode == Opcode::Pong || frame.opcode == Opcode::Close);
        if (frame.opcode == Opcode::Close) {
            FUZZ_CHECK(i == frames->size() - 1 && !outcome.open);
            FUZZ_CHECK(frame.payload.size() != 1);
            if (frame.payload.size() >= 2) {
                const int code = (quint8(frame.payload[0]) << 8) | quint8(frame.payload[1]);
                FUZZ_CHECK(WebSocketFrame::isValidReceivedCloseCode(code) && code == outcome.closeCode);
                FUZZ_CHECK(WebSocketFrame::isValidUtf8(QByteArrayView(frame.payload).sliced(2)));
            }
        }
    }
    if (!outcome.open && outcome.closeCode != 1006) // 1006: no close frame, the socket just broke
        FUZZ_CHECK(!frames->isEmpty() && frames->last().opcode == Opcode::Close);
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const QByteArrayView bytes(data + 1, qsizetype(size) - 1);
    const Outcome whole = run(bytes, 0);
    checkOutcome(whole);
    if (data[0] != 0) {
        const Outcome cut = run(bytes, data[0]);
        FUZZ_CHECK(cut == whole);
    }
    return 0;
}
