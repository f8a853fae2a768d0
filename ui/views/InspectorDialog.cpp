#include "views/InspectorDialog.h"

#include "ServerFacade.h"
#include "models/InspectorModel.h"
#include "models/Numerus.h"

#include <QDialogButtonBox>
#include <QHeaderView>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScrollBar>
#include <QSplitter>
#include <QTableView>
#include <QVBoxLayout>

using namespace Qt::StringLiterals;

InspectorDialog::InspectorDialog(ServerFacade &server, const ConnectionInfo &connection, bool payloads, QWidget *parent)
    : QDialog(parent)
    , m_server(server)
    , m_connectionId(connection.id)
    , m_model(new InspectorModel(10000, this))
    , m_table(new QTableView(this))
    , m_payload(new QPlainTextEdit(this))
    , m_policy(new QLabel(this))
    , m_status(new QLabel(this))
{
    setObjectName(u"inspectorDialog"_s);
    setAttribute(Qt::WA_DeleteOnClose);
    setWindowTitle(tr("Inspector: connection %1 of %2 (%3)")
                       .arg(connection.id)
                       .arg(connection.user.displayName(), connection.deviceId));
    m_table->setObjectName(u"inspectorTable"_s);
    m_table->setModel(m_model);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->verticalHeader()->hide();
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->setColumnWidth(InspectorModel::Time, 110);
    m_table->setColumnWidth(InspectorModel::Direction, 80);
    m_table->setColumnWidth(InspectorModel::Type, 110);
    m_table->setColumnWidth(InspectorModel::Size, 80);
    m_table->setAccessibleName(tr("Messages of connection %1").arg(connection.id));
    m_payload->setObjectName(u"inspectorPayload"_s);
    m_payload->setReadOnly(true);
    m_payload->setAccessibleName(tr("The selected message's payload"));
    m_policy->setObjectName(u"inspectorPolicy"_s);
    m_policy->setWordWrap(true);
    m_status->setObjectName(u"inspectorStatus"_s);

    auto *splitter = new QSplitter(Qt::Vertical, this);
    splitter->addWidget(m_table);
    splitter->addWidget(m_payload);
    splitter->setStretchFactor(0, 3);
    splitter->setStretchFactor(1, 1);

    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    auto *clear = buttons->addButton(tr("C&lear"), QDialogButtonBox::ResetRole);
    connect(clear, &QPushButton::clicked, this, [this] {
        m_model->clear();
        m_payload->clear();
    });
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::close);

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_policy);
    layout->addWidget(splitter, 1);
    auto *bottom = new QHBoxLayout;
    bottom->addWidget(m_status, 1);
    bottom->addWidget(buttons);
    layout->addLayout(bottom);
    resize(820, 520);

    // Follow the newest message unless the admin scrolled up to read an older one.
    connect(m_table->verticalScrollBar(), &QScrollBar::valueChanged, this,
            [this](int value) { m_follow = value == m_table->verticalScrollBar()->maximum(); });
    connect(m_table->selectionModel(), &QItemSelectionModel::currentRowChanged, this, &InspectorDialog::showSelected);
    connect(&server, &ServerFacade::inspected, this, [this](const InspectionBatch &batch) {
        if (batch.connectionId == m_connectionId)
            handleBatch(batch);
    });
    showPayloadPolicy(payloads);
    m_inspecting = true;
    updateStatus();
    server.inspectConnection(m_connectionId, this, [this](const AdminOutcome &outcome) {
        if (outcome.ok())
            return;
        m_inspecting = false;
        m_ended = tr("Not inspecting: %1").arg(outcome.error);
        updateStatus();
    });
}

InspectorDialog::~InspectorDialog()
{
    if (m_inspecting)
        m_server.stopInspecting(m_connectionId);
}

void InspectorDialog::showPayloadPolicy(bool payloads)
{
    m_policy->setText(payloads ? tr("Payloads are shown: the server's configuration allows it (inspect_payloads), "
                                    "and each opening is audited.")
                               : tr("Payloads are hidden: the server's configuration does not allow inspectors to "
                                    "read messages (inspect_payloads is off). Time, direction, type and size only."));
    m_payload->setVisible(payloads);
}

void InspectorDialog::handleBatch(const InspectionBatch &batch)
{
    if (batch.ended) {
        m_inspecting = false;
        m_ended = batch.closeCode != 0 ? tr("The connection closed (%1).").arg(batch.closeCode)
                                       : tr("Inspection ended: %1").arg(batch.reason);
        return updateStatus();
    }
    if (batch.payloads != !m_payload->isHidden())
        showPayloadPolicy(batch.payloads);
    m_seen += batch.messages.size();
    m_dropped += batch.dropped;
    m_model->append(batch.messages);
    if (m_follow)
        m_table->scrollToBottom();
    updateStatus();
}

void InspectorDialog::showSelected()
{
    const QModelIndex current = m_table->currentIndex();
    m_payload->setPlainText(current.isValid() ? current.data(InspectorModel::PayloadRole).toString() : QString());
}

QString InspectorDialog::status() const
{
    return m_status->text();
}

void InspectorDialog::updateStatus()
{
    QString text = numerus(tr("%n message(s) seen", nullptr, int(std::min<qint64>(m_seen, INT_MAX))), int(m_seen));
    if (m_dropped > 0)
        text += tr(", %1 not shown (more than 2 000 a second)").arg(m_dropped);
    if (!m_ended.isEmpty())
        text = m_ended + u"  "_s + text;
    else if (m_inspecting)
        text = tr("Inspecting.") + u"  "_s + text;
    m_status->setText(text);
}
