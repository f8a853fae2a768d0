#include "auth/Base64Url.h"

#include <QTest>

class TestBase64Url final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void decode_data();
    void decode();
    void roundTripsEveryLength();
};

void TestBase64Url::decode_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<bool>("accepted");
    QTest::addColumn<QByteArray>("bytes");

    QTest::newRow("empty text is empty bytes") << QByteArray("") << true << QByteArray("");
    QTest::newRow("RFC 7515 header decodes")
        << QByteArray("eyJhbGciOiJFZERTQSJ9") << true << QByteArray(R"({"alg":"EdDSA"})");
    QTest::newRow("url alphabet - and _") << QByteArray("-_8") << true << QByteArray("\xfb\xff", 2);
    QTest::newRow("padding is refused") << QByteArray("Zm8=") << false << QByteArray();
    QTest::newRow("standard alphabet + is refused") << QByteArray("+_8") << false << QByteArray();
    QTest::newRow("standard alphabet / is refused") << QByteArray("-/8") << false << QByteArray();
    QTest::newRow("white space is refused") << QByteArray("Zm9v YmFy") << false << QByteArray();
    QTest::newRow("line break is refused") << QByteArray("Zm9v\nYmFy") << false << QByteArray();
    QTest::newRow("length 1 mod 4 is refused") << QByteArray("Zm9vY") << false << QByteArray();
    QTest::newRow("non-zero trailing bits are refused") << QByteArray("Zm9") << false << QByteArray();
    QTest::newRow("canonical trailing bits accepted") << QByteArray("Zm8") << true << QByteArray("fo");
    QTest::newRow("NUL byte is refused") << QByteArray("Zm\0v", 4) << false << QByteArray();
    QTest::newRow("non-ASCII is refused") << QByteArray("Zm9v\xc3\xa9") << false << QByteArray();
}

void TestBase64Url::decode()
{
    QFETCH(QByteArray, text);
    QFETCH(bool, accepted);
    QFETCH(QByteArray, bytes);
    const auto decoded = Base64Url::decode(text);
    QCOMPARE(decoded.has_value(), accepted);
    if (accepted)
        QCOMPARE(*decoded, bytes);
}

void TestBase64Url::roundTripsEveryLength()
{
    QByteArray bytes;
    for (int length = 0; length < 70; ++length) {
        const QByteArray encoded = Base64Url::encode(bytes);
        QVERIFY(!encoded.contains('='));
        QCOMPARE(Base64Url::decode(encoded).value_or(QByteArray("mismatch")), bytes);
        bytes.append(static_cast<char>(length * 37 + 11));
    }
}

QTEST_APPLESS_MAIN(TestBase64Url)
#include "tst_base64url.moc"
