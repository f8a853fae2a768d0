#include "SessionServer.h"

#include "config/ConfigFile.h"
#include "runtime/ServerRuntime.h"

#include <QLoggingCategory>
#include <QThread>

Q_LOGGING_CATEGORY(lcSessionServer, "gatehouse.server")

void SessionServer::ThreadStopper::operator()(QThread *thread) const
{
    thread->quit();
    thread->wait();
    delete thread;
}

SessionServer::SessionServer(SessionServerOptions options, QObject *parent)
    : QObject(parent)
    , m_options(std::move(options))
{
    qRegisterMetaType<ServerState>();
}

SessionServer::~SessionServer()
{
    stop();
}

void SessionServer::start()
{
    if (m_state == ServerState::Starting || m_state == ServerState::Running)
        return;
    const auto config = ConfigFile::resolve(m_options);
    if (!config) {
        handleFailed(config.error());
        return;
    }
    m_dataDirectory = config->dataDirectory;
    m_thread.reset(new QThread);
    m_thread->setObjectName(QStringLiteral("gatehouse-server"));
    m_runtime = new ServerRuntime(*config);
    m_runtime->moveToThread(m_thread.get());
    connect(m_thread.get(), &QThread::finished, m_runtime, &QObject::deleteLater);
    connect(m_runtime, &ServerRuntime::started, this, &SessionServer::handleStarted);
    connect(m_runtime, &ServerRuntime::failed, this, &SessionServer::handleFailed);
    connect(m_runtime, &ServerRuntime::connectionsChanged, this, &SessionServer::connectionsChanged);
    connect(m_runtime, &ServerRuntime::connectionsSnapshot, this, &SessionServer::connectionsSnapshot);
    setState(ServerState::Starting);
    m_thread->start();
    QMetaObject::invokeMethod(m_runtime, &ServerRuntime::start, Qt::QueuedConnection);
}

void SessionServer::stop()
{
    if (!m_thread)
        return;
    // Stop, then quit, both on the server thread and in that order; the runtime is deleted
    // there as the thread finishes (deleteLater on finished), and only then does wait() return.
    QMetaObject::invokeMethod(
        m_runtime,
        [runtime = m_runtime] {
            runtime->stop();
            runtime->thread()->quit();
        },
        Qt::QueuedConnection);
    m_thread.reset();
    m_runtime = nullptr;
    m_listenAddress.clear();
    if (m_state != ServerState::Failed)
        setState(ServerState::Stopped);
}

void SessionServer::requestConnections()
{
    if (m_runtime)
        QMetaObject::invokeMethod(m_runtime, &ServerRuntime::snapshotConnections, Qt::QueuedConnection);
}

void SessionServer::handleStarted(const QString &listenAddress)
{
    m_listenAddress = listenAddress;
    setState(ServerState::Running);
}

void SessionServer::handleFailed(const QString &message)
{
    qCWarning(lcSessionServer).noquote() << "server stopped:" << message;
    m_errorString = message;
    setState(ServerState::Failed);
}

void SessionServer::setState(ServerState state)
{
    if (m_state == state)
        return;
    m_state = state;
    Q_EMIT stateChanged(state);
}
