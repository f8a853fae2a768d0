#pragma once

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
    QApplication &m_application;
    std::unique_ptr<ServerFacade> m_server;
    std::unique_ptr<MainWindow> m_window;
};
