#pragma once

#include "ConnectionInfo.h"
#include "ConsoleSnapshot.h"
#include "SessionPolicy.h"
#include "SessionRecord.h"
#include "User.h"

#include <QHash>
#include <QObject>
#include <QSet>

/// The console's copy of what the server knows, kept current from the facade's snapshot and
/// coalesced change signals. Models read it; it tells them which users each change touched,
/// so that a burst of hundreds of connections costs a handful of row updates.
/// Closed connections and ended sessions stay visible for a while instead of vanishing.
/// Users are keyed by UserKey::toString(): our users by their username, an external issuer's
/// by "<issuer>#<subject>", so that our alice and theirs are two users here too.
class LiveState final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(LiveState)

public:
    explicit LiveState(QObject *parent = nullptr);

    void applySnapshot(const ConsoleSnapshot &snapshot);
    void applyConnectionsSnapshot(const QList<ConnectionInfo> &connections);
    void applyUsers(const QList<User> &users);
    void applySessions(const QList<SessionRecord> &sessions);
    void applyConnections(const QList<ConnectionInfo> &opened, const QList<ConnectionInfo> &closed);
    void applyPolicy(const SessionPolicy &policy);
    /// Forgets closed connections older than `keepClosedMs` (and the oldest beyond a cap).
    void prune(qint64 nowMs);

    /// User keys (UserKey::toString()), in the order they became known.
    const QList<QString> &usernames() const { return m_usernames; }
    const User *user(const QString &username) const;
    const SessionRecord *session(const QString &id) const;
    const ConnectionInfo *connection(quint64 id) const;
    QList<QString> sessionsOf(const QString &username) const;
    QList<quint64> connectionsOf(const QString &username) const;
    int liveConnectionCount(const QString &username) const { return m_liveByUser.value(username); }
    int liveDeviceCount(const QString &username) const;
    qint64 lastActivityMs(const QString &username) const;
    qint64 totalLiveConnections() const { return m_liveTotal; }
    const SessionPolicy &policy() const { return m_policy; }
    static bool isClosed(const ConnectionInfo &connection) { return connection.closedAtMs != 0; }

    static constexpr qint64 keepClosedMs = 10 * 60 * 1000;
    static constexpr qsizetype maximumClosedKept = 5000;

Q_SIGNALS:
    /// The whole picture changed (a snapshot): models rebuild.
    void reset();
    /// Users added since the last signal, in order.
    void usersAdded(const QList<QString> &usernames);
    /// Anything shown for these users may have changed.
    void usersTouched(const QSet<QString> &usernames);
    void sessionsUpdated(const QList<SessionRecord> &sessions);
    void connectionsUpdated(const QList<ConnectionInfo> &opened, const QList<ConnectionInfo> &closed);
    /// Connections forgotten by prune().
    void connectionsForgotten(const QList<ConnectionInfo> &connections);
    void policyChanged(const SessionPolicy &policy);

private:
    void storeUser(const User &user, QList<QString> *added);
    void storeSession(const SessionRecord &session);
    void storeOpened(const ConnectionInfo &connection);
    bool storeClosed(const ConnectionInfo &connection);

    QList<QString> m_usernames; ///< in the order they became known
    QHash<QString, User> m_users;
    QHash<QString, SessionRecord> m_sessions;
    QMultiHash<QString, QString> m_sessionsByUser;
    QHash<quint64, ConnectionInfo> m_connections; ///< live and recently closed
    QMultiHash<QString, quint64> m_connectionsByUser;
    QHash<QString, int> m_liveByUser;
    QList<quint64> m_closedOrder; ///< oldest first
    qint64 m_liveTotal = 0;
    SessionPolicy m_policy;
};
