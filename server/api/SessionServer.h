#pragma once

#include "ConnectionInfo.h"
#include "ServerState.h"
#include "SessionServerOptions.h"

#include <QList>
#include <QObject>
#include <QString>

#include <memory>

class QThread;
class ServerRuntime;

/// The one door from the console (or any host program) into the session server. The
/// server lives on its own thread; this object stays on the caller's thread, never blocks
/// on the server, and only hands values across.
class SessionServer final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SessionServer)

public:
    explicit SessionServer(SessionServerOptions options, QObject *parent = nullptr);
    ~SessionServer() override;

    void start();
    /// Stops the server and joins its thread.
    void stop();

    ServerState state() const { return m_state; }
    QString errorString() const { return m_errorString; }
    /// "127.0.0.1:8080" once running.
    QString listenAddress() const { return m_listenAddress; }
    QString dataDirectory() const { return m_dataDirectory; }

    /// Asks for every live connection; answered by connectionsSnapshot() once the server has
    /// gathered them from its I/O threads. Never blocks the caller.
    void requestConnections();

Q_SIGNALS:
    void stateChanged(ServerState state);
    /// Connections opened and closed since the last emission, coalesced by the server (at most
    /// every 100 ms per I/O thread), so a view can follow thousands of clients cheaply.
    void connectionsChanged(const QList<ConnectionInfo> &opened, const QList<ConnectionInfo> &closed);
    void connectionsSnapshot(const QList<ConnectionInfo> &connections);

private:
    void handleStarted(const QString &listenAddress);
    void handleFailed(const QString &message);
    void setState(ServerState state);

    struct ThreadStopper {
        void operator()(QThread *thread) const;
    };

    SessionServerOptions m_options;
    std::unique_ptr<QThread, ThreadStopper> m_thread;
    ServerRuntime *m_runtime = nullptr; ///< lives on m_thread, deleted when it finishes
    ServerState m_state = ServerState::Stopped;
    QString m_errorString;
    QString m_listenAddress;
    QString m_dataDirectory;
};
