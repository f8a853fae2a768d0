#include "ws/ConnectionHub.h"

#include "ws/ConnectionCensus.h"
#include "ws/ConnectionRegistry.h"

#include <QThread>

#include <latch>
#include <mutex>

ConnectionHub::ConnectionHub(ConnectionCensus &census, QObject *parent)
    : QObject(parent)
    , m_census(census)
{
}

void ConnectionHub::addRegistry(ConnectionRegistry *registry)
{
    const std::lock_guard lock(m_relayMutex);
    m_registries.append(registry);
    connect(registry, &ConnectionRegistry::connectionsChanged, this, &ConnectionHub::connectionsChanged);
}

void ConnectionHub::clearRegistries()
{
    for (auto *registry : std::as_const(m_registries))
        disconnect(registry, nullptr, this, nullptr);
    const std::lock_guard lock(m_relayMutex);
    m_registries.clear();
}

qsizetype ConnectionHub::count() const
{
    return m_census.count();
}

qsizetype ConnectionHub::countForUser(const UserKey &user) const
{
    return m_census.countForUser(user);
}

int ConnectionHub::sumOverRegistries(const std::function<int(ConnectionRegistry &)> &call) const
{
    std::latch done(m_registries.size());
    std::atomic<int> sum = 0;
    for (auto *registry : m_registries) {
        const auto run = [&, registry] {
            sum += call(*registry);
            done.count_down();
        };
        if (registry->thread() == QThread::currentThread())
            run();
        else
            QMetaObject::invokeMethod(registry, run, Qt::QueuedConnection);
    }
    done.wait();
    return sum;
}

void ConnectionHub::postToRegistries(const std::function<void(ConnectionRegistry &)> &call) const
{
    for (auto *registry : m_registries)
        QMetaObject::invokeMethod(
            registry, [registry, call] { call(*registry); }, Qt::QueuedConnection);
}

int PostedClose::wait() const
{
    m_done.wait();
    return m_closed;
}

UserKey PostedClose::user() const
{
    const std::lock_guard lock(m_mutex);
    return m_user;
}

std::shared_ptr<PostedClose>
ConnectionHub::postClose(std::function<int(ConnectionRegistry &, PostedClose &)> close) const
{
    const std::lock_guard lock(m_relayMutex);
    auto posted = std::make_shared<PostedClose>(m_registries.size());
    // Each thread's part counts down when it is destroyed, run or not: a thread that stops
    // first drops it, and wait() does not hang on it.
    struct Part {
        std::shared_ptr<PostedClose> posted;
        ~Part() { posted->m_done.count_down(); }
    };
    for (auto *registry : m_registries) {
        QMetaObject::invokeMethod(
            registry,
            [registry, close, part = std::make_shared<Part>(posted)] {
                part->posted->m_closed += close(*registry, *part->posted);
            },
            Qt::QueuedConnection);
    }
    return posted;
}

std::shared_ptr<PostedClose> ConnectionHub::postCloseConnection(quint64 id, WebSocketClose code,
                                                                const QString &reason) const
{
    return postClose([id, code, reason](ConnectionRegistry &registry, PostedClose &posted) {
        if (const auto connection = registry.find(id)) {
            const std::lock_guard lock(posted.m_mutex);
            posted.m_user = connection->user;
        }
        return registry.closeConnection(id, code, reason);
    });
}

std::shared_ptr<PostedClose> ConnectionHub::postCloseSessions(const QStringList &sessionIds, WebSocketClose code,
                                                              const QString &reason) const
{
    return postClose([sessionIds, code, reason](ConnectionRegistry &registry, PostedClose &) {
        return registry.closeSessions(sessionIds, code, reason);
    });
}

std::shared_ptr<PostedClose> ConnectionHub::postCloseUser(const UserKey &user, const QString &deviceId,
                                                          WebSocketClose code, const QString &reason) const
{
    return postClose([user, deviceId, code, reason](ConnectionRegistry &registry, PostedClose &) {
        return registry.closeUser(user, deviceId, code, reason);
    });
}

QList<ConnectionInfo> ConnectionHub::connections(const UserKey &user) const
{
    std::mutex mutex;
    QList<ConnectionInfo> all;
    sumOverRegistries([&](ConnectionRegistry &registry) {
        const auto mine = registry.connections(user);
        const std::lock_guard lock(mutex);
        all.append(mine);
        return 0;
    });
    std::sort(all.begin(), all.end(), [](const ConnectionInfo &a, const ConnectionInfo &b) { return a.id < b.id; });
    return all;
}

std::optional<ConnectionInfo> ConnectionHub::inspect(quint64 id, const MessageTap::Watcher &watcher)
{
    std::mutex mutex;
    std::optional<ConnectionInfo> found;
    sumOverRegistries([&](ConnectionRegistry &registry) {
        if (registry.find(id)) { // the registry's own thread: it cannot close meanwhile
            const auto inspected = registry.inspect(id, watcher);
            const std::lock_guard lock(mutex);
            found = inspected;
        }
        return 0;
    });
    return found;
}

void ConnectionHub::stopInspecting(quint64 id, quint64 inspection, const QString &reason) const
{
    const std::lock_guard lock(m_relayMutex);
    postToRegistries(
        [id, inspection, reason](ConnectionRegistry &registry) { registry.stopInspecting(id, inspection, reason); });
}

int ConnectionHub::closeConnection(quint64 id, WebSocketClose code, const QString &reason)
{
    return sumOverRegistries([&](ConnectionRegistry &registry) { return registry.closeConnection(id, code, reason); });
}

int ConnectionHub::closeSessions(const QStringList &sessionIds, WebSocketClose code, const QString &reason)
{
    return sumOverRegistries(
        [&](ConnectionRegistry &registry) { return registry.closeSessions(sessionIds, code, reason); });
}

void ConnectionHub::extendSession(const QString &sessionId, qint64 accessExpiresAt)
{
    postToRegistries([sessionId, accessExpiresAt](ConnectionRegistry &registry) {
        registry.extendSession(sessionId, accessExpiresAt);
    });
}

int ConnectionHub::closeUser(const UserKey &user, const QString &deviceId, WebSocketClose code, const QString &reason)
{
    return sumOverRegistries(
        [&](ConnectionRegistry &registry) { return registry.closeUser(user, deviceId, code, reason); });
}

int ConnectionHub::closeAll(WebSocketClose code, const QString &reason)
{
    return sumOverRegistries([&](ConnectionRegistry &registry) { return registry.closeAll(code, reason); });
}

int ConnectionHub::broadcast(const UserKey &user, const QJsonValue &payload)
{
    return sumOverRegistries([&](ConnectionRegistry &registry) { return registry.broadcast(user, payload); });
}

void ConnectionHub::relaySync(const UserKey &user, quint64 fromId, const QByteArray &text) const
{
    const std::lock_guard lock(m_relayMutex);
    for (auto *registry : m_registries) {
        QMetaObject::invokeMethod(
            registry, [registry, user, fromId, text] { registry->deliverSync(user, fromId, text); },
            Qt::QueuedConnection);
    }
}
