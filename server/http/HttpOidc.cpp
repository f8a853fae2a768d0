// HttpApi's OpenID provider endpoints: discovery, the authorization endpoint with its login
// page, the authorization_code grant, and the end-session endpoint (single logout). The
// decisions are OidcProvider's; this file turns them into HTTP and HTML.
#include "http/HttpApi.h"

#include "auth/FormOrigin.h"
#include "auth/FormToken.h"
#include "core/Clock.h"
#include "http/FormBody.h"
#include "http/WebCookies.h"
#include "oidc/OidcProvider.h"
#include "policy/LoginLimits.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QUrl>

using namespace Qt::StringLiterals;

namespace {
constexpr qsizetype maximumQuerySize = 8 * 1024;
constexpr QByteArrayView pageSecurityPolicy = "default-src 'self'; frame-ancestors 'none'";

QString escaped(const QString &text)
{
    return text.toHtmlEscaped();
}

/// A small HTML page in the web client's style. Pages are never cached and never framed.
void writePage(HttpResponder &responder, int status, const QString &title, const QString &body,
               const HttpApi::Headers &extra = {}, QByteArray securityPolicy = pageSecurityPolicy.toByteArray())
{
    const QString html = u"<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                         "<title>%1 — Gatehouse</title>\n<link rel=\"stylesheet\" href=\"/style.css\">\n</head>\n"
                         "<body>\n<header><h1>Gatehouse</h1></header>\n<main>\n%2</main>\n</body>\n</html>\n"_s.arg(
                             escaped(title), body);
    HttpApi::Headers headers { { "Content-Type", "text/html; charset=utf-8" },
                               { "Cache-Control", "no-store" },
                               { "X-Content-Type-Options", "nosniff" },
                               { "Referrer-Policy", "same-origin" },
                               { "Content-Security-Policy", securityPolicy } };
    headers.append(extra);
    HttpApi::writeResponse(responder, status, headers, html.toUtf8());
}

QString hidden(QLatin1StringView name, const QString &value)
{
    return value.isEmpty() ? QString()
                           : u"<input type=\"hidden\" name=\"%1\" value=\"%2\">\n"_s.arg(name, escaped(value));
}

QString loginForm(const AuthorizationRequest &request, const QString &message, const QByteArray &formToken)
{
    QString form = u"<section id=\"authorize-login\">\n<h2>Log in</h2>\n<p>to continue to <strong id=\"client\">"_s
        + escaped(request.clientId) + u"</strong></p>\n"_s;
    if (!message.isEmpty())
        form += u"<p id=\"login-error\" role=\"alert\">%1</p>\n"_s.arg(escaped(message));
    form += u"<form method=\"post\" action=\"/oauth/authorize\">\n"_s;
    form += hidden("client_id"_L1, request.clientId) + hidden("redirect_uri"_L1, request.redirectUri)
        + hidden("response_type"_L1, u"code"_s) + hidden("scope"_L1, u"openid"_s) + hidden("state"_L1, request.state)
        + hidden("nonce"_L1, request.nonce) + hidden("code_challenge"_L1, request.codeChallenge)
        + hidden("code_challenge_method"_L1, u"S256"_s) + hidden("form_token"_L1, QString::fromLatin1(formToken));
    form += u"<label>User name <input id=\"username\" name=\"username\" autocomplete=\"username\" required "
            "autofocus></label>\n<label>Password <input id=\"password\" name=\"password\" type=\"password\" "
            "autocomplete=\"current-password\" required></label>\n<button type=\"submit\">Log in</button>\n"
            "</form>\n</section>\n"_s;
    return form;
}

QString logoutConfirmation(const QString &who, const QString &redirect, const QString &state,
                           const QByteArray &formToken, const QString &message)
{
    QString page = u"<section id=\"logout-confirm\">\n<h2>Log out everywhere?</h2>\n"_s;
    if (!message.isEmpty())
        page += u"<p id=\"logout-error\" role=\"alert\">%1</p>\n"_s.arg(escaped(message));
    return page
        + u"<p>%1 Logging out ends your sessions in every application and on every device.</p>\n"
          "<form method=\"post\" action=\"/oauth/logout\">\n%2%3%4"
          "<button id=\"logout-confirm-button\" type=\"submit\">Log out everywhere</button>\n"
          "</form>\n</section>\n"_s.arg(who, hidden("post_logout_redirect_uri"_L1, redirect), hidden("state"_L1, state),
                                        hidden("form_token"_L1, QString::fromLatin1(formToken)));
}

/// The pages' POSTs must come from the pages (login CSRF): Origin, Sec-Fetch-Site or Referer
/// naming another origin is refused; a request with none must still carry the form's token.
bool crossSite(const HttpRequest &request)
{
    return FormOrigin::judge({ request.value("origin"), request.value("sec-fetch-site"), request.value("referer"),
                               request.value("host") })
        == FormOrigin::Verdict::CrossSite;
}

constexpr QByteArrayView loginPurpose = "login";
constexpr QByteArrayView logoutPurpose = "logout";

/// What a login page's token is bound to: the authorization request it continues.
QStringList bindingOf(const AuthorizationRequest &request)
{
    return { request.clientId, request.redirectUri, request.state, request.nonce, request.codeChallenge };
}

/// One page's anti-forgery pair (FormToken): the nonce cookie, the browser's own when it has
/// a good one (so that two open pages both work), and the token of the page's form.
struct FormGuard {
    QByteArray setCookie;
    QByteArray token;
};

FormGuard guardFor(const FormToken *tokens, const HttpRequest &request, QByteArrayView purpose,
                   const QStringList &binding, qint64 now, bool tls)
{
    if (!tokens)
        return {};
    QByteArray nonce = WebCookies::find(request.value("cookie"), WebCookies::formName, tls);
    if (!FormToken::isNonce(nonce))
        nonce = FormToken::newNonce();
    return { WebCookies::formCookie(nonce, tokens->lifetime().count(), tls),
             tokens->issue(purpose, nonce, binding, now) };
}

/// Why a page's POST is refused, in words for the page; empty when its token is good.
QString formRefusal(const FormToken *tokens, const HttpRequest &request, const QString &token, QByteArrayView purpose,
                    const QStringList &binding, qint64 now, bool tls)
{
    if (!tokens)
        return {};
    const QByteArray nonce = WebCookies::find(request.value("cookie"), WebCookies::formName, tls);
    switch (tokens->check(token.toLatin1(), purpose, nonce, binding, now)) {
    case FormToken::Check::Valid:
        return {};
    case FormToken::Check::Missing:
        return u"The form came without its security token or cookie (are cookies blocked?)."_s;
    case FormToken::Check::Expired:
        return u"The page was open too long."_s;
    case FormToken::Check::Forged:
        return u"The form did not come from this page."_s;
    }
    return u"The form did not come from this page."_s;
}

QString originOf(const QString &uri)
{
    return QUrl(uri).adjusted(QUrl::RemovePath | QUrl::RemoveQuery | QUrl::RemoveFragment).toString();
}
} // namespace

void HttpApi::handleDiscovery(HttpResponder &responder) const
{
    // OpenID Connect Discovery 1.0 §3, and the logout specifications' metadata.
    const QString issuer = m_services.oidc->issuer();
    const auto endpoint = [&issuer](const QString &path) { return QString(issuer + path); };
    const QJsonObject metadata {
        { "issuer"_L1, issuer },
        { "authorization_endpoint"_L1, endpoint(u"/oauth/authorize"_s) },
        { "token_endpoint"_L1, endpoint(u"/oauth/token"_s) },
        { "jwks_uri"_L1, endpoint(u"/.well-known/jwks.json"_s) },
        { "end_session_endpoint"_L1, endpoint(u"/oauth/logout"_s) },
        { "revocation_endpoint"_L1, endpoint(u"/oauth/revoke"_s) },
        { "introspection_endpoint"_L1, endpoint(u"/oauth/introspect"_s) },
        { "userinfo_endpoint"_L1, endpoint(u"/api/me"_s) },
        { "response_types_supported"_L1, QJsonArray::fromStringList({ u"code"_s }) },
        { "response_modes_supported"_L1, QJsonArray::fromStringList({ u"query"_s }) },
        { "grant_types_supported"_L1, QJsonArray::fromStringList({ u"authorization_code"_s, u"refresh_token"_s }) },
        { "subject_types_supported"_L1, QJsonArray::fromStringList({ u"public"_s }) },
        { "id_token_signing_alg_values_supported"_L1, QJsonArray::fromStringList({ m_services.signingAlgorithm }) },
        { "scopes_supported"_L1, QJsonArray::fromStringList({ u"openid"_s }) },
        { "claims_supported"_L1,
          QJsonArray::fromStringList(
              { u"iss"_s, u"sub"_s, u"aud"_s, u"exp"_s, u"iat"_s, u"auth_time"_s, u"nonce"_s, u"sid"_s }) },
        { "token_endpoint_auth_methods_supported"_L1, QJsonArray::fromStringList({ u"none"_s }) },
        { "code_challenge_methods_supported"_L1, QJsonArray::fromStringList({ u"S256"_s }) },
        { "prompt_values_supported"_L1,
          QJsonArray::fromStringList({ u"none"_s, u"login"_s, u"consent"_s, u"select_account"_s }) },
        { "authorization_response_iss_parameter_supported"_L1, true },
        { "backchannel_logout_supported"_L1, true },
        { "backchannel_logout_session_supported"_L1, true },
        { "frontchannel_logout_supported"_L1, true },
        { "frontchannel_logout_session_supported"_L1, true },
    };
    responder.write(QJsonDocument(metadata), { { "Cache-Control", "max-age=300" } });
}

void HttpApi::handleAuthorize(const HttpRequest &request, HttpResponder &responder)
{
    const bool isPost = request.method() == HttpRequest::Method::Post;
    const QByteArray raw = isPost ? request.body() : request.url().query(QUrl::FullyEncoded).toLatin1();
    if (raw.size() > maximumQuerySize)
        return writePage(responder, 413, u"Request too large"_s, u"<p role=\"alert\">The request is too large.</p>"_s);
    auto parameters = FormBody::parse(raw);
    if (!parameters)
        return writePage(responder, 400, u"Bad request"_s,
                         u"<p role=\"alert\">%1.</p>"_s.arg(escaped(parameters.error())));
    // A POST with credentials is the login page's form; one without is an authorization
    // request sent by POST (OIDC Core §3.1.2.1), answered as a GET would be.
    const bool loginAttempt = isPost && (parameters->contains(u"username"_s) || parameters->contains(u"password"_s));
    if (loginAttempt && crossSite(request))
        return writePage(responder, 403, u"Refused"_s,
                         u"<p role=\"alert\">A login form from another site is refused.</p>"_s);
    const ClientContext client = clientOf(request);
    // The password fields are the login page's, never part of the authorization request.
    const QString username = parameters->take(u"username"_s);
    const QString password = parameters->take(u"password"_s);
    const QString formToken = parameters->take(u"form_token"_s);
    const auto checked = m_services.oidc->validate(*parameters);
    const qint64 now = m_services.clock->nowSeconds();
    if (!checked)
        return writeAuthorizeAnswer(responder, request, checked.error(), {});
    if (!loginAttempt)
        return writeAuthorizeAnswer(
            responder, request,
            m_services.oidc->authorize(
                *checked, WebCookies::find(request.value("cookie"), WebCookies::sliName, request.isSecure()), client),
            {});
    // Login CSRF: only the form this server's page gave this browser logs in. A refused form
    // checks no password and costs no attempt.
    const QString refusal = formRefusal(m_services.formTokens, request, formToken, loginPurpose, bindingOf(*checked),
                                        now, request.isSecure());
    if (!refusal.isEmpty())
        return writeLoginPage(responder, request, 403, *checked, refusal + u" Please log in again."_s);
    // The same brute-force defences as /auth/login, on the same counts.
    const LoginAttempt attempt = loginAttemptOf(username, request);
    if (const auto wait = loginWait(attempt)) {
        return writeLoginPage(responder, request, 429, *checked, u"Too many attempts; try again in %1 s."_s.arg(*wait),
                              { { "Retry-After", QByteArray::number(*wait) } });
    }
    // The password is checked on the worker pool; the answer follows when it is done.
    auto later = responder.defer();
    m_services.oidc->logIn(*checked, username, password.toUtf8(), client,
                           [this, later, request, attempt](const AuthorizationAnswer &answer) {
                               QByteArray deviceCookie;
                               if (answer.kind == AuthorizationAnswer::Kind::Redirect) {
                                   recordLoginSuccess(attempt);
                                   deviceCookie = deviceCookieFor(attempt, request.isSecure());
                               }
                               writeAuthorizeAnswer(*later, request, answer, deviceCookie);
                           });
}

void HttpApi::writeLoginPage(HttpResponder &responder, const HttpRequest &request, int status,
                             const AuthorizationRequest &page, const QString &message, Headers extra)
{
    // Every login page carries a fresh anti-forgery pair.
    const FormGuard guard = guardFor(m_services.formTokens, request, loginPurpose, bindingOf(page),
                                     m_services.clock->nowSeconds(), request.isSecure());
    if (!guard.setCookie.isEmpty())
        extra.append({ "Set-Cookie", guard.setCookie });
    writePage(responder, status, u"Log in"_s, loginForm(page, message, guard.token), extra);
}

void HttpApi::writeAuthorizeAnswer(HttpResponder &responder, const HttpRequest &request,
                                   const AuthorizationAnswer &answer, const QByteArray &deviceCookie)
{
    switch (answer.kind) {
    case AuthorizationAnswer::Kind::ErrorPage:
        return writePage(
            responder, answer.status, u"Authorization refused"_s,
            u"<h2>This request cannot be served</h2>\n<p id=\"authorize-error\" role=\"alert\">%1</p>\n"_s.arg(
                escaped(answer.message)));
    case AuthorizationAnswer::Kind::LoginPage:
        return writeLoginPage(responder, request, answer.status, answer.request, answer.message);
    case AuthorizationAnswer::Kind::Redirect: {
        Headers headers { { "Location", answer.location.toUtf8() }, { "Cache-Control", "no-store" } };
        if (!answer.sliCookie.isEmpty())
            headers.append(
                { "Set-Cookie", WebCookies::sliCookie(answer.sliCookie, answer.sliMaxAge, request.isSecure()) });
        if (!deviceCookie.isEmpty())
            headers.append({ "Set-Cookie", deviceCookie });
        writeResponse(responder, 302, headers, {});
        return;
    }
    }
}

void HttpApi::handleCodeGrant(const QHash<QString, QString> &form, const HttpRequest &request, HttpResponder &responder)
{
    const auto tokens = m_services.oidc->redeem(form, clientOf(request));
    if (!tokens)
        return writeError(responder, tokens.error().status, tokens.error().error, tokens.error().description);
    const TokenPair &pair = tokens->pair;
    const QJsonObject body { { "access_token"_L1, QString::fromLatin1(pair.accessToken) },
                             { "token_type"_L1, "Bearer"_L1 },
                             { "expires_in"_L1, pair.accessExpiresIn },
                             { "refresh_token"_L1, QString::fromLatin1(pair.refreshToken) },
                             { "refresh_expires_in"_L1, pair.refreshExpiresIn },
                             { "id_token"_L1, QString::fromLatin1(tokens->idToken) },
                             { "scope"_L1, "openid"_L1 },
                             { "session_id"_L1, pair.sessionId } };
    responder.write(QJsonDocument(body), { { "Cache-Control", "no-store" }, { "Pragma", "no-cache" } });
}

void HttpApi::handleEndSession(const HttpRequest &request, HttpResponder &responder)
{
    const bool isPost = request.method() == HttpRequest::Method::Post;
    const QByteArray raw = isPost ? request.body() : request.url().query(QUrl::FullyEncoded).toLatin1();
    if (raw.size() > maximumQuerySize)
        return writePage(responder, 413, u"Request too large"_s, u"<p role=\"alert\">The request is too large.</p>"_s);
    const auto parameters = FormBody::parse(raw);
    if (!parameters)
        return writePage(responder, 400, u"Bad request"_s,
                         u"<p role=\"alert\">%1.</p>"_s.arg(escaped(parameters.error())));
    const QString redirect = parameters->value(u"post_logout_redirect_uri"_s);
    const QString state = parameters->value(u"state"_s);
    const QByteArray sli = WebCookies::find(request.value("cookie"), WebCookies::sliName, request.isSecure());
    const QStringList binding { redirect, state };
    const qint64 now = m_services.clock->nowSeconds();
    // A GET only asks: logging out is a POST from this page, with the page's anti-forgery
    // token (and the SLI cookie is SameSite=Lax: it does not go with a cross-site POST).
    const auto writeConfirmation = [&](int status, const QString &message) {
        const auto login = m_services.oidc->loginFor(sli);
        const QString who = login && login->endedAt == 0
            ? u"You are signed in as <strong>%1</strong>."_s.arg(escaped(login->username))
            : u"This browser has no Gatehouse login, but you can still end what is left."_s;
        const FormGuard guard
            = guardFor(m_services.formTokens, request, logoutPurpose, binding, now, request.isSecure());
        Headers extra;
        if (!guard.setCookie.isEmpty())
            extra.append({ "Set-Cookie", guard.setCookie });
        writePage(responder, status, u"Log out"_s, logoutConfirmation(who, redirect, state, guard.token, message),
                  extra);
    };
    if (!isPost)
        return writeConfirmation(200, {});
    if (crossSite(request))
        return writePage(responder, 403, u"Refused"_s,
                         u"<p role=\"alert\">A logout form from another site is refused.</p>"_s);
    const QString refusal = formRefusal(m_services.formTokens, request, parameters->value(u"form_token"_s),
                                        logoutPurpose, binding, now, request.isSecure());
    if (!refusal.isEmpty())
        return writeConfirmation(403, refusal + u" Nothing was ended: confirm again to log out."_s);
    const LogoutAnswer answer = m_services.oidc->endSession(sli, redirect, state, clientOf(request));
    if (!answer.unsaved.isEmpty()) {
        // In force (every session is closed and refused), but not yet on disk: not "logged out".
        return writePage(responder, 503, u"Logout not saved"_s,
                         u"<p role=\"alert\">Your sessions are ended, but the server could not save that yet (%1). "
                         "It keeps trying; reload this page to check.</p>"_s.arg(escaped(answer.unsaved)));
    }
    QString body = u"<section id=\"logged-out\">\n<h2>You are logged out</h2>\n<p id=\"logout-summary\">%1</p>\n"_s.arg(
        answer.username.isEmpty()
            ? u"There was no login to end in this browser."_s
            : u"%1: %2 ended."_s.arg(escaped(answer.username),
                                     answer.sessionsRevoked == 1 ? u"1 session"_s
                                                                 : u"%1 sessions"_s.arg(answer.sessionsRevoked)));
    // Front-channel logout (OpenID Connect Front-Channel Logout 1.0): each client's page runs
    // in an iframe here, with the issuer and the login's sid.
    QStringList frameOrigins;
    for (const auto &uri : answer.frontchannelUris) {
        body += u"<iframe class=\"frontchannel\" title=\"logout\" src=\"%1\" hidden></iframe>\n"_s.arg(escaped(uri));
        frameOrigins.append(originOf(uri));
    }
    frameOrigins.removeDuplicates();
    if (!answer.redirect.isEmpty())
        body += u"<p><a id=\"continue\" href=\"%1\">Continue</a></p>\n"_s.arg(escaped(answer.redirect));
    else
        body += u"<p><a href=\"/\">Log in again</a></p>\n"_s;
    body += u"</section>\n"_s;
    Headers headers {
        { "Set-Cookie", WebCookies::sliCookie({}, 0, request.isSecure()) },
        { "Set-Cookie", WebCookies::sessionCookie({}, 0, request.isSecure()) },
        { "Set-Cookie", WebCookies::refreshCookie({}, 0, request.isSecure()) },
    };
    if (!answer.redirect.isEmpty())
        headers.append({ "Refresh", "3; url=" + QUrl(answer.redirect).toEncoded() });
    QByteArray policy = pageSecurityPolicy.toByteArray();
    if (!frameOrigins.isEmpty())
        policy += "; frame-src " + frameOrigins.join(u' ').toUtf8();
    writePage(responder, 200, u"Logged out"_s, body, headers, policy);
}
