#pragma once

#include "sessions/SessionStore.h"
#include "store/Database.h"

#include <memory>

/// SessionStore in the instance's SQLite database (WAL, synchronous=FULL).
class QSqlError;

class SqliteSessionStore final : public SessionStore {
public:
    explicit SqliteSessionStore(Database &database);

    Result<bool, StoreError> createSession(const SessionRecord &session, const RefreshTokenRecord &firstToken) override;
    std::optional<SessionRecord> findSession(const QString &sessionId) const override;
    QList<SessionRecord> findSessions(const QStringList &sessionIds) const override;
    QList<SessionRecord> listSessions(const QString &username, bool includeRevoked) const override;
    std::optional<RefreshTokenRecord> findRefreshToken(const QString &tokenHash) const override;
    Result<bool, StoreError> rotateRefreshToken(const QString &usedHash, qint64 now, const RefreshTokenRecord &next,
                                                qint64 accessExpiresAt) override;
    bool beginGroup(QString *why) override;
    bool commitGroup(QString *why) override;
    Result<QStringList, StoreError> revokeSession(const QString &sessionId, qint64 now, const QString &reason) override;
    Result<QStringList, StoreError> revokeUserSessions(const QString &username, const QString &deviceId, qint64 now,
                                                       const QString &reason) override;
    Result<bool, StoreError> revokeTokensIssuedBefore(const UserKey &user, qint64 at) override;
    qint64 tokensRevokedBefore(const UserKey &user) const override;
    Result<bool, StoreError> revokeAccessToken(const QString &jwtId, qint64 expiresAt) override;
    bool isAccessTokenRevoked(const QString &jwtId) const override;
    QHash<QString, qint64> revokedAccessTokens() const override;
    QHash<UserKey, qint64> revocationCutoffs() const override;
    qint64 countActiveSessions(qint64 now) const override;
    Result<QStringList, StoreError> expireSessions(qint64 now, qint64 idleSeconds) override;
    void purgeExpired(qint64 now) override;

    QString errorString() const override { return m_errorString; }

private:
    /// Remembers why (errorString()) and fails.
    Failure<StoreError> failed(const QSqlError &error) const;

    Result<QStringList, StoreError> revokeWhere(const QString &condition, const QVariantList &values, qint64 now,
                                                const QString &reason);
    QHash<QString, qint64> pairs(const QString &sql) const;

    Database &m_database;
    std::unique_ptr<Database::WriteGroup> m_group; ///< between beginGroup and commitGroup
    mutable QString m_errorString;
};
