// The WWW-Authenticate challenge of a 401 (RFC 6750 §3): no error code without credentials.
#include "auth/BearerChallenge.h"

#include <QTest>

class TestBearerChallenge final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void header_data();
    void header();
};

void TestBearerChallenge::header_data()
{
    QTest::addColumn<QByteArray>("error");
    QTest::addColumn<QByteArray>("description");
    QTest::addColumn<QByteArray>("challenge");
    QTest::newRow("no credentials: the realm and no error code (RFC 6750 §3.1)")
        << QByteArray() << QByteArray() << QByteArray(R"(Bearer realm="gatehouse")");
    QTest::newRow("a refused token: invalid_token") << QByteArray("invalid_token") << QByteArray()
                                                    << QByteArray(R"(Bearer realm="gatehouse", error="invalid_token")");
    QTest::newRow("a refused token with its reason")
        << QByteArray("invalid_token") << QByteArray("token_expired")
        << QByteArray(R"(Bearer realm="gatehouse", error="invalid_token", error_description="token_expired")");
    QTest::newRow("a description cannot close the quoted string or add a line")
        << QByteArray("invalid_token") << QByteArray("a\"b\\c\r\nSet-Cookie: x=1")
        << QByteArray(R"(Bearer realm="gatehouse", error="invalid_token", error_description="abcSet-Cookie: x=1")");
}

void TestBearerChallenge::header()
{
    QFETCH(QByteArray, error);
    QFETCH(QByteArray, description);
    QFETCH(QByteArray, challenge);
    QCOMPARE(BearerChallenge::header(error, description), challenge);
}

QTEST_APPLESS_MAIN(TestBearerChallenge)
#include "tst_bearerchallenge.moc"
