#include "models/SessionTreeModel.h"

#include "models/Numerus.h"

#include "UserKey.h"
#include "models/LiveState.h"

#include <QDateTime>
#include <QLocale>

using namespace Qt::StringLiterals;

struct SessionTreeModel::Node {
    Kind kind;
    QString key;
    Node *parent = nullptr;
    std::vector<std::unique_ptr<Node>> children;

    int row() const
    {
        if (!parent)
            return 0;
        for (size_t i = 0; i < parent->children.size(); ++i) {
            if (parent->children[i].get() == this)
                return int(i);
        }
        return 0;
    }
};

namespace {
QString clockTime(qint64 ms)
{
    return ms == 0 ? QString() : QLocale().toString(QDateTime::fromMSecsSinceEpoch(ms).time(), u"HH:mm:ss"_s);
}

QString dateTime(qint64 ms)
{
    return ms == 0 ? QString() : QLocale().toString(QDateTime::fromMSecsSinceEpoch(ms), QLocale::ShortFormat);
}

QString bytes(quint64 count)
{
    return QLocale().formattedDataSize(qint64(count), 1, QLocale::DataSizeTraditionalFormat);
}

/// "4:05", "1:02:03", "3 d": what is left of a lifetime, as the countdown text shows it.
QString remaining(qint64 seconds)
{
    if (seconds <= 0)
        return u"0:00"_s;
    if (seconds >= 2 * 86400)
        return u"%1 d"_s.arg(seconds / 86400);
    if (seconds >= 3600)
        return u"%1:%2:%3"_s.arg(seconds / 3600)
            .arg((seconds / 60) % 60, 2, 10, QLatin1Char('0'))
            .arg(seconds % 60, 2, 10, QLatin1Char('0'));
    return u"%1:%2"_s.arg(seconds / 60).arg(seconds % 60, 2, 10, QLatin1Char('0'));
}
} // namespace

SessionTreeModel::SessionTreeModel(const LiveState &state, QObject *parent)
    : QAbstractItemModel(parent)
    , m_state(state)
    , m_root(std::make_unique<Node>(Node { Kind::User, {}, nullptr, {} }))
{
    connect(&state, &LiveState::reset, this, [this] {
        beginResetModel();
        rebuild();
        endResetModel();
    });
    connect(&state, &LiveState::sessionsUpdated, this, &SessionTreeModel::handleSessions);
    connect(&state, &LiveState::connectionsUpdated, this, &SessionTreeModel::handleConnections);
    connect(&state, &LiveState::connectionsForgotten, this, &SessionTreeModel::handleForgotten);
    connect(&state, &LiveState::usersTouched, this, [this](const QSet<QString> &usernames) {
        if (usernames.contains(m_username) && !m_root->children.empty())
            nodeChanged(m_root->children.front().get());
    });
}

SessionTreeModel::~SessionTreeModel() = default;

void SessionTreeModel::setUser(const QString &username)
{
    if (username == m_username)
        return;
    beginResetModel();
    m_username = username;
    rebuild();
    endResetModel();
}

void SessionTreeModel::rebuild()
{
    m_root->children.clear();
    m_devices.clear();
    m_sessions.clear();
    m_connections.clear();
    if (m_username.isEmpty())
        return;
    auto user = std::make_unique<Node>(Node { Kind::User, m_username, m_root.get(), {} });
    m_root->children.push_back(std::move(user));
    // Devices and sessions oldest first, so that rows keep their place as new ones arrive.
    auto sessionIds = m_state.sessionsOf(m_username);
    std::sort(sessionIds.begin(), sessionIds.end(), [this](const QString &a, const QString &b) {
        return m_state.session(a)->createdAt < m_state.session(b)->createdAt;
    });
    for (const auto &id : std::as_const(sessionIds)) {
        const auto *session = m_state.session(id);
        addChild(deviceNode(session->deviceId), Kind::Session, id);
    }
    auto connectionIds = m_state.connectionsOf(m_username);
    std::sort(connectionIds.begin(), connectionIds.end());
    for (const auto id : std::as_const(connectionIds)) {
        const auto *connection = m_state.connection(id);
        addChild(sessionNode(connection->sessionId, connection->deviceId), Kind::Connection, QString::number(id));
    }
}

SessionTreeModel::Node *SessionTreeModel::addChild(Node *parent, Kind kind, const QString &key)
{
    parent->children.push_back(std::make_unique<Node>(Node { kind, key, parent, {} }));
    Node *node = parent->children.back().get();
    switch (kind) {
    case Kind::Device:
        m_devices.insert(key, node);
        break;
    case Kind::Session:
        m_sessions.insert(key, node);
        break;
    case Kind::Connection:
        m_connections.insert(key.toULongLong(), node);
        break;
    case Kind::User:
        break;
    }
    return node;
}

SessionTreeModel::Node *SessionTreeModel::deviceNode(const QString &deviceId)
{
    if (auto *node = m_devices.value(deviceId))
        return node;
    return addChild(m_root->children.front().get(), Kind::Device, deviceId);
}

SessionTreeModel::Node *SessionTreeModel::sessionNode(const QString &sessionId, const QString &deviceId)
{
    if (auto *node = m_sessions.value(sessionId))
        return node;
    return addChild(deviceNode(deviceId), Kind::Session, sessionId);
}

QModelIndex SessionTreeModel::indexOf(const Node *node, int column) const
{
    if (!node || node == m_root.get())
        return {};
    return createIndex(node->row(), column, const_cast<Node *>(node));
}

void SessionTreeModel::nodeChanged(const Node *node)
{
    Q_EMIT dataChanged(indexOf(node, 0), indexOf(node, ColumnCount - 1));
}

void SessionTreeModel::handleSessions(const QList<SessionRecord> &sessions)
{
    for (const auto &session : sessions) {
        if (session.username != m_username || m_username.isEmpty())
            continue;
        if (const auto *node = m_sessions.value(session.id)) {
            nodeChanged(node);
            continue;
        }
        Node *device = m_devices.value(session.deviceId);
        if (!device) {
            Node *user = m_root->children.front().get();
            const int row = int(user->children.size());
            beginInsertRows(indexOf(user), row, row);
            device = addChild(user, Kind::Device, session.deviceId);
            endInsertRows();
        }
        const int row = int(device->children.size());
        beginInsertRows(indexOf(device), row, row);
        addChild(device, Kind::Session, session.id);
        endInsertRows();
    }
}

void SessionTreeModel::handleConnections(const QList<ConnectionInfo> &opened, const QList<ConnectionInfo> &closed)
{
    if (m_username.isEmpty())
        return;
    for (const auto &connection : opened) {
        if (connection.user.toString() != m_username || m_connections.contains(connection.id))
            continue;
        Node *session = m_sessions.value(connection.sessionId);
        if (!session) {
            // A token from an external issuer, or the session's record is still on its way.
            SessionRecord placeholder;
            placeholder.id = connection.sessionId;
            placeholder.username = m_username;
            placeholder.deviceId = connection.deviceId;
            handleSessions({ placeholder });
            session = m_sessions.value(connection.sessionId);
        }
        const int row = int(session->children.size());
        beginInsertRows(indexOf(session), row, row);
        addChild(session, Kind::Connection, QString::number(connection.id));
        endInsertRows();
    }
    for (const auto &connection : closed) {
        if (const auto *node = m_connections.value(connection.id))
            nodeChanged(node);
    }
}

void SessionTreeModel::handleForgotten(const QList<ConnectionInfo> &connections)
{
    for (const auto &connection : connections) {
        Node *node = m_connections.take(connection.id);
        if (!node)
            continue;
        Node *parentNode = node->parent;
        const int row = node->row();
        beginRemoveRows(indexOf(parentNode), row, row);
        parentNode->children.erase(parentNode->children.begin() + row);
        endRemoveRows();
    }
}

QModelIndex SessionTreeModel::index(int row, int column, const QModelIndex &parent) const
{
    if (!hasIndex(row, column, parent))
        return {};
    const Node *parentNode = parent.isValid() ? static_cast<const Node *>(parent.internalPointer()) : m_root.get();
    return createIndex(row, column, parentNode->children[size_t(row)].get());
}

QModelIndex SessionTreeModel::parent(const QModelIndex &child) const
{
    if (!child.isValid())
        return {};
    const auto *node = static_cast<const Node *>(child.internalPointer());
    return indexOf(node->parent);
}

int SessionTreeModel::rowCount(const QModelIndex &parent) const
{
    if (parent.column() > 0)
        return 0;
    const Node *node = parent.isValid() ? static_cast<const Node *>(parent.internalPointer()) : m_root.get();
    return int(node->children.size());
}

int SessionTreeModel::columnCount(const QModelIndex &) const
{
    return ColumnCount;
}

QModelIndex SessionTreeModel::indexOfSession(const QString &sessionId) const
{
    return indexOf(m_sessions.value(sessionId));
}

QModelIndex SessionTreeModel::indexOfConnection(quint64 connectionId) const
{
    return indexOf(m_connections.value(connectionId));
}

QVariant SessionTreeModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid))
        return {};
    const auto *node = static_cast<const Node *>(index.internalPointer());
    if (role == KindRole)
        return int(node->kind);
    if (role == KeyRole)
        return node->key;
    if (role == UsernameRole)
        return m_username;
    switch (node->kind) {
    case Kind::User: {
        if (role == Qt::DisplayRole && index.column() == Name)
            return UserKey::fromString(node->key).displayName();
        if (role == Qt::DisplayRole && index.column() == State)
            return numerus(tr("%n live connection(s)", nullptr, m_state.liveConnectionCount(m_username)),
                           m_state.liveConnectionCount(m_username));
        return {};
    }
    case Kind::Device: {
        if (role == DeviceRole)
            return node->key;
        if (role == Qt::DisplayRole && index.column() == Name)
            return node->key;
        if (role == Qt::DisplayRole && index.column() == State) {
            int live = 0;
            for (const auto &session : node->children) {
                for (const auto &connection : session->children) {
                    const auto *info = m_state.connection(connection->key.toULongLong());
                    live += info && !LiveState::isClosed(*info);
                }
            }
            return live > 0 ? tr("%n connected", nullptr, live) : tr("not connected");
        }
        return {};
    }
    case Kind::Session: {
        const auto *session = m_state.session(node->key);
        if (role == SessionIdRole)
            return node->key;
        if (role == DeviceRole)
            return node->parent->key;
        if (!session)
            return role == Qt::DisplayRole && index.column() == Name ? QVariant(node->key) : QVariant();
        return sessionData(*session, index.column(), role);
    }
    case Kind::Connection: {
        const auto *connection = m_state.connection(node->key.toULongLong());
        if (role == ConnectionIdRole)
            return node->key.toULongLong();
        if (role == SessionIdRole)
            return node->parent->key;
        if (role == DeviceRole)
            return node->parent->parent->key;
        if (!connection)
            return {};
        return connectionData(*connection, index.column(), role);
    }
    }
    return {};
}

QVariant SessionTreeModel::sessionData(const SessionRecord &session, int column, int role) const
{
    const auto &policy = m_state.policy();
    const qint64 now = QDateTime::currentSecsSinceEpoch();
    const bool ended = session.isRevoked() || (session.absoluteExpiresAt != 0 && session.absoluteExpiresAt <= now);
    if (role == EndedRole) {
        if (session.isRevoked())
            return tr("revoked");
        return ended ? tr("expired") : QString();
    }
    if (role == ExpiresAtRole) {
        if (column == AccessToken)
            return session.accessExpiresAt;
        if (column == RefreshToken)
            return session.refreshExpiresAt;
        return {};
    }
    if (role == LifetimeRole) {
        if (column == AccessToken)
            return qint64(policy.accessTokenTtl.count());
        if (column == RefreshToken)
            return qint64(policy.refreshTokenIdleTtl.count());
        return {};
    }
    if (role == Qt::ToolTipRole && column == State && session.isRevoked())
        return tr("Revoked %1: %2").arg(dateTime(session.revokedAt * 1000), session.revokeReason);
    if (role == Qt::ToolTipRole && column == Name)
        return tr("Session %1").arg(session.id);
    if (role != Qt::DisplayRole)
        return {};
    switch (Column(column)) {
    case Name:
        // Sessions opened for an OpenID client say which application holds them.
        return session.clientId.isEmpty() ? tr("session %1").arg(session.id.left(8))
                                          : tr("session %1 · %2").arg(session.id.left(8), session.clientId);
    case State:
        if (session.isRevoked())
            return session.revokeReason.isEmpty()
                ? tr("revoked")
                : tr("revoked: %1").arg(QString(session.revokeReason).remove(u"revoked_"_s).replace(u'_', u' '));
        return ended ? tr("expired") : tr("active");
    case SessionLimits: {
        const qint64 lastUse = std::max(session.lastRefreshAt, session.createdAt);
        const qint64 idleLeft = lastUse + qint64(policy.sessionIdleTtl.count()) - now;
        const qint64 absoluteLeft = session.absoluteExpiresAt - now;
        return tr("idle %1 · absolute %2").arg(remaining(idleLeft), remaining(absoluteLeft));
    }
    case LastRefresh:
        return session.lastRefreshAt > session.createdAt ? dateTime(session.lastRefreshAt * 1000) : tr("never");
    case RemoteAddress:
        return session.remoteAddress;
    case UserAgent:
        return session.userAgent;
    case ConnectedSince:
        return dateTime(session.createdAt * 1000);
    case AccessToken:
    case RefreshToken:
    case LastActivity:
    case Messages:
    case Bytes:
    case ColumnCount:
        break;
    }
    return {};
}

QVariant SessionTreeModel::connectionData(const ConnectionInfo &connection, int column, int role) const
{
    const bool closed = LiveState::isClosed(connection);
    if (role == EndedRole)
        return !closed                  ? QString()
            : connection.closeCode != 0 ? tr("closed %1").arg(connection.closeCode)
                                        : tr("closed");
    if (role == ExpiresAtRole)
        return column == AccessToken ? QVariant(connection.accessExpiresAt) : QVariant();
    if (role == LifetimeRole)
        return column == AccessToken ? QVariant(qint64(m_state.policy().accessTokenTtl.count())) : QVariant();
    if (role != Qt::DisplayRole)
        return {};
    switch (Column(column)) {
    case Name:
        return tr("connection %1").arg(connection.id);
    case State:
        if (!closed)
            return tr("open");
        switch (connection.closeCode) {
        case 0: // gone from a snapshot; its close, with its code, is on its way or was lost
            return tr("closed");
        case 4000:
            return tr("closed 4000: disconnected by admin");
        case 4001:
            return tr("closed 4001: token expired");
        case 4003:
            return tr("closed 4003: session revoked");
        case 1000:
            return tr("closed 1000: by the client");
        case 1001:
            return tr("closed 1001: going away");
        case 1006:
            return tr("closed 1006: connection lost");
        case 1008:
            return tr("closed 1008: policy violation");
        case 4008:
            return tr("closed 4008: no answer to ping");
        default:
            return tr("closed %1").arg(connection.closeCode);
        }
    case RemoteAddress:
        return connection.remoteAddress;
    case UserAgent:
        return connection.userAgent;
    case ConnectedSince:
        return clockTime(connection.connectedAtMs);
    case LastActivity:
        return clockTime(std::max(connection.lastActivityAtMs, connection.closedAtMs));
    case Messages:
        return tr("%1 in · %2 out").arg(connection.messagesIn).arg(connection.messagesOut);
    case Bytes:
        return tr("%1 in · %2 out").arg(bytes(connection.bytesIn), bytes(connection.bytesOut));
    case AccessToken:
    case RefreshToken:
    case SessionLimits:
    case LastRefresh:
    case ColumnCount:
        break;
    }
    return {};
}

QVariant SessionTreeModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    static const char *const names[] = {
        QT_TR_NOOP("Name"),           QT_TR_NOOP("State"),          QT_TR_NOOP("Access token"),
        QT_TR_NOOP("Refresh token"),  QT_TR_NOOP("Session limits"), QT_TR_NOOP("Last refresh"),
        QT_TR_NOOP("Remote address"), QT_TR_NOOP("User agent"),     QT_TR_NOOP("Connected since"),
        QT_TR_NOOP("Last activity"),  QT_TR_NOOP("Messages"),       QT_TR_NOOP("Bytes"),
    };
    static_assert(std::size(names) == ColumnCount);
    return section >= 0 && section < ColumnCount ? tr(names[section]) : QVariant();
}
