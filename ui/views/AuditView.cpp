#include "views/AuditView.h"

#include "models/Numerus.h"

#include "ServerFacade.h"
#include "models/AuditFilterProxy.h"
#include "models/AuditLogModel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDateTimeEdit>
#include <QFileDialog>
#include <QGridLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSplitter>
#include <QTableView>
#include <QVBoxLayout>

using namespace Qt::StringLiterals;

AuditView::AuditView(ServerFacade &server, QWidget *parent)
    : QWidget(parent)
    , m_server(server)
    , m_model(new AuditLogModel(5000, this))
    , m_proxy(new AuditFilterProxy(this))
    , m_type(new QComboBox(this))
    , m_user(new QLineEdit(this))
    , m_actor(new QLineEdit(this))
    , m_useSince(new QCheckBox(tr("From"), this))
    , m_since(new QDateTimeEdit(QDateTime::currentDateTime().addSecs(-3600), this))
    , m_useUntil(new QCheckBox(tr("To"), this))
    , m_until(new QDateTimeEdit(QDateTime::currentDateTime(), this))
    , m_table(new QTableView(this))
    , m_detail(new QPlainTextEdit(this))
    , m_chain(new QLabel(tr("Chain not verified yet"), this))
{
    m_proxy->setSourceModel(m_model);
    m_type->setObjectName(u"auditTypeFilter"_s);
    m_type->setEditable(true);
    m_type->addItem(QString());
    m_type->setAccessibleName(tr("Event type"));
    m_type->setMinimumContentsLength(22);
    m_user->setObjectName(u"auditUserFilter"_s);
    m_user->setPlaceholderText(tr("user"));
    m_user->setAccessibleName(tr("User"));
    m_actor->setObjectName(u"auditActorFilter"_s);
    m_actor->setPlaceholderText(tr("actor"));
    m_actor->setAccessibleName(tr("Actor"));
    for (auto *edit : { m_since, m_until }) {
        edit->setCalendarPopup(true);
        edit->setDisplayFormat(u"yyyy-MM-dd HH:mm:ss"_s);
        edit->setEnabled(false);
    }
    m_since->setAccessibleName(tr("From time"));
    m_until->setAccessibleName(tr("To time"));
    connect(m_useSince, &QCheckBox::toggled, m_since, &QWidget::setEnabled);
    connect(m_useUntil, &QCheckBox::toggled, m_until, &QWidget::setEnabled);

    m_table->setObjectName(u"auditTable"_s);
    m_table->setAccessibleName(tr("Audit events"));
    m_table->setModel(m_proxy);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->verticalHeader()->hide();
    m_table->verticalHeader()->setDefaultSectionSize(m_table->fontMetrics().height() + 6);
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->horizontalHeader()->resizeSection(AuditLogModel::Time, 170);
    m_table->horizontalHeader()->resizeSection(AuditLogModel::Type, 190);
    m_detail->setObjectName(u"auditDetail"_s);
    m_detail->setAccessibleName(tr("Event detail"));
    m_detail->setReadOnly(true);
    m_detail->setFont(QFont(u"monospace"_s));
    m_chain->setObjectName(u"auditChainLabel"_s);

    auto *search = new QPushButton(tr("&Search server"), this);
    search->setObjectName(u"auditSearchButton"_s);
    search->setToolTip(tr("Read the matching events from the whole log, not only the live tail"));
    auto *exportButton = new QPushButton(tr("E&xport…"), this);
    exportButton->setObjectName(u"auditExportButton"_s);
    auto *verifyButton = new QPushButton(tr("&Verify chain"), this);
    verifyButton->setObjectName(u"auditVerifyButton"_s);

    auto *filters = new QGridLayout;
    filters->addWidget(new QLabel(tr("Type"), this), 0, 0);
    filters->addWidget(m_type, 0, 1);
    filters->addWidget(m_user, 0, 2);
    filters->addWidget(m_actor, 0, 3);
    filters->addWidget(m_useSince, 0, 4);
    filters->addWidget(m_since, 0, 5);
    filters->addWidget(m_useUntil, 0, 6);
    filters->addWidget(m_until, 0, 7);
    filters->addWidget(search, 0, 8);
    auto *footer = new QHBoxLayout;
    footer->addWidget(m_chain, 1);
    footer->addWidget(verifyButton);
    footer->addWidget(exportButton);
    auto *splitter = new QSplitter(Qt::Vertical, this);
    splitter->setObjectName(u"auditSplitter"_s);
    splitter->addWidget(m_table);
    splitter->addWidget(m_detail);
    splitter->setStretchFactor(0, 3);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(filters);
    layout->addWidget(splitter, 1);
    layout->addLayout(footer);

    for (auto *edit : { m_user, m_actor })
        connect(edit, &QLineEdit::textChanged, this, &AuditView::applyFilter);
    connect(m_type, &QComboBox::currentTextChanged, this, &AuditView::applyFilter);
    connect(m_useSince, &QCheckBox::toggled, this, &AuditView::applyFilter);
    connect(m_useUntil, &QCheckBox::toggled, this, &AuditView::applyFilter);
    connect(m_since, &QDateTimeEdit::dateTimeChanged, this, &AuditView::applyFilter);
    connect(m_until, &QDateTimeEdit::dateTimeChanged, this, &AuditView::applyFilter);
    connect(m_table->selectionModel(), &QItemSelectionModel::currentRowChanged, this, &AuditView::showDetail);
    connect(m_model, &AuditLogModel::typesChanged, this, [this] {
        const QString current = m_type->currentText();
        const QSignalBlocker blocker(m_type);
        m_type->clear();
        m_type->addItem(QString());
        m_type->addItems(m_model->knownTypes());
        m_type->setCurrentText(current);
    });
    connect(search, &QPushButton::clicked, this, &AuditView::searchServer);
    connect(verifyButton, &QPushButton::clicked, this, &AuditView::verify);
    connect(exportButton, &QPushButton::clicked, this, [this] {
        auto *dialog
            = new QFileDialog(this, tr("Export audit events"), QString(), tr("JSON lines (*.jsonl);;CSV (*.csv)"));
        dialog->setObjectName(u"auditExportDialog"_s);
        dialog->setAttribute(Qt::WA_DeleteOnClose);
        dialog->setAcceptMode(QFileDialog::AcceptSave);
        dialog->setDefaultSuffix(u"jsonl"_s);
        connect(dialog, &QFileDialog::fileSelected, this, &AuditView::exportTo);
        dialog->open();
    });
    connect(&server, &ServerFacade::auditAppended, m_model, &AuditLogModel::prepend);
    connect(&server, &ServerFacade::snapshotReady, this,
            [this](const ConsoleSnapshot &snapshot) { m_model->setEvents(snapshot.recentAudit); });
}

AuditFilter AuditView::filter() const
{
    AuditFilter filter;
    filter.type = m_type->currentText().trimmed();
    filter.username = m_user->text().trimmed();
    filter.actor = m_actor->text().trimmed();
    filter.sinceMs = m_useSince->isChecked() ? m_since->dateTime().toMSecsSinceEpoch() : 0;
    filter.untilMs = m_useUntil->isChecked() ? m_until->dateTime().toMSecsSinceEpoch() : 0;
    filter.limit = 5000;
    return filter;
}

void AuditView::applyFilter()
{
    const AuditFilter current = filter();
    m_proxy->setCriteria(current.type, current.username, current.actor, current.sinceMs, current.untilMs);
}

void AuditView::showDetail()
{
    const QModelIndex current = m_table->currentIndex();
    m_detail->setPlainText(current.isValid() ? current.data(AuditLogModel::DetailRole).toString() : QString());
}

void AuditView::searchServer()
{
    m_server.queryAudit(filter(), this, [this](const QList<AuditEvent> &events) {
        m_model->setEvents(events);
        Q_EMIT outcome(numerus(tr("%n audit event(s) found", nullptr, int(events.size())), int(events.size())));
    });
}

void AuditView::verify()
{
    m_chain->setText(tr("Verifying…"));
    m_server.verifyAudit(this, [this](const AuditVerification &result) {
        if (result.intact) {
            m_chain->setText(
                numerus(tr("✔ Chain intact: %n event(s) check out", nullptr, int(result.events)), int(result.events)));
            m_chain->setStyleSheet(u"color: #2e7d32"_s);
        } else {
            m_chain->setText(result.brokenAt > 0
                                 ? tr("✘ Chain broken at event %1: %2").arg(result.brokenAt).arg(result.reason)
                                 : tr("✘ Chain broken: %1").arg(result.reason));
            m_chain->setStyleSheet(u"color: #c62828"_s);
        }
    });
}

void AuditView::exportTo(const QString &path)
{
    m_server.exportAudit(filter(), path, this, [this, path](qsizetype written, const QString &error) {
        Q_EMIT outcome(error.isEmpty()
                           ? numerus(tr("%n event(s) exported to %1", nullptr, int(written)), int(written)).arg(path)
                           : tr("Export failed: %1").arg(error));
    });
}
