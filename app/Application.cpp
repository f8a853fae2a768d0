#include "Application.h"

#include "SessionServer.h"
#include "views/MainWindow.h"

#include <QApplication>
#include <QCommandLineParser>

using namespace Qt::StringLiterals;

Application::Application(QApplication &application)
    : m_application(application)
{
    QApplication::setApplicationName(u"gatehouse"_s);
    QApplication::setApplicationDisplayName(u"Gatehouse"_s);
    QApplication::setApplicationVersion(QStringLiteral(GATEHOUSE_VERSION));
    QApplication::setOrganizationName(u"gatehouse"_s);
}

Application::~Application()
{
    m_window.reset();
    m_server.reset(); // joins the server thread
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
    const QCommandLineOption secretStore(u"secret-store"_s, u"Where private keys live: auto, keychain or file."_s,
                                         u"MODE"_s);
    const QCommandLineOption tls(u"tls"_s, u"self-signed: HTTPS and WSS with a certificate made for a lab."_s,
                                 u"MODE"_s);
    const QCommandLineOption tlsCertificate(u"tls-cert"_s, u"TLS certificate chain (PEM)."_s, u"FILE"_s);
    const QCommandLineOption tlsKey(u"tls-key"_s, u"TLS private key (PEM)."_s, u"FILE"_s);
    parser.addOptions({ dataDir, listen, config, secretStore, tls, tlsCertificate, tlsKey });
    parser.process(m_application); // prints help, version or the error and exits

    SessionServerOptions options { parser.value(dataDir), parser.value(config), parser.value(listen),
                                   parser.value(secretStore) };
    options.tls = parser.value(tls);
    options.tlsCertificate = parser.value(tlsCertificate);
    options.tlsKey = parser.value(tlsKey);
    m_server = std::make_unique<SessionServer>(options);
    m_window = std::make_unique<MainWindow>(*m_server);
    m_window->show();
    m_server->start();
    return m_application.exec();
}
