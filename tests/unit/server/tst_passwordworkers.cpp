// The worker pool for password checks: results come back on the caller's thread, right and
// wrong passwords alike, and past its queue a check is refused at once instead of waiting.
#include "identity/PasswordHasher.h"
#include "identity/PasswordWorkers.h"

#include <QSemaphore>
#include <QTest>
#include <QThread>

#include <atomic>

#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

class TestPasswordWorkers final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void resultsComeBackOnTheCallersThread();
    void checksPastTheQueueAreRefusedAtOnce();
    void checksYieldToTheServingThreads();
};

void TestPasswordWorkers::resultsComeBackOnTheCallersThread()
{
    const QByteArray hash = PasswordHasher::hash("correct horse");
    QVERIFY(!hash.isEmpty());
    PasswordWorkers workers(2, 8);
    QList<std::pair<QByteArray, bool>> results;
    for (const QByteArray password : { "correct horse", "wrong horse", "" }) {
        QVERIFY(workers.verify(password, hash, this, [&results, password, this](bool matches) {
            QCOMPARE(QThread::currentThread(), thread());
            results.append({ password, matches });
        }));
    }
    QTRY_COMPARE_WITH_TIMEOUT(results.size(), 3, 20000);
    for (const auto &[password, matches] : results)
        QCOMPARE(matches, password == "correct horse");
}

void TestPasswordWorkers::checksPastTheQueueAreRefusedAtOnce()
{
    // The one worker is held inside its first check until the test lets it go.
    QSemaphore started;
    QSemaphore release;
    PasswordWorkers workers(1, 2, [&](const QByteArray &, const QByteArray &) {
        started.release();
        release.acquire();
        return false;
    });
    const QByteArray hash = "$argon2id$unused";
    int done = 0;
    const auto count = [&done](bool) { ++done; };
    // One check running, then two waiting: the queue is full.
    QVERIFY(workers.verify("a", hash, this, count));
    QVERIFY(started.tryAcquire(1, 5000));
    QCOMPARE(workers.waiting(), 0);
    QVERIFY(workers.verify("b", hash, this, count));
    QVERIFY(workers.verify("c", hash, this, count));
    QCOMPARE(workers.waiting(), 2);
    QVERIFY(!workers.verify("d", hash, this, count));
    QCOMPARE(workers.waiting(), 2);
    release.release(3);
    QTRY_COMPARE_WITH_TIMEOUT(done, 3, 20000);
    // Room again once they ran.
    release.release(1);
    QVERIFY(workers.verify("e", hash, this, count));
    QTRY_COMPARE_WITH_TIMEOUT(done, 4, 20000);
}

void TestPasswordWorkers::checksYieldToTheServingThreads()
{
    // Hashing must not take the CPU from the threads that serve revocations: each worker runs
    // at nice 10 as a batch task, while the caller's thread keeps its own priority.
    const auto callerNiceness = ::getpriority(PRIO_PROCESS, id_t(::syscall(SYS_gettid)));
    std::atomic<int> niceness { -100 };
    std::atomic<int> policy { -1 };
    bool done = false;
    PasswordWorkers workers(1, 2, [&](const QByteArray &, const QByteArray &) {
        const auto thread = pid_t(::syscall(SYS_gettid));
        niceness = ::getpriority(PRIO_PROCESS, id_t(thread));
        policy = ::sched_getscheduler(thread);
        return true;
    });
    QVERIFY(workers.verify("p", "h", this, [&done](bool) { done = true; }));
    QTRY_VERIFY(done);
    QCOMPARE(niceness.load(), std::max(10, int(callerNiceness)));
    QCOMPARE(policy.load(), SCHED_BATCH);
    QCOMPARE(::getpriority(PRIO_PROCESS, id_t(::syscall(SYS_gettid))), callerNiceness);
}

QTEST_GUILESS_MAIN(TestPasswordWorkers)
#include "tst_passwordworkers.moc"
