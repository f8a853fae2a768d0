#include "views/MainWindow.h"

#include "SessionServer.h"
#include "views/ServerStatusPanel.h"

#include <QLabel>
#include <QStatusBar>
#include <QTabWidget>
#include <QVBoxLayout>

using namespace Qt::StringLiterals;

MainWindow::MainWindow(SessionServer &server, QWidget *parent)
    : QMainWindow(parent)
    , m_server(server)
    , m_tabs(new QTabWidget(this))
{
    setObjectName(u"mainWindow"_s);
    setWindowTitle(tr("Gatehouse"));
    m_tabs->setObjectName(u"mainTabWidget"_s);

    auto *overview = new QWidget(m_tabs);
    auto *layout = new QVBoxLayout(overview);
    auto *status = new ServerStatusPanel(server, overview);
    status->setObjectName(u"serverStatusPanel"_s);
    layout->addWidget(status);
    layout->addStretch();
    m_tabs->addTab(overview, tr("Server"));
    setCentralWidget(m_tabs);

    connect(&server, &SessionServer::stateChanged, this, &MainWindow::handleServerStateChanged);
    handleServerStateChanged();
    resize(900, 600);
}

void MainWindow::handleServerStateChanged()
{
    switch (m_server.state()) {
    case ServerState::Running:
        statusBar()->showMessage(tr("Listening on %1").arg(m_server.listenAddress()));
        break;
    case ServerState::Failed:
        statusBar()->showMessage(tr("Server stopped: %1").arg(m_server.errorString()));
        break;
    case ServerState::Starting:
        statusBar()->showMessage(tr("Starting…"));
        break;
    case ServerState::Stopped:
        statusBar()->showMessage(tr("Stopped"));
        break;
    }
}
