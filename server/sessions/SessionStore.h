#pragma once

#include "Result.h"
#include "SessionRecord.h"
#include "UserKey.h"
#include "sessions/RefreshTokenRecord.h"

#include <QHash>
#include <QList>
#include <QStringList>

#include <optional>

enum class StoreError {
    NotFound,
    Conflict,
    Failed,
};

/// Where sessions, refresh-token families and revocations live. SQLite implements it today;
/// a Redis implementation will let several nodes share it. Every mutating call is durable
/// when it returns. Times are Unix seconds.
class SessionStore {
public:
    virtual ~SessionStore() = default;

    virtual Result<bool, StoreError> createSession(const SessionRecord &session, const RefreshTokenRecord &firstToken)
        = 0;
    virtual std::optional<SessionRecord> findSession(const QString &sessionId) const = 0;
    /// The sessions among `sessionIds` that exist, in one read (unknown ids are left out).
    virtual QList<SessionRecord> findSessions(const QStringList &sessionIds) const = 0;
    /// Sessions of one user (all users when empty), newest first.
    virtual QList<SessionRecord> listSessions(const QString &username, bool includeRevoked) const = 0;

    virtual std::optional<RefreshTokenRecord> findRefreshToken(const QString &tokenHash) const = 0;
    /// Compare-and-set rotation: marks `usedHash` used at `now` and stores `next`, but only if
    /// `usedHash` was still unused; Conflict means it was used already (reuse). The session
    /// records `accessExpiresAt` as the expiry of the access token issued with `next`.
    virtual Result<bool, StoreError> rotateRefreshToken(const QString &usedHash, qint64 now,
                                                        const RefreshTokenRecord &next, qint64 accessExpiresAt)
        = 0;

    /// Group commit: the writes between beginGroup() and commitGroup() (this store's, and the
    /// audit log's, which shares its database) become durable together, with one sync. A
    /// write in the group reports success when it joined it; only commitGroup() says whether
    /// it lasts. false from beginGroup() (with the cause) means no group began; false from
    /// commitGroup() means none of the group's writes happened.
    virtual bool beginGroup(QString *why) = 0;
    virtual bool commitGroup(QString *why) = 0;

    /// Revokes the live sessions that match and returns their ids. An empty `deviceId`
    /// means every device of the user.
    virtual Result<QStringList, StoreError> revokeSession(const QString &sessionId, qint64 now, const QString &reason)
        = 0;
    virtual Result<QStringList, StoreError> revokeUserSessions(const QString &username, const QString &deviceId,
                                                               qint64 now, const QString &reason)
        = 0;

    /// Every access token of `user` (ours, or an external issuer's) issued before `at` is
    /// refused from now on.
    virtual Result<bool, StoreError> revokeTokensIssuedBefore(const UserKey &user, qint64 at) = 0;
    virtual qint64 tokensRevokedBefore(const UserKey &user) const = 0;

    /// RFC 7009 for one access token, remembered until it would have expired anyway.
    virtual Result<bool, StoreError> revokeAccessToken(const QString &jwtId, qint64 expiresAt) = 0;
    virtual bool isAccessTokenRevoked(const QString &jwtId) const = 0;

    /// What a node loads into its AccessGuard at start: revoked access tokens (jti → exp)
    /// and the per-user cut-offs (user → time).
    virtual QHash<QString, qint64> revokedAccessTokens() const = 0;
    virtual QHash<UserKey, qint64> revocationCutoffs() const = 0;

    virtual qint64 countActiveSessions(qint64 now) const = 0;
    /// Ends the live sessions past their absolute limit, or without a refresh for
    /// `idleSeconds`, with reason "session_expired"; returns their ids.
    virtual Result<QStringList, StoreError> expireSessions(qint64 now, qint64 idleSeconds) = 0;

    /// Drops what can no longer matter: expired refresh tokens and access-token revocations.
    virtual void purgeExpired(qint64 now) = 0;
    /// Why the last failed write failed, in words ("the disk is full").
    virtual QString errorString() const = 0;
};
