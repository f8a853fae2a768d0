// The hot-path answers every handshake relies on: the AccessGuard (is this token still
// honoured?) and the ConnectionCensus (is there room?), including from several threads.
#include "sessions/AccessGuard.h"
#include "ws/ConnectionCensus.h"

#include <QTest>

#include <atomic>
#include <thread>
#include <vector>

using namespace Qt::StringLiterals;

namespace {
AccessClaims localClaims(const QString &session, qint64 issuedAt = 1000, const QString &jti = u"j1"_s)
{
    AccessClaims claims;
    claims.subject = u"alice"_s;
    claims.sessionId = session;
    claims.jwtId = jti;
    claims.issuedAt = issuedAt;
    claims.expiresAt = issuedAt + 900;
    claims.local = true;
    return claims;
}
} // namespace

class TestAccessGuard final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void liveSessionIsHonoured()
    {
        AccessGuard guard;
        guard.reset({ { u"s1"_s, { 5000, false } } }, {}, {});
        QCOMPARE(guard.check(localClaims(u"s1"_s), 1500), std::nullopt);
        QCOMPARE(guard.check(localClaims(u"s1"_s), 5000), SessionError::SessionExpired);
    }

    void revocationsAreSeenAtOnce()
    {
        AccessGuard guard;
        guard.reset({ { u"s1"_s, { 5000, false } }, { u"s2"_s, { 5000, false } } }, {}, {});
        guard.sessionsEnded({ u"s1"_s });
        QCOMPARE(guard.check(localClaims(u"s1"_s), 1500), SessionError::SessionRevoked);
        QCOMPARE(guard.check(localClaims(u"s2"_s), 1500), std::nullopt);

        guard.accessTokenRevoked(u"j-revoked"_s, 1900);
        QCOMPARE(guard.check(localClaims(u"s2"_s, 1000, u"j-revoked"_s), 1500), SessionError::SessionRevoked);

        // The cut-off covers tokens issued in the same second, and not later ones.
        guard.revokedBefore(u"alice"_s, 1200);
        guard.revokedBefore(u"alice"_s, 1100); // never moves back
        QCOMPARE(guard.check(localClaims(u"s2"_s, 1200, u"j2"_s), 1500), SessionError::SessionRevoked);
        QCOMPARE(guard.check(localClaims(u"s2"_s, 1201, u"j3"_s), 1500), std::nullopt);
    }

    void externalTokensNeedNoSessionButHonourCutoffs()
    {
        AccessGuard guard;
        AccessClaims external = localClaims({});
        external.local = false;
        QCOMPARE(guard.check(external, 1500), std::nullopt);
        guard.revokedBefore(u"alice"_s, 1000);
        QCOMPARE(guard.check(external, 1500), SessionError::SessionRevoked);
    }

    void unknownSessionsAskTheLoaderOnce()
    {
        AccessGuard guard;
        int asked = 0;
        const AccessGuard::SessionLoader loader = [&](const QString &id) -> std::optional<AccessGuard::SessionState> {
            ++asked;
            if (id == "s-other-process"_L1)
                return AccessGuard::SessionState { 5000, false };
            return std::nullopt;
        };
        QCOMPARE(guard.check(localClaims(u"s-other-process"_s), 1500, loader), std::nullopt);
        QCOMPARE(guard.check(localClaims(u"s-other-process"_s), 1500, loader), std::nullopt);
        QCOMPARE(asked, 1);
        QCOMPARE(guard.check(localClaims(u"s-nowhere"_s), 1500, loader), SessionError::SessionRevoked);
        QCOMPARE(guard.check(localClaims(u"s-nowhere"_s), 1500), SessionError::SessionRevoked);
    }

    void purgeForgetsOnlyWhatCannotMatter()
    {
        AccessGuard guard;
        guard.reset({ { u"old"_s, { 1000, true } }, { u"live"_s, { 9000, false } } }, { { u"j-old"_s, 1000 } }, {});
        guard.purge(2000);
        QCOMPARE(guard.check(localClaims(u"live"_s, 1500, u"j-old"_s), 1600), std::nullopt);
        QCOMPARE(guard.check(localClaims(u"old"_s, 1500, u"j4"_s), 1600), SessionError::SessionRevoked);
    }

    void censusHoldsItsLimitsExactlyAcrossThreads()
    {
        ConnectionCensus census(50, 10);
        std::atomic<int> admitted = 0;
        std::vector<std::thread> threads;
        for (int t = 0; t < 4; ++t) {
            threads.emplace_back([&, t] {
                for (int i = 0; i < 100; ++i) {
                    if (!census.reserve(u"user-%1"_s.arg((t * 100 + i) % 7)))
                        ++admitted;
                }
            });
        }
        for (auto &thread : threads)
            thread.join();
        QCOMPARE(admitted.load(), 50);
        QCOMPARE(census.count(), 50);
        for (int u = 0; u < 7; ++u)
            QVERIFY(census.countForUser(u"user-%1"_s.arg(u)) <= 10);
        QCOMPARE(census.reserve(u"newcomer"_s), ConnectionCensus::Refusal::TooMany);

        ConnectionCensus small(100, 2);
        QCOMPARE(small.reserve(u"bob"_s), std::nullopt);
        QCOMPARE(small.reserve(u"bob"_s), std::nullopt);
        QCOMPARE(small.reserve(u"bob"_s), ConnectionCensus::Refusal::TooManyForUser);
        small.release(u"bob"_s);
        QCOMPARE(small.countForUser(u"bob"_s), 1);
        QCOMPARE(small.reserve(u"bob"_s), std::nullopt);
        QVERIFY(small.nextId() != small.nextId());
    }
};

QTEST_GUILESS_MAIN(TestAccessGuard)
#include "tst_accessguard.moc"
