// The PROXY protocol header a trusted TCP proxy sends first (versions 1 and 2): every prefix
// of a good header asks for more, the client's address is read exactly, the header's size
// leaves what follows for the request, and anything malformed is refused, not guessed at.
#include "http/ProxyHeader.h"

#include <QTest>
#include <QtEndian>

using namespace Qt::StringLiterals;

namespace {
QByteArray v2(quint8 command, quint8 family, const QByteArray &addresses)
{
    QByteArray header("\r\n\r\n\0\r\nQUIT\n", 12);
    header += char(0x20 | command);
    header += char(family);
    const quint16 length = qToBigEndian<quint16>(quint16(addresses.size()));
    header.append(reinterpret_cast<const char *>(&length), 2);
    return header + addresses;
}

QByteArray ipv4Addresses()
{
    return QByteArray("\xc6\x33\x64\x07"
                      "\x7f\x00\x00\x01"
                      "\x15\xb3"
                      "\x1f\x90",
                      12); // 198.51.100.7 → 127.0.0.1
}
} // namespace

class TestProxyHeader final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void goodHeaders_data()
    {
        QTest::addColumn<QByteArray>("header");
        QTest::addColumn<QString>("source"); // empty: none named
        QTest::newRow("v1 TCP4") << QByteArray("PROXY TCP4 198.51.100.7 127.0.0.1 5555 8080\r\n") << u"198.51.100.7"_s;
        QTest::newRow("v1 TCP6") << QByteArray("PROXY TCP6 2001:db8::7 ::1 5555 8080\r\n") << u"2001:db8::7"_s;
        QTest::newRow("v1 UNKNOWN") << QByteArray("PROXY UNKNOWN\r\n") << QString();
        QTest::newRow("v1 UNKNOWN with addresses") << QByteArray("PROXY UNKNOWN ff ff 1 2\r\n") << QString();
        QTest::newRow("v1 ports 0 and 65535")
            << QByteArray("PROXY TCP4 198.51.100.7 127.0.0.1 0 65535\r\n") << u"198.51.100.7"_s;
        QTest::newRow("v2 TCP over IPv4") << v2(1, 0x11, ipv4Addresses()) << u"198.51.100.7"_s;
        QTest::newRow("v2 TCP over IPv4 with an extension")
            << v2(1, 0x11, ipv4Addresses() + QByteArray("\x04\x00\x01\x00", 4)) << u"198.51.100.7"_s;
        QByteArray six(36, '\0');
        six[0] = char(0x20);
        six[1] = char(0x01);
        six[2] = char(0x0d);
        six[3] = char(0xb8);
        six[15] = char(0x07);
        QTest::newRow("v2 TCP over IPv6") << v2(1, 0x21, six) << u"2001:db8::7"_s;
        QTest::newRow("v2 LOCAL (a health check)") << v2(0, 0x00, {}) << QString();
        QTest::newRow("v2 UNSPEC") << v2(1, 0x00, {}) << QString();
    }

    void goodHeaders()
    {
        QFETCH(QByteArray, header);
        QFETCH(QString, source);
        // What follows is the request's, not the header's.
        const QByteArray request = "GET / HTTP/1.1\r\n";
        const QByteArray arrived = header + request;
        const auto parsed = ProxyHeader::parse(arrived);
        QCOMPARE(parsed.status, ProxyHeader::Status::Complete);
        QCOMPARE(parsed.size, header.size());
        QCOMPARE(parsed.source ? parsed.source->toString() : QString(), source);
        // Every prefix asks for more, never guesses.
        for (qsizetype cut = 0; cut < header.size(); ++cut)
            QCOMPARE(ProxyHeader::parse(header.first(cut)).status, ProxyHeader::Status::NeedMore);
    }

    void badHeaders_data()
    {
        QTest::addColumn<QByteArray>("header");
        QTest::newRow("a request, not a header") << QByteArray("GET / HTTP/1.1\r\n");
        QTest::newRow("lower-case proxy") << QByteArray("proxy TCP4 198.51.100.7 127.0.0.1 1 2\r\n");
        QTest::newRow("v1 unknown family") << QByteArray("PROXY UDP4 198.51.100.7 127.0.0.1 1 2\r\n");
        QTest::newRow("v1 IPv6 address as TCP4") << QByteArray("PROXY TCP4 2001:db8::7 127.0.0.1 1 2\r\n");
        QTest::newRow("v1 three-part address") << QByteArray("PROXY TCP4 198.51.7 127.0.0.1 1 2\r\n");
        QTest::newRow("v1 port too large") << QByteArray("PROXY TCP4 198.51.100.7 127.0.0.1 65536 2\r\n");
        QTest::newRow("v1 port with a leading zero") << QByteArray("PROXY TCP4 198.51.100.7 127.0.0.1 01 2\r\n");
        QTest::newRow("v1 negative port") << QByteArray("PROXY TCP4 198.51.100.7 127.0.0.1 -1 2\r\n");
        QTest::newRow("v1 missing a port") << QByteArray("PROXY TCP4 198.51.100.7 127.0.0.1 1\r\n");
        QTest::newRow("v1 double space") << QByteArray("PROXY TCP4  198.51.100.7 127.0.0.1 1 2\r\n");
        QTest::newRow("v1 without CRLF past 107 bytes") << QByteArray("PROXY TCP4 ") + QByteArray(120, '1');
        QTest::newRow("v2 version 1") << [] {
            QByteArray header = v2(1, 0x11, ipv4Addresses());
            header[12] = char(0x11);
            return header;
        }();
        QTest::newRow("v2 unknown command") << [] {
            QByteArray header = v2(1, 0x11, ipv4Addresses());
            header[12] = char(0x22);
            return header;
        }();
        QTest::newRow("v2 IPv4 addresses cut short") << v2(1, 0x11, ipv4Addresses().first(8));
        QTest::newRow("v2 UDP") << v2(1, 0x12, ipv4Addresses());
        QTest::newRow("v2 Unix socket") << v2(1, 0x31, QByteArray(216, 'a'));
        QTest::newRow("v2 longer than this server reads") << v2(1, 0x11, QByteArray(600, 'a'));
    }

    void badHeaders()
    {
        QFETCH(QByteArray, header);
        QCOMPARE(ProxyHeader::parse(header).status, ProxyHeader::Status::Invalid);
    }
};

QTEST_GUILESS_MAIN(TestProxyHeader)
#include "tst_proxyheader.moc"
