#include "admin/AdminFeed.h"

#include "FeedCodec.h"
#include "admin/AdminFeedConnection.h"
#include "admin/Inspections.h"
#include "ws/WebSocketStream.h"

#include <QCoreApplication>
#include <QCryptographicHash>
#include <QElapsedTimer>
#include <QJsonDocument>
#include <QLoggingCategory>

using namespace Qt::StringLiterals;

Q_LOGGING_CATEGORY(lcFeed, "gatehouse.admin.feed")

namespace {
QByteArray encode(const QJsonObject &message)
{
    return QJsonDocument(message).toJson(QJsonDocument::Compact);
}

QString memberText(const QJsonObject &action, QLatin1StringView name)
{
    return action.value(name).toString();
}

/// The feed's answer to an action: {"type": "outcome", "id", "ok", …} and what it adds.
QJsonObject answerOf(const QJsonObject &action, const AdminOutcome &outcome, const QJsonObject &extra)
{
    QJsonObject answer { { "type"_L1, "outcome"_L1 },
                         { "id"_L1, action.value("id"_L1) },
                         { "action"_L1, memberText(action, "action"_L1) },
                         { "audit_type"_L1, outcome.action },
                         { "ok"_L1, outcome.ok() },
                         { "affected"_L1, outcome.affected },
                         { "closed"_L1, outcome.closed },
                         { "elapsed_ms"_L1, outcome.elapsedMs } };
    if (!outcome.ok())
        answer.insert("error"_L1, outcome.error);
    for (auto it = extra.constBegin(); it != extra.constEnd(); ++it)
        answer.insert(it.key(), it.value());
    return answer;
}

QStringList rolesOf(const QJsonObject &action)
{
    QStringList roles;
    for (const auto role : action.value("roles"_L1).toArray())
        roles.append(role.toString());
    return roles;
}

/// Whose inspections these are, for Inspections.
QString ownerOf(quint64 feed)
{
    return u"feed:%1"_s.arg(feed);
}
} // namespace

/// What an action asks for, when it is a disconnection or a revocation (checked already by
/// AdminFeedConnection::handleText: its members are strings where they must be).
std::optional<AdminCommand> adminFeedCommandOf(const QJsonObject &action)
{
    using Kind = AdminCommand::Kind;
    static const QHash<QString, Kind> kinds {
        { u"disconnect_connection"_s, Kind::DisconnectConnection },
        { u"disconnect_device"_s, Kind::DisconnectDevice },
        { u"disconnect_user"_s, Kind::DisconnectUser },
        { u"revoke_session"_s, Kind::RevokeSession },
        { u"revoke_user"_s, Kind::RevokeUser },
        { u"revoke_before"_s, Kind::RevokeIssuedBefore },
    };
    const auto kind = kinds.constFind(memberText(action, "action"_L1));
    if (kind == kinds.cend())
        return std::nullopt;
    AdminCommand command;
    command.kind = *kind;
    command.user = UserKey { memberText(action, "issuer"_L1), memberText(action, "user"_L1) };
    command.deviceId = memberText(action, "device"_L1);
    command.sessionId = memberText(action, "session"_L1);
    command.connectionId = memberText(action, "connection"_L1).toULongLong();
    return command;
}

AdminFeed::AdminFeed(EffectTaker takeEffect, QObject *parent)
    : QObject(parent)
    , m_takeEffect(std::move(takeEffect))
{
}

AdminFeed::~AdminFeed() = default;

void AdminFeed::setAdmin(AdminService *admin)
{
    m_admin = admin;
}

void AdminFeed::stop()
{
    m_stopped = true;
    for (const auto &subscriber : std::as_const(m_subscribers))
        post(subscriber,
             [](AdminFeedConnection &feed) { feed.close(CloseCode::goingAway, u"server shutting down"_s); });
    if (m_admin) {
        for (auto it = m_subscribers.cbegin(); it != m_subscribers.cend(); ++it)
            m_admin->inspections().closeAll(ownerOf(it.key()), u"the server is stopping"_s);
    }
    m_subscribers.clear();
    m_admin = nullptr;
}

bool AdminFeed::reserve()
{
    if (m_stopped)
        return false;
    if (++m_open > maximumFeeds) {
        --m_open;
        return false;
    }
    return true;
}

bool AdminFeed::tokenInForce(const QByteArray &tokenHash) const
{
    const auto tokens = m_tokens ? m_tokens->current() : nullptr;
    return tokens && tokens->identifyHash(tokenHash).has_value();
}

void AdminFeed::release()
{
    --m_open;
}

void AdminFeed::open(WebSocketStream *stream, const AdminIdentity &identity, const QByteArray &tokenHash,
                     const QString &remote, QObject *context)
{
    const quint64 id = m_nextId++;
    auto alive = std::make_shared<std::atomic<bool>>(true);
    auto *connection = new AdminFeedConnection(id, stream, identity, remote, tokenHash, alive, *this, context);
    Subscriber subscriber { connection, alive, true, context, tokenHash, identity, remote };
    QMetaObject::invokeMethod(
        this, [this, id, subscriber] { subscribe(id, subscriber); }, Qt::QueuedConnection);
}

void AdminFeed::post(const Subscriber &subscriber, std::function<void(AdminFeedConnection &)> call) const
{
    // Run on the feed's thread, where its pointer may be looked at; it may be gone by then.
    QMetaObject::invokeMethod(
        subscriber.context,
        [connection = subscriber.connection, call = std::move(call)] {
            if (connection)
                call(*connection);
        },
        Qt::QueuedConnection);
}

void AdminFeed::subscribe(quint64 id, Subscriber subscriber)
{
    if (!*subscriber.alive)
        return; // gone before its turn: nothing is built for it
    if (m_stopped || !m_admin) {
        post(subscriber, [](AdminFeedConnection &feed) { feed.close(CloseCode::tryAgainLater, u"not ready"_s); });
        return;
    }
    // Revoked between the handshake and now: the token set it was admitted by is not in force.
    if (!tokenInForce(subscriber.tokenHash)) {
        post(subscriber, [](AdminFeedConnection &feed) {
            feed.close(CloseCode::sessionRevoked, u"the admin token was revoked"_s);
        });
        return;
    }
    const QByteArray hello = encode(QJsonObject { { "type"_L1, "hello"_L1 },
                                                  { "server"_L1, "gatehouse"_L1 },
                                                  { "version"_L1, QCoreApplication::applicationVersion() },
                                                  { "admin"_L1, subscriber.identity.name },
                                                  { "scope"_L1, AdminScopes::name(subscriber.identity.scope) } });
    if (m_snapshotMessage.isEmpty()) {
        QJsonObject snapshot = FeedCodec::toJson(m_admin->snapshot());
        snapshot.insert("type"_L1, "snapshot"_L1);
        m_snapshotMessage = encode(snapshot);
    }
    const QByteArray first = m_snapshotMessage;
    post(subscriber, [hello, first](AdminFeedConnection &feed) {
        feed.deliver(hello);
        feed.deliver(first);
    });
    m_subscribers.insert(id, std::move(subscriber));
    qCInfo(lcFeed).noquote() << "admin feed opened for" << m_subscribers.value(id).identity.actor() << "from"
                             << m_subscribers.value(id).remote;
    if (!std::exchange(m_connectionsAsked, true))
        Q_EMIT connectionsWanted(); // one gathering for every feed that opened meanwhile
}

void AdminFeed::unsubscribe(quint64 id)
{
    if (m_subscribers.remove(id) && m_admin)
        m_admin->inspections().closeAll(ownerOf(id), u"the admin feed closed"_s);
}

void AdminFeed::publish(const QByteArray &message)
{
    m_snapshotMessage.clear(); // a change: the next feed's snapshot is built anew
    for (const auto &subscriber : std::as_const(m_subscribers))
        post(subscriber, [message](AdminFeedConnection &feed) { feed.deliver(message); });
}

void AdminFeed::tokensChanged(const std::shared_ptr<const AdminTokenSet> &tokens)
{
    for (auto it = m_subscribers.begin(); it != m_subscribers.end();) {
        if (tokens->identifyHash(it->tokenHash)) {
            ++it;
            continue;
        }
        qCInfo(lcFeed).noquote() << "admin token of" << it->identity.actor() << "revoked: its feed closes";
        if (m_admin)
            m_admin->inspections().closeAll(ownerOf(it.key()), u"the admin token was revoked"_s);
        post(*it, [](AdminFeedConnection &feed) {
            feed.close(CloseCode::sessionRevoked, u"the admin token was revoked"_s);
        });
        it = m_subscribers.erase(it);
    }
}

void AdminFeed::publishConnectionsChanged(const QList<ConnectionInfo> &opened, const QList<ConnectionInfo> &closed)
{
    m_snapshotMessage.clear();
    if (!m_subscribers.isEmpty())
        publish(encode(QJsonObject { { "type"_L1, "connections_changed"_L1 },
                                     { "opened"_L1, FeedCodec::arrayOf(opened) },
                                     { "closed"_L1, FeedCodec::arrayOf(closed) } }));
}

void AdminFeed::publishConnections(const QList<ConnectionInfo> &connections)
{
    // Only to the feeds that opened since: the others follow the changes already.
    m_connectionsAsked = false;
    QByteArray message;
    for (auto &subscriber : m_subscribers) {
        if (!std::exchange(subscriber.wantsConnections, false))
            continue;
        if (message.isEmpty())
            message = encode(
                QJsonObject { { "type"_L1, "connections"_L1 }, { "connections"_L1, FeedCodec::arrayOf(connections) } });
        post(subscriber, [message](AdminFeedConnection &feed) { feed.deliver(message); });
    }
}

void AdminFeed::publishUsers(const QList<User> &users)
{
    m_snapshotMessage.clear();
    if (!m_subscribers.isEmpty())
        publish(encode(QJsonObject { { "type"_L1, "users_changed"_L1 }, { "users"_L1, FeedCodec::arrayOf(users) } }));
}

void AdminFeed::publishSessions(const QList<SessionRecord> &sessions)
{
    m_snapshotMessage.clear();
    if (!m_subscribers.isEmpty())
        publish(encode(
            QJsonObject { { "type"_L1, "sessions_changed"_L1 }, { "sessions"_L1, FeedCodec::arrayOf(sessions) } }));
}

void AdminFeed::publishAudit(const QList<AuditEvent> &events)
{
    m_snapshotMessage.clear();
    if (!m_subscribers.isEmpty())
        publish(
            encode(QJsonObject { { "type"_L1, "audit_appended"_L1 }, { "events"_L1, FeedCodec::arrayOf(events) } }));
}

void AdminFeed::publishPolicy(const SessionPolicy &policy)
{
    m_snapshotMessage.clear();
    if (!m_subscribers.isEmpty())
        publish(encode(QJsonObject { { "type"_L1, "policy_changed"_L1 }, { "policy"_L1, policy.toJson() } }));
}

void AdminFeed::publishLimits(const ConnectionLimits &limits)
{
    m_snapshotMessage.clear();
    if (!m_subscribers.isEmpty())
        publish(encode(QJsonObject { { "type"_L1, "limits_changed"_L1 }, { "limits"_L1, limits.toJson() } }));
}

void AdminFeed::publishSigningKeys(const QList<SigningKeyInfo> &keys, const QJsonObject &jwks)
{
    m_snapshotMessage.clear();
    if (!m_subscribers.isEmpty())
        publish(encode(QJsonObject { { "type"_L1, "signing_keys_changed"_L1 },
                                     { "signing_keys"_L1, FeedCodec::arrayOf(keys) },
                                     { "jwks"_L1, jwks } }));
}

void AdminFeed::publishStatistics(const ServerStatistics &statistics)
{
    m_snapshotMessage.clear();
    if (!m_subscribers.isEmpty())
        publish(
            encode(QJsonObject { { "type"_L1, "statistics"_L1 }, { "statistics"_L1, FeedCodec::toJson(statistics) } }));
}

void AdminFeed::perform(quint64 id, const AdminActor &actor, const QJsonObject &action,
                        std::shared_ptr<const AdminEffect> effect)
{
    if (!m_admin)
        return;
    const QString name = memberText(action, "action"_L1);
    AdminOutcome outcome;
    outcome.action = name;
    QJsonObject extra;
    if (name == "backup"_L1)
        return backUp(id, actor, action); // answered once it is made, after its parts
    if (const auto command = adminFeedCommandOf(action)) {
        outcome = m_admin->perform(*command, actor, effect.get());
    } else if (name == "broadcast"_L1) {
        outcome = m_admin->broadcast(UserKey { memberText(action, "issuer"_L1), memberText(action, "user"_L1) },
                                     action.value("payload"_L1), actor);
    } else if (name == "set_policy"_L1) {
        const auto policy = SessionPolicy::fromJson(action.value("policy"_L1).toObject(), m_admin->snapshot().policy);
        const auto applied = policy ? m_admin->setPolicy(*policy, actor) : policy;
        if (!applied)
            outcome.error = applied.error();
        else
            extra.insert("policy"_L1, applied->toJson());
    } else if (name == "set_limits"_L1) {
        const auto limits = ConnectionLimits::fromJson(action.value("limits"_L1).toObject(), m_admin->limits());
        const auto applied = limits ? m_admin->setLimits(*limits, actor) : limits;
        if (!applied)
            outcome.error = applied.error();
        else
            extra.insert("limits"_L1, applied->toJson());
    } else if (name == "reload_tls"_L1) {
        outcome = m_admin->reloadTls(actor);
    } else if (name == "add_user"_L1 || name == "set_user_enabled"_L1 || name == "set_password"_L1
               || name == "set_roles"_L1) {
        const QString username = memberText(action, "username"_L1);
        const auto user = name == "add_user"_L1
            ? m_admin->addUser(username, memberText(action, "display_name"_L1),
                               memberText(action, "password"_L1).toUtf8(), rolesOf(action), actor)
            : name == "set_user_enabled"_L1
            ? m_admin->setUserEnabled(username, action.value("enabled"_L1).toBool(), actor)
            : name == "set_password"_L1
            ? m_admin->setPassword(username, memberText(action, "password"_L1).toUtf8(), actor)
            : m_admin->setRoles(username, rolesOf(action), actor);
        if (user) {
            outcome.affected = 1;
            extra.insert("user"_L1, FeedCodec::toJson(*user));
        } else {
            outcome.error = user.error();
        }
    } else if (name == "rotate_signing_key"_L1) {
        m_admin->rotateSigningKey(actor); // signing_keys_changed follows when the new key signs
        outcome.affected = 1;
    } else if (name == "verify_audit"_L1) {
        const AuditVerification verification = m_admin->verifyAudit();
        extra.insert("verification"_L1, FeedCodec::toJson(verification));
    } else if (name == "inspect"_L1 || name == "stop_inspecting"_L1) {
        const auto subscriber = m_subscribers.constFind(id);
        if (subscriber == m_subscribers.cend())
            return; // the feed closed meanwhile: there is no one to show the messages to
        const QString connection = memberText(action, "connection"_L1);
        extra.insert("connection"_L1, connection);
        outcome.action = name == "inspect"_L1 ? u"inspector_opened"_s : u"inspector_closed"_s;
        if (name == "stop_inspecting"_L1) {
            if (!m_admin->inspections().close(connection.toULongLong(), ownerOf(id), u"closed by %1"_s.arg(actor.name)))
                outcome.error = u"this feed is not inspecting connection %1"_s.arg(connection);
            else
                outcome.affected = 1;
        } else {
            // The messages go from the connection's I/O thread to the feed's, not through here.
            const auto opened = m_admin->inspections().open(
                connection.toULongLong(), ownerOf(id), actor, [this, feed = *subscriber](const InspectionBatch &batch) {
                    post(feed, [message = encode(FeedCodec::toJson(batch))](AdminFeedConnection &target) {
                        target.deliver(message);
                    });
                });
            if (!opened) {
                outcome.error = opened.error();
            } else {
                outcome.affected = 1;
                extra.insert("payloads"_L1, opened->payloads);
                extra.insert("user"_L1, opened->connection.user.subject);
            }
        }
    }
    const auto subscriber = m_subscribers.constFind(id);
    if (subscriber == m_subscribers.cend())
        return; // the feed closed meanwhile; what it asked for is done all the same
    const QByteArray message = encode(answerOf(action, outcome, extra));
    post(*subscriber, [message](AdminFeedConnection &feed) { feed.deliver(message); });
}

void AdminFeed::backUp(quint64 id, const AdminActor &actor, const QJsonObject &action)
{
    const QElapsedTimer started = [] {
        QElapsedTimer timer;
        timer.start();
        return timer;
    }();
    if (!m_backupInFlight.expired()) {
        // Each backup sent is a copy of the store in memory until its feed has taken it: one at
        // a time, or feeds that ask and do not read would hold as many.
        AdminOutcome busy;
        busy.action = u"backup_made"_s;
        busy.error = u"a backup is still on its way to an admin feed: ask again once it has arrived"_s;
        const auto subscriber = m_subscribers.constFind(id);
        if (subscriber != m_subscribers.cend())
            post(*subscriber,
                 [message = encode(answerOf(action, busy, {}))](AdminFeedConnection &feed) { feed.deliver(message); });
        return;
    }
    m_admin->backUp(actor, memberText(action, "passphrase"_L1).toUtf8(),
                    [this, id, action, started](const Result<QByteArray, QString> &sealed) {
                        AdminOutcome outcome;
                        outcome.action = u"backup_made"_s;
                        outcome.elapsedMs = started.elapsed();
                        QJsonObject extra;
                        if (sealed) {
                            outcome.affected = 1;
                            extra.insert("bytes"_L1, qint64(sealed->size()));
                            extra.insert("sha256"_L1,
                                         QString::fromLatin1(
                                             QCryptographicHash::hash(*sealed, QCryptographicHash::Sha256).toHex()));
                        } else {
                            outcome.error = sealed.error();
                        }
                        const auto subscriber = m_subscribers.constFind(id);
                        if (subscriber == m_subscribers.cend())
                            return; // the feed closed meanwhile: no one to take it
                        // The parts, then the outcome, paced by the feed's own thread as its peer
                        // reads. The feed holds `inFlight` until the last part is out, or it closes.
                        auto inFlight = std::make_shared<const int>(0);
                        m_backupInFlight = inFlight;
                        post(*subscriber,
                             [actionId = action.value("id"_L1), bytes = sealed ? *sealed : QByteArray(),
                              answer = encode(answerOf(action, outcome, extra)), inFlight](AdminFeedConnection &feed) {
                                 feed.sendBackup(actionId, bytes, answer, inFlight);
                             });
                    });
}
