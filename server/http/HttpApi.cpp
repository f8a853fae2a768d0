#include "http/HttpApi.h"

#include "auth/BearerChallenge.h"
#include "http/WebCookies.h"
#include "oidc/OidcProvider.h"
#include "sessions/SessionService.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLoggingCategory>

using namespace Qt::StringLiterals;

Q_LOGGING_CATEGORY(lcHttp, "gatehouse.http")

namespace {
using Status = HttpResponder::StatusCode;

/// RFC 6750 §2.1: `Authorization: Bearer <token>`, the scheme in any case.
std::optional<QByteArray> bearerToken(const HttpRequest &request)
{
    const QByteArray header = request.value("authorization").trimmed();
    const qsizetype space = header.indexOf(' ');
    if (space <= 0 || header.first(space).toLower() != "bearer")
        return std::nullopt;
    const QByteArray token = header.sliced(space + 1).trimmed();
    if (token.isEmpty())
        return std::nullopt;
    return token;
}

bool isUpgradeRequest(const HttpRequest &request)
{
    return !request.value("upgrade").isEmpty() || request.value("connection").toLower().contains("upgrade");
}
} // namespace

HttpApi::HttpApi(Services services, QObject *parent)
    : QObject(parent)
    , m_services(std::move(services))
{
}

void HttpApi::writeError(HttpResponder &responder, int status, const QString &error, const QString &description)
{
    const QJsonObject body { { "error"_L1, error }, { "error_description"_L1, description } };
    responder.write(QJsonDocument(body), static_cast<Status>(status));
}

void HttpApi::writeResponse(HttpResponder &responder, int status, const Headers &headers, const QByteArray &body)
{
    responder.write(body, headers, static_cast<Status>(status));
}

bool HttpApi::serveWebClient(const QString &path, bool isGet, HttpResponder &responder)
{
    static const std::pair<QLatin1StringView, std::pair<QLatin1StringView, QByteArray>> files[] = {
        { "/"_L1, { ":/web/index.html"_L1, "text/html; charset=utf-8" } },
        { "/app.js"_L1, { ":/web/app.js"_L1, "text/javascript; charset=utf-8" } },
        { "/sw.js"_L1, { ":/web/sw.js"_L1, "text/javascript; charset=utf-8" } },
        { "/style.css"_L1, { ":/web/style.css"_L1, "text/css; charset=utf-8" } },
    };
    for (const auto &[route, file] : files) {
        if (path != route)
            continue;
        if (!isGet)
            return methodNotAllowed(responder, "GET, HEAD"), true;
        QFile resource(file.first);
        if (!resource.open(QIODevice::ReadOnly))
            return writeError(responder, 500, u"server_error"_s, u"the web client is missing"_s), true;
        responder.write(resource.readAll(),
                        { { "Content-Type", file.second },
                          { "Cache-Control", "no-cache" },
                          { "X-Content-Type-Options", "nosniff" },
                          { "Content-Security-Policy",
                            "default-src 'self'; connect-src 'self' ws: wss:; frame-ancestors 'none'" } });
        return true;
    }
    return false;
}

void HttpApi::methodNotAllowed(HttpResponder &responder, const QByteArray &allowed)
{
    // RFC 9110 §15.5.6: a 405 names the methods the resource takes.
    const QJsonObject body { { "error"_L1, "method_not_allowed"_L1 },
                             { "error_description"_L1, QString(u"use "_s + QString::fromLatin1(allowed)) } };
    responder.write(QJsonDocument(body), { { "Allow", allowed } }, static_cast<Status>(405));
}

std::optional<HttpDispatcher::Handler> HttpApi::urgentHandler(const HttpRequest &request)
{
    if (request.method() != HttpRequest::Method::Post || !request.path().startsWith("/admin/"_L1))
        return std::nullopt;
    if (!isUpgradeRequest(request)) {
        if (auto expedited = expediteAdmin(request))
            return expedited;
    }
    return [this](const HttpRequest &urgent, HttpDispatcher::Reply reply) { handle(urgent, std::move(reply)); };
}

void HttpApi::handle(const HttpRequest &request, HttpResponder::Reply reply)
{
    if (request.isSecure()) {
        // RFC 6797: browsers that reached us over TLS keep to it for a year.
        reply = [reply = std::move(reply)](HttpResponse response) {
            response.headers.append(std::pair<QByteArray, QByteArray>("Strict-Transport-Security", "max-age=31536000"));
            reply(std::move(response));
        };
    }
    HttpResponder responder(std::move(reply));
    if (request.method() == HttpRequest::Method::Other)
        return writeError(responder, 501, u"not_implemented"_s,
                          u"the method %1 is not implemented"_s.arg(QString::fromLatin1(request.head().method)));
    // RFC 9110 §9.3.2: HEAD is GET without the body, which the I/O thread leaves out.
    const bool head = request.method() == HttpRequest::Method::Head;
    if (!route(head ? request.asGet() : request, responder))
        writeError(responder, 404, u"not_found"_s, u"no resource at %1"_s.arg(request.path()));
}

bool HttpApi::route(const HttpRequest &request, HttpResponder &responder)
{
    // Routed on the path as sent: "/%61dmin" is not "/admin" to a proxy's rule, nor here.
    const QString path = request.path();
    if (isUpgradeRequest(request)) {
        writeError(responder, 400, u"upgrade_not_allowed"_s, u"%1 does not switch protocols"_s.arg(path));
        return true;
    }
    const bool isGet = request.method() == HttpRequest::Method::Get;
    if (path == "/healthz"_L1) {
        if (!isGet)
            return methodNotAllowed(responder, "GET, HEAD"), true;
        responder.write(QJsonDocument(QJsonObject { { "status"_L1, "ok"_L1 } }));
        return true;
    }
    if (path == "/.well-known/jwks.json"_L1) {
        if (!isGet)
            return methodNotAllowed(responder, "GET, HEAD"), true;
        responder.write(QJsonDocument(m_services.jwks()).toJson(QJsonDocument::Compact), "application/jwk-set+json");
        return true;
    }
    const bool isPost = request.method() == HttpRequest::Method::Post;
    if (m_services.oidc) {
        if (path == "/.well-known/openid-configuration"_L1) {
            if (!isGet)
                return methodNotAllowed(responder, "GET, HEAD"), true;
            handleDiscovery(responder);
            return true;
        }
        if (path == "/oauth/authorize"_L1 || path == "/oauth/logout"_L1) {
            if (!isGet && !isPost)
                return methodNotAllowed(responder, "GET, HEAD, POST"), true;
            if (path == "/oauth/authorize"_L1)
                handleAuthorize(request, responder);
            else
                handleEndSession(request, responder);
            return true;
        }
    }
    const std::pair<QLatin1StringView, void (HttpApi::*)(const HttpRequest &, HttpResponder &)> posts[] = {
        { "/auth/login"_L1, &HttpApi::handleLogin },           { "/oauth/token"_L1, &HttpApi::handleToken },
        { "/auth/refresh"_L1, &HttpApi::handleRefreshCookie }, { "/auth/logout"_L1, &HttpApi::handleLogout },
        { "/oauth/revoke"_L1, &HttpApi::handleRevoke },        { "/oauth/introspect"_L1, &HttpApi::handleIntrospect },
    };
    for (const auto &[route, handler] : posts) {
        if (path != route)
            continue;
        if (!isPost)
            return methodNotAllowed(responder, "POST"), true;
        if (!m_services.sessions)
            return writeError(responder, 503, u"unavailable"_s, u"sessions are not available"_s), true;
        (this->*handler)(request, responder);
        return true;
    }
    if (path == "/metrics"_L1) {
        if (!isGet)
            return methodNotAllowed(responder, "GET, HEAD"), true;
        if (!m_services.metrics)
            return writeError(responder, 503, u"unavailable"_s, u"metrics are not available"_s), true;
        if (!m_services.adminFromAnywhere && !request.remoteAddress().isLoopback())
            return writeError(responder, 403, u"forbidden"_s, u"metrics answer loopback clients only"_s), true;
        responder.write(m_services.metrics(), "text/plain; version=0.0.4; charset=utf-8");
        return true;
    }
    if (path == "/admin"_L1 || path.startsWith("/admin/"_L1)) {
        handleAdmin(request, responder);
        return true;
    }
    if (path == "/api/me"_L1) {
        if (!isGet)
            return methodNotAllowed(responder, "GET, HEAD"), true;
        handleMe(request, responder);
        return true;
    }
    if (serveWebClient(path, isGet, responder))
        return true;
    writeError(responder, 404, u"not_found"_s, u"no resource at %1"_s.arg(path));
    return true;
}

std::optional<AccessClaims> HttpApi::authenticate(const HttpRequest &request, HttpResponder &responder) const
{
    // A bearer token, or the browser's session cookie (the 2-Cookie Handoff).
    auto token = bearerToken(request);
    if (!token) {
        // Two session cookies (one planted by a sibling domain, say) are refused, not first-wins.
        if (WebCookies::count(request.value("cookie"), WebCookies::sessionName, request.isSecure()) > 1) {
            writeError(responder, 400, u"invalid_request"_s, u"the session cookie is sent more than once"_s);
            return std::nullopt;
        }
        if (QByteArray cookie = WebCookies::find(request.value("cookie"), WebCookies::sessionName, request.isSecure());
            !cookie.isEmpty())
            token = std::move(cookie);
    }
    if (!token) {
        // RFC 6750 §3.1: no credentials at all gets a challenge without an error code.
        const QJsonObject body { { "error"_L1, "invalid_request"_L1 },
                                 { "error_description"_L1, "bearer token required"_L1 } };
        responder.write(QJsonDocument(body), { { "WWW-Authenticate", BearerChallenge::header() } },
                        HttpResponder::StatusCode::Unauthorized);
        return std::nullopt;
    }
    auto claims = m_services.verifier()->verify(*token, std::chrono::system_clock::now());
    // A good signature is not enough: the session behind the token must still be alive.
    std::optional<QLatin1StringView> refusal;
    if (!claims)
        refusal = tokenErrorCode(claims.error());
    else if (const auto denied = m_services.sessions ? m_services.sessions->checkAccess(*claims) : std::nullopt)
        refusal = sessionErrorCode(*denied);
    if (refusal) {
        const QLatin1StringView reason = *refusal;
        qCInfo(lcHttp).noquote() << "refused a bearer token:" << reason;
        const QJsonObject body { { "error"_L1, "invalid_token"_L1 }, { "error_description"_L1, reason } };
        const QByteArray challenge = BearerChallenge::header("invalid_token", QByteArray(reason.data(), reason.size()));
        responder.write(QJsonDocument(body), { { "WWW-Authenticate", challenge } },
                        HttpResponder::StatusCode::Unauthorized);
        return std::nullopt;
    }
    return std::move(claims).value();
}

void HttpApi::handleMe(const HttpRequest &request, HttpResponder &responder) const
{
    const auto claims = authenticate(request, responder);
    if (!claims)
        return;
    const qint64 now
        = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    const QJsonObject body { { "sub"_L1, claims->subject },
                             { "iss"_L1, claims->issuer },
                             { "sid"_L1, claims->sessionId },
                             { "device"_L1, claims->deviceId },
                             { "roles"_L1, QJsonArray::fromStringList(claims->roles) },
                             { "iat"_L1, claims->issuedAt },
                             { "exp"_L1, claims->expiresAt },
                             { "expires_in"_L1, std::max<qint64>(0, claims->expiresAt - now) },
                             { "external"_L1, !claims->local } };
    QJsonObject answer = body;
    // The browser's single login, for the web client's SLI countdown.
    if (m_services.oidc) {
        const auto login = m_services.oidc->loginFor(
            WebCookies::find(request.value("cookie"), WebCookies::sliName, request.isSecure()));
        if (login && login->endedAt == 0 && login->expiresAt > now) {
            answer.insert("sli_exp"_L1, login->expiresAt);
            answer.insert("sli_expires_in"_L1, login->expiresAt - now);
        }
    }
    responder.write(QJsonDocument(answer), { { "Cache-Control", "no-store" } });
}
