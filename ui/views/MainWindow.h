#pragma once

#include <QMainWindow>

class SessionServer;
class QTabWidget;

/// The console's window. Reads the server only through the SessionServer facade.
class MainWindow final : public QMainWindow {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(MainWindow)

public:
    explicit MainWindow(SessionServer &server, QWidget *parent = nullptr);

private:
    void handleServerStateChanged();

    SessionServer &m_server;
    QTabWidget *m_tabs = nullptr;
};
