// The hot-path answers every handshake relies on: the AccessGuard (is this token still
// honoured?) and the ConnectionCensus (is there room?), including from several threads, each
// keyed by the user as issuer and subject.
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

/// "alice" at a trusted external issuer: no session, maybe no `iat`.
AccessClaims externalClaims(qint64 issuedAt = 1000, const QString &jti = u"j1"_s)
{
    AccessClaims claims = localClaims({}, issuedAt, jti);
    claims.issuer = u"https://idp.example"_s;
    claims.local = false;
    return claims;
}

const UserKey ourAlice = UserKey::local(u"alice"_s);
const UserKey theirAlice { u"https://idp.example"_s, u"alice"_s };
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
        guard.revokedBefore(ourAlice, 1200);
        guard.revokedBefore(ourAlice, 1100); // never moves back
        QCOMPARE(guard.check(localClaims(u"s2"_s, 1200, u"j2"_s), 1500), SessionError::SessionRevoked);
        QCOMPARE(guard.check(localClaims(u"s2"_s, 1201, u"j3"_s), 1500), std::nullopt);
    }

    void externalTokensNeedNoSessionButHonourCutoffs()
    {
        AccessGuard guard;
        guard.reset({ { u"s1"_s, { 5000, false } } }, {}, {});
        QCOMPARE(guard.check(externalClaims(), 1500), std::nullopt);
        guard.revokedBefore(theirAlice, 1000);
        QCOMPARE(guard.check(externalClaims(1000), 1500), SessionError::SessionRevoked);
        QCOMPARE(guard.check(externalClaims(1001), 1500), std::nullopt);
        // Without `iat` a token cannot show that it came after the cut-off.
        QCOMPARE(guard.check(externalClaims(0), 1500), SessionError::SessionRevoked);
    }

    void cutoffsBelongToOneIssuersUser()
    {
        AccessGuard guard;
        guard.reset({ { u"s1"_s, { 5000, false } } }, {}, {});
        guard.revokedBefore(ourAlice, 1200);
        QCOMPARE(guard.check(localClaims(u"s1"_s, 1100), 1500), SessionError::SessionRevoked);
        QCOMPARE(guard.check(externalClaims(1100), 1500), std::nullopt);

        AccessGuard other;
        other.reset({ { u"s1"_s, { 5000, false } } }, {}, { { theirAlice, 1200 } });
        QCOMPARE(other.check(externalClaims(1100), 1500), SessionError::SessionRevoked);
        QCOMPARE(other.check(localClaims(u"s1"_s, 1100), 1500), std::nullopt);
        AccessClaims otherIssuer = externalClaims(1100);
        otherIssuer.issuer = u"https://other.example"_s;
        QCOMPARE(other.check(otherIssuer, 1500), std::nullopt);
    }

    void revokedJwtIdsAreOursOnly()
    {
        // Only our tokens are revoked by `jti`; another issuer choosing the same `jti` is neither
        // refused by it nor able to make ours refused.
        AccessGuard guard;
        guard.reset({ { u"s1"_s, { 5000, false } } }, { { u"j-revoked"_s, 1900 } }, {});
        QCOMPARE(guard.check(localClaims(u"s1"_s, 1000, u"j-revoked"_s), 1500), SessionError::SessionRevoked);
        QCOMPARE(guard.check(externalClaims(1000, u"j-revoked"_s), 1500), std::nullopt);
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

    void anAdminEndsTheSessionsKnownOfAUser()
    {
        // What an admin's revocation does at once, on the thread that received it.
        AccessGuard guard;
        guard.reset({ { u"a1"_s, { 5000, false, u"alice"_s, u"laptop"_s } },
                      { u"a2"_s, { 5000, false, u"alice"_s, u"phone"_s } },
                      { u"a3"_s, { 5000, true, u"alice"_s, u"old"_s } },
                      { u"k1"_s, { 5000, false, u"kate"_s, u"laptop"_s } } },
                    {}, {});
        QCOMPARE(guard.knownUsername(u"ALICE"_s), u"alice"_s);
        QCOMPARE(guard.knownUsername(u"nobody"_s), QString());
        // Folded as the user directory folds (A-Z only): U+212A KELVIN SIGN is not a K.
        QCOMPARE(guard.knownUsername(u"\u212Aate"_s), QString());
        QCOMPARE(guard.endSessionsOf(u"\u212Aate"_s, {}), QStringList());
        QCOMPARE(guard.liveSessionsOf(u"Alice"_s, u"phone"_s), QStringList { u"a2"_s });

        QStringList ended = guard.endSessionsOf(u"aLiCe"_s, {});
        ended.sort();
        QCOMPARE(ended, (QStringList { u"a1"_s, u"a2"_s })); // a3 was revoked already
        QCOMPARE(guard.check(localClaims(u"a1"_s), 1500), SessionError::SessionRevoked);
        QCOMPARE(guard.check(localClaims(u"a2"_s), 1500), SessionError::SessionRevoked);
        QCOMPARE(guard.check(localClaims(u"k1"_s), 1500), std::nullopt);
        QVERIFY(guard.endSessionsOf(u"alice"_s, {}).isEmpty()); // each session ends once

        QVERIFY(guard.endSession(u"k1"_s));
        QVERIFY(!guard.endSession(u"k1"_s));
        QVERIFY(!guard.endSession(u"unknown"_s));
        QCOMPARE(guard.check(localClaims(u"k1"_s), 1500), SessionError::SessionRevoked);
    }

    void sessionsLearnedLaterBelongToTheirUser()
    {
        AccessGuard guard;
        guard.sessionOpened(u"s1"_s, { 5000, false, u"bob"_s, u"laptop"_s });
        const AccessGuard::SessionLoader loader = [](const QString &) -> std::optional<AccessGuard::SessionState> {
            return AccessGuard::SessionState { 3000, false, u"bob"_s, u"phone"_s }; // opened by another process
        };
        QCOMPARE(guard.check(localClaims(u"s2"_s), 1500, loader), std::nullopt);
        QStringList live = guard.liveSessionsOf(u"BOB"_s, {});
        live.sort();
        QCOMPARE(live, (QStringList { u"s1"_s, u"s2"_s }));
        guard.purge(4000); // s2 is past its end: forgotten, by user too
        QCOMPARE(guard.liveSessionsOf(u"bob"_s, {}), QStringList { u"s1"_s });
        guard.purge(6000);
        QCOMPARE(guard.knownUsername(u"bob"_s), QString());
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
                    if (!census.reserve(UserKey::local(u"user-%1"_s.arg((t * 100 + i) % 7))))
                        ++admitted;
                }
            });
        }
        for (auto &thread : threads)
            thread.join();
        QCOMPARE(admitted.load(), 50);
        QCOMPARE(census.count(), 50);
        for (int u = 0; u < 7; ++u)
            QVERIFY(census.countForUser(UserKey::local(u"user-%1"_s.arg(u))) <= 10);
        QCOMPARE(census.reserve(UserKey::local(u"newcomer"_s)), ConnectionCensus::Refusal::TooMany);

        const UserKey bob = UserKey::local(u"bob"_s);
        ConnectionCensus small(100, 2);
        QCOMPARE(small.reserve(bob), std::nullopt);
        QCOMPARE(small.reserve(bob), std::nullopt);
        QCOMPARE(small.reserve(bob), ConnectionCensus::Refusal::TooManyForUser);
        small.release(bob);
        QCOMPARE(small.countForUser(bob), 1);
        QCOMPARE(small.reserve(bob), std::nullopt);
        QVERIFY(small.nextId() != small.nextId());
    }

    void censusCountsEachIssuersUserApart()
    {
        ConnectionCensus census(100, 2);
        for (int i = 0; i < 2; ++i) {
            QCOMPARE(census.reserve(ourAlice), std::nullopt);
            QCOMPARE(census.reserve(theirAlice), std::nullopt);
        }
        QCOMPARE(census.reserve(ourAlice), ConnectionCensus::Refusal::TooManyForUser);
        QCOMPARE(census.reserve(theirAlice), ConnectionCensus::Refusal::TooManyForUser);
        census.release(theirAlice);
        QCOMPARE(census.countForUser(ourAlice), 2);
        QCOMPARE(census.countForUser(theirAlice), 1);
        QCOMPARE(census.count(), 3);
    }

    void userKeysNeverMeetOurUsernames_data()
    {
        QTest::addColumn<UserKey>("key");
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("display");
        QTest::newRow("our user is the username") << ourAlice << u"alice"_s << u"alice"_s;
        QTest::newRow("external user is issuer # subject")
            << theirAlice << u"https://idp.example#alice"_s << u"alice @ https://idp.example"_s;
        QTest::newRow("subject holding # and % is kept whole")
            << UserKey { u"legacy"_s, u"a#b%23c"_s } << u"legacy#a#b%23c"_s << u"a#b%23c @ legacy"_s;
        QTest::newRow("issuer holding # and % is escaped")
            << UserKey { u"https://idp.example/x#y%23"_s, u"bob"_s } << u"https://idp.example/x%23y%2523#bob"_s
            << u"bob @ https://idp.example/x#y%23"_s;
        QTest::newRow("issuer that is a plain word cannot pass for a username")
            << UserKey { u"alice"_s, u"example.com"_s } << u"alice#example.com"_s << u"example.com @ alice"_s;
    }

    void userKeysNeverMeetOurUsernames()
    {
        QFETCH(UserKey, key);
        QFETCH(QString, text);
        QFETCH(QString, display);
        QCOMPARE(key.toString(), text);
        QCOMPARE(key.displayName(), display);
        QCOMPARE(UserKey::fromString(text), key);
        QCOMPARE(UserKey::fromString(text).isLocal(), key.isLocal());
        QVERIFY(key.isLocal() || key.toString().contains(u'#')); // '#' is never in a username
        QVERIFY(key.isLocal() || key != UserKey::local(key.subject));
    }
};

QTEST_GUILESS_MAIN(TestAccessGuard)
#include "tst_accessguard.moc"
