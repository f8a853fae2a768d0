// MessageRate: a connection's token bucket, with the time passed in.
#include "ws/MessageRate.h"

#include <QTest>

class TestMessageRate final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void burstThenRate_data();
    void burstThenRate();
    void noRateLetsEverythingPass();
    void timeGoingBackRefillsNothing();
};

void TestMessageRate::burstThenRate_data()
{
    QTest::addColumn<qint64>("perSecond");
    QTest::addColumn<qint64>("burst");
    QTest::addColumn<int>("spacingMs");
    QTest::addColumn<int>("passing"); ///< of 1000 messages, how many pass before the first refusal (-1: all)
    QTest::newRow("messages at the rate all pass") << qint64(10) << qint64(20) << 100 << -1;
    QTest::newRow("a little under the rate all pass") << qint64(100) << qint64(1) << 11 << -1;
    QTest::newRow("a burst at once takes the burst") << qint64(10) << qint64(20) << 0 << 20;
    QTest::newRow("twice the rate spends the burst, then fails") << qint64(10) << qint64(20) << 50 << 39;
    QTest::newRow("the highest rate still stops a flood at its burst") << qint64(100'000) << qint64(500) << 0 << 500;
}

void TestMessageRate::burstThenRate()
{
    QFETCH(qint64, perSecond);
    QFETCH(qint64, burst);
    QFETCH(int, spacingMs);
    QFETCH(int, passing);
    MessageRate rate(perSecond, burst, 5000);
    QVERIFY(rate.isLimited());
    int passed = 0;
    for (int i = 0; i < 1000; ++i) {
        if (!rate.take(5000 + qint64(i) * spacingMs))
            break;
        ++passed;
    }
    QCOMPARE(passed, passing < 0 ? 1000 : passing);
}

void TestMessageRate::noRateLetsEverythingPass()
{
    MessageRate none;
    QVERIFY(!none.isLimited());
    for (int i = 0; i < 100'000; ++i)
        QVERIFY(none.take(0));
}

void TestMessageRate::timeGoingBackRefillsNothing()
{
    MessageRate rate(1, 1, 10'000);
    QVERIFY(rate.take(10'000));
    QVERIFY(!rate.take(5000));
    QVERIFY(!rate.take(10'500));
    QVERIFY(rate.take(11'000));
}

QTEST_GUILESS_MAIN(TestMessageRate)
#include "tst_messagerate.moc"
