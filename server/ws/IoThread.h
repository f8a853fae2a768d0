#pragma once

#include "sessions/AccessGuard.h"
#include "ws/ConnectionRegistry.h"
#include "ws/UpgradeGate.h"

#include <QString>
#include <QThread>

#include <memory>

/// One thread that serves sockets: its own UpgradeGate (accepting from the shared listening
/// socket) and ConnectionRegistry, built and destroyed on that thread. Nothing on it ever
/// waits for the control thread.
class IoThread final {
public:
    struct Setup {
        int index = 0;
        qintptr listeningSocket = -1; ///< a duplicate, owned by this thread's gate
        QString databasePath; ///< for sessions this node has not heard of (another process)
        /// Builds this thread's authenticator around its own session loader.
        std::function<LiveConnection::Authenticator(AccessGuard::SessionLoader)> authenticatorFor;
        UpgradeGate::Shared shared;
        UpgradeGate::Options options;
        ConnectionCensus *census = nullptr;
        ConnectionRegistry::Relay relay;
    };

    explicit IoThread(Setup setup);
    /// Closes the thread's connections with `1001`, destroys its objects there, and joins it.
    ~IoThread();
    Q_DISABLE_COPY_MOVE(IoThread)

    /// Live on the I/O thread: connect to their signals, call them only through the hub.
    ConnectionRegistry *registry() const;
    UpgradeGate *gate() const;

private:
    class Node;

    QThread m_thread;
    std::unique_ptr<QObject> m_context; ///< lives on the thread: calls to run there go through it
    Node *m_node = nullptr;
};
