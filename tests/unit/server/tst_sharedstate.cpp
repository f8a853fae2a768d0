// What the I/O threads share under their own locks and atomics, used from several std::threads
// at once: ConnectionCensus, RateLimiter, HttpCensus, AccessGuard and LiveLimits. Each test
// checks an invariant that a race would break; run under ThreadSanitizer (the `tsan` preset,
// scripts/test.sh) it also checks that every access is synchronised. Built from these classes'
// own sources, so no uninstrumented Qt sits between the threads and the sanitizer
// (docs/architecture.md, "Threads and sanitizers").
#include "http/HttpCensus.h"
#include "policy/RateLimiter.h"
#include "sessions/AccessGuard.h"
#include "ws/ConnectionCensus.h"
#include "ws/LiveLimits.h"

#include <QTest>

#include <algorithm>
#include <atomic>
#include <set>
#include <thread>
#include <vector>

using namespace Qt::StringLiterals;
using namespace std::chrono_literals;

namespace {
constexpr int threadCount = 4;

/// Runs `work(index)` on `threadCount` threads released at once, and joins them.
template<typename Work> void onThreads(Work work, int count = threadCount)
{
    std::atomic<bool> go { false };
    std::vector<std::thread> threads;
    for (int index = 0; index < count; ++index) {
        threads.emplace_back([&, index] {
            while (!go.load(std::memory_order_acquire))
                std::this_thread::yield();
            work(index);
        });
    }
    go.store(true, std::memory_order_release);
    for (auto &thread : threads)
        thread.join();
}

AccessClaims claimsOf(const QString &session, const QString &jti)
{
    AccessClaims claims;
    claims.subject = u"alice"_s;
    claims.sessionId = session;
    claims.jwtId = jti;
    claims.issuedAt = 2000;
    claims.expiresAt = 9000;
    claims.local = true;
    return claims;
}
} // namespace

class TestSharedState final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void censusCountsExactlyWhileLimitsChange();
    void rateLimiterSharedByThreadsGrantsTheBurstOnce();
    void httpCensusNeverAdmitsMoreThanItsMaximum();
    void accessGuardSeesEveryRevocationMadeBefore();
    void liveLimitsAreReadWhileSet();
};

void TestSharedState::censusCountsExactlyWhileLimitsChange()
{
    ConnectionCensus census(1000, 5);
    const UserKey users[]
        = { UserKey::local(u"alice"_s), UserKey::local(u"bob"_s), UserKey { u"https://idp.example"_s, u"alice"_s } };
    std::vector<std::vector<quint64>> ids(threadCount + 1);
    std::atomic<int> overUser { 0 };
    onThreads(
        [&](int index) {
            if (index == threadCount) { // the admin, changing the limits meanwhile
                for (int i = 0; i < 500; ++i)
                    census.setLimits(1000, i % 2 ? 5 : 8);
                return;
            }
            for (int i = 0; i < 2000; ++i) {
                const UserKey &user = users[(index + i) % 3];
                if (census.reserve(user))
                    continue;
                ids[size_t(index)].push_back(census.nextId());
                overUser += census.countForUser(user) > 8;
                [[maybe_unused]] const bool full = census.full();
                census.release(user);
            }
        },
        threadCount + 1);
    QCOMPARE(census.count(), 0);
    QCOMPARE(overUser.load(), 0);
    std::set<quint64> unique;
    size_t total = 0;
    for (const auto &mine : ids) {
        unique.insert(mine.cbegin(), mine.cend());
        total += mine.size();
    }
    QCOMPARE(unique.size(), total); // ids never repeat across threads
}

void TestSharedState::rateLimiterSharedByThreadsGrantsTheBurstOnce()
{
    RateLimiter limiter(1.0, 10.0, 64);
    std::atomic<int> granted { 0 };
    onThreads([&](int) {
        for (int i = 0; i < 100; ++i)
            granted += !limiter.take(u"hot"_s, 100.0).has_value();
    });
    QCOMPARE(granted.load(), 10); // one burst, whoever asks
    // Strangers from every thread: the limiter shrinks while others take and count.
    onThreads([&](int index) {
        for (int i = 0; i < 1000; ++i) {
            [[maybe_unused]] const auto wait = limiter.take(u"%1-%2"_s.arg(index).arg(i), 100.0 + i / 1000.0);
            [[maybe_unused]] const auto keys = limiter.keyCount();
        }
    });
    QVERIFY(limiter.keyCount() <= 64);
}

void TestSharedState::httpCensusNeverAdmitsMoreThanItsMaximum()
{
    HttpCensus census(50, 30);
    std::atomic<int> inside { 0 };
    std::atomic<int> mostInside { 0 };
    onThreads([&](int index) {
        const QString address = index % 2 ? u"192.0.2.1"_s : u"2001:db8::%1"_s.arg(index);
        for (int i = 0; i < 3000; ++i) {
            if (census.admit(address))
                continue;
            const int now = ++inside;
            int seen = mostInside.load();
            while (now > seen && !mostInside.compare_exchange_weak(seen, now)) { }
            --inside;
            census.release(address);
        }
    });
    QCOMPARE(census.count(), 0);
    QVERIFY(mostInside.load() <= 50);
}

void TestSharedState::accessGuardSeesEveryRevocationMadeBefore()
{
    AccessGuard guard;
    constexpr int sessions = 400;
    for (int i = 0; i < sessions; ++i)
        guard.sessionOpened(u"s%1"_s.arg(i), { 9000, false, u"u%1"_s.arg(i % 10), u"d"_s });
    std::atomic<int> endedUpTo { -1 }; ///< sessions 0..n are ended, published by the writer
    std::atomic<int> missed { 0 };
    const AccessGuard::SessionLoader loader = [](const QString &) {
        return std::optional<AccessGuard::SessionState>(
            { 9000, false, u"other"_s, u"d"_s }); // another process's session
    };
    onThreads([&](int index) {
        if (index == 0) { // SessionService: revocations, cut-offs, purges
            for (int i = 0; i < sessions; ++i) {
                guard.sessionsEnded({ u"s%1"_s.arg(i) });
                guard.accessTokenRevoked(u"j%1"_s.arg(i), 3000 + i);
                endedUpTo.store(i, std::memory_order_release);
                if (i % 50 == 0) {
                    guard.revokedBefore(UserKey::local(u"mallory"_s), 1000 + i);
                    guard.purge(3000 + i / 2);
                }
            }
            return;
        }
        for (int i = 0; i < 2000; ++i) { // handshakes on I/O threads
            const int ended = endedUpTo.load(std::memory_order_acquire);
            const int session = (i * 7 + index) % sessions;
            const auto answer = guard.check(claimsOf(u"s%1"_s.arg(session), u"x"_s), 2500);
            if (session <= ended && answer != SessionError::SessionRevoked)
                ++missed;
            [[maybe_unused]] const auto loaded
                = guard.check(claimsOf(u"other-%1-%2"_s.arg(index).arg(i % 20), u"x"_s), 2500, loader);
        }
    });
    QCOMPARE(missed.load(), 0);
    QCOMPARE(guard.check(claimsOf(u"s7"_s, u"x"_s), 2500), SessionError::SessionRevoked);
}

void TestSharedState::liveLimitsAreReadWhileSet()
{
    ConnectionLimits low;
    low.maximumMessageSize = 1024;
    low.pingIntervalSeconds = 5;
    ConnectionLimits high;
    high.maximumMessageSize = 16 * 1024 * 1024;
    high.pingIntervalSeconds = 3600;
    LiveLimits limits(low);
    std::atomic<int> strange { 0 };
    onThreads([&](int index) {
        for (int i = 0; i < 5000; ++i) {
            if (index == 0) {
                limits.set(i % 2 ? high : low);
                continue;
            }
            const qint64 size = limits.maximumMessageSize();
            const auto ping = limits.pingInterval();
            strange += (size != 1024 && size != 16 * 1024 * 1024) || (ping != 5s && ping != 3600s);
        }
    });
    QCOMPARE(strange.load(), 0);
}

QTEST_GUILESS_MAIN(TestSharedState)
#include "tst_sharedstate.moc"
