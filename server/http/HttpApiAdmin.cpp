// HttpApi's administration routes (/admin/...): only with the admin token, and by default
// only from loopback. Each action is audited with the admin as actor, and answers with what
// it did and how long it took. A user is named by `user`, and by `issuer` too when it is an
// external issuer's: without `issuer`, "alice" is our own alice and never theirs.
#include "http/HttpApi.h"

#include "FeedCodec.h"
#include "admin/AdminService.h"
#include "audit/AuditLog.h"
#include "identity/UserDirectory.h"
#include "secrets/AdminToken.h"
#include "sessions/SessionService.h"
#include "ws/ConnectionHub.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QUrlQuery>

using namespace Qt::StringLiterals;

namespace {
constexpr qsizetype maximumBodySize = 64 * 1024;
constexpr qsizetype maximumSegmentLength = 256;

QJsonObject sessionToJson(const SessionRecord &session)
{
    return QJsonObject { { "id"_L1, session.id },
                         { "user"_L1, session.username },
                         { "device"_L1, session.deviceId },
                         { "remote_address"_L1, session.remoteAddress },
                         { "user_agent"_L1, session.userAgent },
                         { "created_at"_L1, session.createdAt },
                         { "last_refresh_at"_L1, session.lastRefreshAt },
                         { "expires_at"_L1, session.absoluteExpiresAt },
                         { "revoked_at"_L1, session.revokedAt == 0 ? QJsonValue() : QJsonValue(session.revokedAt) },
                         { "revoke_reason"_L1, session.revokeReason } };
}

/// Whether a user is online, on how many devices, with how many connections.
QJsonObject presenceToJson(const QList<ConnectionInfo> &live)
{
    QSet<QString> devices;
    for (const auto &connection : live)
        devices.insert(connection.deviceId);
    return QJsonObject { { "online"_L1, !live.isEmpty() },
                         { "devices_online"_L1, devices.size() },
                         { "connections"_L1, live.size() } };
}

} // namespace

HttpApi::AdminCheck HttpApi::adminCheck(const HttpRequest &request) const
{
    const auto tokens = m_services.adminTokens ? m_services.adminTokens->current() : nullptr;
    if (!tokens || tokens->isEmpty() || !m_services.sessions || !m_services.connections || !m_services.admin)
        return { AdminRefusal::Unavailable, std::nullopt };
    if (!m_services.adminFromAnywhere && !request.remoteAddress().isLoopback())
        return { AdminRefusal::NotLoopback, std::nullopt };
    const QByteArray authorization = request.value("authorization").trimmed();
    const bool bearer = authorization.size() > 7 && authorization.first(7).toLower() == "bearer ";
    auto identity = bearer ? tokens->identify(authorization.sliced(7).trimmed()) : std::nullopt;
    if (!identity)
        return { AdminRefusal::NoToken, std::nullopt };
    return { AdminRefusal::None, std::move(identity) };
}

std::optional<AdminIdentity> HttpApi::authorizeAdmin(const HttpRequest &request, HttpResponder &responder,
                                                     AdminScope needed)
{
    AdminCheck check = adminCheck(request);
    switch (check.refusal) {
    case AdminRefusal::None:
        if (!check.identity->allows(needed)) {
            // RFC 6750 §3.1: the token is good, its scope is not enough.
            responder.write(
                QJsonDocument(
                    QJsonObject { { "error"_L1, "insufficient_scope"_L1 },
                                  { "error_description"_L1, AdminScopes::refusal(check.identity->scope, needed) } }),
                { { "WWW-Authenticate", "Bearer realm=\"gatehouse-admin\", error=\"insufficient_scope\"" } },
                HttpResponder::StatusCode::Forbidden);
            return std::nullopt;
        }
        return std::move(check.identity);
    case AdminRefusal::Unavailable:
        writeError(responder, 503, u"unavailable"_s, u"the admin API is not available"_s);
        return std::nullopt;
    case AdminRefusal::NotLoopback:
        writeError(responder, 403, u"forbidden"_s, u"the admin API answers loopback clients only"_s);
        return std::nullopt;
    case AdminRefusal::NoToken:
        responder.write(QJsonDocument(QJsonObject { { "error"_L1, "invalid_token"_L1 },
                                                    { "error_description"_L1, "an admin token is required"_L1 } }),
                        { { "WWW-Authenticate", "Bearer realm=\"gatehouse-admin\"" } },
                        HttpResponder::StatusCode::Unauthorized);
        return std::nullopt;
    }
    Q_UNREACHABLE();
    return std::nullopt;
}

AdminScope HttpApi::scopeNeeded(const HttpRequest &request, const QStringList &path)
{
    const auto method = request.method();
    if (method == HttpRequest::Method::Get || method == HttpRequest::Method::Head)
        return AdminScope::Viewer;
    if (adminCommandOf(request, path)
        || (method == HttpRequest::Method::Post && path == QStringList { u"broadcast"_s }))
        return AdminScope::Operator;
    return AdminScope::Full;
}

std::optional<QStringList> HttpApi::adminPathOf(const HttpRequest &request)
{
    QStringList segments;
    for (const auto &raw : request.url().path(QUrl::FullyEncoded).split(u'/', Qt::SkipEmptyParts)) {
        const QString segment = QUrl::fromPercentEncoding(raw.toUtf8());
        if (segment.size() > maximumSegmentLength)
            return std::nullopt;
        segments.append(segment);
    }
    return segments.mid(1);
}

std::optional<AdminCommand> HttpApi::adminCommandOf(const HttpRequest &request, const QStringList &path)
{
    using Kind = AdminCommand::Kind;
    if (request.method() != HttpRequest::Method::Post || path.size() < 3 || path.size() > 4)
        return std::nullopt;
    const QUrlQuery query(request.url());
    const QString issuer = query.queryItemValue(u"issuer"_s, QUrl::FullyDecoded);
    if (query.hasQueryItem(u"issuer"_s) && issuer.isEmpty())
        return std::nullopt; // routeAdmin says why
    AdminCommand command;
    if (path.size() == 4) {
        if (path[0] != "devices"_L1 || path[3] != "disconnect"_L1)
            return std::nullopt;
        command.kind = Kind::DisconnectDevice;
        command.user = UserKey { issuer, path[1] };
        command.deviceId = path[2];
        return command;
    }
    if (path[0] == "connections"_L1 && path[2] == "disconnect"_L1) {
        bool ok = false;
        command.connectionId = path[1].toULongLong(&ok);
        if (!ok)
            return std::nullopt;
        command.kind = Kind::DisconnectConnection;
        return command;
    }
    if (path[0] == "sessions"_L1 && path[2] == "revoke"_L1) {
        command.kind = Kind::RevokeSession;
        command.sessionId = path[1];
        return command;
    }
    if (path[0] != "users"_L1)
        return std::nullopt;
    command.user = UserKey { issuer, path[1] };
    if (path[2] == "disconnect"_L1)
        command.kind = Kind::DisconnectUser;
    else if (path[2] == "revoke"_L1)
        command.kind = Kind::RevokeUser;
    else if (path[2] == "revoke-before"_L1)
        command.kind = Kind::RevokeIssuedBefore;
    else
        return std::nullopt;
    return command;
}

std::optional<HttpDispatcher::Handler> HttpApi::expediteAdmin(const HttpRequest &request)
{
    // Exactly the requests handleAdmin will carry out: a refused one must not act here, nor
    // one whose token may only watch.
    const AdminCheck check = adminCheck(request);
    if (check.refusal != AdminRefusal::None || request.body().size() > maximumBodySize)
        return std::nullopt;
    const auto path = adminPathOf(request);
    const auto command = path ? adminCommandOf(request, *path) : std::nullopt;
    if (!command || !check.identity->allows(AdminScope::Operator))
        return std::nullopt;
    std::shared_ptr<const AdminEffect> effect = m_services.admin->takeEffect(*command);
    return [this, effect](const HttpRequest &urgent, HttpDispatcher::Reply reply) {
        HttpResponder responder(std::move(reply));
        handleAdmin(urgent, responder, effect.get());
    };
}

void HttpApi::handleAdmin(const HttpRequest &request, HttpResponder &responder, const AdminEffect *effect)
{
    const auto path = adminPathOf(request);
    const auto admin = authorizeAdmin(request, responder, path ? scopeNeeded(request, *path) : AdminScope::Viewer);
    if (!admin)
        return;
    if (request.body().size() > maximumBodySize)
        return writeError(responder, 413, u"invalid_request"_s, u"the body is larger than 64 KiB"_s);
    if (!path)
        return writeError(responder, 414, u"invalid_request"_s, u"a path segment is too long"_s);
    if (!routeAdmin(request, responder, *path, *admin, effect))
        writeError(responder, 404, u"not_found"_s, u"no admin resource at %1"_s.arg(request.url().path()));
}

bool HttpApi::routeAdmin(const HttpRequest &request, HttpResponder &responder, const QStringList &path,
                         const AdminIdentity &identity, const AdminEffect *effect)
{
    const bool get = request.method() == HttpRequest::Method::Get;
    const bool post = request.method() == HttpRequest::Method::Post;
    const bool put = request.method() == HttpRequest::Method::Put;
    const QUrlQuery query(request.url());
    const QString user = query.queryItemValue(u"user"_s, QUrl::FullyDecoded);
    const QString issuer = query.queryItemValue(u"issuer"_s, QUrl::FullyDecoded);
    if (query.hasQueryItem(u"issuer"_s) && (issuer.isEmpty() || (user.isEmpty() && path.size() == 1)))
        return writeError(responder, 400, u"invalid_request"_s, u"issuer names the issuer of a user"_s), true;
    // The user a listing asks for, or the one a POST /admin/users/{user}/… or
    // /admin/devices/{user}/… acts on.
    const UserKey target { issuer, path.size() > 1 ? path[1] : user };
    auto &sessions = *m_services.sessions;
    auto &connections = *m_services.connections;

    if (get && path == QStringList { u"users"_s }) {
        QJsonArray users;
        for (const auto &record : m_services.users->list()) {
            QJsonObject entry = presenceToJson(connections.connections(UserKey::local(record.username)));
            entry.insert("username"_L1, record.username);
            entry.insert("issuer"_L1, QJsonValue());
            entry.insert("display_name"_L1, record.displayName);
            entry.insert("roles"_L1, QJsonArray::fromStringList(record.roles));
            entry.insert("enabled"_L1, record.enabled);
            users.append(entry);
        }
        // An external issuer's users are not in the directory: they are listed while connected.
        QMap<QString, QList<ConnectionInfo>> external;
        for (const auto &connection : connections.connections()) {
            if (!connection.user.isLocal())
                external[connection.user.toString()].append(connection);
        }
        for (const auto &live : std::as_const(external)) {
            QJsonObject entry = presenceToJson(live);
            entry.insert("username"_L1, live.first().user.subject);
            entry.insert("issuer"_L1, live.first().user.issuer);
            entry.insert("display_name"_L1, live.first().user.displayName());
            users.append(entry);
        }
        responder.write(QJsonDocument(QJsonObject { { "users"_L1, users } }));
        return true;
    }
    if (get && path == QStringList { u"sessions"_s }) {
        QJsonArray list;
        // Sessions are ours alone: an external issuer's user has none here.
        for (const auto &session : target.isLocal() ? sessions.listSessions(user) : QList<SessionRecord> {})
            list.append(sessionToJson(session));
        responder.write(QJsonDocument(QJsonObject { { "sessions"_L1, list } }));
        return true;
    }
    if (get && path == QStringList { u"status"_s }) {
        // What `gatehoused status` prints: the statistics the console samples, and who answers.
        const ServerStatistics now = m_services.admin->statistics();
        QJsonObject body = FeedCodec::toJson(now);
        body.insert("version"_L1, QCoreApplication::applicationVersion());
        body.insert("pid"_L1, QCoreApplication::applicationPid());
        body.insert("uptime_seconds"_L1, std::max<qint64>(0, (now.sampledAtMs - now.startedAtMs) / 1000));
        responder.write(QJsonDocument(body));
        return true;
    }
    if (get && path == QStringList { u"connections"_s }) {
        QJsonArray list;
        for (const auto &connection : connections.connections(target))
            list.append(FeedCodec::toJson(connection)); // as the admin feed writes it
        responder.write(QJsonDocument(QJsonObject { { "connections"_L1, list } }));
        return true;
    }
    if (get && path == QStringList { u"audit"_s }) {
        AuditLog::Filter filter;
        filter.sinceMs = query.queryItemValue(u"since"_s).toLongLong();
        filter.actor = query.queryItemValue(u"actor"_s, QUrl::FullyDecoded);
        filter.username = target.toString();
        filter.type = query.queryItemValue(u"type"_s, QUrl::FullyDecoded);
        QJsonArray events;
        for (const auto &event : m_services.audit->query(filter))
            events.append(AuditLog::toJson(event));
        responder.write(QJsonDocument(QJsonObject { { "events"_L1, events } }));
        return true;
    }
    const AdminActor actor { identity.actor(), request.remoteAddress().toString() };
    auto &admin = *m_services.admin;
    if ((get || put) && path == QStringList { u"policy"_s }) {
        if (put) {
            const auto body = jsonObjectOf(request, responder);
            if (!body)
                return true;
            const auto policy = SessionPolicy::fromJson(*body, sessions.policy());
            const auto applied = policy ? admin.setPolicy(*policy, actor) : policy;
            if (!applied)
                return writeError(responder, 400, u"invalid_policy"_s, applied.error()), true;
        }
        responder.write(QJsonDocument(sessions.policy().toJson()));
        return true;
    }
    if ((get || put) && path == QStringList { u"limits"_s }) {
        if (put) {
            const auto body = jsonObjectOf(request, responder);
            if (!body)
                return true;
            const auto limits = ConnectionLimits::fromJson(*body, admin.limits());
            const auto applied = limits ? admin.setLimits(*limits, actor) : limits;
            if (!applied)
                return writeError(responder, 400, u"invalid_limits"_s, applied.error()), true;
        }
        responder.write(QJsonDocument(admin.limits().toJson()));
        return true;
    }
    if (!post)
        return false;

    // POST actions: disconnections (4000, tokens untouched) and revocations (4003).
    const auto respond = [&](const AdminOutcome &outcome, QLatin1StringView what) {
        QJsonObject body { { what, outcome.affected }, { "elapsed_ms"_L1, outcome.elapsedMs } };
        if (what == "revoked"_L1)
            body.insert("closed"_L1, outcome.closed);
        if (!outcome.unsaved.isEmpty()) {
            // Nothing is acknowledged that is not on disk: in force here, and said so.
            body.insert("error"_L1, "storage_failed"_L1);
            body.insert("error_description"_L1, outcome.error);
            responder.write(QJsonDocument(body), { { "Retry-After", "1" } },
                            HttpResponder::StatusCode::ServiceUnavailable);
            return true;
        }
        responder.write(QJsonDocument(body));
        return true;
    };
    if (path.size() == 3 && path[0] == "connections"_L1 && path[2] == "disconnect"_L1) {
        bool ok = false;
        path[1].toULongLong(&ok);
        if (!ok)
            return writeError(responder, 400, u"invalid_request"_s, u"a connection id is a number"_s), true;
    }
    if (const auto command = adminCommandOf(request, path)) {
        using Kind = AdminCommand::Kind;
        const AdminOutcome outcome = admin.perform(*command, actor, effect);
        const bool revocation = command->kind == Kind::RevokeSession || command->kind == Kind::RevokeUser
            || command->kind == Kind::RevokeIssuedBefore;
        if (command->kind == Kind::RevokeUser && !outcome.ok() && outcome.unsaved.isEmpty())
            return writeError(responder, 400, u"invalid_request"_s, outcome.error), true;
        return respond(outcome, revocation ? "revoked"_L1 : "closed"_L1);
    }
    if (path == QStringList { u"tls"_s, u"reload"_s }) {
        const AdminOutcome outcome = admin.reloadTls(actor);
        if (!outcome.ok())
            return writeError(responder, 400, u"tls_reload_refused"_s, outcome.error), true;
        const ServerStatistics now = admin.statistics();
        responder.write(QJsonDocument(QJsonObject {
            { "reloaded"_L1, true },
            { "subject"_L1, now.tlsSubject },
            { "names"_L1, QJsonArray::fromStringList(now.tlsNames) },
            { "fingerprint"_L1, now.tlsFingerprint },
            { "not_after"_L1, QDateTime::fromMSecsSinceEpoch(now.tlsNotAfterMs, Qt::UTC).toString(Qt::ISODate) } }));
        return true;
    }
    if (path.size() == 3 && path[0] == "users"_L1 && path[2] == "password"_L1) {
        // A new password ends the user's sessions (continuous validation) and single logins.
        if (!target.isLocal())
            return writeError(responder, 400, u"invalid_request"_s,
                              u"an external issuer's user has no password here"_s),
                   true;
        const auto body = jsonObjectOf(request, responder);
        if (!body)
            return true;
        if (!body->value("password"_L1).isString() || body->size() != 1)
            return writeError(responder, 400, u"invalid_request"_s, u"send {\"password\": \"…\"}"_s), true;
        const auto changed = admin.setPassword(path[1], body->value("password"_L1).toString().toUtf8(), actor);
        if (!changed)
            return writeError(responder, 400, u"invalid_request"_s, changed.error()), true;
        responder.write(QJsonDocument(QJsonObject { { "username"_L1, changed->username } }));
        return true;
    }
    if (path == QStringList { u"broadcast"_s }) {
        const auto body = jsonObjectOf(request, responder);
        if (!body)
            return true;
        // Without "user", to everyone; "issuer" names the issuer of an external "user".
        if (!body->contains("payload"_L1) || (body->contains("user"_L1) && !body->value("user"_L1).isString())
            || (body->contains("issuer"_L1)
                && (!body->value("issuer"_L1).isString() || body->value("issuer"_L1).toString().isEmpty()
                    || body->value("user"_L1).toString().isEmpty())))
            return writeError(responder, 400, u"invalid_request"_s,
                              u"send {\"user\"?: name, \"issuer\"?: iss, \"payload\": …}"_s),
                   true;
        const UserKey receiver { body->value("issuer"_L1).toString(), body->value("user"_L1).toString() };
        return respond(admin.broadcast(receiver, body->value("payload"_L1), actor), "delivered"_L1);
    }
    return false;
}
