#include "models/LiveState.h"

#include <QDateTime>

LiveState::LiveState(QObject *parent)
    : QObject(parent)
{
}

void LiveState::applySnapshot(const ConsoleSnapshot &snapshot)
{
    m_usernames.clear();
    m_users.clear();
    m_sessions.clear();
    m_sessionsByUser.clear();
    for (const auto &user : snapshot.users)
        storeUser(user, nullptr);
    for (const auto &session : snapshot.sessions)
        storeSession(session);
    m_policy = snapshot.policy;
    Q_EMIT reset();
    Q_EMIT policyChanged(m_policy);
}

void LiveState::applyConnectionsSnapshot(const QList<ConnectionInfo> &connections)
{
    // A connection this state holds as live that the snapshot lacks closed before the snapshot
    // was taken: its close is still on its way (behind the snapshot, on the same path), or was
    // lost with a broken feed. It is closed from now on, its code unknown (0) until the close
    // says it; dropping it instead would lose it from the closed history for good.
    QSet<quint64> live;
    live.reserve(connections.size());
    for (const auto &connection : connections)
        live.insert(connection.id);
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    for (auto it = m_connections.begin(); it != m_connections.end(); ++it) {
        if (!isClosed(*it) && !live.contains(it.key())) {
            it->closedAtMs = now;
            it->closeCode = 0;
            m_closedOrder.append(it.key());
        }
    }
    for (const auto &connection : connections) {
        const auto it = m_connections.find(connection.id);
        if (it == m_connections.end())
            m_connectionsByUser.insert(connection.user.toString(), connection.id);
        if (it == m_connections.end() || !isClosed(*it)) // a close that crossed the snapshot stays
            m_connections.insert(connection.id, connection);
    }
    m_liveByUser.clear();
    m_liveTotal = 0;
    for (const auto &connection : std::as_const(m_connections)) {
        if (!isClosed(connection)) {
            ++m_liveByUser[connection.user.toString()];
            ++m_liveTotal;
        }
    }
    Q_EMIT reset();
}

void LiveState::applyUsers(const QList<User> &users)
{
    QList<QString> added;
    QSet<QString> touched;
    for (const auto &user : users) {
        storeUser(user, &added);
        touched.insert(user.username);
    }
    if (!added.isEmpty())
        Q_EMIT usersAdded(added);
    Q_EMIT usersTouched(touched);
}

void LiveState::applySessions(const QList<SessionRecord> &sessions)
{
    QSet<QString> touched;
    for (const auto &session : sessions) {
        storeSession(session);
        touched.insert(session.username);
    }
    Q_EMIT sessionsUpdated(sessions);
    Q_EMIT usersTouched(touched);
}

void LiveState::applyConnections(const QList<ConnectionInfo> &opened, const QList<ConnectionInfo> &closed)
{
    QSet<QString> touched;
    QList<QString> added;
    for (const auto &connection : opened) {
        const QString key = connection.user.toString();
        if (!m_users.contains(key)) {
            // A token from a trusted external issuer: a user the directory does not know.
            User external;
            external.username = key;
            external.displayName = connection.user.displayName();
            external.roles = { tr("external") };
            storeUser(external, &added);
        }
        storeOpened(connection);
        touched.insert(key);
    }
    if (!added.isEmpty())
        Q_EMIT usersAdded(added);
    QList<ConnectionInfo> reallyClosed;
    reallyClosed.reserve(closed.size());
    for (const auto &connection : closed) {
        if (storeClosed(connection)) {
            reallyClosed.append(connection);
            touched.insert(connection.user.toString());
        }
    }
    Q_EMIT connectionsUpdated(opened, reallyClosed);
    Q_EMIT usersTouched(touched);
}

void LiveState::applyPolicy(const SessionPolicy &policy)
{
    m_policy = policy;
    Q_EMIT policyChanged(policy);
}

void LiveState::prune(qint64 nowMs)
{
    QList<ConnectionInfo> forgotten;
    while (!m_closedOrder.isEmpty()) {
        const auto it = m_connections.constFind(m_closedOrder.first());
        const bool stale = it == m_connections.cend() || it->closedAtMs < nowMs - keepClosedMs
            || m_closedOrder.size() > maximumClosedKept;
        if (!stale)
            break;
        if (it != m_connections.cend()) {
            forgotten.append(*it);
            m_connectionsByUser.remove(it->user.toString(), it->id);
            m_connections.erase(it);
        }
        m_closedOrder.removeFirst();
    }
    if (!forgotten.isEmpty())
        Q_EMIT connectionsForgotten(forgotten);
}

const User *LiveState::user(const QString &username) const
{
    const auto it = m_users.constFind(username);
    return it == m_users.cend() ? nullptr : &*it;
}

const SessionRecord *LiveState::session(const QString &id) const
{
    const auto it = m_sessions.constFind(id);
    return it == m_sessions.cend() ? nullptr : &*it;
}

const ConnectionInfo *LiveState::connection(quint64 id) const
{
    const auto it = m_connections.constFind(id);
    return it == m_connections.cend() ? nullptr : &*it;
}

QList<QString> LiveState::sessionsOf(const QString &username) const
{
    return m_sessionsByUser.values(username);
}

QList<quint64> LiveState::connectionsOf(const QString &username) const
{
    return m_connectionsByUser.values(username);
}

int LiveState::liveDeviceCount(const QString &username) const
{
    QSet<QString> devices;
    const qint64 now = QDateTime::currentSecsSinceEpoch();
    for (auto it = m_sessionsByUser.constFind(username); it != m_sessionsByUser.cend() && it.key() == username; ++it) {
        const auto &session = m_sessions[*it];
        if (!session.isRevoked() && session.absoluteExpiresAt > now)
            devices.insert(session.deviceId);
    }
    for (auto it = m_connectionsByUser.constFind(username); it != m_connectionsByUser.cend() && it.key() == username;
         ++it) {
        const auto &connection = m_connections[*it];
        if (!isClosed(connection))
            devices.insert(connection.deviceId);
    }
    return int(devices.size());
}

qint64 LiveState::lastActivityMs(const QString &username) const
{
    qint64 latest = 0;
    for (auto it = m_sessionsByUser.constFind(username); it != m_sessionsByUser.cend() && it.key() == username; ++it) {
        const auto &session = m_sessions[*it];
        latest = std::max(latest, std::max(session.lastRefreshAt, session.createdAt) * 1000);
    }
    for (auto it = m_connectionsByUser.constFind(username); it != m_connectionsByUser.cend() && it.key() == username;
         ++it) {
        const auto &connection = m_connections[*it];
        latest = std::max({ latest, connection.lastActivityAtMs, connection.connectedAtMs, connection.closedAtMs });
    }
    return latest;
}

void LiveState::storeUser(const User &user, QList<QString> *added)
{
    if (!m_users.contains(user.username)) {
        m_usernames.append(user.username);
        if (added)
            added->append(user.username);
    }
    m_users.insert(user.username, user);
}

void LiveState::storeSession(const SessionRecord &session)
{
    if (!m_sessions.contains(session.id))
        m_sessionsByUser.insert(session.username, session.id);
    m_sessions.insert(session.id, session);
}

void LiveState::storeOpened(const ConnectionInfo &connection)
{
    const auto it = m_connections.constFind(connection.id);
    if (it != m_connections.cend()) {
        if (!isClosed(*it)) // a snapshot and a change batch crossed: count it once
            m_connections.insert(connection.id, connection);
        return;
    }
    const QString key = connection.user.toString();
    m_connectionsByUser.insert(key, connection.id);
    m_connections.insert(connection.id, connection);
    ++m_liveByUser[key];
    ++m_liveTotal;
}

bool LiveState::storeClosed(const ConnectionInfo &connection)
{
    const auto it = m_connections.find(connection.id);
    if (it == m_connections.end())
        return false; // opened and closed within one batch before we ever saw it
    if (isClosed(*it)) {
        // Closed by a snapshot that lacked it (code unknown): now its close says how.
        if (it->closeCode != 0 || connection.closeCode == 0)
            return false; // seen twice
        const qint64 closedAtMs = it->closedAtMs;
        *it = connection;
        if (it->closedAtMs == 0)
            it->closedAtMs = closedAtMs;
        return true;
    }
    *it = connection;
    if (it->closedAtMs == 0)
        it->closedAtMs = QDateTime::currentMSecsSinceEpoch();
    const QString key = connection.user.toString();
    if (--m_liveByUser[key] <= 0)
        m_liveByUser.remove(key);
    --m_liveTotal;
    m_closedOrder.append(connection.id);
    return true;
}
