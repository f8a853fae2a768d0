#include "oidc/OidcProvider.h"

#include "audit/AuditLog.h"
#include "core/Clock.h"
#include "core/RandomToken.h"
#include "identity/UserDirectory.h"

#include <QCryptographicHash>
#include <QJsonArray>
#include <QLoggingCategory>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QRegularExpression>
#include <QSet>
#include <QUrl>

using namespace Qt::StringLiterals;

Q_LOGGING_CATEGORY(lcOidc, "gatehouse.oidc")

namespace {
constexpr qsizetype maximumParameterLength = 1024;
constexpr int backchannelTimeoutMs = 5000;
const auto backchannelEvent = "http://schemas.openid.net/event/backchannel-logout"_L1;

/// `uri` with `parameters` appended to its query, each name and value percent-encoded.
QString withQuery(const QString &uri, const QList<std::pair<QLatin1StringView, QString>> &parameters)
{
    QString result = uri;
    QChar separator = uri.contains(u'?') ? u'&' : u'?';
    for (const auto &[name, value] : parameters) {
        if (value.isEmpty())
            continue;
        result += separator + name + u'=' + QString::fromLatin1(QUrl::toPercentEncoding(value));
        separator = u'&';
    }
    return result;
}

bool isPrintable(const QString &value)
{
    for (const QChar c : value) {
        if (c.unicode() < 0x20 || c.unicode() == 0x7f)
            return false;
    }
    return true;
}

QString pkceChallenge(const QString &verifier)
{
    return QString::fromLatin1(QCryptographicHash::hash(verifier.toLatin1(), QCryptographicHash::Sha256)
                                   .toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals));
}

AuthorizationAnswer errorPage(const QString &message)
{
    AuthorizationAnswer answer;
    answer.kind = AuthorizationAnswer::Kind::ErrorPage;
    answer.status = 400;
    answer.message = message;
    return answer;
}
} // namespace

OidcProvider::OidcProvider(Parts parts, QObject *parent)
    : QObject(parent)
    , m_parts(std::move(parts))
    , m_network(new QNetworkAccessManager(this))
{
    // A session's access tokens keep its login "connected"; revoking a session ends the login
    // it was opened under (a revoked user must not come back silently).
    connect(m_parts.sessions, &SessionService::sessionOpened, this, [this](const SessionRecord &session) {
        if (!session.loginId.isEmpty())
            m_parts.logins->recordAccessToken(session.loginId, session.accessExpiresAt);
    });
    connect(m_parts.sessions, &SessionService::tokenRefreshed, this,
            [this](const QString &sessionId, qint64 accessExpiresAt) {
                if (const auto session = m_parts.sessionStore->findSession(sessionId);
                    session && !session->loginId.isEmpty())
                    m_parts.logins->recordAccessToken(session->loginId, accessExpiresAt);
            });
    connect(m_parts.sessions, &SessionService::sessionsRevoked, this, &OidcProvider::sessionsRevoked);
    connect(m_parts.sessions, &SessionService::tokensRevokedBefore, this, [this](const UserKey &user) {
        if (user.isLocal()) // single logins are ours alone
            m_parts.logins->endUserLogins(user.subject, m_parts.clock->nowSeconds());
    });
}

void OidcProvider::sessionsRevoked(const QStringList &sessionIds, const QString &reason)
{
    // An application that revokes its own refresh token (RFC 7009, its local logout) leaves the
    // login to the others, and a session that merely expired says nothing against it.
    if (reason == "session_expired"_L1 || reason == "refresh_token_revoked"_L1)
        return;
    QStringList loginIds;
    for (const auto &session : m_parts.sessionStore->findSessions(sessionIds)) {
        if (!session.loginId.isEmpty())
            loginIds.append(session.loginId);
    }
    loginIds.removeDuplicates();
    if (!loginIds.isEmpty())
        m_parts.logins->endLogins(loginIds, m_parts.clock->nowSeconds());
}

Result<AuthorizationRequest, AuthorizationAnswer> OidcProvider::validate(const Parameters &values) const
{
    using Answer = Result<AuthorizationRequest, AuthorizationAnswer>;
    // RFC 6749 §4.1.2.1: without a trustworthy client and redirect URI, nothing is redirected.
    const QString clientId = values.value(u"client_id"_s);
    if (clientId.isEmpty())
        return Answer::failure(errorPage(u"The request names no client (client_id is missing)."_s));
    const auto client = m_parts.clients->find(clientId.left(maximumParameterLength));
    if (!client)
        return Answer::failure(errorPage(u"No client \"%1\" is registered here."_s.arg(clientId.left(64))));
    const QString redirectUri = values.value(u"redirect_uri"_s);
    if (redirectUri.isEmpty())
        return Answer::failure(errorPage(u"The request has no redirect_uri."_s));
    if (!client->allowsRedirect(redirectUri))
        return Answer::failure(errorPage(u"This redirect_uri is not registered for client \"%1\"."_s.arg(clientId)));

    AuthorizationRequest request;
    request.clientId = clientId;
    request.redirectUri = redirectUri;
    request.state = values.value(u"state"_s).left(maximumParameterLength);
    const auto refuse = [&](const QString &error, const QString &description) {
        return Answer::failure(redirectWithError(request, error, description));
    };
    for (auto it = values.cbegin(); it != values.cend(); ++it) {
        if (it.value().size() > maximumParameterLength || !isPrintable(it.value()))
            return refuse(u"invalid_request"_s, u"%1 is too long or has control characters"_s.arg(it.key()));
    }
    if (values.value(u"response_type"_s) != "code"_L1)
        return refuse(u"unsupported_response_type"_s, u"only response_type=code is supported"_s);
    if (!values.value(u"scope"_s).split(u' ').contains(u"openid"_s))
        return refuse(u"invalid_scope"_s, u"scope must include openid"_s);
    static const QRegularExpression challenge(u"^[A-Za-z0-9_-]{43}$"_s);
    if (values.value(u"code_challenge_method"_s) != "S256"_L1
        || !challenge.match(values.value(u"code_challenge"_s)).hasMatch())
        return refuse(u"invalid_request"_s, u"PKCE is required: code_challenge with code_challenge_method=S256"_s);
    const QString prompt = values.value(u"prompt"_s);
    static const QStringList prompts { u""_s, u"none"_s, u"login"_s, u"consent"_s, u"select_account"_s };
    if (!prompts.contains(prompt))
        return refuse(u"invalid_request"_s, u"prompt is none, login, consent or select_account (one of them)"_s);
    request.nonce = values.value(u"nonce"_s);
    request.codeChallenge = values.value(u"code_challenge"_s);
    request.prompt = prompt;
    return request;
}

std::optional<SingleLogin> OidcProvider::loginFor(const QByteArray &sliCookie) const
{
    if (sliCookie.isEmpty() || sliCookie.size() > 128)
        return std::nullopt;
    return m_parts.logins->findLoginByCookie(RandomToken::storedHash(sliCookie));
}

AuthorizationAnswer OidcProvider::authorize(const AuthorizationRequest &request, const QByteArray &sliCookie,
                                            const ClientContext &client)
{
    const qint64 now = m_parts.clock->nowSeconds();
    const auto login = loginFor(sliCookie);
    // Silent re-authentication needs a live SLI whose access token has not expired, for a
    // user who is still enabled and has not changed the password since.
    bool silent = login && login->isUsable(now);
    if (silent) {
        const auto user = m_parts.users->find(login->username);
        silent = user && user->enabled && user->passwordChangedAt <= login->authenticatedAt;
    }
    if (request.prompt == "none"_L1 && !silent)
        return redirectWithError(request, u"login_required"_s, u"the user must log in"_s);
    if (request.prompt == "login"_L1 || request.prompt == "select_account"_L1)
        silent = false;
    if (!silent) {
        AuthorizationAnswer page;
        page.kind = AuthorizationAnswer::Kind::LoginPage;
        page.status = 200;
        page.request = request;
        return page;
    }
    const qint64 sliTtl = m_parts.sessions->policy().sliCookieTtl.count();
    m_parts.logins->extendLogin(login->id, now + sliTtl);
    audit(u"silent_reauthentication"_s, login->username, {}, client,
          { { "client_id"_L1, request.clientId }, { "login_id"_L1, login->id }, { "prompt"_L1, request.prompt } });
    return redirectWithCode(request, *login, sliCookie, sliTtl);
}

void OidcProvider::logIn(const AuthorizationRequest &request, const QString &username, const QByteArray &password,
                         const ClientContext &client, std::function<void(AuthorizationAnswer)> done)
{
    const bool queued = m_parts.sessions->checkPassword(
        username, password, [this, request, username, client, done](const Result<User, UserError> &user) {
            done(loggedIn(request, username, user, client));
        });
    if (!queued) {
        AuthorizationAnswer page;
        page.kind = AuthorizationAnswer::Kind::LoginPage;
        page.status = 503;
        page.message = u"Too many logins at once; please try again in a moment."_s;
        page.request = request;
        done(page);
    }
}

AuthorizationAnswer OidcProvider::loggedIn(const AuthorizationRequest &request, const QString &username,
                                           const Result<User, UserError> &user, const ClientContext &client)
{
    if (!user) {
        const bool disabled = user.error() == UserError::Disabled;
        const QString recorded = UserDirectory::isValidUsername(username) ? username : u"(invalid)"_s;
        audit(u"login_failed"_s, recorded, {}, client,
              { { "reason"_L1, disabled ? "user_disabled"_L1 : "invalid_credentials"_L1 },
                { "client_id"_L1, request.clientId } });
        AuthorizationAnswer page;
        page.kind = AuthorizationAnswer::Kind::LoginPage;
        page.status = disabled ? 403 : 401;
        page.message = disabled ? u"This account is disabled."_s : u"The username or password is wrong."_s;
        page.request = request;
        return page;
    }
    const qint64 now = m_parts.clock->nowSeconds();
    const SessionPolicy policy = m_parts.sessions->policy();
    SingleLogin login { u"l_"_s + RandomToken::generate(16),
                        user->username,
                        {},
                        now,
                        now + policy.sliCookieTtl.count(),
                        now + policy.accessTokenTtl.count(),
                        0 };
    login.deviceId = u"browser "_s + login.id.mid(2, 8);
    const QByteArray cookie = RandomToken::generate(32).toLatin1();
    if (!m_parts.logins->createLogin(login, RandomToken::storedHash(cookie)))
        return redirectWithError(request, u"temporarily_unavailable"_s, u"the login could not be stored"_s);
    audit(u"single_login_started"_s, login.username, {}, client,
          { { "client_id"_L1, request.clientId }, { "login_id"_L1, login.id } });
    return redirectWithCode(request, login, cookie, policy.sliCookieTtl.count());
}

AuthorizationAnswer OidcProvider::redirectWithCode(const AuthorizationRequest &request, const SingleLogin &login,
                                                   const QByteArray &sliCookie, qint64 sliMaxAge)
{
    const qint64 now = m_parts.clock->nowSeconds();
    const QString code = RandomToken::generate(32);
    const AuthorizationCode record {
        request.clientId, request.redirectUri, request.codeChallenge, request.nonce, login.id, now + codeLifetime, 0, {}
    };
    if (!m_parts.logins->createCode(RandomToken::storedHash(code.toLatin1()), record))
        return redirectWithError(request, u"temporarily_unavailable"_s, u"the code could not be stored"_s);
    AuthorizationAnswer answer;
    answer.kind = AuthorizationAnswer::Kind::Redirect;
    answer.status = 302;
    // RFC 9207: the issuer goes with the code, so that a client talking to several providers
    // cannot be tricked into sending this code to another one.
    answer.location = withQuery(request.redirectUri,
                                { { "code"_L1, code }, { "state"_L1, request.state }, { "iss"_L1, m_parts.issuer } });
    answer.sliCookie = sliCookie;
    answer.sliMaxAge = sliMaxAge;
    return answer;
}

AuthorizationAnswer OidcProvider::redirectWithError(const AuthorizationRequest &request, const QString &error,
                                                    const QString &description) const
{
    AuthorizationAnswer answer;
    answer.kind = AuthorizationAnswer::Kind::Redirect;
    answer.status = 302;
    answer.location = withQuery(request.redirectUri,
                                { { "error"_L1, error },
                                  { "error_description"_L1, description },
                                  { "state"_L1, request.state },
                                  { "iss"_L1, m_parts.issuer } });
    return answer;
}

Result<CodeTokens, OAuthError> OidcProvider::redeem(const QHash<QString, QString> &form, const ClientContext &client)
{
    const auto refuse = [](int status, const QString &error, const QString &description) {
        return Result<CodeTokens, OAuthError>::failure(OAuthError { status, error, description });
    };
    for (const auto name : { "code"_L1, "redirect_uri"_L1, "client_id"_L1, "code_verifier"_L1 }) {
        if (form.value(name).isEmpty())
            return refuse(400, u"invalid_request"_s, u"%1 is required"_s.arg(name));
    }
    const QString clientId = form.value(u"client_id"_s);
    if (!m_parts.clients->find(clientId))
        return refuse(401, u"invalid_client"_s, u"unknown client"_s);
    const qint64 now = m_parts.clock->nowSeconds();
    const QString codeHash = RandomToken::storedHash(form.value(u"code"_s).toUtf8());
    const auto reused = [&](const AuthorizationCode &used) {
        // RFC 6749 §4.1.2: a code used twice was stolen; what it produced is revoked.
        if (!used.sessionId.isEmpty())
            m_parts.sessions->revokeSession(used.sessionId, u"system"_s, u"authorization_code_reused"_s, client);
        audit(u"authorization_code_reused"_s, {}, used.sessionId, client, { { "client_id"_L1, clientId } });
        return refuse(400, u"invalid_grant"_s, u"the code was used already; its session is revoked"_s);
    };
    // Checked before it is spent, so that a wrong verifier cannot burn the client's code.
    const auto code = m_parts.logins->findCode(codeHash);
    if (!code)
        return refuse(400, u"invalid_grant"_s, u"unknown or expired code"_s);
    if (code->usedAt != 0)
        return reused(*code);
    if (now >= code->expiresAt)
        return refuse(400, u"invalid_grant"_s, u"the code has expired"_s);
    if (code->clientId != clientId || code->redirectUri != form.value(u"redirect_uri"_s))
        return refuse(400, u"invalid_grant"_s, u"the code was issued to another client or redirect_uri"_s);
    static const QRegularExpression verifierPattern(u"^[A-Za-z0-9._~-]{43,128}$"_s);
    const QString verifier = form.value(u"code_verifier"_s);
    if (!verifierPattern.match(verifier).hasMatch() || pkceChallenge(verifier) != code->codeChallenge)
        return refuse(400, u"invalid_grant"_s, u"code_verifier does not match the code_challenge"_s);
    const auto login = m_parts.logins->findLogin(code->loginId);
    if (!login || login->endedAt != 0)
        return refuse(400, u"invalid_grant"_s, u"the login behind this code has ended"_s);
    const auto spent = m_parts.logins->redeemCode(codeHash, now);
    if (!spent)
        return refuse(503, u"temporarily_unavailable"_s, u"the code could not be redeemed"_s);
    if (spent->usedAt != 0) // another request redeemed it in between
        return reused(*spent);

    auto pair = m_parts.sessions->openForCode(login->username, login->authenticatedAt, login->deviceId, client,
                                              SessionOrigin { login->id, clientId });
    if (!pair) {
        if (pair.error() == SessionError::NoSigningKey || pair.error() == SessionError::StorageFailed)
            return refuse(503, u"temporarily_unavailable"_s, sessionErrorCode(pair.error()));
        return refuse(400, u"invalid_grant"_s, sessionErrorCode(pair.error()));
    }
    m_parts.logins->attachSession(codeHash, pair->sessionId);
    QByteArray id = idToken(*login, clientId, code->nonce);
    if (id.isEmpty())
        return refuse(503, u"temporarily_unavailable"_s, u"no signing key"_s);
    return CodeTokens { std::move(pair).value(), std::move(id) };
}

QByteArray OidcProvider::idToken(const SingleLogin &login, const QString &clientId, const QString &nonce) const
{
    const qint64 now = m_parts.clock->nowSeconds();
    QJsonObject claims { { "iss"_L1, m_parts.issuer },
                         { "sub"_L1, login.username },
                         { "aud"_L1, clientId },
                         { "iat"_L1, now },
                         { "exp"_L1, now + m_parts.sessions->policy().idTokenTtl.count() },
                         { "auth_time"_L1, login.authenticatedAt },
                         { "sid"_L1, login.id } };
    if (!nonce.isEmpty())
        claims.insert("nonce"_L1, nonce);
    return m_parts.sign(QJsonObject { { "typ"_L1, "JWT"_L1 } }, claims);
}

WebLogin OidcProvider::beginWebLogin() const
{
    return WebLogin { u"l_"_s + RandomToken::generate(16), RandomToken::generate(32).toLatin1() };
}

void OidcProvider::commitWebLogin(const WebLogin &login, const QString &username, const QString &deviceId,
                                  qint64 accessExpiresAt)
{
    const qint64 now = m_parts.clock->nowSeconds();
    const SingleLogin record {
        login.loginId,   username, deviceId, now, now + m_parts.sessions->policy().sliCookieTtl.count(),
        accessExpiresAt, 0
    };
    if (!m_parts.logins->createLogin(record, RandomToken::storedHash(login.cookie)))
        qCWarning(lcOidc).noquote() << "the single login of" << username << "could not be stored";
}

LogoutAnswer OidcProvider::endSession(const QByteArray &sliCookie, const QString &postLogoutRedirectUri,
                                      const QString &state, const ClientContext &client)
{
    LogoutAnswer answer;
    if (!postLogoutRedirectUri.isEmpty()) {
        for (const auto &registered : m_parts.clients->list()) {
            if (registered.allowsRedirect(postLogoutRedirectUri)) {
                answer.redirect = withQuery(postLogoutRedirectUri, { { "state"_L1, state } });
                break;
            }
        }
    }
    const auto login = loginFor(sliCookie);
    if (!login)
        return answer;
    answer.username = login->username;
    // Which clients hold sessions of this user, and under which logins, before they go.
    QSet<std::pair<QString, QString>> notified;
    for (const auto &session : m_parts.sessionStore->listSessions(login->username, false)) {
        if (!session.clientId.isEmpty())
            notified.insert({ session.clientId, session.loginId });
    }
    const qint64 now = m_parts.clock->nowSeconds();
    const auto ended = m_parts.logins->endUserLogins(login->username, now);
    const Revocation revocation
        = m_parts.sessions->revokeUser(login->username, {}, login->username, u"single_logout"_s);
    const QStringList &revoked = revocation.sessionIds;
    answer.sessionsRevoked = revoked.size();
    answer.unsaved = revocation.unsaved;
    QStringList clientIds;
    for (const auto &[clientId, loginId] : notified) {
        const auto registered = m_parts.clients->find(clientId);
        if (!registered)
            continue;
        clientIds.append(clientId);
        if (!registered->backchannelLogoutUri.isEmpty())
            sendBackchannelLogout(*registered, login->username, loginId);
        if (!registered->frontchannelLogoutUri.isEmpty())
            answer.frontchannelUris.append(
                withQuery(registered->frontchannelLogoutUri, { { "iss"_L1, m_parts.issuer }, { "sid"_L1, loginId } }));
    }
    clientIds.removeDuplicates();
    audit(u"single_logout"_s, login->username, {}, client,
          { { "login_id"_L1, login->id },
            { "logins_ended"_L1, ended ? qint64(ended->size()) : 0 },
            { "sessions_revoked"_L1, qint64(revoked.size()) },
            { "clients"_L1, QJsonArray::fromStringList(clientIds) } });
    return answer;
}

void OidcProvider::sendBackchannelLogout(const OidcClient &client, const QString &username, const QString &loginId)
{
    const qint64 now = m_parts.clock->nowSeconds();
    const QJsonObject claims { { "iss"_L1, m_parts.issuer },
                               { "aud"_L1, client.id },
                               { "iat"_L1, now },
                               { "exp"_L1, now + 120 },
                               { "jti"_L1, RandomToken::generate(16) },
                               { "sub"_L1, username },
                               { "sid"_L1, loginId },
                               { "events"_L1, QJsonObject { { backchannelEvent, QJsonObject {} } } } };
    const QByteArray token = m_parts.sign(QJsonObject { { "typ"_L1, "logout+jwt"_L1 } }, claims);
    if (token.isEmpty())
        return;
    QNetworkRequest request { QUrl(client.backchannelLogoutUri) };
    request.setHeader(QNetworkRequest::ContentTypeHeader, u"application/x-www-form-urlencoded"_s);
    request.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::ManualRedirectPolicy);
    request.setTransferTimeout(backchannelTimeoutMs);
    QNetworkReply *reply
        = m_network->post(request, "logout_token=" + QUrl::toPercentEncoding(QString::fromLatin1(token)));
    const QString clientId = client.id;
    connect(reply, &QNetworkReply::finished, this, [this, reply, clientId, username, loginId] {
        reply->deleteLater();
        const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        const bool delivered = reply->error() == QNetworkReply::NoError && status >= 200 && status < 300;
        audit(u"backchannel_logout"_s, username, {}, {},
              { { "client_id"_L1, clientId },
                { "login_id"_L1, loginId },
                { "delivered"_L1, delivered },
                { "status"_L1, status },
                { "error"_L1, delivered ? QString() : reply->errorString() } });
        if (!delivered)
            qCWarning(lcOidc).noquote() << "back-channel logout to" << clientId << "failed:" << reply->errorString();
        Q_EMIT backchannelLogoutFinished(clientId, delivered);
    });
}

void OidcProvider::audit(const QString &type, const QString &username, const QString &sessionId,
                         const ClientContext &client, const QJsonObject &detail)
{
    AuditEvent event;
    event.type = type;
    event.actor = username.isEmpty() ? u"anonymous"_s : username;
    event.username = username;
    event.sessionId = sessionId;
    event.remoteAddress = client.remoteAddress;
    event.detail = detail;
    if (const auto appended = m_parts.audit->append(event); !appended)
        qCWarning(lcOidc).noquote() << "audit append failed:" << appended.error();
}

void OidcProvider::purgeExpired()
{
    m_parts.logins->purgeExpired(m_parts.clock->nowSeconds());
}
