#pragma once

#include "Result.h"
#include "SessionPolicy.h"
#include "SessionRecord.h"
#include "User.h"
#include "auth/AccessClaims.h"
#include "auth/TokenIssuer.h"
#include "sessions/AccessGuard.h"
#include "sessions/RefreshTokenRecord.h"
#include "sessions/SessionError.h"
#include "sessions/SessionStore.h"

#include <QObject>
#include <QTimer>

#include <functional>
#include <optional>
#include <variant>

class AuditLog;
class Clock;
class PasswordWorkers;
enum class UserError;
class SessionStore;
class UserDirectory;

/// Where the request came from, for the audit log and the session record.
struct ClientContext {
    QString remoteAddress;
    QString userAgent;
};

/// What a session was opened under: the single login (SLI) of the browser and the OIDC client
/// it serves. Both empty for the API's own logins.
struct SessionOrigin {
    QString loginId;
    QString clientId;
};

struct TokenPair {
    QByteArray accessToken;
    qint64 accessExpiresIn = 0;
    QByteArray refreshToken;
    qint64 refreshExpiresIn = 0;
    QString sessionId;
};

/// What a revocation did: the sessions it ended, and whether that is on disk. A revocation the
/// store could not save is in force all the same (the guard refuses its tokens, its
/// connections are closed) and is saved again every second until it is; `unsaved` says why
/// it is not saved yet, and the caller must not acknowledge it as done.
struct Revocation {
    QStringList sessionIds;
    QString unsaved; ///< the cause ("the disk is full"); empty once saved

    bool saved() const { return unsaved.isEmpty(); }
};

/// What an admin's revocation already did through the guard on the thread that received it
/// (it takes effect there, before it reaches the service's thread): the sessions it ended
/// (AccessGuard::endSessionsOf) and the time of its cut-off, if it set one. The service makes
/// exactly that durable and audited.
struct EndedAtOnce {
    QStringList sessionIds;
    qint64 cutoffAt = 0;
};

/// Logins, refresh-token rotation with reuse detection, and revocation, with every outcome
/// in the audit log. Lives on the server thread; the store and audit log are durable before a
/// call returns, so a client is only told what is on disk.
class SessionService final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SessionService)

public:
    /// Mints with the current signing key, or nothing when there is none.
    using Minter = std::function<std::optional<IssuedToken>(const AccessTokenRequest &)>;

    SessionService(SessionStore &store, UserDirectory &users, AuditLog &audit, const Clock &clock, Minter minter,
                   SessionPolicy policy, QObject *parent = nullptr);

    Result<TokenPair, SessionError> login(const QString &username, QByteArrayView password, const QString &deviceId,
                                          const ClientContext &client, const SessionOrigin &origin = {});
    using LoginDone = std::function<void(Result<TokenPair, SessionError>)>;
    /// The same login, with the password checked on the worker pool (setPasswordWorkers), so
    /// that this thread goes on serving meanwhile; `done` runs on this thread. A full queue
    /// is SessionError::Busy at once. Without workers it is login(), done at once.
    void loginAsync(const QString &username, const QByteArray &password, const QString &deviceId,
                    const ClientContext &client, const SessionOrigin &origin, LoginDone done);
    void setPasswordWorkers(PasswordWorkers *workers) { m_passwordWorkers = workers; }
    /// Asked between the steps of long work on this thread (a group of rotations): true when
    /// something urgent (a revocation) waits, and the work should stop early and let it run.
    void setYieldRequested(std::function<bool()> yieldRequested) { m_yieldRequested = std::move(yieldRequested); }
    using PasswordChecked = std::function<void(Result<User, UserError>)>;
    /// Checks a user's password on the worker pool; `checked` runs on this thread with the user
    /// as it is then (a password changed or an account disabled meanwhile counts). False, with
    /// nothing called, when the pool's queue is full. Without workers it checks at once.
    bool checkPassword(const QString &username, const QByteArray &password, PasswordChecked checked);
    /// The authorization code flow: the user authenticated earlier (the single login `origin`
    /// names), and must still exist, be enabled and not have changed the password since
    /// `authenticatedAt`.
    Result<TokenPair, SessionError> openForCode(const QString &username, qint64 authenticatedAt,
                                                const QString &deviceId, const ClientContext &client,
                                                const SessionOrigin &origin);
    /// For administrators (the CLI's `token mint`): opens a session for an existing, enabled
    /// user without a password, with an access token of the given lifetime.
    Result<TokenPair, SessionError> openTrustedSession(const QString &username, const QString &deviceId,
                                                       std::chrono::seconds accessLifetime, const QString &actor);
    Result<TokenPair, SessionError> refresh(const QByteArray &refreshToken, const ClientContext &client);
    using RefreshDone = std::function<void(Result<TokenPair, SessionError>)>;
    /// The same refresh, with its rotation stored in a group: the rotations of the requests
    /// already waiting on this thread are committed together (one sync for all), after them.
    /// `done` runs on this thread once the rotation is durable (or at once, for a refusal).
    /// The HTTP token endpoints use it, so that a burst of refreshes does not hold this thread
    /// (and the revocations it serves) in a sync per refresh.
    void refreshGrouped(const QByteArray &refreshToken, const ClientContext &client, RefreshDone done);

    /// RFC 7009 §2.2: revoking an unknown or invalid token is not an error.
    Revocation revokeRefreshToken(const QByteArray &refreshToken, const QString &actor, const ClientContext &client);
    Revocation revokeAccessToken(const AccessClaims &claims, const QString &actor, const ClientContext &client);
    /// `atOnce`, in these three: what the same revocation already did through the guard.
    Revocation revokeSession(const QString &sessionId, const QString &actor, const QString &reason,
                             const ClientContext &client = {}, const EndedAtOnce &atOnce = {});
    /// Single logout: every session of the user, or of one of the user's devices.
    Revocation revokeUser(const QString &username, const QString &deviceId, const QString &actor, const QString &reason,
                          const EndedAtOnce &atOnce = {});
    /// Every token of the user issued up to now is refused: sessions end, access tokens die.
    /// An external issuer's user has no sessions here; its tokens are refused all the same.
    Revocation revokeIssuedBefore(const UserKey &user, const QString &actor, const EndedAtOnce &atOnce = {});
    /// Whether revocations are in force that the store has not taken yet (retried each second).
    bool hasUnsavedRevocations() const;

    /// RFC 7662: the session and token record behind a refresh token, if it is still usable.
    std::optional<std::pair<SessionRecord, RefreshTokenRecord>> liveRefreshToken(const QByteArray &refreshToken) const;
    qint64 activeSessionCount() const;

    /// The periodic sweep: ends sessions past their absolute or idle limit (their connections
    /// close through sessionsRevoked) and purges rows that can no longer matter.
    QStringList sweep();

    /// Sessions of one user (all users when empty), newest first, revoked ones included.
    QList<SessionRecord> listSessions(const QString &username) const;

    /// Whether a verified access token is still honoured (session alive, not revoked).
    std::optional<SessionError> checkAccess(const AccessClaims &claims) const;
    /// The same answer, from memory and for any thread: the hot path of every handshake.
    const AccessGuard &accessGuard() const { return m_guard; }
    /// For any thread: an admin's revocation ends sessions and cut-offs here at once, then
    /// follows on this thread with the same revocation, given what it did (EndedAtOnce).
    AccessGuard &accessGuard() { return m_guard; }
    /// Reads one session's state from the store, for the guard's misses on this thread.
    static AccessGuard::SessionLoader loaderFor(const SessionStore &store);

    SessionPolicy policy() const { return m_policy; }
    void setPolicy(const SessionPolicy &policy) { m_policy = policy; }

    static bool isValidDeviceId(const QString &deviceId);

Q_SIGNALS:
    void sessionOpened(const SessionRecord &session);
    void sessionsRevoked(const QStringList &sessionIds, const QString &reason);
    /// Every token of the user (ours, or one external issuer's) issued up to now is dead:
    /// every live connection of that user goes.
    void tokensRevokedBefore(const UserKey &user);
    void refreshTokenReused(const QString &sessionId, const QString &username);
    void loginAttempted(bool succeeded);
    /// A session's refresh token was rotated; its new access token expires at `accessExpiresAt`.
    void tokenRefreshed(const QString &sessionId, qint64 accessExpiresAt);

private:
    /// A refresh that passed every check, its rotation not stored yet.
    struct Rotation {
        QString usedHash;
        RefreshTokenRecord used;
        RefreshTokenRecord next;
        QByteArray nextToken;
        SessionRecord session;
        QStringList roles;
        ClientContext client;
        qint64 now = 0;
        RefreshDone done; ///< refreshGrouped's
    };
    /// The checks of a refresh: the answer when it is refused, else the rotation to store.
    std::variant<Result<TokenPair, SessionError>, Rotation> prepareRefresh(const QByteArray &refreshToken,
                                                                           const ClientContext &client);
    /// Stores the rotation and its audit entry (in the open group, if any). NotFound: the
    /// session was revoked since the checks; Conflict: another request rotated the token first.
    Result<bool, StoreError> storeRotation(const Rotation &rotation);
    /// Once stored (durably): the new tokens, or the refusal.
    Result<TokenPair, SessionError> finishRotation(const Rotation &rotation, const Result<bool, StoreError> &stored);
    void storePendingRotations();
    /// A used refresh token came back: the session is revoked (RFC 9700 §4.14.2).
    Result<TokenPair, SessionError> refreshTokenReuse(const SessionRecord &session, const RefreshTokenRecord &record,
                                                      const ClientContext &client);
    /// After the password check: the audit of a failure, or the new session.
    Result<TokenPair, SessionError> finishLogin(const QString &username, const Result<User, UserError> &checked,
                                                const QString &deviceId, const ClientContext &client,
                                                const SessionOrigin &origin);
    /// An existing, enabled user, for a session on a valid device.
    Result<User, SessionError> enabledUser(const QString &username, const QString &deviceId) const;
    Result<TokenPair, SessionError> openSession(const User &user, const QString &deviceId, const ClientContext &client,
                                                std::chrono::seconds accessLifetime, const QString &auditType,
                                                const QString &actor, const SessionOrigin &origin = {});
    Result<TokenPair, SessionError> issuePair(const SessionRecord &session, const QStringList &roles,
                                              const QByteArray &refreshToken, qint64 refreshExpiresAt,
                                              std::chrono::seconds accessLifetime);
    Result<TokenPair, SessionError> refuseRefresh(const SessionRecord &session, SessionError error,
                                                  const QString &reason, const ClientContext &client);
    /// Every revocation goes out through here: the guard first, then the signal that closes
    /// the connections.
    void announceRevoked(const QStringList &sessionIds, const QString &reason);
    /// Runs `save` (store, then audit); if it fails, keeps it to run again every second until
    /// it succeeds, and says why it failed. `save` returns the cause of a failure, or nothing.
    using Save = std::function<std::optional<QString>()>;
    QString saveOrRetry(Save save, const QString &what);
    void retryUnsaved();
    std::optional<QString> auditOrCause(const QString &type, const QString &actor, const SessionRecord &session,
                                        const ClientContext &client, const QJsonObject &detail);
    void audit(const QString &type, const QString &actor, const SessionRecord &session, const ClientContext &client,
               const QJsonObject &detail = {});

    SessionStore &m_store;
    UserDirectory &m_users;
    AuditLog &m_audit;
    const Clock &m_clock;
    Minter m_minter;
    SessionPolicy m_policy;
    AccessGuard m_guard;
    QList<Rotation> m_pendingRotations; ///< refreshGrouped's, stored together next
    std::function<bool()> m_yieldRequested;
    bool m_rotationsScheduled = false;
    PasswordWorkers *m_passwordWorkers = nullptr;
    QList<std::pair<Save, QString>> m_unsaved; ///< revocations in force, not yet on disk; and what they are
    QTimer m_retryUnsaved;
};
