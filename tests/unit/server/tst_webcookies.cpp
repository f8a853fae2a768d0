// The cookies of the 2-Cookie Handoff and the single login: their attributes over plain HTTP
// and over TLS (prefixes, Secure), and reading them back from hostile Cookie headers.
#include "http/WebCookies.h"

#include <QTest>

class TestWebCookies final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void attributesOverHttp();
    void prefixesAndSecureOverTls();
    void clearing();
    void findReadsEitherSpelling_data();
    void findReadsEitherSpelling();
    void overTlsOnlyPrefixedCookiesAreOurs();
    void countSeesEveryCopy_data();
    void countSeesEveryCopy();
    void deviceAndFormCookies();
};

void TestWebCookies::attributesOverHttp()
{
    QCOMPARE(WebCookies::sessionCookie("at", 300, false),
             "gh_session=at; Path=/; Max-Age=300; HttpOnly; SameSite=Strict");
    QCOMPARE(WebCookies::refreshCookie("rt", 86400, false),
             "gh_refresh=rt; Path=/auth/refresh; Max-Age=86400; HttpOnly; SameSite=Strict");
    // Relying parties send the browser to the authorization endpoint from their own sites.
    QCOMPARE(WebCookies::sliCookie("sli", 21600, false), "gh_sli=sli; Path=/; Max-Age=21600; HttpOnly; SameSite=Lax");
}

void TestWebCookies::prefixesAndSecureOverTls()
{
    // __Host- needs Secure, Path=/ and no Domain; the refresh cookie's Path rules it out, so
    // it takes __Secure-.
    QCOMPARE(WebCookies::sessionCookie("at", 300, true),
             "__Host-gh_session=at; Path=/; Max-Age=300; HttpOnly; SameSite=Strict; Secure");
    QCOMPARE(WebCookies::refreshCookie("rt", 60, true),
             "__Secure-gh_refresh=rt; Path=/auth/refresh; Max-Age=60; HttpOnly; SameSite=Strict; Secure");
    QCOMPARE(WebCookies::sliCookie("sli", 60, true),
             "__Host-gh_sli=sli; Path=/; Max-Age=60; HttpOnly; SameSite=Lax; Secure");
    for (const QByteArray &cookie : { WebCookies::sessionCookie("x", 1, true), WebCookies::sliCookie("x", 1, true) })
        QVERIFY(!cookie.contains("Domain"));
}

void TestWebCookies::clearing()
{
    QCOMPARE(WebCookies::sessionCookie({}, 0, false), "gh_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict");
    QCOMPARE(WebCookies::sliCookie({}, -5, false), "gh_sli=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax");
}

void TestWebCookies::findReadsEitherSpelling_data()
{
    QTest::addColumn<QByteArray>("header");
    QTest::addColumn<QByteArray>("sli");
    QTest::newRow("plain") << QByteArray("gh_session=a; gh_sli=b") << QByteArray("b");
    // Without TLS, ours have no prefix: a prefixed one is someone else's.
    QTest::newRow("prefixed is not ours without TLS")
        << QByteArray("__Host-gh_sli=b; __Host-gh_session=a") << QByteArray();
    QTest::newRow("spaces") << QByteArray("  gh_sli =  b  ;x=y") << QByteArray("b");
    QTest::newRow("absent") << QByteArray("gh_session=a") << QByteArray();
    QTest::newRow("a longer name is another cookie") << QByteArray("gh_sli2=b; xgh_sli=c") << QByteArray();
    QTest::newRow("no value") << QByteArray("gh_sli") << QByteArray();
    QTest::newRow("empty header") << QByteArray() << QByteArray();
    QTest::newRow("only separators") << QByteArray(";;;=;=") << QByteArray();
    QTest::newRow("value with =") << QByteArray("gh_sli=a=b") << QByteArray("a=b");
    QTest::newRow("first of two wins") << QByteArray("gh_sli=first; gh_sli=second") << QByteArray("first");
}

void TestWebCookies::findReadsEitherSpelling()
{
    QFETCH(QByteArray, header);
    QFETCH(QByteArray, sli);
    QCOMPARE(WebCookies::find(header, WebCookies::sliName, false), sli);
}

void TestWebCookies::overTlsOnlyPrefixedCookiesAreOurs()
{
    // A cookie without the prefix may have been set over plain HTTP or by a sibling host: over
    // TLS it is not taken for ours, nor counted as a second copy.
    QCOMPARE(WebCookies::find("__Host-gh_sli=b; __Host-gh_session=a", WebCookies::sliName, true), "b");
    QCOMPARE(WebCookies::find("gh_session=tossed; __Host-gh_session=real", WebCookies::sessionName, true), "real");
    QCOMPARE(WebCookies::find("gh_session=tossed", WebCookies::sessionName, true), QByteArray());
    QCOMPARE(WebCookies::find("__Secure-gh_refresh=r", WebCookies::refreshName, true), "r");
    QCOMPARE(WebCookies::count("gh_session=tossed; __Host-gh_session=real", WebCookies::sessionName, true), 1);
    QCOMPARE(WebCookies::count("__Host-gh_session=a; __Host-gh_session=b", WebCookies::sessionName, true), 2);
}

void TestWebCookies::countSeesEveryCopy_data()
{
    QTest::addColumn<QByteArray>("header");
    QTest::addColumn<qsizetype>("count");
    QTest::newRow("once") << QByteArray("theme=dark; gh_session=a") << qsizetype(1);
    QTest::newRow("absent") << QByteArray("theme=dark") << qsizetype(0);
    QTest::newRow("empty header") << QByteArray() << qsizetype(0);
    QTest::newRow("a longer name is another cookie") << QByteArray("gh_session2=a; xgh_session=b") << qsizetype(0);
    QTest::newRow("twice in one spelling") << QByteArray("gh_session=a; gh_session=b") << qsizetype(2);
    QTest::newRow("plain and prefixed: only the plain one is ours without TLS")
        << QByteArray("gh_session=tossed; __Host-gh_session=real") << qsizetype(1);
    QTest::newRow("twice with the same value") << QByteArray("gh_session=a;gh_session=a") << qsizetype(2);
    QTest::newRow("an empty copy counts") << QByteArray("gh_session=; gh_session=a") << qsizetype(2);
    QTest::newRow("no value is no cookie") << QByteArray("gh_session; gh_session=a") << qsizetype(1);
}

void TestWebCookies::countSeesEveryCopy()
{
    QFETCH(QByteArray, header);
    QFETCH(qsizetype, count);
    QCOMPARE(WebCookies::count(header, WebCookies::sessionName, false), count);
}

void TestWebCookies::deviceAndFormCookies()
{
    // Only this site's own forms need them: Strict, and __Host- over TLS.
    QCOMPARE(WebCookies::deviceCookie("d", 7776000, false),
             "gh_device=d; Path=/; Max-Age=7776000; HttpOnly; SameSite=Strict");
    QCOMPARE(WebCookies::formCookie("n", 3600, true),
             "__Host-gh_form=n; Path=/; Max-Age=3600; HttpOnly; SameSite=Strict; Secure");
}

QTEST_GUILESS_MAIN(TestWebCookies)
#include "tst_webcookies.moc"
