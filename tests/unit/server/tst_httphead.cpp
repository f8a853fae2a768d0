// The query of a request head as the WebSocket gate reads it: one value, and how often a
// parameter is named (a repeated access_token is refused, not first-wins).
#include "ws/HttpHead.h"

#include <QTest>

class TestHttpHead final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void query_data();
    void query();
};

void TestHttpHead::query_data()
{
    QTest::addColumn<QByteArray>("target");
    QTest::addColumn<QByteArray>("value");
    QTest::addColumn<qsizetype>("count");
    QTest::newRow("once") << QByteArray("/ws?access_token=abc") << QByteArray("abc") << qsizetype(1);
    QTest::newRow("among others") << QByteArray("/ws?a=1&access_token=abc&b=2") << QByteArray("abc") << qsizetype(1);
    QTest::newRow("percent-decoded value") << QByteArray("/ws?access_token=a%2Bb") << QByteArray("a+b") << qsizetype(1);
    QTest::newRow("no query") << QByteArray("/ws") << QByteArray() << qsizetype(0);
    QTest::newRow("another parameter only") << QByteArray("/ws?token=abc") << QByteArray() << qsizetype(0);
    QTest::newRow("a longer name is another parameter")
        << QByteArray("/ws?access_token2=abc&xaccess_token=d") << QByteArray() << qsizetype(0);

    QTest::newRow("twice: first value, counted twice")
        << QByteArray("/ws?access_token=good&access_token=other") << QByteArray("good") << qsizetype(2);
    QTest::newRow("twice, once with its name percent-encoded")
        << QByteArray("/ws?access_token=good&access%5Ftoken=other") << QByteArray("good") << qsizetype(2);
    QTest::newRow("twice, once without a value")
        << QByteArray("/ws?access_token&access_token=good") << QByteArray() << qsizetype(2);
    QTest::newRow("twice with the same value")
        << QByteArray("/ws?access_token=a&access_token=a") << QByteArray("a") << qsizetype(2);
}

void TestHttpHead::query()
{
    QFETCH(QByteArray, target);
    QFETCH(QByteArray, value);
    QFETCH(qsizetype, count);
    HttpHead head;
    head.target = target;
    QCOMPARE(head.queryValue("access_token"), value);
    QCOMPARE(head.queryCount("access_token"), count);
}

QTEST_APPLESS_MAIN(TestHttpHead)
#include "tst_httphead.moc"
