// Who a request is from behind reverse proxies: only a trusted peer's Forwarded (RFC 7239) or
// X-Forwarded-For/-Proto is read, from the right, and the first address that is not a trusted
// proxy is the client. A stranger's headers, forged or not, change nothing.
#include "http/TrustedProxies.h"
#include "ws/HttpHeadParser.h"

#include <QTest>

using namespace Qt::StringLiterals;

namespace {
HttpHead headWith(const QByteArray &fields)
{
    const QByteArray text = "GET / HTTP/1.1\r\nHost: a\r\n" + fields + "\r\n";
    return HttpHeadParser::parse(text).head;
}

TrustedProxies proxies()
{
    return TrustedProxies::parse({ u"127.0.0.1"_s, u"10.0.0.0/8"_s, u"fd00::/8"_s }).value();
}
} // namespace

class TestTrustedProxies final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void entriesAreAddressesOrRanges()
    {
        QVERIFY(TrustedProxies::parse({}).ok());
        QVERIFY(TrustedProxies::parse({}).value().isEmpty());
        const auto parsed = TrustedProxies::parse({ u"127.0.0.1"_s, u"::1"_s, u"192.168.0.0/16"_s });
        QVERIFY(parsed.ok());
        QVERIFY(parsed->contains(QHostAddress(u"192.168.3.4"_s)));
        QVERIFY(parsed->contains(QHostAddress(u"::ffff:127.0.0.1"_s))); // a dual-stack socket's IPv4 peer
        QVERIFY(!parsed->contains(QHostAddress(u"127.0.0.2"_s)));
        for (const auto &bad : { u"localhost"_s, u"10.0.0.0/33"_s, u""_s, u"10.0.0.1/"_s, u"1.2.3"_s }) {
            const auto refused = TrustedProxies::parse({ bad });
            QVERIFY2(!refused, qPrintable(bad));
            QVERIFY(refused.error().startsWith(u"trusted_proxies:"_s));
        }
    }

    void clientOf_data()
    {
        QTest::addColumn<QString>("peer");
        QTest::addColumn<QByteArray>("fields");
        QTest::addColumn<QString>("client");
        QTest::addColumn<int>("https"); // -1: not said
        QTest::newRow("a stranger's headers are ignored")
            << u"203.0.113.9"_s << QByteArray("X-Forwarded-For: 6.6.6.6\r\nX-Forwarded-Proto: https\r\n")
            << u"203.0.113.9"_s << -1;
        QTest::newRow("a trusted proxy without headers is the client")
            << u"127.0.0.1"_s << QByteArray() << u"127.0.0.1"_s << -1;
        QTest::newRow("one proxy") << u"127.0.0.1"_s
                                   << QByteArray("X-Forwarded-For: 198.51.100.7\r\nX-Forwarded-Proto: https\r\n")
                                   << u"198.51.100.7"_s << 1;
        QTest::newRow("a forged entry before the real client is not believed")
            << u"127.0.0.1"_s << QByteArray("X-Forwarded-For: 6.6.6.6, 198.51.100.7\r\n") << u"198.51.100.7"_s << -1;
        QTest::newRow("two trusted proxies")
            << u"127.0.0.1"_s << QByteArray("X-Forwarded-For: 198.51.100.7, 10.1.2.3\r\n") << u"198.51.100.7"_s << -1;
        QTest::newRow("two X-Forwarded-For fields read as one list")
            << u"127.0.0.1"_s << QByteArray("X-Forwarded-For: 6.6.6.6\r\nX-Forwarded-For: 198.51.100.7\r\n")
            << u"198.51.100.7"_s << -1;
        QTest::newRow("garbage in the list stops at the proxy")
            << u"127.0.0.1"_s << QByteArray("X-Forwarded-For: not-an-address\r\n") << u"127.0.0.1"_s << -1;
        QTest::newRow("an IPv4 address with a port")
            << u"127.0.0.1"_s << QByteArray("X-Forwarded-For: 198.51.100.7:5123\r\n") << u"198.51.100.7"_s << -1;
        QTest::newRow("Forwarded wins over X-Forwarded-For")
            << u"127.0.0.1"_s << QByteArray("Forwarded: for=198.51.100.7;proto=https\r\nX-Forwarded-For: 6.6.6.6\r\n")
            << u"198.51.100.7"_s << 1;
        QTest::newRow("Forwarded, quoted IPv6 with a port")
            << u"fd00::1"_s << QByteArray("Forwarded: for=\"[2001:db8:cafe::17]:4711\";proto=http\r\n")
            << u"2001:db8:cafe::17"_s << 0;
        QTest::newRow("Forwarded, several elements, case-insensitive names")
            << u"127.0.0.1"_s << QByteArray("Forwarded: For=6.6.6.6, for=198.51.100.7;Proto=HTTPS, for=10.0.0.5\r\n")
            << u"198.51.100.7"_s << 1;
        QTest::newRow("Forwarded, an obfuscated client is not an address")
            << u"127.0.0.1"_s << QByteArray("Forwarded: for=_hidden;proto=https\r\n") << u"127.0.0.1"_s << 1;
        QTest::newRow("Forwarded, unknown")
            << u"127.0.0.1"_s << QByteArray("Forwarded: for=unknown\r\n") << u"127.0.0.1"_s << -1;
        QTest::newRow("Forwarded with a semicolon inside quotes")
            << u"127.0.0.1"_s << QByteArray("Forwarded: by=\"a;b\";for=198.51.100.7\r\n") << u"198.51.100.7"_s << -1;
        QTest::newRow("the proxy's own scheme")
            << u"127.0.0.1"_s << QByteArray("X-Forwarded-Proto: https\r\n") << u"127.0.0.1"_s << 1;
        QTest::newRow("an unknown scheme says nothing")
            << u"127.0.0.1"_s << QByteArray("X-Forwarded-For: 198.51.100.7\r\nX-Forwarded-Proto: gopher\r\n")
            << u"198.51.100.7"_s << -1;
    }

    void clientOf()
    {
        QFETCH(QString, peer);
        QFETCH(QByteArray, fields);
        QFETCH(QString, client);
        QFETCH(int, https);
        const auto found = proxies().clientOf(QHostAddress(peer), headWith(fields));
        QCOMPARE(found.address.toString(), client);
        QCOMPARE(found.https.has_value() ? int(*found.https) : -1, https);
    }
};

QTEST_GUILESS_MAIN(TestTrustedProxies)
#include "tst_trustedproxies.moc"
