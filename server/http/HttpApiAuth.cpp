// HttpApi's session endpoints: POST /auth/login, POST /auth/refresh (the 2-Cookie Handoff),
// POST /oauth/token (RFC 6749 §6) and POST /oauth/revoke (RFC 7009). Each maps SessionService's errors to a status in
// one place.
#include "http/HttpApi.h"

#include "auth/DeviceCookie.h"
#include "auth/StrictJson.h"
#include "core/Clock.h"
#include "http/FormBody.h"
#include "http/WebCookies.h"
#include "identity/UserDirectory.h"
#include "oidc/OidcProvider.h"
#include "policy/LoginLimits.h"
#include "policy/RateLimiter.h"
#include "sessions/SessionService.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>

using namespace Qt::StringLiterals;

namespace {
constexpr qsizetype maximumBodySize = 16 * 1024;
using Status = HttpResponder::StatusCode;

bool hasContentType(const HttpRequest &request, QByteArrayView type)
{
    const QByteArray value = request.value("content-type").toLower();
    const qsizetype semicolon = value.indexOf(';');
    return (semicolon < 0 ? value : value.first(semicolon)).trimmed() == type;
}

/// RFC 6749 §5.1: token responses are never cached.
void writeTokens(HttpResponder &responder, const TokenPair &pair, const QByteArray &deviceCookie = {})
{
    const QJsonObject body { { "access_token"_L1, QString::fromLatin1(pair.accessToken) },
                             { "token_type"_L1, "Bearer"_L1 },
                             { "expires_in"_L1, pair.accessExpiresIn },
                             { "refresh_token"_L1, QString::fromLatin1(pair.refreshToken) },
                             { "refresh_expires_in"_L1, pair.refreshExpiresIn },
                             { "session_id"_L1, pair.sessionId } };
    HttpApi::Headers headers { { "Content-Type", "application/json" },
                               { "Cache-Control", "no-store" },
                               { "Pragma", "no-cache" } };
    if (!deviceCookie.isEmpty())
        headers.append({ "Set-Cookie", deviceCookie });
    HttpApi::writeResponse(responder, 200, headers, QJsonDocument(body).toJson(QJsonDocument::Compact));
}

/// The 2-Cookie Handoff's answer: the tokens go into HttpOnly cookies, never into the body, so
/// that scripts on the page cannot read them. The session cookie lives for the policy's local
/// session (never longer than the access token inside it).
void writeCookies(HttpResponder &responder, const TokenPair &pair, qint64 sessionCookieTtl, bool secure,
                  const QByteArray &sliCookie = {}, const QByteArray &deviceCookie = {})
{
    const qint64 sessionLifetime = std::min(sessionCookieTtl, pair.accessExpiresIn);
    const QJsonObject body { { "token_type"_L1, "cookie"_L1 },
                             { "expires_in"_L1, sessionLifetime },
                             { "access_expires_in"_L1, pair.accessExpiresIn },
                             { "refresh_expires_in"_L1, pair.refreshExpiresIn },
                             { "session_id"_L1, pair.sessionId } };
    HttpApi::Headers headers { { "Content-Type", "application/json" },
                               { "Cache-Control", "no-store" },
                               { "Pragma", "no-cache" },
                               { "Set-Cookie", WebCookies::sessionCookie(pair.accessToken, sessionLifetime, secure) },
                               { "Set-Cookie",
                                 WebCookies::refreshCookie(pair.refreshToken, pair.refreshExpiresIn, secure) } };
    for (const QByteArray &cookie : { sliCookie, deviceCookie }) {
        if (!cookie.isEmpty())
            headers.append({ "Set-Cookie", cookie });
    }
    HttpApi::writeResponse(responder, 200, headers, QJsonDocument(body).toJson(QJsonDocument::Compact));
}

/// A failed cookie refresh also clears both cookies: the page is logged out, and says so.
void writeCookieRefusal(HttpResponder &responder, int status, const QString &error, const QString &description,
                        bool secure)
{
    const QJsonObject body { { "error"_L1, error }, { "error_description"_L1, description } };
    responder.write(QJsonDocument(body),
                    { { "Cache-Control", "no-store" },
                      { "Set-Cookie", WebCookies::sessionCookie({}, 0, secure) },
                      { "Set-Cookie", WebCookies::refreshCookie({}, 0, secure) } },
                    static_cast<Status>(status));
}

/// The one place where a SessionService refusal becomes an HTTP status and OAuth error.
std::pair<int, QString> statusOf(SessionError error, bool tokenEndpoint)
{
    switch (error) {
    case SessionError::BadCredentials:
        return { 401, u"invalid_credentials"_s };
    case SessionError::UserDisabled:
        return tokenEndpoint ? std::pair { 400, u"invalid_grant"_s } : std::pair { 403, u"user_disabled"_s };
    case SessionError::InvalidDevice:
        return { 400, u"invalid_request"_s };
    case SessionError::InvalidGrant:
    case SessionError::RefreshTokenReused:
    case SessionError::SessionRevoked:
    case SessionError::SessionExpired:
        return { 400, u"invalid_grant"_s };
    case SessionError::NoSigningKey:
    case SessionError::StorageFailed:
    case SessionError::Busy:
        return { 503, u"temporarily_unavailable"_s };
    }
    return { 500, u"server_error"_s };
}
} // namespace

std::optional<QHash<QString, QString>> HttpApi::formOf(const HttpRequest &request, HttpResponder &responder)
{
    if (request.body().size() > maximumBodySize)
        return writeError(responder, 413, u"invalid_request"_s, u"the body is larger than 16 KiB"_s), std::nullopt;
    if (!hasContentType(request, "application/x-www-form-urlencoded"))
        return writeError(responder, 400, u"invalid_request"_s, u"send application/x-www-form-urlencoded"_s),
               std::nullopt;
    auto form = FormBody::parse(request.body());
    if (!form)
        return writeError(responder, 400, u"invalid_request"_s, form.error()), std::nullopt;
    return std::move(form).value();
}

std::optional<QJsonObject> HttpApi::jsonObjectOf(const HttpRequest &request, HttpResponder &responder)
{
    auto body = StrictJson::parseObject(request.body());
    if (!body)
        return writeError(responder, 400, u"invalid_request"_s,
                          u"the body must be one JSON object: %1"_s.arg(StrictJson::errorString(body.error()))),
               std::nullopt;
    return std::move(body).value();
}

ClientContext HttpApi::clientOf(const HttpRequest &request)
{
    return ClientContext { request.remoteAddress().toString(),
                           QString::fromUtf8(request.value("user-agent")).left(256) };
}

void HttpApi::handleLogin(const HttpRequest &request, HttpResponder &responder)
{
    if (request.body().size() > maximumBodySize)
        return writeError(responder, 413, u"invalid_request"_s, u"the body is larger than 16 KiB"_s);
    if (!hasContentType(request, "application/json"))
        return writeError(responder, 415, u"invalid_request"_s, u"send application/json"_s);
    const auto body = jsonObjectOf(request, responder);
    if (!body)
        return;
    for (const auto name : { "username"_L1, "password"_L1, "device"_L1 }) {
        if (!body->value(name).isString())
            return writeError(responder, 400, u"invalid_request"_s, u"\"%1\" is required, as a string"_s.arg(name));
    }
    const QJsonValue cookies = body->value("cookies"_L1);
    if (!cookies.isUndefined() && !cookies.isBool())
        return writeError(responder, 400, u"invalid_request"_s, u"\"cookies\" is true or false"_s);
    const QString username = body->value("username"_L1).toString();
    const LoginAttempt attempt = loginAttemptOf(username, request);
    if (const auto wait = loginWait(attempt)) {
        const QJsonObject body429 { { "error"_L1, "slow_down"_L1 },
                                    { "error_description"_L1, u"too many attempts; retry in %1 s"_s.arg(*wait) } };
        responder.write(QJsonDocument(body429), { { "Retry-After", QByteArray::number(*wait) } },
                        HttpResponder::StatusCode::TooManyRequests);
        return;
    }
    // A browser's login (cookies) is also a single login: the authorization endpoint will
    // recognise it by its SLI cookie and let the user into other applications silently.
    const bool web = cookies.toBool();
    const auto single = web && m_services.oidc ? std::optional(m_services.oidc->beginWebLogin()) : std::nullopt;
    const QString device = body->value("device"_L1).toString();
    // The password is checked on the worker pool; the answer follows when it is done.
    auto later = responder.defer();
    m_services.sessions->loginAsync(
        username, body->value("password"_L1).toString().toUtf8(), device, clientOf(request),
        SessionOrigin { single ? single->loginId : QString(), {} },
        [this, later, attempt, username, web, single, device,
         secure = request.isSecure()](const Result<TokenPair, SessionError> &pair) {
            if (!pair) {
                const auto [status, error] = statusOf(pair.error(), false);
                if (pair.error() == SessionError::Busy)
                    return later->write(
                        QJsonDocument(QJsonObject { { "error"_L1, error },
                                                    { "error_description"_L1, "too many logins at once; retry"_L1 } }),
                        { { "Retry-After", "1" } }, Status::ServiceUnavailable);
                return writeError(*later, status, error, sessionErrorCode(pair.error()));
            }
            recordLoginSuccess(attempt);
            const QByteArray deviceCookie = deviceCookieFor(attempt, secure);
            if (!web)
                return writeTokens(*later, *pair, deviceCookie);
            QByteArray sli;
            const SessionPolicy policy = m_services.sessions->policy();
            if (single) {
                m_services.oidc->commitWebLogin(*single, username, device,
                                                QDateTime::currentSecsSinceEpoch() + pair->accessExpiresIn);
                sli = WebCookies::sliCookie(single->cookie, policy.sliCookieTtl.count(), secure);
            }
            writeCookies(*later, *pair, policy.sessionCookieTtl.count(), secure, sli, deviceCookie);
        });
}

std::optional<int> HttpApi::loginWait(const LoginAttempt &attempt)
{
    // Brute force is refused before any password is hashed: a rate per address, then the
    // back-offs of LoginLimits. A known device skips the address's rate: a guesser may share
    // the address (a NAT), and the device has its own back-off.
    const double now = double(m_services.clock->nowMilliseconds()) / 1000.0;
    std::optional<int> wait;
    if (m_services.loginsPerIp && attempt.device.isEmpty())
        wait = m_services.loginsPerIp->take(LoginLimits::networkOf(attempt.address), now);
    if (!wait && m_services.loginLimits)
        wait = m_services.loginLimits->admit(attempt, now);
    if (wait && m_services.rateLimited)
        m_services.rateLimited(u"login"_s);
    return wait;
}

void HttpApi::recordLoginSuccess(const LoginAttempt &attempt)
{
    if (m_services.loginLimits)
        m_services.loginLimits->recordSuccess(attempt, double(m_services.clock->nowMilliseconds()) / 1000.0);
}

LoginAttempt HttpApi::loginAttemptOf(const QString &username, const HttpRequest &request) const
{
    // Counted as the password check will see it: "ALICE" is alice (UserDirectory::canonicalName).
    const auto canonical = m_services.users->canonicalName(username);
    LoginAttempt attempt { canonical.name, canonical.exists, request.remoteAddress().toString(), {} };
    const QByteArray device = WebCookies::find(request.value("cookie"), WebCookies::deviceName, request.isSecure());
    if (m_services.deviceCookies && !device.isEmpty())
        attempt.device = m_services.deviceCookies->verify(device, attempt.account, m_services.clock->nowSeconds())
                             .value_or(QString());
    return attempt;
}

QByteArray HttpApi::deviceCookieFor(const LoginAttempt &attempt, bool secure) const
{
    if (!m_services.deviceCookies || !attempt.accountExists)
        return {};
    const QString id = attempt.device.isEmpty() ? DeviceCookie::newDeviceId() : attempt.device;
    const QByteArray value = m_services.deviceCookies->issue(attempt.account, id, m_services.clock->nowSeconds());
    return WebCookies::deviceCookie(value, m_services.deviceCookies->lifetime().count(), secure);
}

void HttpApi::handleRefreshCookie(const HttpRequest &request, HttpResponder &responder)
{
    const bool secure = request.isSecure();
    if (WebCookies::count(request.value("cookie"), WebCookies::refreshName, request.isSecure()) > 1)
        return writeCookieRefusal(responder, 400, u"invalid_request"_s, u"the refresh cookie is sent more than once"_s,
                                  secure);
    const QByteArray refreshToken
        = WebCookies::find(request.value("cookie"), WebCookies::refreshName, request.isSecure());
    if (refreshToken.isEmpty())
        return writeCookieRefusal(responder, 401, u"invalid_grant"_s, u"no refresh cookie"_s, secure);
    // The same rotation and reuse detection as /oauth/token, and the same re-check of the
    // user's rights (disabled, password changed, session revoked) before a new session cookie.
    // Answered once the rotation is stored, with the others waiting (one sync for all).
    auto later = responder.defer();
    m_services.sessions->refreshGrouped(
        refreshToken, clientOf(request), [this, later, secure](const Result<TokenPair, SessionError> &pair) {
            if (!pair)
                return writeCookieRefusal(*later, 401, u"invalid_grant"_s, sessionErrorCode(pair.error()), secure);
            writeCookies(*later, *pair, m_services.sessions->policy().sessionCookieTtl.count(), secure);
        });
}

void HttpApi::handleLogout(const HttpRequest &request, HttpResponder &responder)
{
    // Logging out also logs the browser out: the cookies go whatever happens next.
    const bool secure = request.isSecure();
    const auto claims = authenticate(request, responder);
    if (!claims)
        return;
    bool everywhere = false;
    if (!request.body().isEmpty()) {
        const auto body = jsonObjectOf(request, responder);
        if (!body)
            return;
        if (body->contains("everywhere"_L1) && !body->value("everywhere"_L1).isBool())
            return writeError(responder, 400, u"invalid_request"_s, u"the body is {\"everywhere\": true|false}"_s);
        everywhere = body->value("everywhere"_L1).toBool();
    }
    if (!claims->local || claims->sessionId.isEmpty())
        return writeError(responder, 400, u"invalid_request"_s, u"this token has no session here to end"_s);
    // Revoked sessions close their WebSockets with 4003, as an admin's revocation does.
    const Revocation revoked = everywhere
        ? m_services.sessions->revokeUser(claims->subject, {}, claims->subject, u"logout_everywhere"_s)
        : m_services.sessions->revokeSession(claims->sessionId, claims->subject, u"logout"_s, clientOf(request));
    const HttpResponder::HeaderList cleared { { "Cache-Control", "no-store" },
                                              { "Set-Cookie", WebCookies::sessionCookie({}, 0, secure) },
                                              { "Set-Cookie", WebCookies::refreshCookie({}, 0, secure) },
                                              { "Set-Cookie", WebCookies::sliCookie({}, 0, secure) } };
    if (!revoked.saved())
        return writeUnsaved(responder, revoked, cleared);
    responder.write(QJsonDocument(QJsonObject { { "revoked"_L1, qint64(revoked.sessionIds.size()) } }), cleared);
}

void HttpApi::writeUnsaved(HttpResponder &responder, const Revocation &revocation, HttpResponder::HeaderList headers)
{
    // In force (tokens refused, sockets closed), not yet on disk: never acknowledged as done.
    headers.append(std::pair<QByteArray, QByteArray>("Retry-After", "1"));
    const QJsonObject body { { "error"_L1, "storage_failed"_L1 },
                             { "error_description"_L1,
                               u"in force, but not saved: %1; it is saved again every second until it is"_s.arg(
                                   revocation.unsaved) },
                             { "revoked"_L1, qint64(revocation.sessionIds.size()) } };
    responder.write(QJsonDocument(body), headers, HttpResponder::StatusCode::ServiceUnavailable);
}

void HttpApi::handleToken(const HttpRequest &request, HttpResponder &responder)
{
    const auto form = formOf(request, responder);
    if (!form)
        return;
    const QString grantType = form->value(u"grant_type"_s);
    if (grantType.isEmpty())
        return writeError(responder, 400, u"invalid_request"_s, u"grant_type is required"_s);
    if (grantType == "authorization_code"_L1 && m_services.oidc)
        return handleCodeGrant(*form, request, responder);
    if (grantType != "refresh_token"_L1)
        return writeError(responder, 400, u"unsupported_grant_type"_s,
                          u"grant_type is authorization_code or refresh_token"_s);
    const QString refreshToken = form->value(u"refresh_token"_s);
    if (refreshToken.isEmpty())
        return writeError(responder, 400, u"invalid_request"_s, u"refresh_token is required"_s);
    // Answered once the rotation is stored, with the others waiting (one sync for all).
    auto later = responder.defer();
    m_services.sessions->refreshGrouped(
        refreshToken.toUtf8(), clientOf(request), [this, later](const Result<TokenPair, SessionError> &pair) {
            if (!pair) {
                const auto [status, error] = statusOf(pair.error(), true);
                return writeError(*later, status, error, sessionErrorCode(pair.error()));
            }
            writeTokens(*later, *pair);
        });
}

void HttpApi::handleRevoke(const HttpRequest &request, HttpResponder &responder)
{
    const auto form = formOf(request, responder);
    if (!form)
        return;
    const QByteArray token = form->value(u"token"_s).toUtf8();
    if (token.isEmpty())
        return writeError(responder, 400, u"invalid_request"_s, u"token is required"_s);
    const ClientContext client = clientOf(request);
    // RFC 7009 §2.2: the answer is 200 whether or not the token was known; the hint only
    // says where to look first, and both kinds are tried.
    Revocation revoked;
    if (token.startsWith("ghr_")) {
        revoked = m_services.sessions->revokeRefreshToken(token, u"client"_s, client);
    } else if (const auto claims = m_services.verifier()->verify(token, std::chrono::system_clock::now());
               claims && claims->local) {
        revoked = m_services.sessions->revokeAccessToken(*claims, claims->subject, client);
    }
    // RFC 7009 §2.2.1: 503 when the revocation could not be completed (here: saved).
    if (!revoked.saved())
        return writeUnsaved(responder, revoked, {});
    responder.write(HttpResponder::StatusCode::Ok);
}

void HttpApi::handleIntrospect(const HttpRequest &request, HttpResponder &responder)
{
    // RFC 7662 §2.1: the caller must be authorised; here that is an admin token (any scope).
    if (!authorizeAdmin(request, responder, AdminScope::Viewer))
        return;
    const auto form = formOf(request, responder);
    if (!form)
        return;
    const QByteArray token = form->value(u"token"_s).toUtf8();
    if (token.isEmpty())
        return writeError(responder, 400, u"invalid_request"_s, u"token is required"_s);
    // RFC 7662 §2.2: anything not currently usable is just {"active": false}, with no reason.
    QJsonObject answer { { "active"_L1, false } };
    if (token.startsWith("ghr_")) {
        if (const auto live = m_services.sessions->liveRefreshToken(token)) {
            answer = QJsonObject { { "active"_L1, true },
                                   { "token_type"_L1, "refresh_token"_L1 },
                                   { "sub"_L1, live->first.username },
                                   { "sid"_L1, live->first.id },
                                   { "device"_L1, live->first.deviceId },
                                   { "iat"_L1, live->second.issuedAt },
                                   { "exp"_L1, live->second.expiresAt } };
        }
    } else if (const auto claims = m_services.verifier()->verify(token, std::chrono::system_clock::now());
               claims && !m_services.sessions->checkAccess(*claims)) {
        answer = QJsonObject { { "active"_L1, true },
                               { "token_type"_L1, "Bearer"_L1 },
                               { "sub"_L1, claims->subject },
                               { "iss"_L1, claims->issuer },
                               { "aud"_L1, QJsonArray::fromStringList(claims->audiences) },
                               { "jti"_L1, claims->jwtId },
                               { "sid"_L1, claims->sessionId },
                               { "client_id"_L1, claims->clientId },
                               { "iat"_L1, claims->issuedAt },
                               { "exp"_L1, claims->expiresAt },
                               { "roles"_L1, QJsonArray::fromStringList(claims->roles) } };
    }
    responder.write(QJsonDocument(answer), { { "Cache-Control", "no-store" } });
}
