#include "sessions/SessionService.h"

#include "audit/AuditLog.h"
#include "core/Clock.h"
#include "core/RandomToken.h"
#include "identity/PasswordWorkers.h"
#include "identity/UserDirectory.h"
#include "sessions/SessionStore.h"

#include <QCryptographicHash>
#include <QJsonArray>
#include <QLoggingCategory>
#include <QRegularExpression>

using namespace Qt::StringLiterals;

Q_LOGGING_CATEGORY(lcSessions, "gatehouse.sessions")

namespace {
constexpr auto refreshTokenPrefix = "ghr_";
constexpr int refreshTokenBytes = 32;
constexpr qsizetype maximumRefreshTokenLength = 128;
constexpr auto unsavedRetryInterval = std::chrono::seconds(1);

QString refreshTokenHash(const QByteArray &token)
{
    return RandomToken::storedHash(token);
}

bool looksLikeRefreshToken(const QByteArray &token)
{
    static const QRegularExpression pattern(u"^ghr_[A-Za-z0-9_-]{43}$"_s);
    return token.size() <= maximumRefreshTokenLength && pattern.match(QString::fromLatin1(token)).hasMatch();
}

SessionRecord sessionForAudit(const QString &username, const QString &deviceId)
{
    SessionRecord session;
    session.username = username;
    session.deviceId = deviceId;
    return session;
}
} // namespace

QLatin1StringView sessionErrorCode(SessionError error)
{
    switch (error) {
    case SessionError::BadCredentials:
        return "invalid_credentials"_L1;
    case SessionError::UserDisabled:
        return "user_disabled"_L1;
    case SessionError::InvalidDevice:
        return "invalid_device"_L1;
    case SessionError::InvalidGrant:
        return "invalid_grant"_L1;
    case SessionError::RefreshTokenReused:
        return "refresh_token_reused"_L1;
    case SessionError::SessionRevoked:
        return "session_revoked"_L1;
    case SessionError::SessionExpired:
        return "session_expired"_L1;
    case SessionError::NoSigningKey:
        return "no_signing_key"_L1;
    case SessionError::Busy:
        return "server_busy"_L1;
    case SessionError::StorageFailed:
        return "storage_failed"_L1;
    }
    return "unknown"_L1;
}

SessionService::SessionService(SessionStore &store, UserDirectory &users, AuditLog &audit, const Clock &clock,
                               Minter minter, SessionPolicy policy, QObject *parent)
    : QObject(parent)
    , m_store(store)
    , m_users(users)
    , m_audit(audit)
    , m_clock(clock)
    , m_minter(std::move(minter))
    , m_policy(policy)
    , m_retryUnsaved(this)
{
    m_retryUnsaved.setInterval(unsavedRetryInterval);
    connect(&m_retryUnsaved, &QTimer::timeout, this, &SessionService::retryUnsaved);
    QHash<QString, AccessGuard::SessionState> sessions;
    for (const auto &session : m_store.listSessions({}, true))
        sessions.insert(session.id,
                        { session.absoluteExpiresAt, session.isRevoked(), session.username, session.deviceId });
    m_guard.reset(std::move(sessions), m_store.revokedAccessTokens(), m_store.revocationCutoffs());
}

AccessGuard::SessionLoader SessionService::loaderFor(const SessionStore &store)
{
    return [&store](const QString &sessionId) -> std::optional<AccessGuard::SessionState> {
        const auto session = store.findSession(sessionId);
        if (!session)
            return std::nullopt;
        return AccessGuard::SessionState { session->absoluteExpiresAt, session->isRevoked(), session->username,
                                           session->deviceId };
    };
}

void SessionService::announceRevoked(const QStringList &sessionIds, const QString &reason)
{
    m_guard.sessionsEnded(sessionIds);
    Q_EMIT sessionsRevoked(sessionIds, reason);
}

bool SessionService::isValidDeviceId(const QString &deviceId)
{
    // Printable, no control characters, short enough for a table cell and a log line.
    static const QRegularExpression pattern(u"^[\\p{L}\\p{N}\\p{P}\\p{S} ]{1,64}$"_s);
    return pattern.match(deviceId).hasMatch() && deviceId.trimmed() == deviceId;
}

void SessionService::audit(const QString &type, const QString &actor, const SessionRecord &session,
                           const ClientContext &client, const QJsonObject &detail)
{
    if (const auto failure = auditOrCause(type, actor, session, client, detail))
        qCWarning(lcSessions).noquote() << "audit append failed:" << *failure;
}

std::optional<QString> SessionService::auditOrCause(const QString &type, const QString &actor,
                                                    const SessionRecord &session, const ClientContext &client,
                                                    const QJsonObject &detail)
{
    AuditEvent event;
    event.type = type;
    event.actor = actor;
    event.username = session.username;
    event.deviceId = session.deviceId;
    event.sessionId = session.id;
    event.remoteAddress = client.remoteAddress;
    event.detail = detail;
    if (const auto appended = m_audit.append(event); !appended)
        return appended.error();
    return std::nullopt;
}

Result<TokenPair, SessionError> SessionService::login(const QString &username, QByteArrayView password,
                                                      const QString &deviceId, const ClientContext &client,
                                                      const SessionOrigin &origin)
{
    if (!isValidDeviceId(deviceId))
        return fail(SessionError::InvalidDevice);
    return finishLogin(username, m_users.authenticate(username, password), deviceId, client, origin);
}

void SessionService::loginAsync(const QString &username, const QByteArray &password, const QString &deviceId,
                                const ClientContext &client, const SessionOrigin &origin, LoginDone done)
{
    if (!isValidDeviceId(deviceId))
        return done(fail(SessionError::InvalidDevice));
    const bool queued = checkPassword(
        username, password, [this, username, deviceId, client, origin, done](const Result<User, UserError> &user) {
            done(finishLogin(username, user, deviceId, client, origin));
        });
    if (!queued)
        done(fail(SessionError::Busy));
}

bool SessionService::checkPassword(const QString &username, const QByteArray &password, PasswordChecked checked)
{
    if (!m_passwordWorkers || password.size() > UserDirectory::maximumPasswordLength) {
        checked(m_users.authenticate(username, password));
        return true;
    }
    const UserDirectory::PasswordRecord record = m_users.passwordRecord(username);
    return m_passwordWorkers->verify(password, record.hash, this, [this, username, record, checked](bool matches) {
        // The user may have changed while the hash was checked: a new password or a disabled
        // account since then counts, as if it had been checked here.
        const UserDirectory::PasswordRecord now = m_users.passwordRecord(username);
        if (!matches || !record.user || !now.user || now.hash != record.hash)
            return checked(fail(UserError::BadCredentials));
        if (!now.user->enabled)
            return checked(fail(UserError::Disabled));
        checked(*now.user);
    });
}

Result<TokenPair, SessionError> SessionService::finishLogin(const QString &username,
                                                            const Result<User, UserError> &checked,
                                                            const QString &deviceId, const ClientContext &client,
                                                            const SessionOrigin &origin)
{
    if (!checked) {
        const bool disabled = checked.error() == UserError::Disabled;
        // The name as typed is recorded, but only if it could be a username (no log injection).
        const QString recorded = UserDirectory::isValidUsername(username) ? username : u"(invalid)"_s;
        audit(u"login_failed"_s, recorded, sessionForAudit(recorded, deviceId), client,
              { { "reason"_L1, disabled ? "user_disabled"_L1 : "invalid_credentials"_L1 } });
        Q_EMIT loginAttempted(false);
        return fail(disabled ? SessionError::UserDisabled : SessionError::BadCredentials);
    }
    Q_EMIT loginAttempted(true);
    return openSession(*checked, deviceId, client, m_policy.accessTokenTtl, u"login_succeeded"_s, checked->username,
                       origin);
}

Result<User, SessionError> SessionService::enabledUser(const QString &username, const QString &deviceId) const
{
    if (!isValidDeviceId(deviceId))
        return fail(SessionError::InvalidDevice);
    auto user = m_users.find(username);
    if (!user)
        return fail(SessionError::BadCredentials);
    if (!user->enabled)
        return fail(SessionError::UserDisabled);
    return std::move(*user);
}

Result<TokenPair, SessionError> SessionService::openForCode(const QString &username, qint64 authenticatedAt,
                                                            const QString &deviceId, const ClientContext &client,
                                                            const SessionOrigin &origin)
{
    const auto user = enabledUser(username, deviceId);
    if (!user)
        return fail(user.error());
    if (user->passwordChangedAt > authenticatedAt
        || m_store.tokensRevokedBefore(UserKey::local(user->username)) >= authenticatedAt)
        return fail(SessionError::SessionRevoked);
    return openSession(*user, deviceId, client, m_policy.accessTokenTtl, u"code_exchanged"_s, user->username, origin);
}

Result<TokenPair, SessionError> SessionService::openTrustedSession(const QString &username, const QString &deviceId,
                                                                   std::chrono::seconds accessLifetime,
                                                                   const QString &actor)
{
    const auto user = enabledUser(username, deviceId);
    if (!user)
        return fail(user.error());
    return openSession(*user, deviceId, {}, accessLifetime, u"session_opened_by_admin"_s, actor);
}

Result<TokenPair, SessionError> SessionService::openSession(const User &user, const QString &deviceId,
                                                            const ClientContext &client,
                                                            std::chrono::seconds accessLifetime,
                                                            const QString &auditType, const QString &actor,
                                                            const SessionOrigin &origin)
{
    const qint64 now = m_clock.nowSeconds();
    SessionRecord session;
    session.id = u"s_"_s + RandomToken::generate(16);
    session.username = user.username;
    session.deviceId = deviceId;
    session.userAgent = client.userAgent.left(256);
    session.remoteAddress = client.remoteAddress;
    session.createdAt = now;
    session.lastRefreshAt = now;
    session.absoluteExpiresAt = now + m_policy.refreshTokenMaxTtl.count();
    session.accessExpiresAt = now + accessLifetime.count();
    session.loginId = origin.loginId;
    session.clientId = origin.clientId;

    const QByteArray refreshToken = refreshTokenPrefix + RandomToken::generate(refreshTokenBytes).toLatin1();
    const qint64 refreshExpiresAt = std::min(now + m_policy.refreshTokenIdleTtl.count(), session.absoluteExpiresAt);
    const RefreshTokenRecord first { refreshTokenHash(refreshToken), session.id, 1, now, refreshExpiresAt, 0 };
    if (!m_store.createSession(session, first))
        return fail(SessionError::StorageFailed);
    auto pair = issuePair(session, user.roles, refreshToken, refreshExpiresAt, accessLifetime);
    if (!pair)
        return pair;
    m_guard.sessionOpened(session.id, { session.absoluteExpiresAt, false, session.username, session.deviceId });
    QJsonObject detail { { "user_agent"_L1, session.userAgent } };
    if (!origin.clientId.isEmpty())
        detail.insert("client_id"_L1, origin.clientId);
    audit(auditType, actor, session, client, detail);
    Q_EMIT sessionOpened(session);
    return pair;
}

Result<TokenPair, SessionError> SessionService::issuePair(const SessionRecord &session, const QStringList &roles,
                                                          const QByteArray &refreshToken, qint64 refreshExpiresAt,
                                                          std::chrono::seconds accessLifetime)
{
    const auto access = m_minter(
        AccessTokenRequest { session.username, session.id, session.deviceId, roles, accessLifetime, session.clientId });
    if (!access || access->token.isEmpty())
        return fail(SessionError::NoSigningKey);
    return TokenPair { access->token, access->expiresAt - access->issuedAt, refreshToken,
                       refreshExpiresAt - m_clock.nowSeconds(), session.id };
}

Result<TokenPair, SessionError> SessionService::refuseRefresh(const SessionRecord &session, SessionError error,
                                                              const QString &reason, const ClientContext &client)
{
    const auto revoked = m_store.revokeSession(session.id, m_clock.nowSeconds(), reason);
    audit(u"refresh_refused"_s, session.username, session, client, { { "reason"_L1, reason } });
    if (revoked && !revoked->isEmpty()) {
        audit(u"session_revoked"_s, u"system"_s, session, client, { { "reason"_L1, reason } });
        announceRevoked(*revoked, reason);
    }
    return fail(error);
}

std::variant<Result<TokenPair, SessionError>, SessionService::Rotation>
SessionService::prepareRefresh(const QByteArray &refreshToken, const ClientContext &client)
{
    using Answer = Result<TokenPair, SessionError>;
    if (!looksLikeRefreshToken(refreshToken))
        return Answer(fail(SessionError::InvalidGrant));
    const QString hash = refreshTokenHash(refreshToken);
    const auto record = m_store.findRefreshToken(hash);
    if (!record)
        return Answer(fail(SessionError::InvalidGrant));
    const auto session = m_store.findSession(record->sessionId);
    if (!session)
        return Answer(fail(SessionError::InvalidGrant));
    // Revoked on disk, or in force here and not saved yet: either way, no new tokens.
    if (session->isRevoked() || m_guard.isSessionEnded(session->id))
        return Answer(fail(SessionError::SessionRevoked));

    const qint64 now = m_clock.nowSeconds();
    if (record->usedAt != 0)
        return refreshTokenReuse(*session, *record, client);
    if (now >= record->expiresAt)
        return Answer(fail(SessionError::InvalidGrant));
    if (now >= session->absoluteExpiresAt || now - session->lastRefreshAt >= m_policy.sessionIdleTtl.count())
        return refuseRefresh(*session, SessionError::SessionExpired, u"session_expired"_s, client);

    // Rights are re-checked at every refresh: the user must still exist and be enabled, with
    // the password the session was opened with, and the token must not predate a cut-off.
    const auto user = m_users.find(session->username);
    if (!user)
        return refuseRefresh(*session, SessionError::SessionRevoked, u"user_removed"_s, client);
    if (!user->enabled)
        return refuseRefresh(*session, SessionError::UserDisabled, u"user_disabled"_s, client);
    if (user->passwordChangedAt > session->createdAt)
        return refuseRefresh(*session, SessionError::SessionRevoked, u"password_changed"_s, client);
    const UserKey key = UserKey::local(session->username);
    if (record->issuedAt <= std::max(m_store.tokensRevokedBefore(key), m_guard.cutoff(key)))
        return refuseRefresh(*session, SessionError::SessionRevoked, u"revoked_before"_s, client);

    Rotation rotation;
    rotation.usedHash = hash;
    rotation.used = *record;
    rotation.session = *session;
    rotation.roles = user->roles;
    rotation.client = client;
    rotation.now = now;
    rotation.nextToken = refreshTokenPrefix + RandomToken::generate(refreshTokenBytes).toLatin1();
    rotation.next
        = RefreshTokenRecord { refreshTokenHash(rotation.nextToken),
                               session->id,
                               record->generation + 1,
                               now,
                               std::min(now + m_policy.refreshTokenIdleTtl.count(), session->absoluteExpiresAt),
                               0 };
    return rotation;
}

Result<TokenPair, SessionError> SessionService::refreshTokenReuse(const SessionRecord &session,
                                                                  const RefreshTokenRecord &record,
                                                                  const ClientContext &client)
{
    qCWarning(lcSessions).noquote() << "refresh token reuse in session" << session.id << "- revoking it";
    announceRevoked({ session.id }, u"refresh_token_reused"_s);
    m_store.revokeSession(session.id, m_clock.nowSeconds(), u"refresh_token_reused"_s);
    audit(u"refresh_token_reused"_s, session.username, session, client, { { "generation"_L1, record.generation } });
    Q_EMIT refreshTokenReused(session.id, session.username);
    return fail(SessionError::RefreshTokenReused);
}

Result<bool, StoreError> SessionService::storeRotation(const Rotation &rotation)
{
    // Between the check and this write, a revocation may have come (in a group, the check
    // was a moment ago): it is in the guard at once, before it reaches the store.
    const UserKey key = UserKey::local(rotation.session.username);
    if (m_guard.isSessionEnded(rotation.session.id) || rotation.used.issuedAt <= m_guard.cutoff(key))
        return fail(StoreError::NotFound);
    const auto rotated = m_store.rotateRefreshToken(rotation.usedHash, rotation.now, rotation.next,
                                                    rotation.now + m_policy.accessTokenTtl.count());
    if (rotated)
        audit(u"token_refreshed"_s, rotation.session.username, rotation.session, rotation.client,
              { { "generation"_L1, rotation.next.generation } });
    return rotated;
}

Result<TokenPair, SessionError> SessionService::finishRotation(const Rotation &rotation,
                                                               const Result<bool, StoreError> &stored)
{
    if (!stored && stored.error() == StoreError::NotFound)
        return fail(SessionError::SessionRevoked);
    if (!stored && stored.error() == StoreError::Conflict)
        return refreshTokenReuse(rotation.session, rotation.used, rotation.client); // the other one was first
    if (!stored)
        return fail(SessionError::StorageFailed);
    auto pair = issuePair(rotation.session, rotation.roles, rotation.nextToken, rotation.next.expiresAt,
                          m_policy.accessTokenTtl);
    if (pair)
        Q_EMIT tokenRefreshed(rotation.session.id, rotation.now + pair->accessExpiresIn);
    return pair;
}

Result<TokenPair, SessionError> SessionService::refresh(const QByteArray &refreshToken, const ClientContext &client)
{
    auto prepared = prepareRefresh(refreshToken, client);
    if (auto *answer = std::get_if<Result<TokenPair, SessionError>>(&prepared))
        return std::move(*answer);
    const auto &rotation = std::get<Rotation>(prepared);
    return finishRotation(rotation, storeRotation(rotation));
}

void SessionService::refreshGrouped(const QByteArray &refreshToken, const ClientContext &client, RefreshDone done)
{
    auto prepared = prepareRefresh(refreshToken, client);
    if (auto *answer = std::get_if<Result<TokenPair, SessionError>>(&prepared))
        return done(std::move(*answer));
    auto &rotation = std::get<Rotation>(prepared);
    rotation.done = std::move(done);
    m_pendingRotations.append(std::move(rotation));
    // Queued behind the requests already waiting: those that are refreshes join this group.
    if (!std::exchange(m_rotationsScheduled, true))
        QMetaObject::invokeMethod(this, &SessionService::storePendingRotations, Qt::QueuedConnection);
}

void SessionService::storePendingRotations()
{
    m_rotationsScheduled = false;
    if (m_pendingRotations.isEmpty())
        return;
    // One commit, so one sync of the log, for the whole group (each rotation and its audit
    // entry). Nothing is answered before the group is durable; if it is not, none of it is.
    // The group is bounded, and ends early when a revocation waits: it holds this thread
    // until its last answer. The rest wait for the next group, behind what came meanwhile.
    constexpr qsizetype maximumGroup = 32;
    QString why;
    const bool grouped = m_store.beginGroup(&why);
    QList<Result<bool, StoreError>> stored;
    while (stored.size() < std::min(maximumGroup, m_pendingRotations.size())
           && (stored.isEmpty() || !m_yieldRequested || !m_yieldRequested())) {
        const Rotation &rotation = m_pendingRotations.at(stored.size());
        stored.append(grouped ? storeRotation(rotation) : Result<bool, StoreError>(fail(StoreError::Failed)));
    }
    const QList<Rotation> rotations = m_pendingRotations.first(stored.size());
    m_pendingRotations.remove(0, stored.size());
    if (!m_pendingRotations.isEmpty() && !std::exchange(m_rotationsScheduled, true))
        QMetaObject::invokeMethod(this, &SessionService::storePendingRotations, Qt::QueuedConnection);
    if (!grouped || !m_store.commitGroup(&why)) {
        qCWarning(lcSessions).noquote() << "cannot store" << rotations.size() << "refresh-token rotations:" << why;
        for (auto &outcome : stored) {
            if (outcome)
                outcome = fail(StoreError::Failed);
        }
    }
    for (qsizetype i = 0; i < rotations.size(); ++i)
        rotations[i].done(finishRotation(rotations[i], stored[i]));
}

Revocation SessionService::revokeRefreshToken(const QByteArray &refreshToken, const QString &actor,
                                              const ClientContext &client)
{
    if (!looksLikeRefreshToken(refreshToken))
        return {};
    const auto record = m_store.findRefreshToken(refreshTokenHash(refreshToken));
    if (!record)
        return {};
    // RFC 7009 §2.1: revoking a refresh token ends its whole grant, here the session.
    return revokeSession(record->sessionId, actor, u"refresh_token_revoked"_s, client);
}

Revocation SessionService::revokeAccessToken(const AccessClaims &claims, const QString &actor,
                                             const ClientContext &client)
{
    if (claims.jwtId.isEmpty() || m_store.isAccessTokenRevoked(claims.jwtId))
        return {};
    m_guard.accessTokenRevoked(claims.jwtId, claims.expiresAt);
    SessionRecord session = sessionForAudit(claims.subject, claims.deviceId);
    session.id = claims.sessionId;
    const QString unsaved = saveOrRetry(
        [this, claims, actor, session, client, stored = false]() mutable -> std::optional<QString> {
            if (!stored && !(stored = m_store.revokeAccessToken(claims.jwtId, claims.expiresAt).ok()))
                return m_store.errorString();
            return auditOrCause(u"access_token_revoked"_s, actor, session, client, { { "jti"_L1, claims.jwtId } });
        },
        u"the revocation of access token %1"_s.arg(claims.jwtId));
    return { {}, unsaved };
}

// Revocations take effect first where they are felt (the guard refuses the tokens, the
// connections close), then become durable (the store, then the audit log), and only then does
// the caller learn of them: a crash in between loses an acknowledgement, never a revocation
// that was acknowledged. One the store cannot take is kept in force and saved again until it
// is, and the caller hears why it is not saved (Revocation::unsaved).
Revocation SessionService::revokeSession(const QString &sessionId, const QString &actor, const QString &reason,
                                         const ClientContext &client, const EndedAtOnce &atOnce)
{
    const auto session = m_store.findSession(sessionId);
    const bool endedAtOnce = atOnce.sessionIds.contains(sessionId);
    if (!session)
        return {};
    if (session->isRevoked()) // by another revocation since it took effect: that one recorded it
        return endedAtOnce ? Revocation { { sessionId }, {} } : Revocation {};
    if (m_guard.isSessionEnded(sessionId) && !m_guard.isRevocationPending(sessionId) && !endedAtOnce)
        return {}; // revoked here already, and being saved again
    announceRevoked({ sessionId }, reason);
    const qint64 at = m_clock.nowSeconds();
    const QString unsaved = saveOrRetry(
        [this, sessionId, at, reason, actor, record = *session, client,
         stored = false]() mutable -> std::optional<QString> {
            if (!stored && !(stored = m_store.revokeSession(sessionId, at, reason).ok()))
                return m_store.errorString();
            return auditOrCause(u"session_revoked"_s, actor, record, client, { { "reason"_L1, reason } });
        },
        u"the revocation of session %1"_s.arg(sessionId));
    return { { sessionId }, unsaved };
}

Revocation SessionService::revokeUser(const QString &username, const QString &deviceId, const QString &actor,
                                      const QString &reason, const EndedAtOnce &atOnce)
{
    // Ended in the guard already: by an admin's action that took effect at once (this one's,
    // atOnce, or another's not recorded yet: whichever revocation comes first records it), or
    // by an earlier revocation being saved again (which keeps its own audit entry).
    QStringList live;
    for (const auto &session : m_store.listSessions(username, false)) {
        if ((deviceId.isEmpty() || session.deviceId == deviceId)
            && (!m_guard.isSessionEnded(session.id) || m_guard.isRevocationPending(session.id)
                || atOnce.sessionIds.contains(session.id)))
            live.append(session.id);
    }
    // What this one ended at once and another revocation recorded meanwhile is still its own.
    for (const auto &id : atOnce.sessionIds) {
        if (!live.contains(id))
            live.append(id);
    }
    if (!live.isEmpty())
        announceRevoked(live, reason);
    const qint64 at = m_clock.nowSeconds();
    const QString unsaved = saveOrRetry(
        [this, username, deviceId, at, reason, actor, live, stored = false]() mutable -> std::optional<QString> {
            if (!stored && !(stored = m_store.revokeUserSessions(username, deviceId, at, reason).ok()))
                return m_store.errorString();
            return auditOrCause(u"user_sessions_revoked"_s, actor, sessionForAudit(username, deviceId), {},
                                { { "reason"_L1, reason }, { "sessions"_L1, QJsonArray::fromStringList(live) } });
        },
        u"the revocation of %1's sessions"_s.arg(username));
    return { live, unsaved };
}

Revocation SessionService::revokeIssuedBefore(const UserKey &user, const QString &actor, const EndedAtOnce &atOnce)
{
    // The cut-off the guard took at once, if it did: tokens issued since are not this one's.
    const qint64 now = atOnce.cutoffAt != 0 ? atOnce.cutoffAt : m_clock.nowSeconds();
    m_guard.revokedBefore(user, now);
    Q_EMIT tokensRevokedBefore(user);
    const QString unsaved = saveOrRetry(
        [this, user, now, actor, stored = false]() mutable -> std::optional<QString> {
            if (!stored && !(stored = m_store.revokeTokensIssuedBefore(user, now).ok()))
                return m_store.errorString();
            return auditOrCause(u"tokens_revoked_before"_s, actor, sessionForAudit(user.toString(), {}), {},
                                { { "before"_L1, now } });
        },
        u"the cut-off for %1"_s.arg(user.displayName()));
    if (!user.isLocal())
        return { {}, unsaved }; // an external issuer's user has no sessions here
    Revocation sessions = revokeUser(user.subject, {}, actor, u"revoked_before"_s, atOnce);
    if (sessions.unsaved.isEmpty())
        sessions.unsaved = unsaved;
    return sessions;
}

QString SessionService::saveOrRetry(Save save, const QString &what)
{
    const auto failure = save();
    if (!failure)
        return {};
    qCWarning(lcSessions).noquote() << "cannot save" << what << "-" << *failure
                                    << "- it is in force and will be saved again";
    m_unsaved.append({ std::move(save), what });
    if (!m_retryUnsaved.isActive())
        m_retryUnsaved.start();
    return *failure;
}

void SessionService::retryUnsaved()
{
    // In order, each until it is saved: the oldest first, so that the log keeps their order.
    while (!m_unsaved.isEmpty()) {
        if (const auto failure = m_unsaved.first().first())
            return;
        qCInfo(lcSessions).noquote() << "saved" << m_unsaved.first().second << "at last";
        m_unsaved.removeFirst();
    }
    m_retryUnsaved.stop();
}

bool SessionService::hasUnsavedRevocations() const
{
    return !m_unsaved.isEmpty();
}

std::optional<SessionError> SessionService::checkAccess(const AccessClaims &claims) const
{
    return m_guard.check(claims, m_clock.nowSeconds(), loaderFor(m_store));
}

QList<SessionRecord> SessionService::listSessions(const QString &username) const
{
    return m_store.listSessions(username, true);
}

std::optional<std::pair<SessionRecord, RefreshTokenRecord>>
SessionService::liveRefreshToken(const QByteArray &refreshToken) const
{
    if (!looksLikeRefreshToken(refreshToken))
        return std::nullopt;
    const auto record = m_store.findRefreshToken(refreshTokenHash(refreshToken));
    const qint64 now = m_clock.nowSeconds();
    if (!record || record->usedAt != 0 || now >= record->expiresAt)
        return std::nullopt;
    const auto session = m_store.findSession(record->sessionId);
    if (!session || session->isRevoked() || now >= session->absoluteExpiresAt)
        return std::nullopt;
    return std::pair { *session, *record };
}

qint64 SessionService::activeSessionCount() const
{
    return m_store.countActiveSessions(m_clock.nowSeconds());
}

QStringList SessionService::sweep()
{
    const qint64 now = m_clock.nowSeconds();
    const auto expired = m_store.expireSessions(now, m_policy.sessionIdleTtl.count());
    m_store.purgeExpired(now);
    m_guard.purge(now);
    if (!expired || expired->isEmpty())
        return {};
    for (const auto &sessionId : *expired) {
        if (const auto session = m_store.findSession(sessionId))
            audit(u"session_expired"_s, u"system"_s, *session, {}, {});
    }
    announceRevoked(*expired, u"session_expired"_s);
    return *expired;
}
