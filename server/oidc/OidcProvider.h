#pragma once

#include "oidc/ClientRegistry.h"
#include "oidc/SingleLoginStore.h"
#include "sessions/SessionService.h"

#include <QJsonObject>
#include <QObject>

#include <functional>

class AuditLog;
class Clock;
class QNetworkAccessManager;
class UserDirectory;

/// The parameters of one authorization request (OIDC Core §3.1.2.1), once checked.
struct AuthorizationRequest {
    QString clientId;
    QString redirectUri;
    QString state;
    QString nonce;
    QString codeChallenge; ///< PKCE, always S256
    QString prompt; ///< "", "none", "login", "consent" or "select_account"
};

/// What the authorization endpoint answers; the HTTP layer renders it.
struct AuthorizationAnswer {
    enum class Kind {
        Redirect, ///< 302 to `location` (a code, or an error the client may see)
        LoginPage, ///< ask for the password; `message` says why the last try failed
        ErrorPage, ///< the client or redirect URI cannot be trusted: say so, redirect nowhere
    };
    Kind kind = Kind::ErrorPage;
    int status = 400;
    QString location;
    QString message;
    AuthorizationRequest request;
    QByteArray sliCookie; ///< a new or extended SLI cookie value to set
    qint64 sliMaxAge = 0;
};

struct OAuthError {
    int status = 400;
    QString error;
    QString description;
};

/// A code redeemed: the session's tokens and the ID token.
struct CodeTokens {
    TokenPair pair;
    QByteArray idToken;
};

/// A browser's login at the web client (2-Cookie Handoff), which is also a single login.
struct WebLogin {
    QString loginId;
    QByteArray cookie;
};

/// The end-session endpoint's work (RP-Initiated and Single Logout).
struct LogoutAnswer {
    QString username; ///< empty when the browser had no single login
    qsizetype sessionsRevoked = 0;
    QStringList frontchannelUris; ///< to load in iframes, each with iss and sid
    QString redirect; ///< post_logout_redirect_uri when it was allowed
    QString unsaved; ///< the logout is in force but not saved yet, and why (Revocation::unsaved)
};

/// The OpenID provider: single logins (SLI cookie), the authorization code flow with PKCE,
/// ID tokens, silent re-authentication and single logout with back- and front-channel
/// notification. Lives on the server thread; HTTP is the HttpApi's business.
class OidcProvider final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(OidcProvider)

public:
    /// Request parameters, each once (the HTTP layer refuses repeated ones).
    using Parameters = QHash<QString, QString>;
    /// Signs a JWT with the current signing key (the header gets alg and kid); empty without one.
    using Signer = std::function<QByteArray(const QJsonObject &header, const QJsonObject &claims)>;

    struct Parts {
        SessionService *sessions = nullptr;
        UserDirectory *users = nullptr;
        ClientRegistry *clients = nullptr;
        SingleLoginStore *logins = nullptr;
        SessionStore *sessionStore = nullptr;
        AuditLog *audit = nullptr;
        const Clock *clock = nullptr;
        Signer sign;
        QString issuer; ///< the public URL, `iss` of ID and logout tokens
    };

    static constexpr qint64 codeLifetime = 60;

    explicit OidcProvider(Parts parts, QObject *parent = nullptr);

    const QString &issuer() const { return m_parts.issuer; }
    /// Checks an authorization request. Problems with the client or redirect URI give an error
    /// page; others redirect to the client with an OAuth error.
    Result<AuthorizationRequest, AuthorizationAnswer> validate(const Parameters &parameters) const;
    /// Silent re-authentication when the SLI allows it, `login_required` for prompt=none
    /// when it does not, otherwise the login page.
    AuthorizationAnswer authorize(const AuthorizationRequest &request, const QByteArray &sliCookie,
                                  const ClientContext &client);
    /// The login page's answer: a new single login and a code, or the page again.
    /// The login page's form: the password is checked on the worker pool (through
    /// SessionService), and `done` gets the answer on this thread.
    void logIn(const AuthorizationRequest &request, const QString &username, const QByteArray &password,
               const ClientContext &client, std::function<void(AuthorizationAnswer)> done);
    /// `grant_type=authorization_code` at the token endpoint (with PKCE).
    Result<CodeTokens, OAuthError> redeem(const QHash<QString, QString> &form, const ClientContext &client);

    /// The web client's login: a single login is begun before the session opens (the session
    /// records its id) and committed once the password was right.
    WebLogin beginWebLogin() const;
    void commitWebLogin(const WebLogin &login, const QString &username, const QString &deviceId,
                        qint64 accessExpiresAt);
    std::optional<SingleLogin> loginFor(const QByteArray &sliCookie) const;

    /// Single logout for the browser with this SLI: every login and session of its user ends
    /// (connections close with 4003), clients are told over the back channel, and the answer
    /// lists the front-channel URIs to load.
    LogoutAnswer endSession(const QByteArray &sliCookie, const QString &postLogoutRedirectUri, const QString &state,
                            const ClientContext &client);

    /// Ends what can no longer matter (called by the sweep).
    void purgeExpired();

Q_SIGNALS:
    /// A back-channel logout was delivered (HTTP 2xx) or failed, for tests and the audit.
    void backchannelLogoutFinished(const QString &clientId, bool delivered);

private:
    AuthorizationAnswer loggedIn(const AuthorizationRequest &request, const QString &username,
                                 const Result<User, UserError> &user, const ClientContext &client);
    AuthorizationAnswer redirectWithCode(const AuthorizationRequest &request, const SingleLogin &login,
                                         const QByteArray &sliCookie, qint64 sliMaxAge);
    AuthorizationAnswer redirectWithError(const AuthorizationRequest &request, const QString &error,
                                          const QString &description) const;
    QByteArray idToken(const SingleLogin &login, const QString &clientId, const QString &nonce) const;
    void sendBackchannelLogout(const OidcClient &client, const QString &username, const QString &loginId);
    void audit(const QString &type, const QString &username, const QString &sessionId, const ClientContext &client,
               const QJsonObject &detail);
    void sessionsRevoked(const QStringList &sessionIds, const QString &reason);

    Parts m_parts;
    QNetworkAccessManager *m_network = nullptr;
};
