// The anti-forgery tokens of the login and logout pages: valid only with the page's nonce
// cookie, for the form and the request it was made for, for an hour.
#include "auth/FormToken.h"

#include <QTest>

using namespace Qt::StringLiterals;
using namespace std::chrono_literals;

namespace {
constexpr qint64 issuedAt = 1'800'000'000;
const QByteArray key(32, 'k');
const QByteArray nonce = "AAAAAAAAAAAAAAAAAAAAAA";
const QStringList request { u"notes"_s, u"https://notes.example/cb"_s, u"state"_s };
} // namespace

Q_DECLARE_METATYPE(FormToken::Check)

class TestFormToken final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void check_data();
    void check();
    void noncesAreRandom();
};

void TestFormToken::check_data()
{
    QTest::addColumn<QByteArray>("token");
    QTest::addColumn<QByteArray>("cookie");
    QTest::addColumn<QByteArray>("purpose");
    QTest::addColumn<QStringList>("binding");
    QTest::addColumn<qint64>("now");
    QTest::addColumn<FormToken::Check>("expected");
    const FormToken tokens(key, 1h);
    const QByteArray good = tokens.issue("login", nonce, request, issuedAt);
    using Check = FormToken::Check;

    QTest::newRow("the page's token with its cookie is valid")
        << good << nonce << QByteArray("login") << request << issuedAt << Check::Valid;
    QTest::newRow("an hour later it is still valid")
        << good << nonce << QByteArray("login") << request << issuedAt + 3600 << Check::Valid;

    QTest::newRow("an hour and a second later it has expired")
        << good << nonce << QByteArray("login") << request << issuedAt + 3601 << Check::Expired;
    QTest::newRow("a token from more than a minute ahead has expired")
        << tokens.issue("login", nonce, request, issuedAt + 61) << nonce << QByteArray("login") << request << issuedAt
        << Check::Expired;
    QTest::newRow("no token is missing") << QByteArray() << nonce << QByteArray("login") << request << issuedAt
                                         << Check::Missing;
    QTest::newRow("no cookie is missing")
        << good << QByteArray() << QByteArray("login") << request << issuedAt << Check::Missing;
    QTest::newRow("a cookie that is no nonce is missing")
        << good << QByteArray("AAAA") << QByteArray("login") << request << issuedAt << Check::Missing;
    QTest::newRow("the attacker's own nonce cookie does not match the token")
        << good << QByteArray("BBBBBBBBBBBBBBBBBBBBBA") << QByteArray("login") << request << issuedAt << Check::Forged;
    QTest::newRow("a login token on the logout form is forged")
        << good << nonce << QByteArray("logout") << request << issuedAt << Check::Forged;
    QTest::newRow("a token for another request is forged")
        << good << nonce << QByteArray("login") << QStringList { u"notes"_s, u"https://evil.example/cb"_s, u"state"_s }
        << issuedAt << Check::Forged;
    QTest::newRow("moving text between fields is another request")
        << good << nonce << QByteArray("login") << QStringList { u"notes"_s, u"https://notes.example/cbs"_s, u"tate"_s }
        << issuedAt << Check::Forged;
    QTest::newRow("a token of another key is forged")
        << FormToken(QByteArray(32, 'x'), 1h).issue("login", nonce, request, issuedAt) << nonce << QByteArray("login")
        << request << issuedAt << Check::Forged;
    QTest::newRow("a changed time is forged") << QByteArray::number(issuedAt + 100) + good.sliced(good.indexOf('.'))
                                              << nonce << QByteArray("login") << request << issuedAt << Check::Forged;
    QTest::newRow("a time with a sign is forged")
        << "+" + good << nonce << QByteArray("login") << request << issuedAt << Check::Forged;
    QTest::newRow("no time is forged") << good.sliced(good.indexOf('.')) << nonce << QByteArray("login") << request
                                       << issuedAt << Check::Forged;
    QTest::newRow("a token of dots is forged")
        << QByteArray("...") << nonce << QByteArray("login") << request << issuedAt << Check::Forged;
    QTest::newRow("the nonce itself as the token is forged (plain double submit is not enough)")
        << nonce << nonce << QByteArray("login") << request << issuedAt << Check::Forged;
}

void TestFormToken::check()
{
    QFETCH(QByteArray, token);
    QFETCH(QByteArray, cookie);
    QFETCH(QByteArray, purpose);
    QFETCH(QStringList, binding);
    QFETCH(qint64, now);
    QFETCH(FormToken::Check, expected);
    QCOMPARE(FormToken(key, 1h).check(token, purpose, cookie, binding, now), expected);
}

void TestFormToken::noncesAreRandom()
{
    const QByteArray first = FormToken::newNonce();
    QVERIFY(FormToken::isNonce(first));
    QVERIFY(first != FormToken::newNonce());
    QVERIFY(!FormToken::isNonce("not a nonce"));
}

QTEST_APPLESS_MAIN(TestFormToken)
#include "tst_formtoken.moc"
