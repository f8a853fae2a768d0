#include "policy/LoginBackoff.h"
#include "policy/RateLimiter.h"

#include <QTest>

using namespace Qt::StringLiterals;

class TestRateLimiter final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void burstThenRefill();
    void keysAreIndependent();
    void memoryStaysBounded();
    void freeFailuresAreCountedExactly_data();
    void freeFailuresAreCountedExactly();
    void backoffDoublesAfterFreeFailures();
    void successClearsTheBackoff();
    void backoffIsCapped();
};

void TestRateLimiter::burstThenRefill()
{
    RateLimiter limiter(2.0, 3.0);
    for (int i = 0; i < 3; ++i)
        QVERIFY(!limiter.take(u"1.2.3.4"_s, 100.0));
    QCOMPARE(limiter.take(u"1.2.3.4"_s, 100.0), std::optional<int>(1));
    QVERIFY(!limiter.take(u"1.2.3.4"_s, 100.5)); // half a second refills one token at 2/s
    QVERIFY(limiter.take(u"1.2.3.4"_s, 100.5).has_value());
    QVERIFY(!limiter.take(u"1.2.3.4"_s, 200.0));
    RateLimiter slow(1.0 / 60.0, 1.0); // one a minute
    QVERIFY(!slow.take(u"k"_s, 0));
    QCOMPARE(slow.take(u"k"_s, 0), std::optional<int>(60));
    QCOMPARE(slow.take(u"k"_s, 30), std::optional<int>(30));
}

void TestRateLimiter::keysAreIndependent()
{
    RateLimiter limiter(1.0, 1.0);
    QVERIFY(!limiter.take(u"a"_s, 0));
    QVERIFY(limiter.take(u"a"_s, 0));
    QVERIFY(!limiter.take(u"b"_s, 0));
}

void TestRateLimiter::memoryStaysBounded()
{
    RateLimiter limiter(1.0, 5.0, 1000);
    for (int i = 0; i < 100000; ++i)
        [[maybe_unused]] const auto ignored = limiter.take(QString::number(i), i / 1000.0);
    QVERIFY(limiter.keyCount() <= 1000);
    // A key under pressure keeps being limited while new ones come and go.
    for (int i = 0; i < 5; ++i)
        [[maybe_unused]] const auto ignored = limiter.take(u"hot"_s, 200.0);
    QVERIFY(limiter.take(u"hot"_s, 200.0).has_value());
}

void TestRateLimiter::freeFailuresAreCountedExactly_data()
{
    QTest::addColumn<int>("freeFailures");
    QTest::addColumn<int>("attemptsWithoutWaiting");
    QTest::newRow("five free failures: the sixth attempt waits") << 5 << 5;
    QTest::newRow("three free failures: the fourth attempt waits") << 3 << 3;
    QTest::newRow("one free failure: the second attempt waits") << 1 << 1;
    QTest::newRow("zero is one: the first attempt cannot wait") << 0 << 1;
}

void TestRateLimiter::freeFailuresAreCountedExactly()
{
    QFETCH(int, freeFailures);
    QFETCH(int, attemptsWithoutWaiting);
    LoginBackoff backoff(freeFailures, 300);
    int attempts = 0;
    while (!backoff.retryAfter(u"alice"_s, 1000) && attempts < 100) {
        backoff.recordFailure(u"alice"_s, 1000);
        ++attempts;
    }
    QCOMPARE(attempts, attemptsWithoutWaiting);
    QCOMPARE(backoff.retryAfter(u"alice"_s, 1000), std::optional<int>(1));
}

void TestRateLimiter::backoffDoublesAfterFreeFailures()
{
    LoginBackoff backoff(3, 300);
    for (int i = 0; i < 2; ++i) {
        QVERIFY(!backoff.retryAfter(u"alice"_s, 1000));
        backoff.recordFailure(u"alice"_s, 1000);
    }
    QVERIFY(!backoff.retryAfter(u"alice"_s, 1000));
    backoff.recordFailure(u"alice"_s, 1000); // the third free failure
    QCOMPARE(backoff.retryAfter(u"alice"_s, 1000), std::optional<int>(1));
    QCOMPARE(backoff.retryAfter(u"alice"_s, 1000.5), std::optional<int>(1)); // rounded up
    QVERIFY(!backoff.retryAfter(u"alice"_s, 1001));
    backoff.recordFailure(u"alice"_s, 1001);
    QCOMPARE(backoff.retryAfter(u"alice"_s, 1001), std::optional<int>(2));
    backoff.recordFailure(u"alice"_s, 1003);
    QCOMPARE(backoff.retryAfter(u"alice"_s, 1003), std::optional<int>(4));
    QVERIFY(!backoff.retryAfter(u"bob"_s, 1003));
}

void TestRateLimiter::successClearsTheBackoff()
{
    LoginBackoff backoff(1, 300);
    backoff.recordFailure(u"alice"_s, 0);
    backoff.recordFailure(u"alice"_s, 0);
    QVERIFY(backoff.retryAfter(u"alice"_s, 0).has_value());
    backoff.recordSuccess(u"alice"_s);
    QVERIFY(!backoff.retryAfter(u"alice"_s, 0));
}

void TestRateLimiter::backoffIsCapped()
{
    LoginBackoff backoff(0, 300);
    for (int i = 0; i < 100; ++i)
        backoff.recordFailure(u"mallory"_s, 0);
    QCOMPARE(backoff.retryAfter(u"mallory"_s, 0), std::optional<int>(300));
}

QTEST_APPLESS_MAIN(TestRateLimiter)
#include "tst_ratelimiter.moc"
