#include "ws/ConnectionRegistry.h"

#include "ws/ConnectionCensus.h"
#include "ws/LiveLimits.h"
#include "ws/WebSocketStream.h"

#include <QJsonDocument>
#include <QJsonValue>

using namespace Qt::StringLiterals;
using namespace std::chrono_literals;

namespace {
constexpr auto changeInterval = 100ms;

PingSweep::TimingSource pingTimingOf(const LiveLimits *limits)
{
    if (!limits)
        return [] { return PingSweep::Timing {}; };
    return [limits] { return PingSweep::Timing { limits->pingInterval(), limits->pongTimeout() }; };
}
} // namespace

ConnectionRegistry::ConnectionRegistry(ConnectionCensus &census, const LiveLimits *limits,
                                       LiveConnection::Authenticator authenticator, Relay relay, QObject *parent)
    : QObject(parent)
    , m_census(census)
    , m_authenticator(std::move(authenticator))
    , m_relay(std::move(relay))
    , m_changeTimer(this)
    , m_pings(pingTimingOf(limits), {}, this)
{
    m_changeTimer.setSingleShot(true);
    m_changeTimer.setInterval(changeInterval);
    connect(&m_changeTimer, &QTimer::timeout, this,
            [this] { Q_EMIT connectionsChanged(std::exchange(m_opened, {}), std::exchange(m_closed, {})); });
}

void ConnectionRegistry::noteChange()
{
    if (!m_changeTimer.isActive())
        m_changeTimer.start();
}

LiveConnection *ConnectionRegistry::add(WebSocketStream *stream, const AccessClaims &claims,
                                        const LiveConnection::Peer &peer)
{
    auto *connection = new LiveConnection(m_census.nextId(), stream, claims, peer, m_authenticator, this);
    stream->setPingSweep(m_pings);
    m_connections.insert(connection->info().id, connection);
    if (!claims.sessionId.isEmpty()) // an external issuer's token belongs to no session
        m_bySession.insert(claims.sessionId, connection);
    m_byUser.insert(connection->info().user, connection);
    connect(connection, &LiveConnection::syncRequested, this, &ConnectionRegistry::handleSync);
    connect(connection, &LiveConnection::closed, this, &ConnectionRegistry::handleClosed);
    m_opened.append(connection->info());
    noteChange();
    return connection;
}

QList<ConnectionInfo> ConnectionRegistry::connections(const UserKey &user) const
{
    QList<ConnectionInfo> list;
    for (const auto *connection : user.isEmpty() ? m_connections.values() : ofUser(user))
        list.append(connection->info());
    std::sort(list.begin(), list.end(), [](const ConnectionInfo &a, const ConnectionInfo &b) { return a.id < b.id; });
    return list;
}

std::optional<ConnectionInfo> ConnectionRegistry::find(quint64 id) const
{
    const auto *connection = m_connections.value(id);
    return connection ? std::optional(connection->info()) : std::nullopt;
}

std::optional<ConnectionInfo> ConnectionRegistry::inspect(quint64 id, MessageTap::Watcher watcher)
{
    auto *connection = m_connections.value(id);
    if (!connection)
        return std::nullopt;
    connection->inspect(std::move(watcher));
    return connection->info();
}

bool ConnectionRegistry::stopInspecting(quint64 id, quint64 inspection, const QString &reason)
{
    auto *connection = m_connections.value(id);
    return connection && connection->stopInspecting(inspection, reason);
}

int ConnectionRegistry::closeEach(const QList<LiveConnection *> &connections, WebSocketClose code,
                                  const QString &reason)
{
    // A copy: closing can disconnect synchronously and change the indexes.
    for (auto *connection : connections)
        connection->close(code, reason);
    return static_cast<int>(connections.size());
}

int ConnectionRegistry::closeConnection(quint64 id, WebSocketClose code, const QString &reason)
{
    auto *connection = m_connections.value(id);
    return connection ? closeEach({ connection }, code, reason) : 0;
}

int ConnectionRegistry::closeSessions(const QStringList &sessionIds, WebSocketClose code, const QString &reason)
{
    QList<LiveConnection *> matching;
    for (const auto &sessionId : sessionIds) {
        if (!sessionId.isEmpty())
            matching += m_bySession.values(sessionId);
    }
    return closeEach(matching, code, reason);
}

int ConnectionRegistry::extendSession(const QString &sessionId, qint64 accessExpiresAt)
{
    int extended = 0;
    for (auto *connection : m_bySession.values(sessionId)) {
        if (connection->info().viaCookie) {
            connection->extendTo(accessExpiresAt);
            ++extended;
        }
    }
    return extended;
}

int ConnectionRegistry::closeUser(const UserKey &user, const QString &deviceId, WebSocketClose code,
                                  const QString &reason)
{
    QList<LiveConnection *> matching = ofUser(user);
    if (!deviceId.isEmpty())
        matching.removeIf([&](const LiveConnection *connection) { return connection->info().deviceId != deviceId; });
    return closeEach(matching, code, reason);
}

int ConnectionRegistry::closeAll(WebSocketClose code, const QString &reason)
{
    return closeEach(m_connections.values(), code, reason);
}

int ConnectionRegistry::broadcast(const UserKey &user, const QJsonValue &payload)
{
    // Serialised once, however many receive it.
    const QByteArray text = QJsonDocument(QJsonObject { { "type"_L1, "broadcast"_L1 }, { "payload"_L1, payload } })
                                .toJson(QJsonDocument::Compact);
    const auto receivers = user.isEmpty() ? m_connections.values() : ofUser(user);
    for (auto *connection : receivers)
        connection->sendText(text);
    return static_cast<int>(receivers.size());
}

void ConnectionRegistry::handleSync(quint64 fromId, const QByteArray &payload)
{
    const auto *from = m_connections.value(fromId);
    if (!from)
        return;
    QByteArray text
        = QJsonDocument(QJsonObject { { "type"_L1, "sync"_L1 }, { "from_device"_L1, from->info().deviceId } })
              .toJson(QJsonDocument::Compact);
    if (!payload.isEmpty()) {
        // The payload goes out as the client wrote it (LiveConnection checked it), digits and all.
        text.chop(1); // the envelope's closing brace
        text += ",\"payload\":" + payload + '}';
    }
    if (m_relay)
        m_relay(from->info().user, fromId, text); // the user's other connections may be on other threads
    else
        deliverSync(from->info().user, fromId, text);
}

int ConnectionRegistry::deliverSync(const UserKey &user, quint64 fromId, const QByteArray &text)
{
    int sent = 0;
    for (auto *connection : ofUser(user)) {
        if (connection->info().id != fromId) {
            connection->sendText(text);
            ++sent;
        }
    }
    return sent;
}

void ConnectionRegistry::handleClosed(quint64 id)
{
    auto *connection = m_connections.take(id);
    if (!connection)
        return;
    if (!connection->info().sessionId.isEmpty())
        m_bySession.remove(connection->info().sessionId, connection);
    m_byUser.remove(connection->info().user, connection);
    m_census.release(connection->info().user);
    m_closed.append(connection->info());
    noteChange();
    connection->deleteLater();
}
