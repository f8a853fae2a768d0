#pragma once

#include "ConnectionInfo.h"
#include "ws/CloseCode.h"
#include "ws/LiveConnection.h"
#include "ws/PingSweep.h"

#include <QHash>
#include <QList>
#include <QObject>
#include <QTimer>

#include <functional>
#include <optional>

class ConnectionCensus;
class LiveLimits;

/// The live connections of one I/O thread, reachable by id, by session and by user (user →
/// devices → sessions → connections). A user is a UserKey: our alice and an external
/// issuer's alice never share sync messages, broadcasts or a disconnection. Every call is
/// made on that thread; `ConnectionHub` reaches all threads' registries at once. Revocation
/// and disconnection go straight through here to the sockets, without waiting for any tick.
/// Its PingSweep pings the silent ones and closes those whose peer is gone (4008).
class ConnectionRegistry final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ConnectionRegistry)

public:
    /// Carries a user's sync message to every thread's registry (deliverSync); without it, the
    /// message stays on this thread.
    using Relay = std::function<void(const UserKey &user, quint64 fromId, const QByteArray &utf8)>;

    /// `limits` gives the ping interval and pong timeout as they are now; without, the defaults.
    ConnectionRegistry(ConnectionCensus &census, const LiveLimits *limits, LiveConnection::Authenticator authenticator,
                       Relay relay = {}, QObject *parent = nullptr);

    /// Takes the socket, whose place in the census was reserved already.
    LiveConnection *add(WebSocketStream *stream, const AccessClaims &claims, const LiveConnection::Peer &peer);
    /// This thread's pings, for a stream that is not a user's connection (an admin's feed).
    PingSweep &pings() { return m_pings; }

    qsizetype count() const { return m_connections.size(); }
    /// Every connection, or the user's.
    QList<ConnectionInfo> connections(const UserKey &user = {}) const;
    std::optional<ConnectionInfo> find(quint64 id) const;

    /// Each returns how many connections it closed.
    int closeConnection(quint64 id, WebSocketClose code, const QString &reason);
    int closeSessions(const QStringList &sessionIds, WebSocketClose code, const QString &reason);
    /// Extends the cookie-authenticated connections of `sessionId` to the session's new access
    /// token (LiveConnection::extendTo); returns how many.
    int extendSession(const QString &sessionId, qint64 accessExpiresAt);
    int closeUser(const UserKey &user, const QString &deviceId, WebSocketClose code, const QString &reason);
    int closeAll(WebSocketClose code, const QString &reason);

    /// The connection's messages go to `watcher` from now on (LiveConnection::inspect); what
    /// it is, or nothing when it is not here.
    std::optional<ConnectionInfo> inspect(quint64 id, MessageTap::Watcher watcher);
    /// False when the connection is not here, or that inspection was not watching it.
    bool stopInspecting(quint64 id, quint64 inspection, const QString &reason);

    /// {"type":"broadcast","payload":…} to one user's connections, or to everyone.
    int broadcast(const UserKey &user, const QJsonValue &payload);
    /// Sends an already serialised sync message to the user's connections here, except `fromId`.
    int deliverSync(const UserKey &user, quint64 fromId, const QByteArray &utf8);

Q_SIGNALS:
    /// What changed since the last emission, coalesced: at most one emission per
    /// `changeInterval`, so that observers on other threads (metrics, the console) cost nothing
    /// per connection. A connection opened and closed in between appears in both lists.
    void connectionsChanged(const QList<ConnectionInfo> &opened, const QList<ConnectionInfo> &closed);

private:
    void handleSync(quint64 fromId, const QByteArray &payload);
    void handleClosed(quint64 id);
    static int closeEach(const QList<LiveConnection *> &connections, WebSocketClose code, const QString &reason);
    QList<LiveConnection *> ofUser(const UserKey &user) const { return m_byUser.values(user); }

    void noteChange();

    ConnectionCensus &m_census;
    LiveConnection::Authenticator m_authenticator; ///< shared by this thread's connections
    Relay m_relay;
    QList<ConnectionInfo> m_opened;
    QList<ConnectionInfo> m_closed;
    QTimer m_changeTimer;
    PingSweep m_pings;
    QHash<quint64, LiveConnection *> m_connections;
    /// Indexes, so that revoking a session or reaching a user costs what it touches, not what
    /// the thread holds.
    QMultiHash<QString, LiveConnection *> m_bySession;
    QMultiHash<UserKey, LiveConnection *> m_byUser;
};
