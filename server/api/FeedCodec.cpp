#include "FeedCodec.h"

using namespace Qt::StringLiterals;

namespace {
/// Reads members of one object, remembering the first that has the wrong type.
class Reader {
public:
    explicit Reader(const QJsonObject &object)
        : m_object(object)
    {
    }

    void text(QLatin1StringView name, QString &into)
    {
        const QJsonValue value = m_object.value(name);
        if (value.isUndefined() || value.isNull())
            return;
        if (!value.isString())
            return wrong(name, "a string");
        into = value.toString();
    }
    void texts(QLatin1StringView name, QStringList &into)
    {
        const QJsonValue value = m_object.value(name);
        if (value.isUndefined())
            return;
        if (!value.isArray())
            return wrong(name, "a list of strings");
        QStringList read;
        for (const auto item : value.toArray()) {
            if (!item.isString())
                return wrong(name, "a list of strings");
            read.append(item.toString());
        }
        into = read;
    }
    template<typename Integer> void number(QLatin1StringView name, Integer &into)
    {
        const QJsonValue value = m_object.value(name);
        if (value.isUndefined())
            return;
        // Whole numbers within what a double holds exactly (2^53): ids, counters, times.
        const double number = value.toDouble(-1);
        constexpr double largest = 9007199254740992.0;
        if (!value.isDouble() || number != double(qint64(number)) || number > largest
            || (number < 0 && !std::is_signed_v<Integer>) || number < -largest)
            return wrong(name, "a whole number");
        into = Integer(qint64(number));
    }
    void flag(QLatin1StringView name, bool &into)
    {
        const QJsonValue value = m_object.value(name);
        if (value.isUndefined())
            return;
        if (!value.isBool())
            return wrong(name, "true or false");
        into = value.toBool();
    }
    void object(QLatin1StringView name, QJsonObject &into)
    {
        const QJsonValue value = m_object.value(name);
        if (value.isUndefined())
            return;
        if (!value.isObject())
            return wrong(name, "an object");
        into = value.toObject();
    }

    template<typename T> Result<T, QString> result(T value) const
    {
        if (!m_error.isEmpty())
            return fail(m_error);
        return value;
    }

private:
    void wrong(QLatin1StringView name, const char *what)
    {
        if (m_error.isEmpty())
            m_error = u"\"%1\" is not %2"_s.arg(name, QLatin1StringView(what));
    }

    const QJsonObject &m_object;
    QString m_error;
};

QJsonValue issuerOf(const UserKey &user)
{
    return user.isLocal() ? QJsonValue() : QJsonValue(user.issuer);
}
} // namespace

QJsonObject FeedCodec::toJson(const User &user)
{
    return QJsonObject { { "id"_L1, user.id },
                         { "username"_L1, user.username },
                         { "display_name"_L1, user.displayName },
                         { "roles"_L1, QJsonArray::fromStringList(user.roles) },
                         { "enabled"_L1, user.enabled },
                         { "password_changed_at"_L1, user.passwordChangedAt },
                         { "created_at"_L1, user.createdAt },
                         { "updated_at"_L1, user.updatedAt } };
}

Result<User, QString> FeedCodec::userFrom(const QJsonObject &object)
{
    User user;
    Reader read(object);
    read.number("id"_L1, user.id);
    read.text("username"_L1, user.username);
    read.text("display_name"_L1, user.displayName);
    read.texts("roles"_L1, user.roles);
    read.flag("enabled"_L1, user.enabled);
    read.number("password_changed_at"_L1, user.passwordChangedAt);
    read.number("created_at"_L1, user.createdAt);
    read.number("updated_at"_L1, user.updatedAt);
    if (user.username.isEmpty())
        return fail(u"a user without a username"_s);
    return read.result(user);
}

QJsonObject FeedCodec::toJson(const SessionRecord &session)
{
    return QJsonObject { { "id"_L1, session.id },
                         { "user"_L1, session.username },
                         { "device"_L1, session.deviceId },
                         { "user_agent"_L1, session.userAgent },
                         { "remote_address"_L1, session.remoteAddress },
                         { "created_at"_L1, session.createdAt },
                         { "last_refresh_at"_L1, session.lastRefreshAt },
                         { "expires_at"_L1, session.absoluteExpiresAt },
                         { "access_expires_at"_L1, session.accessExpiresAt },
                         { "refresh_expires_at"_L1, session.refreshExpiresAt },
                         { "revoked_at"_L1, session.revokedAt },
                         { "revoke_reason"_L1, session.revokeReason },
                         { "login_id"_L1, session.loginId },
                         { "client_id"_L1, session.clientId } };
}

Result<SessionRecord, QString> FeedCodec::sessionFrom(const QJsonObject &object)
{
    SessionRecord session;
    Reader read(object);
    read.text("id"_L1, session.id);
    read.text("user"_L1, session.username);
    read.text("device"_L1, session.deviceId);
    read.text("user_agent"_L1, session.userAgent);
    read.text("remote_address"_L1, session.remoteAddress);
    read.number("created_at"_L1, session.createdAt);
    read.number("last_refresh_at"_L1, session.lastRefreshAt);
    read.number("expires_at"_L1, session.absoluteExpiresAt);
    read.number("access_expires_at"_L1, session.accessExpiresAt);
    read.number("refresh_expires_at"_L1, session.refreshExpiresAt);
    read.number("revoked_at"_L1, session.revokedAt);
    read.text("revoke_reason"_L1, session.revokeReason);
    read.text("login_id"_L1, session.loginId);
    read.text("client_id"_L1, session.clientId);
    if (session.id.isEmpty())
        return fail(u"a session without an id"_s);
    return read.result(session);
}

QJsonObject FeedCodec::toJson(const ConnectionInfo &connection)
{
    return QJsonObject { { "id"_L1, QString::number(connection.id) },
                         { "user"_L1, connection.user.subject },
                         { "issuer"_L1, issuerOf(connection.user) },
                         { "device"_L1, connection.deviceId },
                         { "session_id"_L1, connection.sessionId },
                         { "remote_address"_L1, connection.remoteAddress },
                         { "user_agent"_L1, connection.userAgent },
                         { "connected_at_ms"_L1, connection.connectedAtMs },
                         { "last_activity_at_ms"_L1, connection.lastActivityAtMs },
                         { "access_expires_at"_L1, connection.accessExpiresAt },
                         { "via_cookie"_L1, connection.viaCookie },
                         { "messages_in"_L1, qint64(connection.messagesIn) },
                         { "messages_out"_L1, qint64(connection.messagesOut) },
                         { "bytes_in"_L1, qint64(connection.bytesIn) },
                         { "bytes_out"_L1, qint64(connection.bytesOut) },
                         { "close_code"_L1, connection.closeCode },
                         { "closed_at_ms"_L1, connection.closedAtMs } };
}

Result<ConnectionInfo, QString> FeedCodec::connectionFrom(const QJsonObject &object)
{
    ConnectionInfo connection;
    Reader read(object);
    QString id;
    read.text("id"_L1, id); // a string: 64-bit ids do not survive a double
    bool ok = false;
    connection.id = id.toULongLong(&ok);
    if (!ok)
        return fail(u"a connection's \"id\" is a number in a string"_s);
    read.text("user"_L1, connection.user.subject);
    read.text("issuer"_L1, connection.user.issuer);
    read.text("device"_L1, connection.deviceId);
    read.text("session_id"_L1, connection.sessionId);
    read.text("remote_address"_L1, connection.remoteAddress);
    read.text("user_agent"_L1, connection.userAgent);
    read.number("connected_at_ms"_L1, connection.connectedAtMs);
    read.number("last_activity_at_ms"_L1, connection.lastActivityAtMs);
    read.number("access_expires_at"_L1, connection.accessExpiresAt);
    read.flag("via_cookie"_L1, connection.viaCookie);
    read.number("messages_in"_L1, connection.messagesIn);
    read.number("messages_out"_L1, connection.messagesOut);
    read.number("bytes_in"_L1, connection.bytesIn);
    read.number("bytes_out"_L1, connection.bytesOut);
    read.number("close_code"_L1, connection.closeCode);
    read.number("closed_at_ms"_L1, connection.closedAtMs);
    return read.result(connection);
}

QJsonObject FeedCodec::toJson(const SigningKeyInfo &key)
{
    return QJsonObject { { "kid"_L1, key.keyId },
                         { "alg"_L1, key.algorithm },
                         { "created_at"_L1, key.createdAt },
                         { "retired_at"_L1, key.retiredAt },
                         { "verify_until"_L1, key.verifyUntil },
                         { "active"_L1, key.active } };
}

Result<SigningKeyInfo, QString> FeedCodec::signingKeyFrom(const QJsonObject &object)
{
    SigningKeyInfo key;
    Reader read(object);
    read.text("kid"_L1, key.keyId);
    read.text("alg"_L1, key.algorithm);
    read.number("created_at"_L1, key.createdAt);
    read.number("retired_at"_L1, key.retiredAt);
    read.number("verify_until"_L1, key.verifyUntil);
    read.flag("active"_L1, key.active);
    return read.result(key);
}

QJsonObject FeedCodec::toJson(const ServerStatistics &statistics)
{
    QJsonObject refused;
    for (auto it = statistics.handshakesRefused.cbegin(); it != statistics.handshakesRefused.cend(); ++it)
        refused.insert(it.key(), qint64(it.value()));
    return QJsonObject { { "sampled_at_ms"_L1, statistics.sampledAtMs },
                         { "started_at_ms"_L1, statistics.startedAtMs },
                         { "listen_addresses"_L1, QJsonArray::fromStringList(statistics.listenAddresses) },
                         { "tls"_L1, statistics.tls },
                         { "tls_subject"_L1, statistics.tlsSubject },
                         { "tls_names"_L1, QJsonArray::fromStringList(statistics.tlsNames) },
                         { "tls_fingerprint"_L1, statistics.tlsFingerprint },
                         { "tls_not_after_ms"_L1, statistics.tlsNotAfterMs },
                         { "tls_problem"_L1, statistics.tlsProblem },
                         { "tls_reloadable"_L1, statistics.tlsReloadable },
                         { "connections"_L1, statistics.connections },
                         { "active_sessions"_L1, statistics.activeSessions },
                         { "handshakes_accepted"_L1, qint64(statistics.handshakesAccepted) },
                         { "handshakes_refused"_L1, refused },
                         { "logins_succeeded"_L1, qint64(statistics.loginsSucceeded) },
                         { "logins_failed"_L1, qint64(statistics.loginsFailed) },
                         { "refreshes"_L1, qint64(statistics.refreshes) },
                         { "refresh_token_reuses"_L1, qint64(statistics.refreshTokenReuses) },
                         { "revocations"_L1, qint64(statistics.revocations) },
                         { "max_connections"_L1, statistics.maximumConnections },
                         { "max_connections_per_user"_L1, statistics.maximumConnectionsPerUser },
                         { "max_message_size"_L1, statistics.maximumMessageSize },
                         { "handshake_timeout_ms"_L1, statistics.handshakeTimeoutMs },
                         { "io_threads"_L1, statistics.ioThreads },
                         { "inspect_payloads"_L1, statistics.inspectPayloads } };
}

Result<ServerStatistics, QString> FeedCodec::statisticsFrom(const QJsonObject &object)
{
    ServerStatistics statistics;
    Reader read(object);
    read.number("sampled_at_ms"_L1, statistics.sampledAtMs);
    read.number("started_at_ms"_L1, statistics.startedAtMs);
    read.texts("listen_addresses"_L1, statistics.listenAddresses);
    read.flag("tls"_L1, statistics.tls);
    read.text("tls_subject"_L1, statistics.tlsSubject);
    read.texts("tls_names"_L1, statistics.tlsNames);
    read.text("tls_fingerprint"_L1, statistics.tlsFingerprint);
    read.number("tls_not_after_ms"_L1, statistics.tlsNotAfterMs);
    read.text("tls_problem"_L1, statistics.tlsProblem);
    read.flag("tls_reloadable"_L1, statistics.tlsReloadable);
    read.number("connections"_L1, statistics.connections);
    read.number("active_sessions"_L1, statistics.activeSessions);
    read.number("handshakes_accepted"_L1, statistics.handshakesAccepted);
    QJsonObject refused;
    read.object("handshakes_refused"_L1, refused);
    for (auto it = refused.constBegin(); it != refused.constEnd(); ++it) {
        const double count = it.value().toDouble(-1);
        if (!it.value().isDouble() || count < 0 || count != double(qint64(count)))
            return fail(u"\"handshakes_refused\" holds whole numbers"_s);
        statistics.handshakesRefused.insert(it.key(), quint64(count));
    }
    read.number("logins_succeeded"_L1, statistics.loginsSucceeded);
    read.number("logins_failed"_L1, statistics.loginsFailed);
    read.number("refreshes"_L1, statistics.refreshes);
    read.number("refresh_token_reuses"_L1, statistics.refreshTokenReuses);
    read.number("revocations"_L1, statistics.revocations);
    read.number("max_connections"_L1, statistics.maximumConnections);
    read.number("max_connections_per_user"_L1, statistics.maximumConnectionsPerUser);
    read.number("max_message_size"_L1, statistics.maximumMessageSize);
    read.number("handshake_timeout_ms"_L1, statistics.handshakeTimeoutMs);
    read.number("io_threads"_L1, statistics.ioThreads);
    read.flag("inspect_payloads"_L1, statistics.inspectPayloads);
    return read.result(statistics);
}

QJsonObject FeedCodec::toJson(const InspectionBatch &batch)
{
    if (batch.ended)
        return QJsonObject { { "type"_L1, "inspection_ended"_L1 },
                             { "connection"_L1, QString::number(batch.connectionId) },
                             { "close_code"_L1, batch.closeCode },
                             { "reason"_L1, batch.reason } };
    QJsonArray messages;
    for (const auto &message : batch.messages) {
        QJsonObject item { { "at_ms"_L1, message.atMs },
                           { "direction"_L1, message.outgoing ? "out"_L1 : "in"_L1 },
                           { "type"_L1, message.type },
                           { "size"_L1, message.size } };
        if (batch.payloads) {
            item.insert("payload"_L1, QString::fromUtf8(message.payload));
            item.insert("truncated"_L1, message.truncated);
        }
        messages.append(item);
    }
    return QJsonObject { { "type"_L1, "inspected"_L1 },
                         { "connection"_L1, QString::number(batch.connectionId) },
                         { "payloads"_L1, batch.payloads },
                         { "dropped"_L1, batch.dropped },
                         { "messages"_L1, messages } };
}

Result<InspectionBatch, QString> FeedCodec::inspectionBatchFrom(const QJsonObject &object)
{
    InspectionBatch batch;
    const QString type = object.value("type"_L1).toString();
    if (type != "inspected"_L1 && type != "inspection_ended"_L1)
        return fail(u"\"type\" is \"inspected\" or \"inspection_ended\""_s);
    batch.ended = type == "inspection_ended"_L1;
    Reader read(object);
    QString connection;
    read.text("connection"_L1, connection);
    bool ok = false;
    batch.connectionId = connection.toULongLong(&ok);
    if (!ok)
        return fail(u"\"connection\" is a connection id in a string"_s);
    read.number("close_code"_L1, batch.closeCode);
    read.text("reason"_L1, batch.reason);
    read.flag("payloads"_L1, batch.payloads);
    read.number("dropped"_L1, batch.dropped);
    if (!batch.ended) {
        const auto messages = object.value("messages"_L1);
        if (!messages.isArray())
            return fail(u"\"messages\" is a list"_s);
        for (const auto item : messages.toArray()) {
            if (!item.isObject())
                return fail(u"\"messages\" holds objects"_s);
            Reader one(item.toObject());
            InspectedMessage message;
            QString direction;
            QString payload;
            one.number("at_ms"_L1, message.atMs);
            one.text("direction"_L1, direction);
            one.text("type"_L1, message.type);
            one.number("size"_L1, message.size);
            one.text("payload"_L1, payload);
            one.flag("truncated"_L1, message.truncated);
            if (direction != "in"_L1 && direction != "out"_L1)
                return fail(u"a message's \"direction\" is \"in\" or \"out\""_s);
            message.outgoing = direction == "out"_L1;
            message.payload = payload.toUtf8();
            if (const auto read1 = one.result(0); !read1)
                return fail(u"a message: %1"_s.arg(read1.error()));
            batch.messages.append(std::move(message));
        }
    }
    return read.result(batch);
}

Result<AuditEvent, QString> FeedCodec::auditEventFrom(const QJsonObject &object)
{
    AuditEvent event;
    Reader read(object);
    read.number("id"_L1, event.id);
    read.number("at_ms"_L1, event.atMs);
    read.text("type"_L1, event.type);
    read.text("actor"_L1, event.actor);
    read.text("username"_L1, event.username);
    read.text("device_id"_L1, event.deviceId);
    read.text("session_id"_L1, event.sessionId);
    read.text("remote_address"_L1, event.remoteAddress);
    read.object("detail"_L1, event.detail);
    read.text("previous_hash"_L1, event.previousHash);
    read.text("hash"_L1, event.hash);
    return read.result(event);
}

QJsonObject FeedCodec::toJson(const ConsoleSnapshot &snapshot)
{
    return QJsonObject { { "users"_L1, arrayOf(snapshot.users) },
                         { "sessions"_L1, arrayOf(snapshot.sessions) },
                         { "policy"_L1, snapshot.policy.toJson() },
                         { "limits"_L1, snapshot.limits.toJson() },
                         { "signing_keys"_L1, arrayOf(snapshot.signingKeys) },
                         { "jwks"_L1, snapshot.jwks },
                         { "statistics"_L1, toJson(snapshot.statistics) },
                         { "recent_audit"_L1, arrayOf(snapshot.recentAudit) } };
}

Result<ConsoleSnapshot, QString> FeedCodec::snapshotFrom(const QJsonObject &object)
{
    ConsoleSnapshot snapshot;
    const auto where
        = [](const char *member, const QString &error) { return u"%1: %2"_s.arg(QLatin1StringView(member), error); };
    auto users = listFrom(object.value("users"_L1), &userFrom);
    if (!users)
        return fail(where("users", users.error()));
    snapshot.users = std::move(users).value();
    auto sessions = listFrom(object.value("sessions"_L1), &sessionFrom);
    if (!sessions)
        return fail(where("sessions", sessions.error()));
    snapshot.sessions = std::move(sessions).value();
    auto policy = SessionPolicy::fromJson(object.value("policy"_L1).toObject(), SessionPolicy());
    if (!object.value("policy"_L1).isObject() || !policy)
        return fail(where("policy", policy ? u"not an object"_s : policy.error()));
    snapshot.policy = *policy;
    auto limits = ConnectionLimits::fromJson(object.value("limits"_L1).toObject(), ConnectionLimits());
    if (!object.value("limits"_L1).isObject() || !limits)
        return fail(where("limits", limits ? u"not an object"_s : limits.error()));
    snapshot.limits = *limits;
    auto keys = listFrom(object.value("signing_keys"_L1), &signingKeyFrom);
    if (!keys)
        return fail(where("signing_keys", keys.error()));
    snapshot.signingKeys = std::move(keys).value();
    snapshot.jwks = object.value("jwks"_L1).toObject();
    auto statistics = statisticsFrom(object.value("statistics"_L1).toObject());
    if (!statistics)
        return fail(where("statistics", statistics.error()));
    snapshot.statistics = *statistics;
    auto audit = listFrom(object.value("recent_audit"_L1), &auditEventFrom);
    if (!audit)
        return fail(where("recent_audit", audit.error()));
    snapshot.recentAudit = std::move(audit).value();
    return snapshot;
}

QJsonObject FeedCodec::toJson(const AuditVerification &verification)
{
    return QJsonObject { { "intact"_L1, verification.intact },
                         { "events"_L1, verification.events },
                         { "broken_at"_L1, verification.brokenAt },
                         { "reason"_L1, verification.reason } };
}

Result<AuditVerification, QString> FeedCodec::verificationFrom(const QJsonObject &object)
{
    AuditVerification verification;
    Reader read(object);
    if (!object.value("intact"_L1).isBool())
        return fail(u"\"intact\" is true or false"_s);
    read.flag("intact"_L1, verification.intact);
    read.number("events"_L1, verification.events);
    read.number("broken_at"_L1, verification.brokenAt);
    read.text("reason"_L1, verification.reason);
    return read.result(verification);
}
