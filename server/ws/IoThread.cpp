#include "ws/IoThread.h"

#include "runtime/EpollEventDispatcher.h"
#include "sessions/SessionService.h"
#include "sessions/SqliteSessionStore.h"
#include "store/Database.h"
#include "ws/CloseCode.h"

#include <QLoggingCategory>

#include <openssl/crypto.h>

using namespace Qt::StringLiterals;

Q_LOGGING_CATEGORY(lcIoThread, "gatehouse.ws.thread")

/// Everything of one I/O thread, created on it, so that each object (and each object's
/// members) belongs to that thread from the start.
class IoThread::Node final : public QObject {
public:
    explicit Node(const Setup &setup)
        : m_databasePath(setup.databasePath)
        , m_registry(*setup.census, setup.shared.limits,
                     setup.authenticatorFor([this](const QString &id) { return loadSession(id); }), setup.relay, this)
        , m_gate(m_registry, setup.authenticatorFor([this](const QString &id) { return loadSession(id); }),
                 setup.shared, setup.options, this)
    {
        m_gate.acceptFrom(setup.listeningSocket);
    }

    ~Node() override
    {
        m_registry.closeAll(CloseCode::goingAway, u"server shutting down"_s);
        m_store.reset();
        m_database.reset();
    }

private:
    QString m_databasePath;
    std::unique_ptr<Database> m_database;
    std::unique_ptr<SqliteSessionStore> m_store;

public:
    ConnectionRegistry m_registry;
    UpgradeGate m_gate;

private:
    /// A session opened by another process on the same store (the CLI's `token mint`): read
    /// once, through this thread's own connection, and remembered by the guard.
    std::optional<AccessGuard::SessionState> loadSession(const QString &sessionId)
    {
        if (!m_store) {
            m_database = std::make_unique<Database>();
            if (!m_database->open(m_databasePath)) {
                qCWarning(lcIoThread).noquote() << "cannot read sessions:" << m_database->errorString();
                m_database.reset();
                return std::nullopt;
            }
            m_store = std::make_unique<SqliteSessionStore>(*m_database);
        }
        return SessionService::loaderFor(*m_store)(sessionId);
    }
};

IoThread::IoThread(Setup setup)
    : m_context(std::make_unique<QObject>())
{
    m_thread.setObjectName(u"gatehouse-io-%1"_s.arg(setup.index));
    m_context->moveToThread(&m_thread);
    // Qt's own dispatchers poll every descriptor at each wake-up; this one uses epoll, so a
    // thread's cost per event does not grow with the connections it holds.
    m_thread.setEventDispatcher(new EpollEventDispatcher);
    m_thread.start();
    QMetaObject::invokeMethod(
        m_context.get(), [&] { m_node = new Node(setup); }, Qt::BlockingQueuedConnection);
}

IoThread::~IoThread()
{
    QMetaObject::invokeMethod(
        m_context.get(),
        [this] {
            delete m_node;
            // OpenSSL's per-thread state, freed now rather than in a hook after the join.
            OPENSSL_thread_stop();
        },
        Qt::BlockingQueuedConnection);
    m_thread.quit();
    m_thread.wait();
}

ConnectionRegistry *IoThread::registry() const
{
    return &m_node->m_registry;
}

UpgradeGate *IoThread::gate() const
{
    return &m_node->m_gate;
}
