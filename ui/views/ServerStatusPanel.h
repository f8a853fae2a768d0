#pragma once

#include "ServerFacade.h"

#include <QWidget>

class QLabel;

/// The server's state at a glance: running or not, where it listens, where its data is,
/// and the reason when it could not start.
class ServerStatusPanel final : public QWidget {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ServerStatusPanel)

public:
    explicit ServerStatusPanel(const ServerFacade &server, QWidget *parent = nullptr);

private:
    void handleStateChanged(ServerState state);

    const ServerFacade &m_server;
    QLabel *m_stateLabel = nullptr;
    QLabel *m_addressLabel = nullptr;
    QLabel *m_dataDirectoryLabel = nullptr;
    QLabel *m_errorLabel = nullptr;
};
