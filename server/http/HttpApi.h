#pragma once

#include "admin/AdminTokens.h"

#include "auth/AccessClaims.h"
#include "auth/TokenVerifier.h"
#include "http/HttpDispatcher.h"
#include "http/HttpRequest.h"
#include "http/HttpResponder.h"

#include <QJsonObject>
#include <QObject>

#include <QHash>

#include <functional>
#include <memory>
#include <optional>

class AdminService;
class AuditLog;
struct AdminCommand;
struct AdminEffect;
class Clock;
class DeviceCookie;
class FormToken;
class LoginLimits;
class OidcProvider;
class RateLimiter;
class ConnectionHub;
class SessionService;
class UserDirectory;
struct AuthorizationAnswer;
struct AuthorizationRequest;
struct ClientContext;
struct Revocation;
struct LoginAttempt;

/// The routes of the HTTP side, on the control thread. The gates on the I/O threads read and
/// check each request (head, framing, body, deadlines) and bring it here complete, through
/// an HttpDispatcher; handle() answers every one of them exactly once. A WebSocket upgrade
/// to any route but /ws is refused here.
class HttpApi final : public QObject {
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
        /// The admin tokens in force (AdminTokens), any thread; null or empty disables /admin.
        const AdminTokenHolder *adminTokens = nullptr;
        bool adminFromAnywhere = false; ///< otherwise /admin answers loopback peers only
        std::function<QByteArray()> metrics; ///< Prometheus text for GET /metrics
        RateLimiter *loginsPerIp = nullptr;
        LoginLimits *loginLimits = nullptr;
        std::function<void(const QString &kind)> rateLimited;
        OidcProvider *oidc = nullptr; ///< the OpenID provider endpoints; absent without it
        QString signingAlgorithm; ///< of ID tokens, for discovery
        const Clock *clock = nullptr; ///< the time of the login limits and signed cookies
        const DeviceCookie *deviceCookies = nullptr; ///< the login limits' known devices
        const FormToken *formTokens = nullptr; ///< the login and logout pages' anti-forgery tokens
    };

    explicit HttpApi(Services services, QObject *parent = nullptr);

    using Headers = HttpResponder::HeaderList;
    static void writeResponse(HttpResponder &responder, int status, const Headers &headers, const QByteArray &body);

    /// Asked on the I/O thread that read the request (HttpDispatcher::Urgency), so it touches
    /// only what is safe there: whether the request must not wait behind others (logins,
    /// refreshes) on this thread, and how it is served then. An admin's POST is urgent; a
    /// revocation or disconnection with a valid admin token takes effect there at once
    /// (AdminService::takeEffect), and the handler returned finishes it here.
    std::optional<HttpDispatcher::Handler> urgentHandler(const HttpRequest &request);
    /// Answers one request, in full, through `reply` (now, or later for a deferred route).
    void handle(const HttpRequest &request, HttpResponder::Reply reply);

private:
    /// Writes the answer; false only if no route did (handle() then answers 500).
    bool route(const HttpRequest &request, HttpResponder &responder);
    /// The caller's access token (bearer header or session cookie), verified and with a live
    /// session; otherwise the 401 is written and nothing returned.
    std::optional<AccessClaims> authenticate(const HttpRequest &request, HttpResponder &responder) const;
    void handleMe(const HttpRequest &request, HttpResponder &responder) const;
    void handleLogout(const HttpRequest &request, HttpResponder &responder);
    /// The demo web client and its service worker, from the built-in resources.
    static bool serveWebClient(const QString &path, bool isGet, HttpResponder &responder);
    // HttpApiAuth.cpp: the session endpoints.
    void handleLogin(const HttpRequest &request, HttpResponder &responder);
    void handleToken(const HttpRequest &request, HttpResponder &responder);
    void handleRefreshCookie(const HttpRequest &request, HttpResponder &responder);
    void handleRevoke(const HttpRequest &request, HttpResponder &responder);
    void handleIntrospect(const HttpRequest &request, HttpResponder &responder);
    /// Brute-force defences of every password form (LoginLimits): seconds to wait, or nothing
    /// when the attempt may go ahead.
    std::optional<int> loginWait(const LoginAttempt &attempt);
    /// Failures were counted when loginWait() admitted them; a success clears them.
    void recordLoginSuccess(const LoginAttempt &attempt);
    /// `username` as the login limits count it: the canonical account, the address, and the
    /// device cookie when it is valid for that account.
    LoginAttempt loginAttemptOf(const QString &username, const HttpRequest &request) const;
    /// The Set-Cookie that makes this browser a known device of the account that just logged in.
    QByteArray deviceCookieFor(const LoginAttempt &attempt, bool secure) const;

    // HttpOidc.cpp: the OpenID provider.
    void handleDiscovery(HttpResponder &responder) const;
    void handleAuthorize(const HttpRequest &request, HttpResponder &responder);
    void handleCodeGrant(const QHash<QString, QString> &form, const HttpRequest &request, HttpResponder &responder);
    void writeLoginPage(HttpResponder &responder, const HttpRequest &request, int status,
                        const AuthorizationRequest &page, const QString &message, Headers extra = {});
    void writeAuthorizeAnswer(HttpResponder &responder, const HttpRequest &request, const AuthorizationAnswer &answer,
                              const QByteArray &deviceCookie);
    void handleEndSession(const HttpRequest &request, HttpResponder &responder);

    /// The admin token checks shared by /admin and /oauth/introspect: who presented it, or
    /// nothing when it answered the refusal (401, 403 when the token's scope is not `needed`).
    std::optional<AdminIdentity> authorizeAdmin(const HttpRequest &request, HttpResponder &responder,
                                                AdminScope needed);
    enum class AdminRefusal { None, Unavailable, NotLoopback, NoToken };
    struct AdminCheck {
        AdminRefusal refusal = AdminRefusal::NoToken;
        std::optional<AdminIdentity> identity;
    };
    /// What authorizeAdmin would refuse, without answering; safe on any thread.
    AdminCheck adminCheck(const HttpRequest &request) const;
    /// The scope a request to /admin/<path> needs: reading, viewer; disconnecting, revoking and
    /// broadcasting, operator; anything else, full.
    static AdminScope scopeNeeded(const HttpRequest &request, const QStringList &path);

    // HttpApiAdmin.cpp: /admin/..., for the admin token only.
    /// `effect`: what the request's command did at once on its I/O thread (urgentHandler).
    void handleAdmin(const HttpRequest &request, HttpResponder &responder, const AdminEffect *effect = nullptr);
    bool routeAdmin(const HttpRequest &request, HttpResponder &responder, const QStringList &segments,
                    const AdminIdentity &admin, const AdminEffect *effect);
    /// The segments after /admin, percent-decoded; nothing when one is too long (414).
    static std::optional<QStringList> adminPathOf(const HttpRequest &request);
    /// The revocation or disconnection a POST asks for, when it is well formed.
    static std::optional<AdminCommand> adminCommandOf(const HttpRequest &request, const QStringList &path);
    /// urgentHandler's part for /admin: the handler that finishes a command already in
    /// effect, or nothing for every other request (which goes through handle()).
    std::optional<HttpDispatcher::Handler> expediteAdmin(const HttpRequest &request);

    /// The form body of an OAuth endpoint, or nothing after answering 400/413 itself.
    static std::optional<QHash<QString, QString>> formOf(const HttpRequest &request, HttpResponder &responder);
    /// The JSON object of a body (StrictJson), or nothing after answering 400 with the rule it broke.
    static std::optional<QJsonObject> jsonObjectOf(const HttpRequest &request, HttpResponder &responder);
    static ClientContext clientOf(const HttpRequest &request);
    static void writeError(HttpResponder &responder, int status, const QString &error, const QString &description);
    static void methodNotAllowed(HttpResponder &responder, const QByteArray &allowed);
    /// 503 for a revocation in force that the store has not saved yet.
    static void writeUnsaved(HttpResponder &responder, const Revocation &revocation, HttpResponder::HeaderList headers);

    Services m_services;
};
