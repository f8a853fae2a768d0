// RFC 9112 message framing as the gate applies it to every request of a connection: the
// head parser's limits, how the body is delimited (Content-Length, chunked, neither), and the
// chunked decoder, with the shapes that smuggle requests past lenient servers.
#include "http/ChunkedBodyDecoder.h"
#include "http/HttpFraming.h"
#include "ws/HttpHeadParser.h"

#include <QTest>

using namespace Qt::StringLiterals;

class TestHttpFraming final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void headLimits_data();
    void headLimits();
    void bodyFraming_data();
    void bodyFraming();
    void keepAlive_data();
    void keepAlive();
    void chunkedBody_data();
    void chunkedBody();
    void chunkedBodyStopsAtItsEnd();
    void chunkedBodyByteByByte();
};

namespace {
HttpHead headOf(const QByteArray &text)
{
    const auto parsed = HttpHeadParser::parse(text);
    if (parsed.status != HttpHeadParser::Status::Complete)
        qFatal("test head does not parse: %s", text.constData());
    return parsed.head;
}

QByteArray fields(int count)
{
    QByteArray text;
    for (int i = 0; i < count; ++i)
        text += "X-" + QByteArray::number(i) + ": v\r\n";
    return text;
}
} // namespace

void TestHttpFraming::headLimits_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<int>("status");
    using S = HttpHeadParser::Status;
    QTest::newRow("a plain request is complete") << QByteArray("GET / HTTP/1.1\r\nHost: a\r\n\r\n") << int(S::Complete);
    QTest::newRow("a head still arriving needs more")
        << QByteArray("GET / HTTP/1.1\r\nHost: a\r\n") << int(S::NeedMore);
    QTest::newRow("100 fields are allowed")
        << QByteArray("GET / HTTP/1.1\r\n" + fields(100) + "\r\n") << int(S::Complete);
    QTest::newRow("101 fields are too many, and said so")
        << QByteArray("GET / HTTP/1.1\r\n" + fields(101) + "\r\n") << int(S::TooManyFields);
    QTest::newRow("a 17 KiB field is too large")
        << QByteArray("GET / HTTP/1.1\r\nX: " + QByteArray(17 * 1024, 'a') + "\r\n\r\n") << int(S::TooLarge);
    QTest::newRow("a 1 MiB request line is too large before it ends")
        << QByteArray("GET /" + QByteArray(1024 * 1024, 'a')) << int(S::TooLarge);
    QTest::newRow("obs-fold is refused") << QByteArray("GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n") << int(S::Invalid);
    QTest::newRow("a bare LF is refused") << QByteArray("GET / HTTP/1.1\nHost: a\n\n") << int(S::Invalid);
    QTest::newRow("a NUL in a value is refused")
        << QByteArray("GET / HTTP/1.1\r\nX: a\0b\r\n\r\n", 26) << int(S::Invalid);
    QTest::newRow("absolute-form is refused")
        << QByteArray("GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n") << int(S::Invalid);
    QTest::newRow("white space before the colon is refused")
        << QByteArray("GET / HTTP/1.1\r\nHost : a\r\n\r\n") << int(S::Invalid);
    QTest::newRow("a vertical tab after a value is refused, not trimmed")
        << QByteArray("GET / HTTP/1.1\r\nTransfer-Encoding: chunked\x0b\r\n\r\n") << int(S::Invalid);
    QTest::newRow("a form feed before a value is refused, not trimmed")
        << QByteArray("GET / HTTP/1.1\r\nContent-Length:\x0c"
                      "5\r\n\r\n")
        << int(S::Invalid);
    QTest::newRow("a tab in the target is refused")
        << QByteArray("GET /a\tb HTTP/1.1\r\nHost: a\r\n\r\n") << int(S::Invalid);
    QTest::newRow("a byte over 0x7f in the target is refused")
        << QByteArray("GET /caf\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n") << int(S::Invalid);
    QTest::newRow("one empty line before the request line is ignored")
        << QByteArray("\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n") << int(S::Complete);
    QTest::newRow("two empty lines before the request line are refused")
        << QByteArray("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n") << int(S::Invalid);
    QTest::newRow("HTTP/2.0 in a request line is refused")
        << QByteArray("GET / HTTP/2.0\r\nHost: a\r\n\r\n") << int(S::Invalid);
}

void TestHttpFraming::headLimits()
{
    QFETCH(QByteArray, text);
    QFETCH(int, status);
    const auto parsed = HttpHeadParser::parse(text);
    QCOMPARE(int(parsed.status), status);
    if (parsed.status == HttpHeadParser::Status::Complete)
        QCOMPARE(parsed.head.size, text.size()); // what the caller takes, a leading empty line included
}

void TestHttpFraming::bodyFraming_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<int>("refusal"); // 0: accepted
    QTest::addColumn<int>("kind");
    QTest::addColumn<qint64>("length");
    using K = HttpFraming::Body::Kind;
    const auto row = [](const char *name, const QByteArray &fieldLines, int refusal, K kind = K::None,
                        qint64 length = 0, const QByteArray &version = "HTTP/1.1") {
        QTest::newRow(name) << QByteArray("POST /x " + version + "\r\n" + fieldLines + "\r\n") << refusal << int(kind)
                            << length;
    };
    row("no body", "Host: a\r\n", 0);
    row("a declared length", "Host: a\r\nContent-Length: 7\r\n", 0, K::Length, 7);
    row("a zero length is no body", "Host: a\r\nContent-Length: 0\r\n", 0);
    row("chunked", "Host: a\r\nTransfer-Encoding: chunked\r\n", 0, K::Chunked);
    row("chunked in capitals", "Host: a\r\nTransfer-Encoding: CHUNKED\r\n", 0, K::Chunked);
    row("a length at the limit", "Host: a\r\nContent-Length: 65536\r\n", 0, K::Length, 65536);
    row("HTTP/1.0 without Host", "Content-Length: 2\r\n", 0, K::Length, 2, "HTTP/1.0");
    // Rainy: every shape of Content-Length that servers have read differently.
    row("two different lengths are refused", "Host: a\r\nContent-Length: 0\r\nContent-Length: 56\r\n", 400);
    row("the same length twice is refused", "Host: a\r\nContent-Length: 7\r\nContent-Length: 7\r\n", 400);
    row("a list of lengths is refused", "Host: a\r\nContent-Length: 7, 7\r\n", 400);
    row("a negative length is refused", "Host: a\r\nContent-Length: -1\r\n", 400);
    row("a hexadecimal length is refused", "Host: a\r\nContent-Length: 0x7\r\n", 400);
    row("a signed length is refused", "Host: a\r\nContent-Length: +7\r\n", 400);
    row("2^64+7 is refused, not wrapped", "Host: a\r\nContent-Length: 18446744073709551623\r\n", 400);
    row("an empty length is refused", "Host: a\r\nContent-Length: \r\n", 400);
    row("a length over the limit is 413 before any body", "Host: a\r\nContent-Length: 9999999999\r\n", 413);
    row("one byte over the limit is 413", "Host: a\r\nContent-Length: 65537\r\n", 413);
    row("Content-Length with Transfer-Encoding is refused",
        "Host: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n", 400);
    row("gzip, chunked is refused", "Host: a\r\nTransfer-Encoding: gzip, chunked\r\n", 400);
    row("chunked, chunked is refused", "Host: a\r\nTransfer-Encoding: chunked, chunked\r\n", 400);
    row("chunked twice in two fields is refused",
        "Host: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", 400);
    row("identity is refused", "Host: a\r\nTransfer-Encoding: identity\r\n", 400);
    row("a coding after chunked is refused", "Host: a\r\nTransfer-Encoding: chunked, gzip\r\n", 400);
    row("chunked in HTTP/1.0 is refused", "Transfer-Encoding: chunked\r\n", 400, K::None, 0, "HTTP/1.0");
    row("HTTP/1.1 without Host is refused", "Content-Length: 1\r\n", 400);
    row("two Host fields are refused", "Host: a\r\nHost: b\r\n", 400);
    row("two Host fields in HTTP/1.0 are refused", "Host: a\r\nHost: b\r\n", 400, K::None, 0, "HTTP/1.0");
    row("an unknown expectation is 417", "Host: a\r\nExpect: teapot\r\n", 417);
}

void TestHttpFraming::bodyFraming()
{
    QFETCH(QByteArray, text);
    QFETCH(int, refusal);
    QFETCH(int, kind);
    QFETCH(qint64, length);
    const auto body = HttpFraming::of(headOf(text), 64 * 1024);
    if (refusal != 0) {
        QVERIFY(!body);
        QCOMPARE(body.error().status, refusal);
        QVERIFY(!body.error().description.isEmpty());
        return;
    }
    QVERIFY2(body, qPrintable(body ? QString() : body.error().description));
    QCOMPARE(int(body->kind), kind);
    QCOMPARE(body->length, length);
}

void TestHttpFraming::keepAlive_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<bool>("keepsAlive");
    QTest::newRow("HTTP/1.1 stays open") << QByteArray("GET / HTTP/1.1\r\nHost: a\r\n\r\n") << true;
    QTest::newRow("Connection: close closes")
        << QByteArray("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n") << false;
    QTest::newRow("close in a list closes")
        << QByteArray("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Close\r\n\r\n") << false;
    QTest::newRow("HTTP/1.0 closes") << QByteArray("GET / HTTP/1.0\r\n\r\n") << false;
    QTest::newRow("HTTP/1.0 closes even with keep-alive")
        << QByteArray("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n") << false;
}

void TestHttpFraming::keepAlive()
{
    QFETCH(QByteArray, text);
    QFETCH(bool, keepsAlive);
    QCOMPARE(HttpFraming::keepsAlive(headOf(text)), keepsAlive);
}

void TestHttpFraming::chunkedBody_data()
{
    QTest::addColumn<QByteArray>("wire");
    QTest::addColumn<int>("status");
    QTest::addColumn<QByteArray>("body");
    using S = ChunkedBodyDecoder::Status;
    QTest::newRow("two chunks and the last")
        << QByteArray("3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n") << int(S::Complete) << QByteArray("abcde");
    QTest::newRow("hex sizes in either case") << QByteArray("A\r\n0123456789\r\na\r\n0123456789\r\n0\r\n\r\n")
                                              << int(S::Complete) << QByteArray("01234567890123456789");
    QTest::newRow("extensions are read and ignored")
        << QByteArray("3;name=value;flag\r\nabc\r\n0;x=y\r\n\r\n") << int(S::Complete) << QByteArray("abc");
    QTest::newRow("trailer fields are read and dropped")
        << QByteArray("1\r\na\r\n0\r\nX-Sum: 1\r\n\r\n") << int(S::Complete) << QByteArray("a");
    QTest::newRow("an empty body") << QByteArray("0\r\n\r\n") << int(S::Complete) << QByteArray();
    QTest::newRow("unfinished needs more") << QByteArray("3\r\nab") << int(S::NeedMore) << QByteArray("ab");
    // Rainy
    QTest::newRow("a signed size is refused")
        << QByteArray("+3\r\nabc\r\n0\r\n\r\n") << int(S::Invalid) << QByteArray();
    QTest::newRow("0x is refused") << QByteArray("0x3\r\nabc\r\n0\r\n\r\n") << int(S::Invalid) << QByteArray();
    QTest::newRow("a size with a space is refused")
        << QByteArray("3 \r\nabc\r\n0\r\n\r\n") << int(S::Invalid) << QByteArray();
    QTest::newRow("an empty size line is refused")
        << QByteArray("\r\nabc\r\n0\r\n\r\n") << int(S::Invalid) << QByteArray();
    QTest::newRow("16 hex digits are refused, not wrapped")
        << QByteArray("10000000000000003\r\nabc\r\n0\r\n\r\n") << int(S::Invalid) << QByteArray();
    QTest::newRow("a bare LF after the size is refused")
        << QByteArray("3\nabc\r\n0\r\n\r\n") << int(S::Invalid) << QByteArray();
    QTest::newRow("a bare CR is refused") << QByteArray("3\rabc\r\n0\r\n\r\n") << int(S::Invalid) << QByteArray();
    QTest::newRow("data longer than its size is refused")
        << QByteArray("3\r\nabcd\r\n0\r\n\r\n") << int(S::Invalid) << QByteArray();
    QTest::newRow("a size over the limit is refused before its data")
        << QByteArray("10001\r\n") << int(S::TooLarge) << QByteArray();
    QTest::newRow("chunks that add up over the limit are refused")
        << QByteArray("8000\r\n" + QByteArray(0x8000, 'a') + "\r\n8001\r\n") << int(S::TooLarge) << QByteArray();
    QTest::newRow("a malformed trailer is refused")
        << QByteArray("0\r\nno colon\r\n\r\n") << int(S::Invalid) << QByteArray();
    QTest::newRow("a 5 KiB extension is refused")
        << QByteArray("1;" + QByteArray(5000, 'a') + "\r\n") << int(S::Invalid) << QByteArray();
    QTest::newRow("an extension without a name is refused")
        << QByteArray("1;=x\r\na\r\n0\r\n\r\n") << int(S::Invalid) << QByteArray();
}

void TestHttpFraming::chunkedBody()
{
    QFETCH(QByteArray, wire);
    QFETCH(int, status);
    QFETCH(QByteArray, body);
    ChunkedBodyDecoder decoder(64 * 1024);
    qsizetype consumed = 0;
    QCOMPARE(int(decoder.feed(wire, consumed)), status);
    if (status == int(ChunkedBodyDecoder::Status::Complete)) {
        QCOMPARE(consumed, wire.size());
        QCOMPARE(decoder.body(), body);
    }
    if (status == int(ChunkedBodyDecoder::Status::NeedMore)) {
        QCOMPARE(consumed, wire.size()); // partial lines are kept inside: nothing is read twice
        QCOMPARE(decoder.body(), body);
    }
}

void TestHttpFraming::chunkedBodyStopsAtItsEnd()
{
    // A pipelined request behind the body is not the body's: it stays for the next head.
    const QByteArray body = "5\r\nhello\r\n0\r\n\r\n";
    const QByteArray next = "GET /admin HTTP/1.1\r\nHost: a\r\n\r\n";
    ChunkedBodyDecoder decoder(1024);
    qsizetype consumed = 0;
    QCOMPARE(decoder.feed(QByteArray(body + next), consumed), ChunkedBodyDecoder::Status::Complete);
    QCOMPARE(consumed, body.size());
    QCOMPARE(decoder.body(), "hello");
}

void TestHttpFraming::chunkedBodyByteByByte()
{
    // A client trickling one byte at a time is decoded the same as one sending all at once.
    const QByteArray wire = "3;e=1\r\nabc\r\n1\r\nd\r\n0\r\nT: x\r\n\r\n";
    ChunkedBodyDecoder decoder(1024);
    for (qsizetype i = 0; i < wire.size(); ++i) {
        qsizetype consumed = 0;
        const auto status = decoder.feed(wire.sliced(i, 1), consumed);
        QCOMPARE(consumed, 1);
        QCOMPARE(status,
                 i + 1 == wire.size() ? ChunkedBodyDecoder::Status::Complete : ChunkedBodyDecoder::Status::NeedMore);
    }
    QCOMPARE(decoder.body(), "abcd");
}

QTEST_GUILESS_MAIN(TestHttpFraming)
#include "tst_httpframing.moc"
