#pragma once

#include "ConnectionInfo.h"
#include "SessionRecord.h"

#include <QAbstractItemModel>
#include <QHash>

#include <memory>
#include <vector>

class LiveState;

/// One user's tree: user → device → session → live connection. Rows are inserted and updated
/// as the server reports changes; revoked sessions and closed connections stay, marked, until
/// another user is chosen. Countdown columns give the expiry and the full lifetime in roles,
/// so that a delegate can draw the bar without asking the model every second.
class SessionTreeModel final : public QAbstractItemModel {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SessionTreeModel)

public:
    enum Column {
        Name,
        State,
        AccessToken,
        RefreshToken,
        SessionLimits,
        LastRefresh,
        RemoteAddress,
        UserAgent,
        ConnectedSince,
        LastActivity,
        Messages,
        Bytes,
        ColumnCount
    };
    enum class Kind { User, Device, Session, Connection };
    enum Role {
        KindRole = Qt::UserRole + 1, ///< Kind, as int
        KeyRole, ///< user key, device id, session id or connection id
        UsernameRole, ///< the user's key (UserKey::toString()): the username for ours
        DeviceRole,
        SessionIdRole,
        ConnectionIdRole,
        ExpiresAtRole, ///< countdown columns: Unix seconds (0: none)
        LifetimeRole, ///< countdown columns: the full lifetime in seconds
        EndedRole, ///< "revoked", "closed 4003", … or empty while alive
    };

    explicit SessionTreeModel(const LiveState &state, QObject *parent = nullptr);
    ~SessionTreeModel() override;

    /// Shows the tree of the user with this key (UserKey::toString(); empty shows nothing).
    void setUser(const QString &username);
    QString user() const { return m_username; }

    QModelIndex index(int row, int column, const QModelIndex &parent = {}) const override;
    QModelIndex parent(const QModelIndex &child) const override;
    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
    QModelIndex indexOfSession(const QString &sessionId) const;
    QModelIndex indexOfConnection(quint64 connectionId) const;

private:
    struct Node;

    void rebuild();
    Node *deviceNode(const QString &deviceId);
    Node *sessionNode(const QString &sessionId, const QString &deviceId);
    Node *addChild(Node *parent, Kind kind, const QString &key);
    QModelIndex indexOf(const Node *node, int column = 0) const;
    void nodeChanged(const Node *node);
    void handleSessions(const QList<SessionRecord> &sessions);
    void handleConnections(const QList<ConnectionInfo> &opened, const QList<ConnectionInfo> &closed);
    void handleForgotten(const QList<ConnectionInfo> &connections);
    QVariant sessionData(const SessionRecord &session, int column, int role) const;
    QVariant connectionData(const ConnectionInfo &connection, int column, int role) const;

    const LiveState &m_state;
    QString m_username;
    std::unique_ptr<Node> m_root; ///< invisible; its one child is the user
    QHash<QString, Node *> m_devices;
    QHash<QString, Node *> m_sessions;
    QHash<quint64, Node *> m_connections;
};
