// HttpHeadParser::parse, the request head of every WebSocket upgrade, and the HttpHead
// accessors the gate reads it with. The input is the bytes a client sent, whole; the same
// bytes are also fed as they could arrive, in pieces, to check that the parser's answers to a
// growing buffer agree with each other (NeedMore, then one final answer).
#include "FuzzCheck.h"

#include "ws/HttpHeadParser.h"

using HttpHeadParser::Status;

namespace {
bool isRefusal(Status status)
{
    return status == Status::Invalid || status == Status::TooLarge || status == Status::TooManyFields;
}

bool sameHead(const HttpHead &a, const HttpHead &b)
{
    return a.method == b.method && a.target == b.target && a.version == b.version && a.fields == b.fields
        && a.size == b.size;
}

void checkComplete(const HttpHead &head, QByteArrayView received, qsizetype maximumSize)
{
    FUZZ_CHECK(head.size >= 4 && head.size <= received.size() && head.size <= maximumSize);
    FUZZ_CHECK(received.first(head.size).endsWith("\r\n\r\n"));
    FUZZ_CHECK(received.first(head.size - 2).indexOf("\r\n\r\n") < 0); // the first blank line ends it
    FUZZ_CHECK(head.version == "HTTP/1.1" || head.version == "HTTP/1.0");
    FUZZ_CHECK(head.target.startsWith('/'));
    FUZZ_CHECK(head.fields.size() <= HttpHeadParser::maximumFields);
    for (const auto &[name, value] : head.fields) {
        FUZZ_CHECK(!name.isEmpty() && name == name.toLower());
        FUZZ_CHECK(!name.contains(':') && !name.contains(' '));
        FUZZ_CHECK(!value.contains('\r') && !value.contains('\n') && !value.contains('\0'));
        FUZZ_CHECK(value == value.trimmed());
    }
    // The accessors the gate uses, on whatever the fields say.
    FUZZ_CHECK(!head.value("host").contains('\n'));
    FUZZ_CHECK(!head.hasToken("connection", "upgrade") || !head.value("connection").isEmpty());
    FUZZ_CHECK(head.target.startsWith(head.path()) && !head.path().contains('?'));
    head.queryValue("access_token");
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView received(data, qsizetype(size));
    // A small limit too, so that the size checks meet inputs of a size the fuzzer can reach.
    for (const qsizetype maximumSize : { HttpHeadParser::defaultMaximumSize, qsizetype(64) }) {
        const auto whole = HttpHeadParser::parse(received, maximumSize);
        if (whole.status == Status::Complete)
            checkComplete(whole.head, received, maximumSize);
        else
            FUZZ_CHECK(whole.head.fields.isEmpty() && whole.head.method.isEmpty());

        // The buffer as it grows: a refusal is final, a complete head stays the same head, and
        // the answer for the whole input is the last one.
        Status previous = Status::NeedMore;
        HttpHead completed;
        quint32 state = 2166136261u; // FNV-1a of the input picks the cut points
        for (const auto byte : received)
            state = (state ^ quint8(byte)) * 16777619u;
        for (qsizetype end = 0; end < received.size();) {
            state = state * 1103515245u + 12345u;
            end = std::min(received.size(), end + 1 + qsizetype((state >> 16) % 97));
            const auto partial = HttpHeadParser::parse(received.first(end), maximumSize);
            if (isRefusal(previous))
                FUZZ_CHECK(isRefusal(partial.status));
            if (previous == Status::Complete) {
                FUZZ_CHECK(partial.status == Status::Complete && sameHead(partial.head, completed));
            }
            if (partial.status == Status::Complete)
                completed = partial.head;
            previous = partial.status;
        }
        FUZZ_CHECK(isRefusal(previous) == isRefusal(whole.status));
        FUZZ_CHECK((previous == Status::Complete) == (whole.status == Status::Complete));
        if (whole.status == Status::Complete) {
            // Every strict prefix of the head is still waiting for more.
            FUZZ_CHECK(HttpHeadParser::parse(received.first(whole.head.size - 1), maximumSize).status
                       == Status::NeedMore);
            FUZZ_CHECK(sameHead(HttpHeadParser::parse(received.first(whole.head.size), maximumSize).head, whole.head));
        }
    }
    return 0;
}
