// RFC 6455 framing, server side, with the hostile frames a client could send.
#include "ws/WebSocketFrame.h"

#include <QTest>
#include <QtEndian>

using namespace Qt::StringLiterals;
using namespace WebSocketFrame;

namespace {
/// A client frame: masked with a fixed key, lengths encoded as asked.
QByteArray clientFrame(quint8 first, QByteArrayView payload, bool masked = true, int lengthForm = 0)
{
    QByteArray frame(1, char(first));
    const quint8 maskBit = masked ? 0x80 : 0;
    const auto length = quint64(payload.size());
    if (lengthForm == 0 && length < 126) {
        frame.append(char(maskBit | length));
    } else if (lengthForm <= 16 && length <= 0xffff) {
        frame.append(char(maskBit | 126));
        char size[2];
        qToBigEndian<quint16>(quint16(length), size);
        frame.append(size, 2);
    } else {
        frame.append(char(maskBit | 127));
        char size[8];
        qToBigEndian<quint64>(length, size);
        frame.append(size, 8);
    }
    const char key[4] = { 0x12, 0x34, 0x56, 0x78 };
    if (masked)
        frame.append(key, 4);
    for (qsizetype i = 0; i < payload.size(); ++i)
        frame.append(masked ? char(payload[i] ^ key[i & 3]) : payload[i]);
    return frame;
}
} // namespace

class TestWebSocketFrame final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void parsesMaskedFramesOfEveryLengthForm()
    {
        for (const qsizetype size : { qsizetype(0), qsizetype(5), qsizetype(125), qsizetype(126), qsizetype(70000) }) {
            const QByteArray payload(size, 'a');
            const QByteArray frame = clientFrame(0x81, payload);
            const auto parsed = parseClientFrame(frame, 1 << 20);
            QCOMPARE(parsed.status, ParseResult::Status::Frame);
            QCOMPARE(parsed.consumed, frame.size());
            QCOMPARE(parsed.frame.payload, payload);
            QVERIFY(parsed.frame.final);
            QCOMPARE(parsed.frame.opcode, Opcode::Text);
            // Every prefix is "need more", never an error or a frame.
            for (qsizetype cut : { qsizetype(0), qsizetype(1), frame.size() / 2, frame.size() - 1 })
                QCOMPARE(parseClientFrame(QByteArrayView(frame).first(cut), 1 << 20).status,
                         ParseResult::Status::NeedMore);
        }
    }

    void refusesHostileFrames_data()
    {
        QTest::addColumn<QByteArray>("frame");
        QTest::addColumn<int>("code");
        QTest::newRow("unmasked") << clientFrame(0x81, "hi", false) << 1002;
        QTest::newRow("reserved bit") << clientFrame(0xC1, "hi") << 1002;
        QTest::newRow("opcode 3") << clientFrame(0x83, "hi") << 1002;
        QTest::newRow("opcode 0xB") << clientFrame(0x8B, "hi") << 1002;
        QTest::newRow("fragmented ping") << clientFrame(0x09, "hi") << 1002;
        QTest::newRow("long ping") << clientFrame(0x89, QByteArray(126, 'p'), true, 16) << 1002;
        QTest::newRow("16-bit length for 5 bytes") << clientFrame(0x81, "hello", true, 16) << 1002;
        QTest::newRow("64-bit length for 200 bytes") << clientFrame(0x81, QByteArray(200, 'x'), true, 64) << 1002;
        QTest::newRow("too big") << clientFrame(0x81, QByteArray(2000, 'x')) << 1009;
        QByteArray topBit = clientFrame(0x82, QByteArray(70000, 'x'), true, 64);
        topBit[2] = char(0x80);
        QTest::newRow("length with its top bit set") << topBit << 1002;
        QByteArray huge("\x81\xFF\x00\x00\x00\x01\x00\x00\x00\x00", 10); // 4 GiB announced, nothing sent
        QTest::newRow("4 GiB announced") << huge << 1009;
    }

    void refusesHostileFrames()
    {
        QFETCH(QByteArray, frame);
        QFETCH(int, code);
        const auto parsed = parseClientFrame(frame, 1024);
        QCOMPARE(parsed.status, ParseResult::Status::Error);
        QCOMPARE(int(parsed.error), code);
        QVERIFY(!parsed.reason.isEmpty());
    }

    void encodesServerFrames()
    {
        QCOMPARE(encode(Opcode::Text, "hi"), QByteArray("\x81\x02hi", 4));
        const QByteArray medium = encode(Opcode::Text, QByteArray(300, 'm'));
        QCOMPARE(medium.first(4), QByteArray("\x81\x7E\x01\x2C", 4));
        QCOMPARE(medium.size(), 304);
        const QByteArray large = encode(Opcode::Binary, QByteArray(70000, 'l'));
        QCOMPARE(large.first(2), QByteArray("\x82\x7F", 2));
        QCOMPARE(qFromBigEndian<quint64>(large.constData() + 2), quint64(70000));
    }

    void closePayloadFitsAndStaysUtf8()
    {
        QCOMPARE(closePayload(WebSocketClose { 4003 }, u"revoked"_s), QByteArray("\x0F\xA3revoked", 9));
        const QByteArray cut = closePayload(WebSocketClose { 1000 }, QString(100, u'é')); // 200 bytes of UTF-8
        QVERIFY(cut.size() <= 125);
        QVERIFY(isValidUtf8(QByteArrayView(cut).sliced(2)));
    }

    void validatesUtf8()
    {
        QVERIFY(isValidUtf8("plain"));
        QVERIFY(isValidUtf8(u"é€𝄞"_s.toUtf8()));
        QVERIFY(!isValidUtf8("\xC0\xAF")); // overlong "/"
        QVERIFY(!isValidUtf8("\xE0\x80\xAF")); // overlong, three bytes
        QVERIFY(!isValidUtf8("\xED\xA0\x80")); // a surrogate
        QVERIFY(!isValidUtf8("\xF4\x90\x80\x80")); // above U+10FFFF
        QVERIFY(!isValidUtf8("\xE2\x82")); // cut short
        QVERIFY(!isValidUtf8("\x80")); // a lone continuation byte
        QVERIFY(!isValidUtf8("\xFF"));
    }

    void closeCodesAndAcceptKey()
    {
        for (const int code : { 1000, 1001, 1008, 3000, 4003, 4999 })
            QVERIFY(isValidReceivedCloseCode(code));
        for (const int code : { 0, 999, 1004, 1005, 1006, 1015, 2000, 5000 })
            QVERIFY(!isValidReceivedCloseCode(code));
        // RFC 6455 §1.3's own example.
        QCOMPARE(acceptKey("dGhlIHNhbXBsZSBub25jZQ=="), QByteArray("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
        QVERIFY(acceptKey("short").isEmpty());
        QVERIFY(acceptKey("dGhlIHNhbXBsZSBub25jZQ").isEmpty());
        QVERIFY(acceptKey("!!!!!!!!!!!!!!!!!!!!!!==").isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestWebSocketFrame)
#include "tst_websocketframe.moc"
