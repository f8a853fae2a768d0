#pragma once

#include "auth/AccessClaims.h"
#include "auth/TokenVerifier.h"

#include <QAbstractHttpServer>
#include <QJsonObject>

#include <QHash>

#include <functional>
#include <memory>
#include <optional>

class AdminService;
class AuditLog;
class Clock;
class DeviceCookie;
class FormToken;
class LoginLimits;
class OidcProvider;
class RateLimiter;
class ConnectionHub;
class QHttpServerResponder;
class SessionService;
class UserDirectory;
struct ClientContext;
struct LoginAttempt;

/// The HTTP side of the server. Every request passes through handleRequest(), which answers
/// it in full: a WebSocket upgrade is refused here (Qt 6.4 would otherwise answer 200 and
/// then switch protocols on the same socket). The WebSocket gateway arrives with its own gate.
class HttpApi final : public QAbstractHttpServer {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(HttpApi)

public:
    using JwksProvider = std::function<QJsonObject()>;
    using VerifierProvider = std::function<std::shared_ptr<const TokenVerifier>()>;

    /// What the routes use; all of it lives on the server thread with the HttpApi.
    struct Services {
        JwksProvider jwks;
        VerifierProvider verifier;
        SessionService *sessions = nullptr;
        UserDirectory *users = nullptr;
        ConnectionHub *connections = nullptr;
        AuditLog *audit = nullptr;
        AdminService *admin = nullptr;
        QByteArray adminTokenHash; ///< SHA-256 of the admin token; empty disables /admin
        bool adminFromAnywhere = false; ///< otherwise /admin answers loopback peers only
        std::function<QByteArray()> metrics; ///< Prometheus text for GET /metrics
        RateLimiter *loginsPerIp = nullptr;
        LoginLimits *loginLimits = nullptr;
        std::function<void(const QString &kind)> rateLimited;
        bool tls = false; ///< cookies are Secure (and __Host-/__Secure- prefixed) over TLS
        OidcProvider *oidc = nullptr; ///< the OpenID provider endpoints; absent without it
        QString signingAlgorithm; ///< of ID tokens, for discovery
        const Clock *clock = nullptr; ///< the time of the login limits and signed cookies
        const DeviceCookie *deviceCookies = nullptr; ///< the login limits' known devices
        const FormToken *formTokens = nullptr; ///< the login and logout pages' anti-forgery tokens
    };

    explicit HttpApi(Services services, QObject *parent = nullptr);

    using Headers = QList<std::pair<QByteArray, QByteArray>>;
    /// A response whose headers are decided at run time (Qt 6.4 takes only initializer lists).
    static void writeResponse(QHttpServerResponder &responder, int status, const Headers &headers,
                              const QByteArray &body);

protected:
    bool handleRequest(const QHttpServerRequest &request, QTcpSocket *socket) override;
    void missingHandler(const QHttpServerRequest &request, QTcpSocket *socket) override;

private:
    /// The caller's access token (bearer header or session cookie), verified and with a live
    /// session; otherwise the 401 is written and nothing returned.
    std::optional<AccessClaims> authenticate(const QHttpServerRequest &request, QHttpServerResponder &responder) const;
    void handleMe(const QHttpServerRequest &request, QHttpServerResponder &responder) const;
    void handleLogout(const QHttpServerRequest &request, QHttpServerResponder &responder);
    /// The demo web client and its service worker, from the built-in resources.
    static bool serveWebClient(const QString &path, bool isGet, QHttpServerResponder &responder);
    // HttpApiAuth.cpp: the session endpoints.
    void handleLogin(const QHttpServerRequest &request, QHttpServerResponder &responder);
    void handleToken(const QHttpServerRequest &request, QHttpServerResponder &responder);
    void handleRefreshCookie(const QHttpServerRequest &request, QHttpServerResponder &responder);
    void handleRevoke(const QHttpServerRequest &request, QHttpServerResponder &responder);
    void handleIntrospect(const QHttpServerRequest &request, QHttpServerResponder &responder);
    /// Brute-force defences of every password form (LoginLimits): seconds to wait, or nothing
    /// when the attempt may go ahead.
    std::optional<int> loginWait(const LoginAttempt &attempt);
    /// Failures were counted when loginWait() admitted them; a success clears them.
    void recordLoginSuccess(const LoginAttempt &attempt);
    /// `username` as the login limits count it: the canonical account, the address, and the
    /// device cookie when it is valid for that account.
    LoginAttempt loginAttemptOf(const QString &username, const QHttpServerRequest &request) const;
    /// The Set-Cookie that makes this browser a known device of the account that just logged in.
    QByteArray deviceCookieFor(const LoginAttempt &attempt) const;

    // HttpOidc.cpp: the OpenID provider.
    void handleDiscovery(QHttpServerResponder &responder) const;
    void handleAuthorize(const QHttpServerRequest &request, QHttpServerResponder &responder);
    void handleCodeGrant(const QHash<QString, QString> &form, const QHttpServerRequest &request,
                         QHttpServerResponder &responder);
    void handleEndSession(const QHttpServerRequest &request, QHttpServerResponder &responder);

    /// The admin token checks shared by /admin and /oauth/introspect; false when it answered.
    bool authorizeAdmin(const QHttpServerRequest &request, QHttpServerResponder &responder);

    // HttpApiAdmin.cpp: /admin/..., for the admin token only.
    void handleAdmin(const QHttpServerRequest &request, QHttpServerResponder &responder);
    bool routeAdmin(const QHttpServerRequest &request, QHttpServerResponder &responder, const QStringList &segments);

    /// The form body of an OAuth endpoint, or nothing after answering 400/413 itself.
    static std::optional<QHash<QString, QString>> formOf(const QHttpServerRequest &request,
                                                         QHttpServerResponder &responder);
    static ClientContext clientOf(const QHttpServerRequest &request);
    static void writeError(QHttpServerResponder &responder, int status, const QString &error,
                           const QString &description);

    Services m_services;
};
