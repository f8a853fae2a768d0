#pragma once

#include "ConnectionInfo.h"

#include "ws/CloseCode.h"
#include "ws/MessageTap.h"
#include <QJsonValue>
#include <QList>
#include <QObject>

#include <functional>
#include <latch>
#include <memory>
#include <mutex>
#include <optional>

class ConnectionCensus;
class ConnectionRegistry;

/// Closes posted to every I/O thread and not waited for (ConnectionHub::post…): what they
/// closed, known once each thread has run its part (or has stopped without running it).
class PostedClose final {
public:
    explicit PostedClose(qsizetype registries)
        : m_done(registries)
    {
    }
    /// Waits for every I/O thread's part; then how many connections closed, and the user of
    /// the connection postCloseConnection closed (empty otherwise).
    int wait() const;
    UserKey user() const;

private:
    friend class ConnectionHub;
    mutable std::latch m_done;
    std::atomic<int> m_closed = 0;
    mutable std::mutex m_mutex;
    UserKey m_user;
};

/// Every live connection of this node, whichever I/O thread serves it: the HTTP API, the
/// console and revocation see one registry. Lives on the server's control thread. A call
/// runs on every I/O thread at once and waits for them (they never wait for this thread, so
/// this cannot deadlock); revocation therefore returns with the close frames already sent.
/// This is also the seam for several nodes: a shared store's revoke/disconnect events will
/// arrive here and close local connections the same way.
class ConnectionHub final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ConnectionHub)

public:
    explicit ConnectionHub(ConnectionCensus &census, QObject *parent = nullptr);

    /// A registry living on an I/O thread; its signals are forwarded from here.
    void addRegistry(ConnectionRegistry *registry);
    /// Before the I/O threads stop: afterwards no call reaches them.
    void clearRegistries();

    qsizetype count() const;
    qsizetype countForUser(const UserKey &user) const;
    /// Every connection, or the user's.
    QList<ConnectionInfo> connections(const UserKey &user = {}) const;

    /// Each returns how many connections it closed.
    int closeConnection(quint64 id, WebSocketClose code, const QString &reason);
    int closeSessions(const QStringList &sessionIds, WebSocketClose code, const QString &reason);
    /// Extends the cookie-authenticated connections of `sessionId` to the session's new access
    /// token (LiveConnection::extendTo). Posted, not waited for: it runs on every refresh, and
    /// the control thread must not wait on busy I/O threads for it (a revocation would wait
    /// behind). A later close of the session is posted behind it, so it cannot be undone.
    void extendSession(const QString &sessionId, qint64 accessExpiresAt);
    int closeUser(const UserKey &user, const QString &deviceId, WebSocketClose code, const QString &reason);
    int closeAll(WebSocketClose code, const QString &reason);
    /// From any thread, returning at once: the same closes, posted to every I/O thread. An
    /// admin's action takes effect this way on the thread that received it, without waiting
    /// for the control thread (docs/architecture.md, "Revocation does not wait in line").
    std::shared_ptr<PostedClose> postCloseConnection(quint64 id, WebSocketClose code, const QString &reason) const;
    std::shared_ptr<PostedClose> postCloseSessions(const QStringList &sessionIds, WebSocketClose code,
                                                   const QString &reason) const;
    std::shared_ptr<PostedClose> postCloseUser(const UserKey &user, const QString &deviceId, WebSocketClose code,
                                               const QString &reason) const;
    /// Control thread: `watcher` inspects the connection from now on, on its I/O thread; what
    /// it is, or nothing when no thread has it.
    std::optional<ConnectionInfo> inspect(quint64 id, const MessageTap::Watcher &watcher);
    /// Posted, from any thread: the inspection ends (its sink gets its last batch).
    void stopInspecting(quint64 id, quint64 inspection, const QString &reason) const;

    /// To the user's connections, or to everyone when `user` is empty.
    int broadcast(const UserKey &user, const QJsonValue &payload);

    /// From any I/O thread: hands a user's sync message to every thread's registry.
    void relaySync(const UserKey &user, quint64 fromId, const QByteArray &utf8) const;

Q_SIGNALS:
    /// Coalesced per I/O thread (see ConnectionRegistry::connectionsChanged).
    void connectionsChanged(const QList<ConnectionInfo> &opened, const QList<ConnectionInfo> &closed);

private:
    /// Runs `call` on each registry's thread, all at once, and sums the answers.
    int sumOverRegistries(const std::function<int(ConnectionRegistry &)> &call) const;
    /// Posts `call` to each registry's thread and returns at once.
    void postToRegistries(const std::function<void(ConnectionRegistry &)> &call) const;
    /// Posts `close` to each registry's thread, from any thread, counting what it closes.
    std::shared_ptr<PostedClose> postClose(std::function<int(ConnectionRegistry &, PostedClose &)> close) const;

    ConnectionCensus &m_census;
    QList<ConnectionRegistry *> m_registries; ///< fixed while the I/O threads run
    mutable std::mutex m_relayMutex; ///< relaySync and postClose read m_registries from other threads
};
