#pragma once

#include "ws/ConnectionInfo.h"
#include "ws/LiveConnection.h"

#include <QHash>
#include <QList>
#include <QObject>

/// Every live connection, reachable by id, by session and by user (user → devices →
/// sessions → connections). Revocation and disconnection go straight through here to the
/// sockets, without waiting for any tick.
class ConnectionRegistry final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ConnectionRegistry)

public:
    explicit ConnectionRegistry(QObject *parent = nullptr);

    LiveConnection *add(QWebSocket *socket, const AccessClaims &claims, LiveConnection::Authenticator authenticator);

    qsizetype count() const { return m_connections.size(); }
    qsizetype countForUser(const QString &username) const;
    QList<ConnectionInfo> connections(const QString &username = {}) const;

    /// Each returns how many connections it closed.
    int closeConnection(quint64 id, QWebSocketProtocol::CloseCode code, const QString &reason);
    int closeSessions(const QStringList &sessionIds, QWebSocketProtocol::CloseCode code, const QString &reason);
    int closeUser(const QString &username, const QString &deviceId, QWebSocketProtocol::CloseCode code,
                  const QString &reason);
    int closeAll(QWebSocketProtocol::CloseCode code, const QString &reason);

    /// {"type":"broadcast","payload":…} to one user's connections, or to everyone.
    int broadcast(const QString &username, const QJsonValue &payload);

Q_SIGNALS:
    void connectionOpened(const ConnectionInfo &connection);
    void connectionClosed(const ConnectionInfo &connection);

private:
    void handleSync(quint64 fromId, const QJsonValue &payload);
    void handleClosed(quint64 id);
    template<typename Predicate>
    int closeWhere(Predicate predicate, QWebSocketProtocol::CloseCode code, const QString &reason);

    quint64 m_nextId = 1;
    QHash<quint64, LiveConnection *> m_connections;
};
