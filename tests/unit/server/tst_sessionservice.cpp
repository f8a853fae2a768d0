#include "audit/AuditLog.h"
#include "auth/KeySet.h"
#include "auth/TokenVerifier.h"
#include "identity/UserDirectory.h"
#include "sessions/SessionService.h"
#include "sessions/SqliteSessionStore.h"
#include "store/Database.h"

#include <QCryptographicHash>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include "ManualClock.h"

using namespace Qt::StringLiterals;
using namespace std::chrono_literals;

namespace {
const ClientContext client { u"127.0.0.1"_s, u"tst_sessionservice"_s };
}

class TestSessionService final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();
    void loginIssuesVerifiableTokens();
    void loginRefusals_data();
    void loginRefusals();
    void refreshRotatesTheToken();
    void reusedRefreshTokenRevokesTheSession();
    void racingRotationsLetExactlyOneWin();
    void groupedRefreshesAreAnsweredOnceStoredTogether();
    void groupedRefreshOfASessionRevokedMeanwhileIsRefused();
    void aGroupEndsEarlyWhenSomethingUrgentWaits();
    void malformedRefreshTokensAreInvalidGrants_data();
    void malformedRefreshTokensAreInvalidGrants();
    void lifetimesAreEnforced();
    void rightsAreRecheckedAtRefresh_data();
    void rightsAreRecheckedAtRefresh();
    void revocationScopes();
    void revocationsTakenAtOnceAreRecordedByWhicheverComesFirst();
    void revokeIssuedBeforeRefusesOlderTokensOnly();
    void revokedAccessTokenIsRefused();
    void stateSurvivesReopening();
    void policyValidation();
    void sweepEndsExpiredAndIdleSessions();

private:
    TokenPair loginAlice(const QString &device = u"laptop"_s);
    AccessClaims claimsOf(const QByteArray &token) const;
    void openAll();

    std::optional<JsonWebKey> m_key;
    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<Database> m_database;
    ManualClock m_clock;
    std::unique_ptr<UserDirectory> m_users;
    std::unique_ptr<SqliteSessionStore> m_store;
    std::unique_ptr<AuditLog> m_audit;
    std::unique_ptr<SessionService> m_sessions;
};

void TestSessionService::initTestCase()
{
    m_key = *JsonWebKey::generate(JwsAlgorithm::EdDSA);
}

void TestSessionService::openAll()
{
    m_database = std::make_unique<Database>();
    QVERIFY(m_database->open(m_dir->filePath(u"gatehouse.sqlite"_s)));
    m_users = std::make_unique<UserDirectory>(*m_database, m_clock);
    m_store = std::make_unique<SqliteSessionStore>(*m_database);
    m_audit = std::make_unique<AuditLog>(*m_database, m_clock);
    const auto minter = [this](const AccessTokenRequest &request) -> std::optional<IssuedToken> {
        return TokenIssuer(*m_key, u"gatehouse"_s, u"gatehouse"_s).mint(request, m_clock.now());
    };
    m_sessions = std::make_unique<SessionService>(*m_store, *m_users, *m_audit, m_clock, minter, SessionPolicy {});
}

void TestSessionService::init()
{
    m_clock.set(1'800'000'000);
    m_dir = std::make_unique<QTemporaryDir>();
    openAll();
    QVERIFY(m_users->add(u"alice"_s, {}, "alice's password", { u"admin"_s }).ok());
    QVERIFY(m_users->add(u"bob"_s, {}, "bob's password!", {}).ok());
}

void TestSessionService::cleanup()
{
    m_sessions.reset();
    m_audit.reset();
    m_store.reset();
    m_users.reset();
    m_database.reset();
}

TokenPair TestSessionService::loginAlice(const QString &device)
{
    auto pair = m_sessions->login(u"alice"_s, "alice's password", device, client);
    return pair.ok() ? *pair : TokenPair {};
}

AccessClaims TestSessionService::claimsOf(const QByteArray &token) const
{
    const auto keys = KeySet::build({ *m_key }, IssuerPolicy { u"gatehouse"_s, u"gatehouse"_s, u"at+jwt"_s, true }, {});
    const auto claims = TokenVerifier(*keys, {}).verify(token, m_clock.now());
    return claims.ok() ? *claims : AccessClaims {};
}

void TestSessionService::loginIssuesVerifiableTokens()
{
    QSignalSpy opened(m_sessions.get(), &SessionService::sessionOpened);
    const auto pair = m_sessions->login(u"alice"_s, "alice's password", u"laptop"_s, client);
    QVERIFY(pair.ok());
    QVERIFY(pair->refreshToken.startsWith("ghr_"));
    QCOMPARE(pair->accessExpiresIn, 7200);
    QCOMPARE(pair->refreshExpiresIn, 14 * 24 * 3600);
    const auto claims = claimsOf(pair->accessToken);
    QCOMPARE(claims.subject, u"alice"_s);
    QCOMPARE(claims.sessionId, pair->sessionId);
    QCOMPARE(claims.deviceId, u"laptop"_s);
    QCOMPARE(claims.roles, QStringList { u"admin"_s });
    QVERIFY(!m_sessions->checkAccess(claims));
    QCOMPARE(opened.count(), 1);
    const auto session = m_store->findSession(pair->sessionId);
    QCOMPARE(session->remoteAddress, u"127.0.0.1"_s);
    QCOMPARE(session->absoluteExpiresAt, m_clock.nowSeconds() + 30 * 24 * 3600);
    // The batch read finds the same record and leaves unknown (or hostile) ids out.
    const auto batch = m_store->findSessions({ u"s_unknown"_s, pair->sessionId, u"' OR 1=1 --"_s });
    QCOMPARE(batch.size(), 1);
    QCOMPARE(batch.first().id, pair->sessionId);
    QCOMPARE(batch.first().remoteAddress, session->remoteAddress);
    QVERIFY(m_store->findSessions({}).isEmpty());
    QStringList many(1200, u"s_none"_s); // more than one batch of bound parameters
    many.append(pair->sessionId);
    QCOMPARE(m_store->findSessions(many).size(), 1);
    // Only a hash of the refresh token is stored.
    QVERIFY(!m_store->findRefreshToken(QString::fromLatin1(pair->refreshToken)));
    QCOMPARE(m_audit->query({}).first().type, u"login_succeeded"_s);
}

void TestSessionService::loginRefusals_data()
{
    QTest::addColumn<QString>("username");
    QTest::addColumn<QByteArray>("password");
    QTest::addColumn<QString>("device");
    QTest::addColumn<SessionError>("error");
    QTest::newRow("wrong password refused")
        << u"alice"_s << QByteArray("wrong password") << u"d"_s << SessionError::BadCredentials;
    QTest::newRow("unknown user refused")
        << u"mallory"_s << QByteArray("alice's password") << u"d"_s << SessionError::BadCredentials;
    QTest::newRow("look-alike username refused")
        << u"\u0430lice"_s << QByteArray("alice's password") << u"d"_s << SessionError::BadCredentials;
    QTest::newRow("empty device refused")
        << u"alice"_s << QByteArray("alice's password") << u""_s << SessionError::InvalidDevice;
    QTest::newRow("device with a newline refused")
        << u"alice"_s << QByteArray("alice's password") << u"a\nb"_s << SessionError::InvalidDevice;
    QTest::newRow("65-character device refused")
        << u"alice"_s << QByteArray("alice's password") << QString(65, u'd') << SessionError::InvalidDevice;
}

void TestSessionService::loginRefusals()
{
    QFETCH(QString, username);
    QFETCH(QByteArray, password);
    QFETCH(QString, device);
    QFETCH(SessionError, error);
    const auto pair = m_sessions->login(username, password, device, client);
    QVERIFY(!pair.ok());
    QCOMPARE(pair.error(), error);
    QVERIFY(m_store->listSessions({}, true).isEmpty());
    if (error == SessionError::BadCredentials) {
        const auto event = m_audit->query({}).first();
        QCOMPARE(event.type, u"login_failed"_s);
        QCOMPARE(event.detail["reason"_L1].toString(), u"invalid_credentials"_s);
    }
}

void TestSessionService::refreshRotatesTheToken()
{
    const auto first = loginAlice();
    m_clock.advance(60s);
    const auto second = m_sessions->refresh(first.refreshToken, client);
    QVERIFY(second.ok());
    QVERIFY(second->refreshToken != first.refreshToken);
    QCOMPARE(second->sessionId, first.sessionId);
    QCOMPARE(claimsOf(second->accessToken).issuedAt, m_clock.nowSeconds());
    m_clock.advance(60s);
    const auto third = m_sessions->refresh(second->refreshToken, client);
    QVERIFY(third.ok());
    QCOMPARE(m_store->findSession(first.sessionId)->lastRefreshAt, m_clock.nowSeconds());
    QCOMPARE(m_audit->query({ 0, {}, {}, u"token_refreshed"_s, 10 }).size(), 2);
}

void TestSessionService::reusedRefreshTokenRevokesTheSession()
{
    const auto first = loginAlice();
    const auto second = m_sessions->refresh(first.refreshToken, client);
    QVERIFY(second.ok());
    QSignalSpy reused(m_sessions.get(), &SessionService::refreshTokenReused);
    QSignalSpy revoked(m_sessions.get(), &SessionService::sessionsRevoked);

    const auto replay = m_sessions->refresh(first.refreshToken, client);
    QCOMPARE(replay.error(), SessionError::RefreshTokenReused);
    QCOMPARE(reused.count(), 1);
    QCOMPARE(revoked.count(), 1);
    QCOMPARE(revoked.first().at(0).toStringList(), QStringList { first.sessionId });
    QCOMPARE(revoked.first().at(1).toString(), u"refresh_token_reused"_s);
    // The legitimate holder's newer token dies with the session, and so do its access tokens.
    QCOMPARE(m_sessions->refresh(second->refreshToken, client).error(), SessionError::SessionRevoked);
    QCOMPARE(m_sessions->checkAccess(claimsOf(second->accessToken)), SessionError::SessionRevoked);
    QCOMPARE(m_audit->query({ 0, {}, {}, u"refresh_token_reused"_s, 10 }).size(), 1);
}

void TestSessionService::racingRotationsLetExactlyOneWin()
{
    const auto pair = loginAlice();
    const auto record = m_store->findSession(pair.sessionId);
    const auto hash
        = QString::fromLatin1(QCryptographicHash::hash(pair.refreshToken, QCryptographicHash::Sha256).toHex());
    const RefreshTokenRecord a { u"a"_s.repeated(64), pair.sessionId, 2, 1, m_clock.nowSeconds() + 60, 0 };
    const RefreshTokenRecord b { u"b"_s.repeated(64), pair.sessionId, 2, 1, m_clock.nowSeconds() + 60, 0 };
    QVERIFY(m_store->rotateRefreshToken(hash, m_clock.nowSeconds(), a, 0).ok());
    const auto loser = m_store->rotateRefreshToken(hash, m_clock.nowSeconds(), b, 0);
    QVERIFY(!loser.ok());
    QCOMPARE(loser.error(), StoreError::Conflict);
    QVERIFY(!m_store->findRefreshToken(b.tokenHash));
    QVERIFY(record.has_value());
}

void TestSessionService::groupedRefreshesAreAnsweredOnceStoredTogether()
{
    const auto laptop = loginAlice(u"laptop"_s);
    const auto phone = loginAlice(u"phone"_s);
    m_clock.advance(30s);
    QMap<QString, Result<TokenPair, SessionError>> answers;
    const auto record = [&answers](const QString &name) {
        return [&answers, name](Result<TokenPair, SessionError> pair) { answers.insert(name, std::move(pair)); };
    };
    m_sessions->refreshGrouped(laptop.refreshToken, client, record(u"laptop"_s));
    m_sessions->refreshGrouped(phone.refreshToken, client, record(u"phone"_s));
    // The same token twice in one group: the second is a replay.
    m_sessions->refreshGrouped(phone.refreshToken, client, record(u"phone again"_s));
    // A refusal needs no store: it is answered at once.
    m_sessions->refreshGrouped("ghr_not-a-token", client, record(u"forged"_s));
    QCOMPARE(answers.keys(), QStringList { u"forged"_s });
    QCOMPARE(answers.find(u"forged"_s).value().error(), SessionError::InvalidGrant);
    // Nothing of the group is stored, nor answered, before the group's one commit.
    QVERIFY(!m_store
                 ->findRefreshToken(QString::fromLatin1(
                     QCryptographicHash::hash(laptop.refreshToken, QCryptographicHash::Sha256).toHex()))
                 ->usedAt);
    QTRY_COMPARE(answers.size(), 4);
    QVERIFY(answers.find(u"laptop"_s).value().ok());
    QVERIFY(answers.find(u"phone"_s).value().ok());
    QCOMPARE(answers.find(u"phone again"_s).value().error(), SessionError::RefreshTokenReused);
    QCOMPARE(claimsOf(answers.find(u"laptop"_s).value()->accessToken).issuedAt, m_clock.nowSeconds());
    // The laptop's new token works; the phone's session died of the replay.
    QVERIFY(m_sessions->refresh(answers.find(u"laptop"_s).value()->refreshToken, client).ok());
    QCOMPARE(m_sessions->refresh(answers.find(u"phone"_s).value()->refreshToken, client).error(),
             SessionError::SessionRevoked);
    QCOMPARE(m_audit->query({ 0, {}, {}, u"token_refreshed"_s, 10 }).size(), 3);
}

void TestSessionService::groupedRefreshOfASessionRevokedMeanwhileIsRefused()
{
    // Checked, then revoked before the group is stored: no new tokens for it.
    const auto pair = loginAlice();
    std::optional<Result<TokenPair, SessionError>> answer;
    m_sessions->refreshGrouped(pair.refreshToken, client,
                               [&answer](Result<TokenPair, SessionError> result) { answer = std::move(result); });
    QVERIFY(m_sessions->revokeSession(pair.sessionId, u"admin"_s, u"revoked_by_admin"_s).saved());
    QTRY_VERIFY(answer.has_value());
    QCOMPARE(answer->error(), SessionError::SessionRevoked);
    QCOMPARE(m_audit->query({ 0, {}, {}, u"token_refreshed"_s, 10 }).size(), 0);
    // The token was not rotated: it is still the session's latest, in a revoked session.
    QCOMPARE(m_sessions->refresh(pair.refreshToken, client).error(), SessionError::SessionRevoked);
}

void TestSessionService::aGroupEndsEarlyWhenSomethingUrgentWaits()
{
    // Asked before each rotation after a group's first: with something urgent always waiting,
    // each group is one rotation, committed and answered before the next begins; otherwise
    // one group takes all three and answers them together.
    for (const bool urgent : { false, true }) {
        init();
        QList<TokenPair> pairs { loginAlice(u"one"_s), loginAlice(u"two"_s), loginAlice(u"three"_s) };
        int answered = 0;
        QList<int> answeredWhenAsked;
        m_sessions->setYieldRequested([&] {
            answeredWhenAsked.append(answered);
            return urgent;
        });
        for (const auto &pair : pairs)
            m_sessions->refreshGrouped(pair.refreshToken, client, [&answered](Result<TokenPair, SessionError> result) {
                QVERIFY(result.ok());
                ++answered;
            });
        QTRY_COMPARE(answered, 3);
        const QList<int> expected = urgent ? QList<int> { 0, 1 } : QList<int> { 0, 0 };
        QCOMPARE(answeredWhenAsked, expected);
        cleanup();
    }
    init(); // for the harness's cleanup()
}

void TestSessionService::malformedRefreshTokensAreInvalidGrants_data()
{
    QTest::addColumn<QByteArray>("token");
    QTest::newRow("empty token refused") << QByteArray();
    QTest::newRow("wrong prefix refused") << QByteArray("xyz_") + QByteArray(43, 'A');
    QTest::newRow("well-formed but unknown refused") << QByteArray("ghr_") + QByteArray(43, 'A');
    QTest::newRow("SQL in the token refused") << QByteArray("ghr_' OR '1'='1");
    QTest::newRow("megabyte token refused") << QByteArray(1024 * 1024, 'g');
    QTest::newRow("NUL bytes refused") << QByteArray("ghr_\0\0\0", 7);
    QTest::newRow("an access token is not a refresh token") << QByteArray("eyJhbGciOiJFZERTQSJ9.e30.AAAA");
}

void TestSessionService::malformedRefreshTokensAreInvalidGrants()
{
    QFETCH(QByteArray, token);
    loginAlice();
    QCOMPARE(m_sessions->refresh(token, client).error(), SessionError::InvalidGrant);
    QCOMPARE(m_store->listSessions({}, false).size(), 1); // nothing else was touched
}

void TestSessionService::lifetimesAreEnforced()
{
    auto policy = m_sessions->policy();
    policy.refreshTokenIdleTtl = 3600s;
    policy.sessionIdleTtl = 7200s;
    policy.refreshTokenMaxTtl = 4 * 3600s;
    m_sessions->setPolicy(policy);

    const auto idle = loginAlice(u"idle"_s);
    m_clock.advance(3600s);
    QCOMPARE(m_sessions->refresh(idle.refreshToken, client).error(), SessionError::InvalidGrant);

    m_clock.set(1'900'000'000);
    auto token = loginAlice(u"long"_s).refreshToken;
    for (int step = 1; step <= 4; ++step) {
        m_clock.advance(3000s);
        const auto next = m_sessions->refresh(token, client);
        QVERIFY2(next.ok(), qPrintable(u"step %1"_s.arg(step)));
        token = next->refreshToken;
        // Never beyond the session's absolute limit (4 h = 14400 s after login).
        QCOMPARE(next->refreshExpiresIn, std::min<qint64>(3600, 14400 - step * 3000));
    }
    m_clock.advance(3000s); // 15000 s: past the absolute limit
    QCOMPARE(m_sessions->refresh(token, client).error(), SessionError::InvalidGrant);

    // A session idle for longer than session_idle_ttl ends even while its token would live.
    policy.refreshTokenIdleTtl = 3 * 3600s;
    policy.sessionIdleTtl = 3600s;
    m_sessions->setPolicy(policy);
    const auto quiet = loginAlice(u"quiet"_s);
    m_clock.advance(5400s);
    QCOMPARE(m_sessions->refresh(quiet.refreshToken, client).error(), SessionError::SessionExpired);
    QCOMPARE(m_store->findSession(quiet.sessionId)->revokeReason, u"session_expired"_s);
}

void TestSessionService::rightsAreRecheckedAtRefresh_data()
{
    QTest::addColumn<QString>("change");
    QTest::addColumn<SessionError>("error");
    QTest::addColumn<QString>("reason");
    QTest::newRow("disabled user cannot refresh") << u"disable"_s << SessionError::UserDisabled << u"user_disabled"_s;
    QTest::newRow("changed password ends older sessions")
        << u"password"_s << SessionError::SessionRevoked << u"password_changed"_s;
}

void TestSessionService::rightsAreRecheckedAtRefresh()
{
    QFETCH(QString, change);
    QFETCH(SessionError, error);
    QFETCH(QString, reason);
    const auto pair = loginAlice();
    m_clock.advance(10s);
    if (change == "disable"_L1)
        QVERIFY(m_users->setEnabled(u"alice"_s, false).ok());
    else
        QVERIFY(m_users->setPassword(u"alice"_s, "a brand new password").ok());
    QCOMPARE(m_sessions->refresh(pair.refreshToken, client).error(), error);
    const auto session = m_store->findSession(pair.sessionId);
    QVERIFY(session->isRevoked());
    QCOMPARE(session->revokeReason, reason);
}

void TestSessionService::revocationScopes()
{
    const auto laptop = loginAlice(u"laptop"_s);
    const auto phone = loginAlice(u"phone"_s);
    const auto phone2 = loginAlice(u"phone"_s);
    const auto bob = m_sessions->login(u"bob"_s, "bob's password!", u"desk"_s, client);
    QVERIFY(bob.ok());

    const Revocation first = m_sessions->revokeSession(laptop.sessionId, u"admin:root"_s, u"admin"_s);
    QCOMPARE(first.sessionIds, QStringList { laptop.sessionId });
    QVERIFY(first.saved());
    QVERIFY(m_sessions->revokeSession(laptop.sessionId, u"admin:root"_s, u"admin"_s).sessionIds.isEmpty()); // gone
    const auto phones = m_sessions->revokeUser(u"alice"_s, u"phone"_s, u"admin:root"_s, u"admin"_s).sessionIds;
    QCOMPARE(QSet<QString>(phones.begin(), phones.end()), (QSet<QString> { phone.sessionId, phone2.sessionId }));
    QVERIFY(m_sessions->revokeUser(u"alice"_s, {}, u"admin:root"_s, u"single_logout"_s).sessionIds.isEmpty());
    QVERIFY(!m_store->findSession(bob->sessionId)->isRevoked());
    QCOMPARE(m_sessions->revokeUser(u"bob"_s, {}, u"admin:root"_s, u"single_logout"_s).sessionIds,
             QStringList { bob->sessionId });
    QVERIFY(m_store->listSessions({}, false).isEmpty());
    QCOMPARE(m_store->listSessions(u"alice"_s, true).size(), 3);

    // RFC 7009: revoking a refresh token ends its session; an unknown one is quietly accepted.
    const auto again = loginAlice(u"tablet"_s);
    m_sessions->revokeRefreshToken(QByteArray("ghr_") + QByteArray(43, 'Z'), u"alice"_s, client);
    m_sessions->revokeRefreshToken("garbage", u"alice"_s, client);
    QVERIFY(!m_store->findSession(again.sessionId)->isRevoked());
    m_sessions->revokeRefreshToken(again.refreshToken, u"alice"_s, client);
    QVERIFY(m_store->findSession(again.sessionId)->isRevoked());
    const auto revokedEvent = m_audit->query({ 0, {}, {}, u"session_revoked"_s, 1 }).first();
    QCOMPARE(revokedEvent.sessionId, again.sessionId);
    QCOMPARE(revokedEvent.remoteAddress, client.remoteAddress); // who asked is on record
    QVERIFY(m_audit->verify().ok());
}

void TestSessionService::revocationsTakenAtOnceAreRecordedByWhicheverComesFirst()
{
    // An admin's revocation ends alice's sessions in the guard at once (another thread); before
    // it is recorded here, another revocation of alice comes first. That one records them, and
    // the admin's still reports them as its own: no session is left out of every audit entry.
    const auto laptop = loginAlice(u"laptop"_s);
    const auto phone = loginAlice(u"phone"_s);
    QStringList ended = m_sessions->accessGuard().endSessionsOf(u"ALICE"_s, {});
    ended.sort();
    QStringList both { laptop.sessionId, phone.sessionId };
    both.sort();
    QCOMPARE(ended, both);
    QVERIFY(m_sessions->accessGuard().isRevocationPending(laptop.sessionId));
    QVERIFY(m_sessions->accessGuard().isSessionEnded(laptop.sessionId)); // refused meanwhile

    QStringList first = m_sessions->revokeUser(u"alice"_s, {}, u"system"_s, u"password_changed"_s).sessionIds;
    first.sort();
    QCOMPARE(first, both);
    QVERIFY(!m_sessions->accessGuard().isRevocationPending(laptop.sessionId));
    QStringList admins
        = m_sessions->revokeUser(u"alice"_s, {}, u"admin"_s, u"single_logout"_s, { ended, 0 }).sessionIds;
    admins.sort();
    QCOMPARE(admins, both);
    const auto events = m_audit->query({ 0, {}, {}, u"user_sessions_revoked"_s, 10 });
    QCOMPARE(events.size(), 2);
    for (const auto &event : events)
        QCOMPARE(event.detail.value("sessions"_L1).toArray().size(), 2);

    // One session the same way, recorded by a refresh-token revocation first.
    const auto tablet = loginAlice(u"tablet"_s);
    QVERIFY(m_sessions->accessGuard().endSession(tablet.sessionId));
    QCOMPARE(m_sessions->revokeRefreshToken(tablet.refreshToken, u"alice"_s, client).sessionIds,
             QStringList { tablet.sessionId });
    QCOMPARE(
        m_sessions->revokeSession(tablet.sessionId, u"admin"_s, u"revoked_by_admin"_s, {}, { { tablet.sessionId }, 0 })
            .sessionIds,
        QStringList { tablet.sessionId });
    QVERIFY(m_store->findSession(tablet.sessionId)->isRevoked());
}

void TestSessionService::revokeIssuedBeforeRefusesOlderTokensOnly()
{
    const auto before = loginAlice();
    m_clock.advance(5s);
    m_sessions->revokeIssuedBefore(UserKey::local(u"alice"_s), u"admin:root"_s);
    QCOMPARE(m_sessions->checkAccess(claimsOf(before.accessToken)), SessionError::SessionRevoked);
    QCOMPARE(m_sessions->refresh(before.refreshToken, client).error(), SessionError::SessionRevoked);
    m_clock.advance(1s);
    const auto after = loginAlice();
    QVERIFY(!after.accessToken.isEmpty());
    QVERIFY(!m_sessions->checkAccess(claimsOf(after.accessToken)));
    QVERIFY(m_sessions->refresh(after.refreshToken, client).ok());
}

void TestSessionService::revokedAccessTokenIsRefused()
{
    const auto pair = loginAlice();
    const auto claims = claimsOf(pair.accessToken);
    m_sessions->revokeAccessToken(claims, u"alice"_s, client);
    QCOMPARE(m_sessions->checkAccess(claims), SessionError::SessionRevoked);
    QVERIFY(m_sessions->refresh(pair.refreshToken, client).ok()); // the session itself lives on
    AccessClaims unknownSession = claims;
    unknownSession.jwtId = u"other"_s;
    unknownSession.sessionId = u"s_unknown"_s;
    QCOMPARE(m_sessions->checkAccess(unknownSession), SessionError::SessionRevoked);
}

void TestSessionService::stateSurvivesReopening()
{
    const auto pair = loginAlice();
    const auto rotated = m_sessions->refresh(pair.refreshToken, client);
    QVERIFY(rotated.ok());
    const auto other = loginAlice(u"phone"_s);
    m_sessions->revokeSession(other.sessionId, u"admin:root"_s, u"admin"_s);
    cleanup();
    openAll();
    QCOMPARE(m_sessions->refresh(pair.refreshToken, client).error(), SessionError::RefreshTokenReused);
    QCOMPARE(m_sessions->checkAccess(claimsOf(other.accessToken)), SessionError::SessionRevoked);
    QVERIFY(*m_audit->verify() >= 4);
}

void TestSessionService::policyValidation()
{
    const SessionPolicy defaults;
    const auto applied
        = SessionPolicy::fromJson({ { "access_token_ttl"_L1, 60 }, { "session_idle_ttl"_L1, 600 } }, defaults);
    QVERIFY(applied.ok());
    QCOMPARE(applied->accessTokenTtl, 60s);
    QCOMPARE(applied->refreshTokenMaxTtl, defaults.refreshTokenMaxTtl);
    QCOMPARE(SessionPolicy::fromJson(applied->toJson(), defaults)->toJson(), applied->toJson());
    for (const auto &bad :
         { QJsonObject { { "access_token_ttl"_L1, 0 } }, QJsonObject { { "access_token_ttl"_L1, "60"_L1 } },
           QJsonObject { { "access_token_ttl"_L1, 1.5 } }, QJsonObject { { "acess_token_ttl"_L1, 60 } },
           QJsonObject { { "refresh_token_idle_ttl"_L1, 7200 }, { "refresh_token_max_ttl"_L1, 3600 } },
           QJsonObject { { "session_idle_ttl"_L1, 1e12 } } })
        QVERIFY(!SessionPolicy::fromJson(bad, defaults).ok());
}

void TestSessionService::sweepEndsExpiredAndIdleSessions()
{
    auto policy = m_sessions->policy();
    policy.sessionIdleTtl = 3600s;
    policy.refreshTokenMaxTtl = 3 * 3600s;
    policy.refreshTokenIdleTtl = 3600s;
    m_sessions->setPolicy(policy);
    const auto idle = loginAlice(u"idle"_s);
    auto busy = loginAlice(u"busy"_s);
    QSignalSpy revoked(m_sessions.get(), &SessionService::sessionsRevoked);
    QVERIFY(m_sessions->sweep().isEmpty());
    m_clock.advance(3000s);
    busy = *m_sessions->refresh(busy.refreshToken, client); // activity keeps it alive
    m_clock.advance(700s);
    QCOMPARE(m_sessions->sweep(), QStringList { idle.sessionId });
    QCOMPARE(revoked.count(), 1);
    QCOMPARE(m_store->findSession(idle.sessionId)->revokeReason, u"session_expired"_s);
    QVERIFY(!m_store->findSession(busy.sessionId)->isRevoked());
    for (int i = 0; i < 2; ++i) { // refreshed on time, but the absolute limit still comes
        m_clock.advance(3000s);
        const auto next = m_sessions->refresh(busy.refreshToken, client);
        if (next)
            busy = *next;
    }
    m_clock.advance(3000s);
    QCOMPARE(m_sessions->sweep(), QStringList { busy.sessionId });
    QCOMPARE(m_audit->query({ 0, {}, {}, u"session_expired"_s, 10 }).size(), 2);
}

QTEST_GUILESS_MAIN(TestSessionService)
#include "tst_sessionservice.moc"
