#pragma once

#include "SessionServerOptions.h"
#include "remote/AttachRequest.h"

#include <QList>
#include <QSslCertificate>
#include <QUrl>

#include <memory>

class MainWindow;
class QApplication;
class RememberedTokens;
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
    /// `--connect`: with the token from stdin, the one remembered, or the Connect dialog.
    int attachFromCommandLine(const QString &address, const QString &trustFile, bool tokenFromStdin,
                              const QString &secretStore);
    /// A new window on `server`, in place of the one shown (File → Connect, Disconnect).
    void show(std::unique_ptr<ServerFacade> server);
    /// A window on the server of `request`, following what becomes of its token.
    void attach(const AttachRequest &request);
    /// `--connect` without a token given or remembered: the Connect dialog, alone.
    void askForToken(const QUrl &url, const QString &trustFile);

    QApplication &m_application;
    SessionServerOptions m_options; ///< the embedded server's, to come back to
    std::unique_ptr<RememberedTokens> m_tokens;
    std::unique_ptr<ServerFacade> m_server;
    std::unique_ptr<MainWindow> m_window;
};
