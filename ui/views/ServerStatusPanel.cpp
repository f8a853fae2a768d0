#include "views/ServerStatusPanel.h"

#include <QFormLayout>
#include <QLabel>

using namespace Qt::StringLiterals;

namespace {
QString stateText(ServerState state)
{
    switch (state) {
    case ServerState::Stopped:
        return ServerStatusPanel::tr("Stopped");
    case ServerState::Starting:
        return ServerStatusPanel::tr("Starting…");
    case ServerState::Running:
        return ServerStatusPanel::tr("Running");
    case ServerState::Failed:
        return ServerStatusPanel::tr("Could not start");
    }
    return {};
}
} // namespace

ServerStatusPanel::ServerStatusPanel(const ServerFacade &server, QWidget *parent)
    : QWidget(parent)
    , m_server(server)
    , m_stateLabel(new QLabel(this))
    , m_addressLabel(new QLabel(this))
    , m_dataDirectoryLabel(new QLabel(this))
    , m_errorLabel(new QLabel(this))
{
    m_stateLabel->setObjectName(u"stateLabel"_s);
    m_addressLabel->setObjectName(u"addressLabel"_s);
    m_dataDirectoryLabel->setObjectName(u"dataDirectoryLabel"_s);
    m_errorLabel->setObjectName(u"errorLabel"_s);
    for (auto *label : { m_addressLabel, m_dataDirectoryLabel, m_errorLabel })
        label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_errorLabel->setWordWrap(true);
    m_errorLabel->setForegroundRole(QPalette::BrightText);

    auto *layout = new QFormLayout(this);
    layout->addRow(tr("Server:"), m_stateLabel);
    layout->addRow(tr("Listening on:"), m_addressLabel);
    layout->addRow(tr("Data directory:"), m_dataDirectoryLabel);
    layout->addRow(m_errorLabel);
    m_stateLabel->setAccessibleName(tr("Server state"));
    m_addressLabel->setAccessibleName(tr("Listening address"));

    connect(&server, &ServerFacade::stateChanged, this, &ServerStatusPanel::handleStateChanged);
    handleStateChanged(server.state());
}

void ServerStatusPanel::handleStateChanged(ServerState state)
{
    m_stateLabel->setText(stateText(state));
    m_addressLabel->setText(m_server.listenAddress().isEmpty() ? tr("—") : m_server.url().toString());
    m_dataDirectoryLabel->setText(m_server.dataDirectory().isEmpty() ? tr("—") : m_server.dataDirectory());
    m_errorLabel->setText(state == ServerState::Failed ? m_server.errorString() : QString());
    m_errorLabel->setVisible(state == ServerState::Failed);
}
