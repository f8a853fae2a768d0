// The census of sockets that are not WebSockets: places in all and per client, where an IPv6
// client is its /64, since one host commonly holds a whole /64.
#include "http/HttpCensus.h"

#include <QTest>

using namespace Qt::StringLiterals;

class TestHttpCensus final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void placesInAllAndPerAddress();
    void ipv6AddressesOfOneSlash64CountAsOne();
};

void TestHttpCensus::placesInAllAndPerAddress()
{
    HttpCensus census(3, 2);
    QVERIFY(!census.admit(u"10.0.0.1"_s));
    QVERIFY(!census.admit(u"10.0.0.1"_s));
    QCOMPARE(census.admit(u"10.0.0.1"_s), HttpCensus::Refusal::AddressFull);
    QVERIFY(!census.admit(u"10.0.0.2"_s));
    QCOMPARE(census.admit(u"10.0.0.3"_s), HttpCensus::Refusal::Full);
    QCOMPARE(census.count(), 3);
    census.release(u"10.0.0.1"_s);
    QVERIFY(!census.admit(u"10.0.0.3"_s));
    // Releasing what was never admitted changes nothing.
    census.release(u"10.9.9.9"_s);
    QCOMPARE(census.count(), 3);
}

void TestHttpCensus::ipv6AddressesOfOneSlash64CountAsOne()
{
    HttpCensus census(100, 2);
    QVERIFY(!census.admit(u"2001:db8:1:2::1"_s));
    QVERIFY(!census.admit(u"2001:db8:1:2:ffff:ffff:ffff:ffff"_s));
    QCOMPARE(census.admit(u"2001:db8:1:2:dead:beef::7"_s), HttpCensus::Refusal::AddressFull);
    QVERIFY(!census.admit(u"2001:db8:1:3::1"_s)); // another /64
    // IPv4 addresses, mapped or not, stay one each.
    QVERIFY(!census.admit(u"::ffff:10.0.0.1"_s));
    QVERIFY(!census.admit(u"::ffff:10.0.0.2"_s));
    QVERIFY(!census.admit(u"::ffff:10.0.0.3"_s));
    census.release(u"2001:db8:1:2:dead:beef::8"_s); // any address of the /64 gives its place back
    QVERIFY(!census.admit(u"2001:db8:1:2::9"_s));
}

QTEST_GUILESS_MAIN(TestHttpCensus)
#include "tst_httpcensus.moc"
