// The known-device marker of the login limits: only this server makes one, for one account,
// until it expires; every change to it is refused.
#include "auth/DeviceCookie.h"

#include <QTest>

using namespace Qt::StringLiterals;
using namespace std::chrono_literals;

namespace {
constexpr qint64 issuedAt = 1'800'000'000;
constexpr auto lifetime = std::chrono::seconds(90 * 86400);
const QByteArray key(32, 'k');

QByteArray withPart(const QByteArray &cookie, int index, const QByteArray &part)
{
    QList<QByteArray> parts = cookie.split('.');
    parts[index] = part;
    return parts.join('.');
}
} // namespace

class TestDeviceCookie final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void verify_data();
    void verify();
    void idsAreRandom();
};

void TestDeviceCookie::verify_data()
{
    QTest::addColumn<QByteArray>("cookie");
    QTest::addColumn<QString>("account");
    QTest::addColumn<qint64>("now");
    QTest::addColumn<bool>("valid");
    const DeviceCookie cookies(key, lifetime);
    const QString id = u"AAAAAAAAAAAAAAAAAAAAAA"_s;
    const QByteArray good = cookies.issue(u"alice"_s, id, issuedAt);
    const qint64 expiry = issuedAt + lifetime.count();

    QTest::newRow("a cookie issued for the account verifies") << good << u"alice"_s << issuedAt << true;
    QTest::newRow("a second before it expires it still verifies") << good << u"alice"_s << expiry - 1 << true;

    QTest::newRow("when it expires it is refused") << good << u"alice"_s << expiry << false;
    QTest::newRow("another account's cookie is refused") << good << u"bob"_s << issuedAt << false;
    QTest::newRow("the account is the canonical name: another spelling is another account")
        << good << u"Alice"_s << issuedAt << false;
    QTest::newRow("one made with another key is refused")
        << DeviceCookie(QByteArray(32, 'x'), lifetime).issue(u"alice"_s, id, issuedAt) << u"alice"_s << issuedAt
        << false;
    QTest::newRow("a later expiry is refused")
        << withPart(good, 1, QByteArray::number(expiry + 86400)) << u"alice"_s << issuedAt << false;
    QTest::newRow("another device id is refused")
        << withPart(good, 0, "BBBBBBBBBBBBBBBBBBBBBA") << u"alice"_s << issuedAt << false;
    QTest::newRow("a truncated MAC is refused") << good.chopped(2) << u"alice"_s << issuedAt << false;
    QTest::newRow("a MAC with padding is refused") << good + "=" << u"alice"_s << issuedAt << false;
    QTest::newRow("an expiry with a sign is refused")
        << withPart(good, 1, "+" + QByteArray::number(expiry)) << u"alice"_s << issuedAt << false;
    QTest::newRow("an expiry of 20 digits is refused")
        << withPart(good, 1, QByteArray(20, '9')) << u"alice"_s << issuedAt << false;
    QTest::newRow("a short device id is refused")
        << cookies.issue(u"alice"_s, u"AAAA"_s, issuedAt) << u"alice"_s << issuedAt << false;
    QTest::newRow("a fourth part is refused") << good + ".x" << u"alice"_s << issuedAt << false;
    QTest::newRow("an empty cookie is refused") << QByteArray() << u"alice"_s << issuedAt << false;
    QTest::newRow("dots only are refused") << QByteArray("..") << u"alice"_s << issuedAt << false;
}

void TestDeviceCookie::verify()
{
    QFETCH(QByteArray, cookie);
    QFETCH(QString, account);
    QFETCH(qint64, now);
    QFETCH(bool, valid);
    const DeviceCookie cookies(key, lifetime);
    const auto id = cookies.verify(cookie, account, now);
    QCOMPARE(id.has_value(), valid);
    if (valid)
        QCOMPARE(*id, u"AAAAAAAAAAAAAAAAAAAAAA"_s);
}

void TestDeviceCookie::idsAreRandom()
{
    const QString first = DeviceCookie::newDeviceId();
    QCOMPARE(first.size(), 22);
    QVERIFY(first != DeviceCookie::newDeviceId());
    const DeviceCookie cookies(key, 1h);
    QCOMPARE(cookies.verify(cookies.issue(u"alice"_s, first, issuedAt), u"alice"_s, issuedAt), first);
}

QTEST_APPLESS_MAIN(TestDeviceCookie)
#include "tst_devicecookie.moc"
