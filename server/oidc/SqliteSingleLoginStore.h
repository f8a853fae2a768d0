#pragma once

#include "oidc/SingleLoginStore.h"

class Database;

/// SingleLoginStore in the server's SQLite database (tables single_logins, authorization_codes).
class SqliteSingleLoginStore final : public SingleLoginStore {
public:
    explicit SqliteSingleLoginStore(Database &database);

    Result<bool, StoreError> createLogin(const SingleLogin &login, const QString &cookieHash) override;
    std::optional<SingleLogin> findLoginByCookie(const QString &cookieHash) const override;
    std::optional<SingleLogin> findLogin(const QString &loginId) const override;
    Result<bool, StoreError> extendLogin(const QString &loginId, qint64 expiresAt) override;
    void recordAccessToken(const QString &loginId, qint64 accessExpiresAt) override;
    Result<QStringList, StoreError> endLogins(const QStringList &loginIds, qint64 now) override;
    Result<QStringList, StoreError> endUserLogins(const QString &username, qint64 now) override;
    Result<bool, StoreError> createCode(const QString &codeHash, const AuthorizationCode &code) override;
    std::optional<AuthorizationCode> findCode(const QString &codeHash) const override;
    Result<AuthorizationCode, StoreError> redeemCode(const QString &codeHash, qint64 now) override;
    void attachSession(const QString &codeHash, const QString &sessionId) override;
    void purgeExpired(qint64 now) override;

private:
    std::optional<SingleLogin> findWhere(const QString &column, const QString &value) const;

    Database &m_database;
};
