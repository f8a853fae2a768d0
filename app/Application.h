#pragma once

#include "SessionServerOptions.h"

#include <QList>
#include <QSslCertificate>
#include <QUrl>

#include <memory>

class MainWindow;
class QApplication;
class ServerFacade;

/// Builds the console: parses its flags, starts the embedded server (or attaches to a server
/// elsewhere with --connect) and shows the window.
class Application final {
public:
    explicit Application(QApplication &application);
    ~Application();

    /// The exit code: 0 after a normal close, 2 for bad flags.
    int run();

private:
    /// A new window on `server`, in place of the one shown (File → Connect, Disconnect).
    void show(std::unique_ptr<ServerFacade> server);

    QApplication &m_application;
    SessionServerOptions m_options; ///< the embedded server's, to come back to
    std::unique_ptr<ServerFacade> m_server;
    std::unique_ptr<MainWindow> m_window;
};
