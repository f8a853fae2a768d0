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
    parser.addOptions({ dataDir, listen, config, secretStore });
    parser.process(m_application); // prints help, version or the error and exits

    m_server = std::make_unique<SessionServer>(SessionServerOptions {
        parser.value(dataDir), parser.value(config), parser.value(listen), parser.value(secretStore) });
    m_window = std::make_unique<MainWindow>(*m_server);
    m_window->show();
    m_server->start();
    return m_application.exec();
}
