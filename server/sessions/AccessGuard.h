#pragma once

#include "UserKey.h"
#include "auth/AccessClaims.h"
#include "sessions/SessionError.h"

#include <QHash>
#include <QSet>
#include <QString>
#include <QStringList>

#include <functional>
#include <optional>
#include <shared_mutex>

/// This node's answer to "is this verified access token still honoured?", safe to ask from
/// any thread and answered from memory: every handshake and in-band refresh asks it, so it
/// must cost no more than a hash lookup. It holds the sessions' states, the revoked access
/// tokens (`jti`) and the per-user "issued before" cut-offs (a user is an issuer and a
/// subject). `SessionService` keeps it in step with the store, after each change is durable;
/// a shared (Redis) store will feed it from its event stream the same way.
class AccessGuard final {
public:
    struct SessionState {
        qint64 absoluteExpiresAt = 0;
        bool revoked = false;
        QString username {}; ///< as the user directory spells it
        QString deviceId {};
    };
    /// Asked, outside the lock, for a session this node has not heard of (one opened by
    /// another process on the same store); the answer is remembered.
    using SessionLoader = std::function<std::optional<SessionState>(const QString &sessionId)>;

    AccessGuard() = default;
    Q_DISABLE_COPY_MOVE(AccessGuard)

    void reset(QHash<QString, SessionState> sessions, QHash<QString, qint64> revokedTokens,
               QHash<UserKey, qint64> cutoffs);
    void sessionOpened(const QString &sessionId, const SessionState &session);
    void sessionsEnded(const QStringList &sessionIds);
    /// Ends the live sessions this node knows of a local user (`username` in any spelling the
    /// user directory accepts), of `deviceId` or of every device, and returns them. An admin's
    /// revocation takes effect this way on the thread that received it, before the store hears.
    QStringList endSessionsOf(const QString &username, const QString &deviceId);
    /// Ends one session, if it is known here and live; whether it did.
    bool endSession(const QString &sessionId);
    /// Whether the session was ended by endSessionsOf/endSession and no revocation has recorded
    /// it since (sessionsEnded does): a revocation on the service's thread treats it as live, so
    /// that whichever revocation gets there first audits it.
    bool isRevocationPending(const QString &sessionId) const;
    /// The live sessions endSessionsOf would end.
    QStringList liveSessionsOf(const QString &username, const QString &deviceId) const;
    /// The user's name as its known sessions spell it; empty when none is known here.
    QString knownUsername(const QString &username) const;
    void accessTokenRevoked(const QString &jwtId, qint64 expiresAt);
    void revokedBefore(const UserKey &user, qint64 at);
    /// Forgets what can no longer matter: revocations of tokens that have expired anyway.
    void purge(qint64 now);

    std::optional<SessionError> check(const AccessClaims &claims, qint64 now, const SessionLoader &loader = {}) const;
    /// Whether this node knows the session as revoked (or ended), saved or not.
    bool isSessionEnded(const QString &sessionId) const;
    /// The user's "issued before" cut-off known here (0: none).
    qint64 cutoff(const UserKey &user) const;

private:
    /// Under the lock, held exclusively.
    void remember(const QString &sessionId, const SessionState &session) const;
    QStringList liveSessionsOfLocked(const QString &username, const QString &deviceId) const;

    mutable std::shared_mutex m_mutex;
    mutable QHash<QString, SessionState> m_sessions; ///< grows through the loader too
    mutable QMultiHash<QString, QString> m_sessionsOfUser; ///< folded username → session ids
    QSet<QString> m_pending; ///< ended at once, not recorded by a revocation yet
    QHash<QString, qint64> m_revokedTokens; ///< jti → exp, of our own tokens
    QHash<UserKey, qint64> m_cutoffs; ///< user → tokens issued at or before are refused
};
