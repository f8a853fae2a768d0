#include "ws/ConnectionRegistry.h"

#include <QJsonValue>
#include <QWebSocket>

using namespace Qt::StringLiterals;

ConnectionRegistry::ConnectionRegistry(QObject *parent)
    : QObject(parent)
{
}

LiveConnection *ConnectionRegistry::add(QWebSocket *socket, const AccessClaims &claims,
                                        LiveConnection::Authenticator authenticator)
{
    auto *connection = new LiveConnection(m_nextId++, socket, claims, std::move(authenticator), this);
    m_connections.insert(connection->info().id, connection);
    connect(connection, &LiveConnection::syncRequested, this, &ConnectionRegistry::handleSync);
    connect(connection, &LiveConnection::closed, this, &ConnectionRegistry::handleClosed);
    Q_EMIT connectionOpened(connection->info());
    return connection;
}

qsizetype ConnectionRegistry::countForUser(const QString &username) const
{
    return std::count_if(m_connections.cbegin(), m_connections.cend(),
                         [&](const LiveConnection *connection) { return connection->info().username == username; });
}

QList<ConnectionInfo> ConnectionRegistry::connections(const QString &username) const
{
    QList<ConnectionInfo> list;
    for (const auto *connection : m_connections) {
        if (username.isEmpty() || connection->info().username == username)
            list.append(connection->info());
    }
    std::sort(list.begin(), list.end(), [](const ConnectionInfo &a, const ConnectionInfo &b) { return a.id < b.id; });
    return list;
}

template<typename Predicate>
int ConnectionRegistry::closeWhere(Predicate predicate, QWebSocketProtocol::CloseCode code, const QString &reason)
{
    // Collect first: closing can disconnect synchronously and change the map.
    QList<LiveConnection *> matching;
    for (auto *connection : std::as_const(m_connections)) {
        if (predicate(connection->info()))
            matching.append(connection);
    }
    for (auto *connection : matching)
        connection->close(code, reason);
    return static_cast<int>(matching.size());
}

int ConnectionRegistry::closeConnection(quint64 id, QWebSocketProtocol::CloseCode code, const QString &reason)
{
    return closeWhere([id](const ConnectionInfo &info) { return info.id == id; }, code, reason);
}

int ConnectionRegistry::closeSessions(const QStringList &sessionIds, QWebSocketProtocol::CloseCode code,
                                      const QString &reason)
{
    return closeWhere([&](const ConnectionInfo &info) { return sessionIds.contains(info.sessionId); }, code, reason);
}

int ConnectionRegistry::closeUser(const QString &username, const QString &deviceId, QWebSocketProtocol::CloseCode code,
                                  const QString &reason)
{
    return closeWhere(
        [&](const ConnectionInfo &info) {
            return info.username == username && (deviceId.isEmpty() || info.deviceId == deviceId);
        },
        code, reason);
}

int ConnectionRegistry::closeAll(QWebSocketProtocol::CloseCode code, const QString &reason)
{
    return closeWhere([](const ConnectionInfo &) { return true; }, code, reason);
}

int ConnectionRegistry::broadcast(const QString &username, const QJsonValue &payload)
{
    int sent = 0;
    for (auto *connection : std::as_const(m_connections)) {
        if (username.isEmpty() || connection->info().username == username) {
            connection->send({ { "type"_L1, "broadcast"_L1 }, { "payload"_L1, payload } });
            ++sent;
        }
    }
    return sent;
}

void ConnectionRegistry::handleSync(quint64 fromId, const QJsonValue &payload)
{
    const auto *from = m_connections.value(fromId);
    if (!from)
        return;
    const QJsonObject message { { "type"_L1, "sync"_L1 },
                                { "from_device"_L1, from->info().deviceId },
                                { "payload"_L1, payload } };
    for (auto *connection : std::as_const(m_connections)) {
        if (connection->info().id != fromId && connection->info().username == from->info().username)
            connection->send(message);
    }
}

void ConnectionRegistry::handleClosed(quint64 id)
{
    auto *connection = m_connections.take(id);
    if (!connection)
        return;
    Q_EMIT connectionClosed(connection->info());
    connection->deleteLater();
}
