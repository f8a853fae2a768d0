#include "Application.h"

#include "RememberedTokens.h"
#include "SessionServer.h"
#include "remote/AttachedToken.h"
#include "remote/RemoteServer.h"
#include "views/ConnectDialog.h"
#include "views/MainWindow.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QFile>
#include <QIcon>
#include <QSslCertificate>

#include <cstdio>

using namespace Qt::StringLiterals;

Application::Application(QApplication &application)
    : m_application(application)
{
    QApplication::setApplicationName(u"gatehouse"_s);
    QApplication::setApplicationDisplayName(u"Gatehouse"_s);
    // The project version and the git revision it was built from (cmake/GatehouseRevision.cmake).
    QApplication::setApplicationVersion(QStringLiteral(GATEHOUSE_VERSION " (git " GATEHOUSE_REVISION ")"));
    QApplication::setOrganizationName(u"gatehouse"_s);
    // The icon and desktop entry the gatehouse-console package installs (packaging/); the window
    // and the tray show that icon, and Wayland matches the window to its desktop entry.
    QApplication::setDesktopFileName(u"io.github.gatehouse.Gatehouse"_s);
    QApplication::setWindowIcon(QIcon::fromTheme(u"io.github.gatehouse.Gatehouse"_s));
}

Application::~Application()
{
    m_window.reset();
    m_server.reset(); // joins the server thread
    m_tokens.reset();
}

int Application::run()
{
    QCommandLineParser parser;
    parser.setApplicationDescription(u"Gatehouse console with its embedded session server"_s);
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption dataDir(
        u"data-dir"_s, u"Data directory (default: $GATEHOUSE_DATA_DIR or ~/.local/share/gatehouse)."_s, u"DIR"_s);
    const QCommandLineOption listen(u"listen"_s, u"Listen address (default 127.0.0.1:8080)."_s, u"HOST:PORT"_s);
    const QCommandLineOption config(u"config"_s, u"Config file (default: <data-dir>/gatehouse.json)."_s, u"FILE"_s);
    const QCommandLineOption secretStore(
        u"secret-store"_s, u"Where private keys and remembered admin tokens live: auto, keychain or file."_s,
        u"MODE"_s);
    const QCommandLineOption tls(u"tls"_s, u"self-signed: HTTPS and WSS with a certificate made for a lab."_s,
                                 u"MODE"_s);
    const QCommandLineOption tlsCertificate(u"tls-cert"_s, u"TLS certificate chain (PEM)."_s, u"FILE"_s);
    const QCommandLineOption tlsKey(u"tls-key"_s, u"TLS private key (PEM)."_s, u"FILE"_s);
    const QCommandLineOption connectTo(
        u"connect"_s, u"Attach to a running server (its admin feed) instead of embedding one."_s, u"URL"_s);
    const QCommandLineOption tokenStdin(u"admin-token-stdin"_s,
                                        u"With --connect: read the admin token from standard input."_s);
    const QCommandLineOption trust(u"trust-cert"_s, u"With --connect: also trust this certificate (PEM), a lab's."_s,
                                   u"FILE"_s);
    parser.addOptions(
        { dataDir, listen, config, secretStore, tls, tlsCertificate, tlsKey, connectTo, tokenStdin, trust });
    parser.process(m_application); // prints help, version or the error and exits

    m_tokens = std::make_unique<RememberedTokens>(parser.value(secretStore), parser.value(dataDir));
    if (parser.isSet(connectTo))
        return attachFromCommandLine(parser.value(connectTo), parser.value(trust), parser.isSet(tokenStdin),
                                     parser.value(secretStore));

    SessionServerOptions options { parser.value(dataDir), parser.value(config), parser.value(listen),
                                   parser.value(secretStore) };
    options.tls = parser.value(tls);
    options.tlsCertificate = parser.value(tlsCertificate);
    options.tlsKey = parser.value(tlsKey);
    m_options = options;
    show(std::make_unique<SessionServer>(options));
    return m_application.exec();
}

int Application::attachFromCommandLine(const QString &address, const QString &trustFile, bool tokenFromStdin,
                                       const QString &secretStore)
{
    const QUrl url(address, QUrl::StrictMode);
    if (!url.isValid() || (url.scheme() != "http"_L1 && url.scheme() != "https"_L1) || url.host().isEmpty()) {
        std::fprintf(stderr, "gatehouse: --connect takes http://host:port or https://host:port\n");
        return 2;
    }
    QList<QSslCertificate> trusted;
    if (!trustFile.isEmpty()) {
        QFile file(trustFile);
        if (!file.open(QIODevice::ReadOnly) || (trusted = QSslCertificate::fromData(file.readAll())).isEmpty()) {
            std::fprintf(stderr, "gatehouse: --trust-cert: %s holds no PEM certificate\n", qPrintable(trustFile));
            return 2;
        }
    }
    if (!RememberedTokens::isSecretStoreMode(secretStore)) {
        std::fprintf(stderr, "gatehouse: --secret-store takes auto, keychain or file\n");
        return 2;
    }
    if (tokenFromStdin) {
        QFile input;
        QByteArray token;
        if (input.open(stdin, QIODevice::ReadOnly))
            token = input.readLine(4096).trimmed();
        if (token.isEmpty()) {
            std::fprintf(stderr, "gatehouse: no admin token given\n");
            return 2;
        }
        attach({ url, token, trusted });
        return m_application.exec();
    }
    // The token remembered for this server, else the Connect dialog asks for one.
    m_tokens->find(url, m_tokens.get(),
                   [this, url, trustFile, trusted](Result<std::optional<QByteArray>, QString> found) {
                       if (found && found.value())
                           return attach({ url, *found.value(), trusted, false, true });
                       if (!found)
                           std::fprintf(stderr, "gatehouse: %s\n", qPrintable(found.error()));
                       askForToken(url, trustFile);
                   });
    return m_application.exec();
}

void Application::show(std::unique_ptr<ServerFacade> server)
{
    m_window.reset(); // it holds the server: it goes first
    m_server = std::move(server);
    m_window = std::make_unique<MainWindow>(*m_server);
    m_window->setRememberedTokens(m_tokens.get());
    // Queued: the window that asks is the one replaced.
    QObject::connect(m_window.get(), &MainWindow::connectRequested, m_window.get(),
                     [this](const AttachRequest &request) {
                         QMetaObject::invokeMethod(
                             &m_application, [this, request] { attach(request); }, Qt::QueuedConnection);
                     });
    QObject::connect(m_window.get(), &MainWindow::embeddedRequested, m_window.get(), [this] {
        QMetaObject::invokeMethod(
            &m_application, [this] { show(std::make_unique<SessionServer>(m_options)); }, Qt::QueuedConnection);
    });
    // After a restore: the server that was restored is started anew, in a new window.
    QObject::connect(m_window.get(), &MainWindow::restartRequested, m_window.get(),
                     [this](const QString &title, const QString &notice, bool problem) {
                         QMetaObject::invokeMethod(
                             &m_application,
                             [this, title, notice, problem] {
                                 show(std::make_unique<SessionServer>(m_options));
                                 m_window->showNotice(title, notice, problem);
                             },
                             Qt::QueuedConnection);
                     });
    m_window->show();
    m_server->start();
}

void Application::attach(const AttachRequest &request)
{
    auto remote = std::make_unique<RemoteServer>(request.url, request.token, request.trusted);
    auto &server = *remote;
    show(std::move(remote));
    auto *token = new AttachedToken(server, request, m_tokens.get(), m_window.get());
    m_window->followToken(*token);
}

void Application::askForToken(const QUrl &url, const QString &trustFile)
{
    auto *dialog = new ConnectDialog(m_tokens.get());
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setAttribute(Qt::WA_QuitOnClose, false); // accepted, it makes way for the window
    dialog->setUrl(url);
    dialog->setCertificateFile(trustFile);
    QObject::connect(dialog, &QDialog::accepted, &m_application, [this, dialog] { attach(dialog->request()); });
    QObject::connect(dialog, &QDialog::rejected, &m_application, &QCoreApplication::quit);
    dialog->open();
}
