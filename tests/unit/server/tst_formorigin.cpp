// Where a form POST comes from, by what the browser says: Origin, Sec-Fetch-Site, Referer.
#include "auth/FormOrigin.h"

#include <QTest>

Q_DECLARE_METATYPE(FormOrigin::Verdict)

class TestFormOrigin final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void judge_data();
    void judge();
};

void TestFormOrigin::judge_data()
{
    QTest::addColumn<QByteArray>("origin");
    QTest::addColumn<QByteArray>("fetchSite");
    QTest::addColumn<QByteArray>("referer");
    QTest::addColumn<QByteArray>("host");
    QTest::addColumn<FormOrigin::Verdict>("verdict");
    using V = FormOrigin::Verdict;
    const QByteArray host = "gate.example:8443";
    const QByteArray page = "https://gate.example:8443/oauth/authorize?client_id=notes";

    QTest::newRow("the page's own Origin")
        << QByteArray("https://gate.example:8443") << QByteArray() << QByteArray() << host << V::SameOrigin;
    QTest::newRow("all three signals agree")
        << QByteArray("https://gate.example:8443") << QByteArray("same-origin") << page << host << V::SameOrigin;
    QTest::newRow("Sec-Fetch-Site same-origin alone")
        << QByteArray() << QByteArray("same-origin") << QByteArray() << host << V::SameOrigin;
    QTest::newRow("Sec-Fetch-Site none (the user's own navigation)")
        << QByteArray() << QByteArray("none") << QByteArray() << host << V::SameOrigin;
    QTest::newRow("the page's Referer alone") << QByteArray() << QByteArray() << page << host << V::SameOrigin;
    QTest::newRow("the default port is the same origin")
        << QByteArray("https://gate.example") << QByteArray() << QByteArray("https://gate.example/x")
        << QByteArray("gate.example") << V::SameOrigin;
    QTest::newRow("host names are compared without regard to case")
        << QByteArray("https://GATE.example:8443") << QByteArray() << QByteArray() << host << V::SameOrigin;
    QTest::newRow("IPv6 literal host") << QByteArray("http://[::1]:8080") << QByteArray() << QByteArray()
                                       << QByteArray("[::1]:8080") << V::SameOrigin;
    QTest::newRow("no signal at all (not a browser)")
        << QByteArray() << QByteArray() << QByteArray() << host << V::NoSignal;

    QTest::newRow("another site's Origin")
        << QByteArray("https://evil.example") << QByteArray() << QByteArray() << host << V::CrossSite;
    QTest::newRow("no Origin, but Sec-Fetch-Site cross-site")
        << QByteArray() << QByteArray("cross-site") << QByteArray() << host << V::CrossSite;
    QTest::newRow("no Origin, but Sec-Fetch-Site same-site (a sibling host)")
        << QByteArray() << QByteArray("same-site") << QByteArray() << host << V::CrossSite;
    QTest::newRow("an unknown Sec-Fetch-Site")
        << QByteArray() << QByteArray("maybe") << QByteArray() << host << V::CrossSite;
    QTest::newRow("no Origin, but another site's Referer")
        << QByteArray() << QByteArray() << QByteArray("https://evil.example/login.html") << host << V::CrossSite;
    QTest::newRow("the same origin but the Referer disagrees")
        << QByteArray("https://gate.example:8443") << QByteArray() << QByteArray("https://evil.example/") << host
        << V::CrossSite;
    QTest::newRow("the same origin but Sec-Fetch-Site says cross-site")
        << QByteArray("https://gate.example:8443") << QByteArray("cross-site") << QByteArray() << host << V::CrossSite;
    QTest::newRow("Origin null (a sandboxed frame)")
        << QByteArray("null") << QByteArray() << QByteArray() << host << V::CrossSite;
    QTest::newRow("a look-alike host that starts with ours")
        << QByteArray("https://gate.example:8443.evil.example") << QByteArray() << QByteArray() << host << V::CrossSite;
    QTest::newRow("a Referer with our host as its user name")
        << QByteArray() << QByteArray() << QByteArray("https://gate.example:8443@evil.example/") << host
        << V::CrossSite;
    QTest::newRow("a homoglyph host (Cyrillic a)")
        << QByteArray("https://g\xd0\xb0te.example:8443") << QByteArray() << QByteArray() << host << V::CrossSite;
    QTest::newRow("another port is another origin")
        << QByteArray("https://gate.example:9443") << QByteArray() << QByteArray() << host << V::CrossSite;
    QTest::newRow("a Referer that is no URL")
        << QByteArray() << QByteArray() << QByteArray("about:blank") << host << V::CrossSite;
    QTest::newRow("an Origin without Host to compare with")
        << QByteArray("https://gate.example:8443") << QByteArray() << QByteArray() << QByteArray() << V::CrossSite;
}

void TestFormOrigin::judge()
{
    QFETCH(QByteArray, origin);
    QFETCH(QByteArray, fetchSite);
    QFETCH(QByteArray, referer);
    QFETCH(QByteArray, host);
    QFETCH(FormOrigin::Verdict, verdict);
    QCOMPARE(FormOrigin::judge({ origin, fetchSite, referer, host }), verdict);
}

QTEST_APPLESS_MAIN(TestFormOrigin)
#include "tst_formorigin.moc"
