// ProxyHeader::parse, the PROXY protocol header a trusted proxy sends before anything else,
// and TrustedProxies::clientOf, which reads the forwarded headers of a request. The input is
// the bytes a proxy sent: a parse never claims more than it was given, a complete header
// never names a client it did not spell out, and every prefix of a complete header asks for
// more (so a header arriving in pieces is read as the whole one is).
#include "FuzzCheck.h"

#include "http/ProxyHeader.h"
#include "http/TrustedProxies.h"
#include "ws/HttpHeadParser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView bytes(data, qsizetype(size));
    const auto parsed = ProxyHeader::parse(bytes);
    if (parsed.status == ProxyHeader::Status::Complete) {
        FUZZ_CHECK(parsed.size > 0 && parsed.size <= bytes.size() && parsed.size <= ProxyHeader::maximumSize);
        FUZZ_CHECK(!parsed.source || !parsed.source->isNull());
        for (qsizetype cut = 0; cut < parsed.size; ++cut)
            FUZZ_CHECK(ProxyHeader::parse(bytes.first(cut)).status == ProxyHeader::Status::NeedMore);
        // What follows the header does not change what the header says.
        const auto again = ProxyHeader::parse(bytes.first(parsed.size));
        FUZZ_CHECK(again.status == ProxyHeader::Status::Complete && again.size == parsed.size
                   && again.source == parsed.source);
    } else if (parsed.status == ProxyHeader::Status::NeedMore) {
        FUZZ_CHECK(bytes.size() < ProxyHeader::maximumSize);
    }

    // The same bytes as the forwarded headers of a request from a trusted proxy: the client is
    // an address (never null), and a stranger's headers change nothing.
    const QByteArray value = bytes.toByteArray().replace('\r', ' ').replace('\n', ' ');
    const QByteArray text = "GET / HTTP/1.1\r\nHost: a\r\nForwarded: " + value + "\r\nX-Forwarded-For: " + value
        + "\r\nX-Forwarded-Proto: " + value + "\r\n\r\n";
    const auto head = HttpHeadParser::parse(text);
    if (head.status == HttpHeadParser::Status::Complete) {
        static const TrustedProxies proxies
            = TrustedProxies::parse({ QStringLiteral("127.0.0.1"), QStringLiteral("10.0.0.0/8") }).value();
        const auto trusted = proxies.clientOf(QHostAddress(QStringLiteral("127.0.0.1")), head.head);
        FUZZ_CHECK(!trusted.address.isNull());
        const auto stranger = proxies.clientOf(QHostAddress(QStringLiteral("203.0.113.9")), head.head);
        FUZZ_CHECK(stranger.address == QHostAddress(QStringLiteral("203.0.113.9")) && !stranger.https);
    }
    return 0;
}
