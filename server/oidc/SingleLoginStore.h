#pragma once

#include "Result.h"
#include "sessions/SessionStore.h"

#include <QString>
#include <QStringList>

#include <optional>

/// One single login identification (SLI): a user who authenticated in one browser at the
/// authorization endpoint (or the web client's login). Its cookie lets the authorization
/// endpoint answer later requests without asking again (silent re-authentication).
struct SingleLogin {
    QString id; ///< also the `sid` claim of ID and logout tokens
    QString username;
    QString deviceId; ///< the device the sessions opened under it are filed under
    qint64 authenticatedAt = 0;
    qint64 expiresAt = 0; ///< of the SLI cookie; each silent re-authentication pushes it on
    qint64 accessExpiresAt = 0; ///< the newest access token issued under this login
    qint64 endedAt = 0; ///< 0 while it lasts

    bool isUsable(qint64 now) const { return endedAt == 0 && now < expiresAt && now < accessExpiresAt; }
};

/// An authorization code (RFC 6749 §4.1), kept until it is redeemed or expires.
struct AuthorizationCode {
    QString clientId;
    QString redirectUri;
    QString codeChallenge; ///< PKCE S256 (RFC 7636)
    QString nonce;
    QString loginId;
    qint64 expiresAt = 0;
    qint64 usedAt = 0;
    QString sessionId; ///< the session its redemption opened, revoked if the code comes back
};

/// Where single logins and authorization codes live. SQLite implements it today, in the same
/// database as the sessions; a Redis implementation will share them between nodes. Cookies
/// and codes are stored as SHA-256 hashes only. Every mutating call is durable on return.
class SingleLoginStore {
public:
    virtual ~SingleLoginStore() = default;

    virtual Result<bool, StoreError> createLogin(const SingleLogin &login, const QString &cookieHash) = 0;
    virtual std::optional<SingleLogin> findLoginByCookie(const QString &cookieHash) const = 0;
    virtual std::optional<SingleLogin> findLogin(const QString &loginId) const = 0;
    /// Silent re-authentication: the cookie lives on until `expiresAt`.
    virtual Result<bool, StoreError> extendLogin(const QString &loginId, qint64 expiresAt) = 0;
    /// A session of the login got an access token expiring at `accessExpiresAt`.
    virtual void recordAccessToken(const QString &loginId, qint64 accessExpiresAt) = 0;
    /// Ends the logins named (those still open), or every open login of a user.
    virtual Result<QStringList, StoreError> endLogins(const QStringList &loginIds, qint64 now) = 0;
    virtual Result<QStringList, StoreError> endUserLogins(const QString &username, qint64 now) = 0;

    virtual Result<bool, StoreError> createCode(const QString &codeHash, const AuthorizationCode &code) = 0;
    virtual std::optional<AuthorizationCode> findCode(const QString &codeHash) const = 0;
    /// Marks the code used and returns it as it was before: a non-zero `usedAt` means it had
    /// been redeemed already (the caller then revokes what that produced). NotFound: unknown.
    virtual Result<AuthorizationCode, StoreError> redeemCode(const QString &codeHash, qint64 now) = 0;
    virtual void attachSession(const QString &codeHash, const QString &sessionId) = 0;

    /// Drops codes and logins that can no longer matter.
    virtual void purgeExpired(qint64 now) = 0;
};
