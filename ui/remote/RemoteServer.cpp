#include "remote/RemoteServer.h"

#include "FeedCodec.h"

#include <QCoreApplication>
#include <QCryptographicHash>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QNetworkReply>
#include <QSaveFile>
#include <QUrlQuery>

using namespace Qt::StringLiterals;

namespace {
constexpr int firstRetryMs = 1000;
constexpr int lastRetryMs = 30'000;
/// No backup the server sends is larger (its own limit, with room for the header).
constexpr qsizetype largestIncomingBackup = qsizetype(2) * 1024 * 1024 * 1024 + 2 * 1024 * 1024;

AdminOutcome outcomeOf(const QJsonObject &answer)
{
    AdminOutcome outcome;
    outcome.action = answer.value("audit_type"_L1).toString(answer.value("action"_L1).toString());
    outcome.affected = answer.value("affected"_L1).toInt();
    outcome.closed = answer.value("closed"_L1).toInt();
    outcome.elapsedMs = answer.value("elapsed_ms"_L1).toDouble();
    if (!answer.value("ok"_L1).toBool())
        outcome.error = answer.value("error"_L1).toString(answer.value("error_description"_L1).toString());
    return outcome;
}

} // namespace

RemoteServer::RemoteServer(QUrl url, QByteArray adminToken, QList<QSslCertificate> trusted, QObject *parent)
    : ServerFacade(parent)
    , m_url(std::move(url))
    , m_adminToken(std::move(adminToken))
    , m_ssl(QSslConfiguration::defaultConfiguration())
    , m_socket(QString(), QWebSocketProtocol::VersionLatest, this) // not a browser: no Origin
{
    if (!trusted.isEmpty()) {
        auto authorities = m_ssl.caCertificates();
        authorities += trusted;
        m_ssl.setCaCertificates(authorities);
        for (const auto &certificate : trusted)
            m_certificateChain += certificate.toPem();
    }
    m_socket.setSslConfiguration(m_ssl);
    m_retry.setSingleShot(true);
    connect(&m_retry, &QTimer::timeout, this, &RemoteServer::connectFeed);
    connect(&m_socket, &QWebSocket::textMessageReceived, this, &RemoteServer::handleMessage);
    connect(&m_socket, &QWebSocket::disconnected, this, &RemoteServer::handleDisconnected);
}

RemoteServer::~RemoteServer()
{
    m_stopping = true;
    m_socket.abort();
}

QString RemoteServer::listenAddress() const
{
    return m_state == ServerState::Running ? m_url.authority() : QString();
}

void RemoteServer::start()
{
    m_stopping = false;
    setState(ServerState::Starting);
    connectFeed();
}

void RemoteServer::stop()
{
    m_stopping = true;
    m_retry.stop();
    m_socket.close(QWebSocketProtocol::CloseCodeNormal, u"console detached"_s);
    setState(ServerState::Stopped);
}

void RemoteServer::connectFeed()
{
    QUrl feed = m_url;
    feed.setScheme(m_url.scheme() == "https"_L1 ? u"wss"_s : u"ws"_s);
    feed.setPath(u"/admin/ws"_s);
    QNetworkRequest request(feed);
    request.setRawHeader("Authorization", "Bearer " + m_adminToken);
    m_hello = false;
    m_socket.open(request);
}

void RemoteServer::setState(ServerState state, const QString &error)
{
    m_errorString = error;
    if (m_state == state)
        return;
    m_state = state;
    Q_EMIT stateChanged(state);
}

void RemoteServer::handleDisconnected()
{
    // Actions waiting for an answer will not get one from this feed.
    m_incomingBackups.clear();
    const auto pending = std::exchange(m_pending, {});
    for (const auto &waiting : pending) {
        if (waiting.context)
            waiting.done(
                QJsonObject { { "ok"_L1, false }, { "error"_L1, u"the connection to the server was lost"_s } });
    }
    // Inspections end with the feed that carried them.
    for (const quint64 connectionId : std::exchange(m_inspecting, {})) {
        InspectionBatch last;
        last.connectionId = connectionId;
        last.ended = true;
        last.reason = u"the connection to the server was lost"_s;
        Q_EMIT inspected(last);
    }
    if (m_stopping)
        return;
    const int code = int(m_socket.closeCode());
    QString why = m_socket.closeReason();
    if (why.isEmpty())
        why = m_socket.errorString();
    if (code == 4003) {
        // The token was revoked: retrying cannot help.
        m_tokenRefused = true;
        setState(ServerState::Failed, u"the admin token was revoked: %1"_s.arg(why));
        return;
    }
    if (!m_hello && m_state == ServerState::Starting && why.contains(u"401"_s)) {
        // Also after a restart: a token revoked meanwhile is refused, not retried for ever.
        m_tokenRefused = true;
        setState(ServerState::Failed, u"the server refused the admin token"_s);
        return;
    }
    setState(ServerState::Starting,
             u"connection to %1 lost (%2); trying again in %3 s"_s.arg(m_url.authority(), why).arg(m_retryMs / 1000));
    m_retry.start(m_retryMs);
    m_retryMs = std::min(m_retryMs * 2, lastRetryMs);
}

void RemoteServer::handleMessage(const QString &text)
{
    const QByteArray utf8 = text.toUtf8();
    ++m_messagesReceived;
    m_bytesReceived += utf8.size();
    const QJsonObject message = QJsonDocument::fromJson(utf8).object();
    const QString type = message.value("type"_L1).toString();
    if (type == "hello"_L1) {
        m_hello = true;
        m_retryMs = firstRetryMs;
        m_scope = message.value("scope"_L1).toString();
        m_actor = u"admin:"_s + message.value("admin"_L1).toString();
        return;
    }
    if (type == "snapshot"_L1) {
        auto snapshot = FeedCodec::snapshotFrom(message);
        if (!snapshot) {
            m_socket.close(QWebSocketProtocol::CloseCodeProtocolError, u"unreadable snapshot"_s);
            setState(ServerState::Failed, u"the server's snapshot cannot be read: %1"_s.arg(snapshot.error()));
            return;
        }
        m_snapshot = std::move(snapshot).value();
        setState(ServerState::Running);
        Q_EMIT snapshotReady(*m_snapshot);
        return;
    }
    if (type == "connections"_L1) {
        auto connections = FeedCodec::listFrom(message.value("connections"_L1), &FeedCodec::connectionFrom);
        if (!connections)
            return;
        m_connections.clear();
        for (const auto &connection : *connections)
            m_connections.insert(connection.id, connection);
        Q_EMIT connectionsSnapshot(*connections);
        return;
    }
    if (type == "connections_changed"_L1) {
        auto opened = FeedCodec::listFrom(message.value("opened"_L1), &FeedCodec::connectionFrom);
        auto closed = FeedCodec::listFrom(message.value("closed"_L1), &FeedCodec::connectionFrom);
        if (!opened || !closed)
            return;
        for (const auto &connection : *opened)
            m_connections.insert(connection.id, connection);
        for (const auto &connection : *closed)
            m_connections.remove(connection.id);
        Q_EMIT connectionsChanged(*opened, *closed);
        return;
    }
    if (type == "users_changed"_L1) {
        if (auto users = FeedCodec::listFrom(message.value("users"_L1), &FeedCodec::userFrom))
            Q_EMIT usersChanged(*users);
        return;
    }
    if (type == "sessions_changed"_L1) {
        if (auto sessions = FeedCodec::listFrom(message.value("sessions"_L1), &FeedCodec::sessionFrom))
            Q_EMIT sessionsChanged(*sessions);
        return;
    }
    if (type == "audit_appended"_L1) {
        if (auto events = FeedCodec::listFrom(message.value("events"_L1), &FeedCodec::auditEventFrom))
            Q_EMIT auditAppended(*events);
        return;
    }
    if (type == "policy_changed"_L1) {
        if (auto policy = SessionPolicy::fromJson(message.value("policy"_L1).toObject(), SessionPolicy()))
            Q_EMIT policyChanged(*policy);
        return;
    }
    if (type == "limits_changed"_L1) {
        if (auto limits = ConnectionLimits::fromJson(message.value("limits"_L1).toObject(), ConnectionLimits()))
            Q_EMIT limitsChanged(*limits);
        return;
    }
    if (type == "signing_keys_changed"_L1) {
        if (auto keys = FeedCodec::listFrom(message.value("signing_keys"_L1), &FeedCodec::signingKeyFrom))
            Q_EMIT signingKeysChanged(*keys, message.value("jwks"_L1).toObject());
        return;
    }
    if (type == "statistics"_L1) {
        if (auto statistics = FeedCodec::statisticsFrom(message.value("statistics"_L1).toObject()))
            Q_EMIT statisticsSampled(*statistics);
        return;
    }
    if (type == "inspected"_L1 || type == "inspection_ended"_L1) {
        auto batch = FeedCodec::inspectionBatchFrom(message);
        if (!batch || !m_inspecting.contains(batch->connectionId))
            return;
        if (batch->ended)
            m_inspecting.remove(batch->connectionId);
        Q_EMIT inspected(*batch);
        return;
    }
    if (type == "backup_part"_L1) {
        const auto incoming = m_incomingBackups.find(message.value("id"_L1).toString());
        if (incoming == m_incomingBackups.end() || incoming->broken)
            return;
        const auto part = QByteArray::fromBase64Encoding(message.value("data"_L1).toString().toLatin1(),
                                                         QByteArray::AbortOnBase64DecodingErrors);
        // In order, whole, and no more than a backup can be: else the backup is refused.
        if (!part || message.value("offset"_L1).toInteger(-1) != incoming->bytes.size()
            || incoming->bytes.size() + part.decoded.size() > largestIncomingBackup) {
            incoming->broken = true;
            incoming->bytes.clear();
            return;
        }
        incoming->bytes += part.decoded;
        return;
    }
    if (type == "outcome"_L1 || type == "error"_L1) {
        const QString id = message.value("id"_L1).toString();
        const auto waiting = m_pending.take(id);
        if (waiting.context && waiting.done) {
            QJsonObject outcome = message;
            if (type == "error"_L1) {
                outcome.insert("ok"_L1, false);
                outcome.insert("error"_L1, message.value("error_description"_L1).toString());
            }
            waiting.done(outcome);
        }
    }
}

void RemoteServer::requestConnections()
{
    if (m_state == ServerState::Running)
        Q_EMIT connectionsSnapshot(m_connections.values());
}

void RemoteServer::requestSnapshot()
{
    if (m_snapshot)
        Q_EMIT snapshotReady(*m_snapshot);
}

QString RemoteServer::act(QJsonObject action, QObject *context, std::function<void(const QJsonObject &)> done)
{
    const QString id = QString::number(m_nextAction++);
    action.insert("type"_L1, "action"_L1);
    action.insert("id"_L1, id);
    if (m_socket.state() != QAbstractSocket::ConnectedState || !m_hello) {
        QMetaObject::invokeMethod(
            context,
            [done] {
                done(QJsonObject { { "ok"_L1, false }, { "error"_L1, u"not connected to the server"_s } });
            },
            Qt::QueuedConnection);
        return {};
    }
    m_pending.insert(id, Pending { context, std::move(done) });
    m_socket.sendTextMessage(QString::fromUtf8(QJsonDocument(action).toJson(QJsonDocument::Compact)));
    return id;
}

void RemoteServer::actFor(QJsonObject action, QObject *context, OutcomeHandler done)
{
    act(std::move(action), context, [done](const QJsonObject &answer) { done(outcomeOf(answer)); });
}

void RemoteServer::actForError(QJsonObject action, QObject *context, ErrorHandler done)
{
    act(std::move(action), context, [done](const QJsonObject &answer) {
        done(answer.value("ok"_L1).toBool() ? QString() : answer.value("error"_L1).toString());
    });
}

QJsonObject RemoteServer::userMembers(const UserKey &user)
{
    QJsonObject members { { "user"_L1, user.subject } };
    if (!user.isLocal())
        members.insert("issuer"_L1, user.issuer);
    return members;
}

void RemoteServer::inspectConnection(quint64 connectionId, QObject *context, OutcomeHandler done)
{
    m_inspecting.insert(connectionId); // its first batch may come before the outcome
    act(QJsonObject { { "action"_L1, "inspect"_L1 }, { "connection"_L1, QString::number(connectionId) } }, context,
        [this, connectionId, done](const QJsonObject &answer) {
            const AdminOutcome outcome = outcomeOf(answer);
            if (!outcome.ok())
                m_inspecting.remove(connectionId);
            done(outcome);
        });
}

void RemoteServer::stopInspecting(quint64 connectionId)
{
    if (!m_inspecting.contains(connectionId))
        return;
    act(QJsonObject { { "action"_L1, "stop_inspecting"_L1 }, { "connection"_L1, QString::number(connectionId) } }, this,
        [](const QJsonObject &) {});
}

void RemoteServer::disconnectConnection(quint64 connectionId, QObject *context, OutcomeHandler done)
{
    actFor({ { "action"_L1, "disconnect_connection"_L1 }, { "connection"_L1, QString::number(connectionId) } }, context,
           std::move(done));
}

void RemoteServer::disconnectDevice(const UserKey &user, const QString &deviceId, QObject *context, OutcomeHandler done)
{
    QJsonObject action = userMembers(user);
    action.insert("action"_L1, "disconnect_device"_L1);
    action.insert("device"_L1, deviceId);
    actFor(action, context, std::move(done));
}

void RemoteServer::disconnectUser(const UserKey &user, QObject *context, OutcomeHandler done)
{
    QJsonObject action = userMembers(user);
    action.insert("action"_L1, "disconnect_user"_L1);
    actFor(action, context, std::move(done));
}

void RemoteServer::revokeSession(const QString &sessionId, QObject *context, OutcomeHandler done)
{
    actFor({ { "action"_L1, "revoke_session"_L1 }, { "session"_L1, sessionId } }, context, std::move(done));
}

void RemoteServer::revokeUser(const UserKey &user, QObject *context, OutcomeHandler done)
{
    if (!user.isLocal()) {
        AdminOutcome outcome;
        outcome.error = u"an external issuer's user has no sessions here to revoke"_s;
        return done(outcome);
    }
    actFor({ { "action"_L1, "revoke_user"_L1 }, { "user"_L1, user.subject } }, context, std::move(done));
}

void RemoteServer::revokeIssuedBefore(const UserKey &user, QObject *context, OutcomeHandler done)
{
    QJsonObject action = userMembers(user);
    action.insert("action"_L1, "revoke_before"_L1);
    actFor(action, context, std::move(done));
}

void RemoteServer::reloadTls(QObject *context, OutcomeHandler done)
{
    actFor({ { "action"_L1, "reload_tls"_L1 } }, context, std::move(done));
}

void RemoteServer::broadcast(const UserKey &user, const QJsonValue &payload, QObject *context, OutcomeHandler done)
{
    QJsonObject action = user.isEmpty() ? QJsonObject() : userMembers(user);
    action.insert("action"_L1, "broadcast"_L1);
    action.insert("payload"_L1, payload);
    actFor(action, context, std::move(done));
}

void RemoteServer::setPolicy(const SessionPolicy &policy, QObject *context, ErrorHandler done)
{
    actForError({ { "action"_L1, "set_policy"_L1 }, { "policy"_L1, policy.toJson() } }, context, std::move(done));
}

void RemoteServer::setLimits(const ConnectionLimits &limits, QObject *context, ErrorHandler done)
{
    actForError({ { "action"_L1, "set_limits"_L1 }, { "limits"_L1, limits.toJson() } }, context, std::move(done));
}

void RemoteServer::addUser(const QString &username, const QString &displayName, const QByteArray &password,
                           const QStringList &roles, QObject *context, ErrorHandler done)
{
    QJsonObject action { { "action"_L1, "add_user"_L1 },
                         { "username"_L1, username },
                         { "password"_L1, QString::fromUtf8(password) },
                         { "roles"_L1, QJsonArray::fromStringList(roles) } };
    if (!displayName.isEmpty())
        action.insert("display_name"_L1, displayName);
    actForError(action, context, std::move(done));
}

void RemoteServer::setUserEnabled(const QString &username, bool enabled, QObject *context, ErrorHandler done)
{
    actForError({ { "action"_L1, "set_user_enabled"_L1 }, { "username"_L1, username }, { "enabled"_L1, enabled } },
                context, std::move(done));
}

void RemoteServer::setPassword(const QString &username, const QByteArray &password, QObject *context, ErrorHandler done)
{
    actForError({ { "action"_L1, "set_password"_L1 },
                  { "username"_L1, username },
                  { "password"_L1, QString::fromUtf8(password) } },
                context, std::move(done));
}

void RemoteServer::setRoles(const QString &username, const QStringList &roles, QObject *context, ErrorHandler done)
{
    actForError({ { "action"_L1, "set_roles"_L1 },
                  { "username"_L1, username },
                  { "roles"_L1, QJsonArray::fromStringList(roles) } },
                context, std::move(done));
}

void RemoteServer::rotateSigningKey(QObject *context, ErrorHandler done)
{
    actForError({ { "action"_L1, "rotate_signing_key"_L1 } }, context, std::move(done));
}

void RemoteServer::queryAudit(const AuditFilter &filter, QObject *context,
                              std::function<void(const QList<AuditEvent> &events)> done)
{
    fetchAudit(filter, context, [done](const QList<AuditEvent> &events, const QString &) { done(events); });
}

void RemoteServer::fetchAudit(const AuditFilter &filter, QObject *context,
                              std::function<void(const QList<AuditEvent> &events, const QString &error)> done)
{
    // The admin API's audit route, with the same token.
    QUrl url = m_url;
    url.setPath(u"/admin/audit"_s);
    QUrlQuery query;
    if (filter.sinceMs > 0)
        query.addQueryItem(u"since"_s, QString::number(filter.sinceMs));
    if (!filter.actor.isEmpty())
        query.addQueryItem(u"actor"_s, filter.actor);
    if (!filter.username.isEmpty())
        query.addQueryItem(u"user"_s, filter.username);
    if (!filter.type.isEmpty())
        query.addQueryItem(u"type"_s, filter.type);
    url.setQuery(query);
    QNetworkRequest request(url);
    request.setSslConfiguration(m_ssl);
    request.setRawHeader("Authorization", "Bearer " + m_adminToken);
    QNetworkReply *reply = m_network.get(request);
    QPointer<QObject> guard(context);
    connect(reply, &QNetworkReply::finished, this, [reply, guard, done, limit = filter.limit] {
        reply->deleteLater();
        if (!guard)
            return;
        const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        const QJsonObject body = QJsonDocument::fromJson(reply->readAll()).object();
        if (status != 200) {
            const QString why = body.value("error_description"_L1).toString(reply->errorString());
            return done({}, u"the server did not give the audit log: %1"_s.arg(why));
        }
        auto events = FeedCodec::listFrom(body.value("events"_L1), &FeedCodec::auditEventFrom);
        if (!events)
            return done({}, u"the server's audit log cannot be read: %1"_s.arg(events.error()));
        QList<AuditEvent> read = std::move(events).value();
        if (limit > 0 && read.size() > limit)
            read.resize(limit);
        done(read, {});
    });
}

void RemoteServer::verifyAudit(QObject *context, std::function<void(const AuditVerification &result)> done)
{
    // The server walks its chain; the answer says what it found.
    act({ { "action"_L1, "verify_audit"_L1 } }, context, [done](const QJsonObject &answer) {
        AuditVerification result;
        if (!answer.value("ok"_L1).toBool()) {
            result.reason = answer.value("error"_L1).toString();
            return done(result);
        }
        auto read = FeedCodec::verificationFrom(answer.value("verification"_L1).toObject());
        if (!read)
            result.reason = u"the server's answer cannot be read: %1"_s.arg(read.error());
        done(read ? *read : result);
    });
}

QString RemoteServer::backupUnavailableReason() const
{
    if (!mayAdminister())
        return tr("A backup needs a full admin token; this console's is %1. Or back it up on the server's computer "
                  "with gatehoused backup --to FILE (docs/operations.md).")
            .arg(m_scope.isEmpty() ? tr("not known yet") : m_scope);
    return {};
}

QString RemoteServer::restoreUnavailableReason() const
{
    return tr("A restore replaces the server's data, with the server stopped: on its computer, stop it and run "
              "gatehoused restore --from FILE (docs/operations.md).");
}

namespace {
/// Refuses, after the caller returns, as every facade call answers.
template<typename Value>
void refuseLater(QObject *context, std::function<void(const Value &)> done, const QString &reason)
{
    QMetaObject::invokeMethod(
        context,
        [done = std::move(done), reason] {
            if (done)
                done(fail(reason));
        },
        Qt::QueuedConnection);
}

/// Writes `bytes` to `path`, owner-only, never through a symbolic link.
QString writeBackupFile(const QString &path, const QByteArray &bytes)
{
    if (QFileInfo(path).isSymLink())
        return QCoreApplication::translate("RemoteServer", "%1 is a symbolic link: name the file itself").arg(path);
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || !file.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner)
        || file.write(bytes) != bytes.size() || !file.commit())
        return QCoreApplication::translate("RemoteServer", "cannot write %1: %2").arg(path, file.errorString());
    return {};
}
} // namespace

void RemoteServer::backUp(const QString &path, const QByteArray &passphrase, QObject *context,
                          std::function<void(const Result<QString, QString> &written)> done)
{
    if (const QString why = backupUnavailableReason(); !why.isEmpty())
        return refuseLater(context, std::move(done), why);
    const QString id = act(
        QJsonObject { { "action"_L1, "backup"_L1 }, { "passphrase"_L1, QString::fromUtf8(passphrase) } }, context,
        [this, path, done](const QJsonObject &answer) {
            // m_incomingBackups is looked up by the id act() returned, recorded below.
            const QString actionId = answer.value("id"_L1).toString();
            const IncomingBackup incoming = m_incomingBackups.take(actionId);
            if (!answer.value("ok"_L1).toBool())
                return done(fail(answer.value("error"_L1).toString()));
            const qint64 expected = answer.value("bytes"_L1).toInteger(-1);
            const QString digest = answer.value("sha256"_L1).toString();
            if (incoming.broken || incoming.bytes.size() != expected
                || QString::fromLatin1(QCryptographicHash::hash(incoming.bytes, QCryptographicHash::Sha256).toHex())
                    != digest)
                return done(fail(tr("the backup did not arrive whole (%1 of %2 bytes, or altered on the way); "
                                    "nothing was written")
                                     .arg(incoming.bytes.size())
                                     .arg(expected)));
            if (const QString problem = writeBackupFile(path, incoming.bytes); !problem.isEmpty())
                return done(fail(problem));
            done(tr("backup written to %1 (%2 KiB), made by %3 and sealed with your passphrase")
                     .arg(path)
                     .arg((incoming.bytes.size() + 1023) / 1024)
                     .arg(m_url.authority()));
        });
    if (!id.isEmpty())
        m_incomingBackups.insert(id, {});
}

void RemoteServer::checkBackup(const QString &, const QByteArray &, QObject *context,
                               std::function<void(const Result<BackupSummary, QString> &summary)> done)
{
    refuseLater(context, std::move(done), restoreUnavailableReason());
}

void RemoteServer::restoreBackup(const QString &, const QByteArray &, QObject *context,
                                 std::function<void(const Result<QString, QString> &restored)> done)
{
    refuseLater(context, std::move(done), restoreUnavailableReason());
}

void RemoteServer::exportAudit(const AuditFilter &filter, const QString &path, QObject *context,
                               std::function<void(qsizetype written, const QString &error)> done)
{
    // The events come from the server; the file is written here, on this computer.
    fetchAudit(filter, context, [path, done](const QList<AuditEvent> &events, const QString &error) {
        if (!error.isEmpty())
            return done(0, error);
        const auto written = writeAuditExport(events, path);
        done(written ? *written : 0, written ? QString() : written.error());
    });
}
