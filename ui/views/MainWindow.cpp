#include "views/MainWindow.h"

#include "views/ConnectDialog.h"

#include "models/Numerus.h"

#include "RememberedTokens.h"
#include "ServerFacade.h"
#include "lab/LabPanel.h"
#include "models/LiveState.h"
#include "models/UsersModel.h"
#include "remote/AttachedToken.h"
#include "views/ActivityView.h"
#include "views/AuditView.h"
#include "views/BackupDialog.h"
#include "views/Confirmation.h"
#include "views/KeysView.h"
#include "views/PolicyEditor.h"
#include "views/ServerStatusPanel.h"
#include "views/SessionsView.h"
#include "views/Theme.h"
#include "views/TrayIcon.h"
#include "views/UserDialog.h"
#include "views/UsersAdminView.h"

#include <QApplication>
#include <QCloseEvent>
#include <QDateTime>
#include <QDir>
#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QMenuBar>
#include <QMessageBox>
#include <QPushButton>
#include <QSettings>
#include <QSplitter>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTabWidget>
#include <QTableView>
#include <QTimer>
#include <QTreeView>
#include <QVBoxLayout>

using namespace Qt::StringLiterals;

MainWindow::MainWindow(ServerFacade &server, QWidget *parent)
    : QMainWindow(parent)
    , m_server(server)
    , m_state(new LiveState(this))
    , m_tabs(new QTabWidget(this))
    , m_connectionCount(new QLabel(this))
{
    setObjectName(u"mainWindow"_s);
    setWindowTitle(tr("Gatehouse"));
    m_tabs->setObjectName(u"mainTabWidget"_s);
    m_tabs->setDocumentMode(true);

    m_sessions = new SessionsView(server, *m_state, m_tabs);
    m_sessions->setObjectName(u"sessionsView"_s);
    m_audit = new AuditView(server, m_tabs);
    m_audit->setObjectName(u"auditView"_s);
    m_activity = new ActivityView(server, m_tabs);
    m_activity->setObjectName(u"activityView"_s);
    m_policy = new PolicyEditor(server, m_tabs);
    m_policy->setObjectName(u"policyEditor"_s);
    m_usersAdmin = new UsersAdminView(server, *m_sessions->usersModel(), m_tabs);
    m_usersAdmin->setObjectName(u"usersAdminView"_s);
    m_keys = new KeysView(server, m_tabs);
    m_keys->setObjectName(u"keysView"_s);
    m_lab = new LabPanel(server, m_tabs);
    m_lab->setObjectName(u"labPanel"_s);
    auto *overview = new QWidget(m_tabs);
    auto *layout = new QVBoxLayout(overview);
    auto *status = new ServerStatusPanel(server, overview);
    status->setObjectName(u"serverStatusPanel"_s);
    layout->addWidget(status);
    layout->addStretch();

    m_tabs->addTab(m_sessions, tr("&Sessions"));
    m_tabs->addTab(m_audit, tr("&Audit"));
    m_tabs->addTab(m_activity, tr("Acti&vity"));
    m_tabs->addTab(m_policy, tr("&Policy"));
    m_tabs->addTab(m_usersAdmin, tr("&Users"));
    m_tabs->addTab(m_keys, tr("&Keys"));
    m_tabs->addTab(m_lab, tr("&Lab"));
    m_tabs->addTab(overview, tr("Se&rver"));
    setCentralWidget(m_tabs);
    m_connectionCount->setObjectName(u"connectionCountLabel"_s);
    statusBar()->addPermanentWidget(m_connectionCount);
    m_tray = new TrayIcon(this);
    connect(m_tray, &TrayIcon::quitRequested, this, &MainWindow::quitUnlessBusy);

    connect(m_sessions, &SessionsView::outcome, this, &MainWindow::showOutcome);
    connect(m_audit, &AuditView::outcome, this, &MainWindow::showOutcome);
    connect(m_policy, &PolicyEditor::outcome, this, &MainWindow::showOutcome);
    connect(m_usersAdmin, &UsersAdminView::outcome, this, &MainWindow::showOutcome);
    connect(m_keys, &KeysView::outcome, this, &MainWindow::showOutcome);
    connect(m_lab, &LabPanel::outcome, this, &MainWindow::showOutcome);
    connect(m_tray, &TrayIcon::warning, this, &MainWindow::showOutcome);

    // The server's feeds into the console's state; all queued, all coalesced by the server.
    connect(&server, &ServerFacade::snapshotReady, this, [this](const ConsoleSnapshot &snapshot) {
        m_state->applySnapshot(snapshot);
        offerFirstRun(snapshot.users.isEmpty());
    });
    connect(&server, &ServerFacade::connectionsSnapshot, m_state, &LiveState::applyConnectionsSnapshot);
    connect(&server, &ServerFacade::connectionsChanged, m_state, &LiveState::applyConnections);
    connect(&server, &ServerFacade::usersChanged, m_state, &LiveState::applyUsers);
    connect(&server, &ServerFacade::sessionsChanged, m_state, &LiveState::applySessions);
    connect(&server, &ServerFacade::policyChanged, m_state, &LiveState::applyPolicy);
    connect(&server, &ServerFacade::auditAppended, m_tray, &TrayIcon::noteEvents);
    connect(m_state, &LiveState::usersTouched, this, [this] {
        m_connectionCount->setText(numerus(tr("%n live connection(s)", nullptr, int(m_state->totalLiveConnections())),
                                           int(m_state->totalLiveConnections())));
        m_tray->setConnectionCount(m_state->totalLiveConnections());
    });
    auto *prune = new QTimer(this);
    prune->setInterval(30'000);
    connect(prune, &QTimer::timeout, this, [this] { m_state->prune(QDateTime::currentMSecsSinceEpoch()); });
    prune->start();

    connect(&server, &ServerFacade::stateChanged, this, &MainWindow::handleServerStateChanged);
    connect(&server, &ServerFacade::startupProgress, this, [this](const QString &message) {
        if (m_server.state() == ServerState::Starting)
            statusBar()->showMessage(message);
    });
    // A keyring asking for a password nobody may answer (a new desktop, a locked keyring):
    // the admin need not wait for the server's own fallback.
    m_useFilesButton = new QPushButton(tr("Keep keys in owner-only files instead"), this);
    m_useFilesButton->setObjectName(u"useFileSecretsButton"_s);
    m_useFilesButton->setToolTip(tr("Stop waiting for the system keyring: the server keeps its signing keys in "
                                    "files only you can read, in its data directory, from now on "
                                    "(as --secret-store file does)."));
    m_useFilesButton->hide();
    statusBar()->addPermanentWidget(m_useFilesButton);
    connect(m_useFilesButton, &QPushButton::clicked, this, [this] {
        m_useFilesButton->hide();
        statusBar()->showMessage(tr("Keeping the keys in owner-only files…"));
        m_server.useFileSecretsInstead();
    });
    connect(&server, &ServerFacade::startedWaitingForKeyring, this, [this] {
        if (m_server.state() == ServerState::Starting)
            m_useFilesButton->show();
    });
    buildMenus();
    resize(1100, 700);
    restoreSettings();
    handleServerStateChanged();
}

MainWindow::~MainWindow() = default;

void MainWindow::buildMenus()
{
    auto *file = menuBar()->addMenu(tr("&File"));
    file->addAction(tr("&Export audit…"), this, [this] {
        showTab(AuditTab);
        m_audit->findChild<QPushButton *>(u"auditExportButton"_s)->click();
    });
    file->addSeparator();
    m_backupAction = file->addAction(tr("&Back up…"), this, &MainWindow::backUp);
    m_backupAction->setObjectName(u"backupAction"_s);
    m_restoreAction = file->addAction(tr("&Restore from backup…"), this, &MainWindow::restore);
    m_restoreAction->setObjectName(u"restoreAction"_s);
    file->setToolTipsVisible(true);
    updateBackupActions();
    file->addSeparator();
    m_connectAction = file->addAction(tr("&Connect to server…"), this, [this] { showConnectDialog(); });
    m_connectAction->setObjectName(u"connectAction"_s);
    if (m_server.isRemote()) {
        auto *embedded = file->addAction(tr("&Disconnect (use the embedded server)"), this,
                                         [this] { Q_EMIT embeddedRequested(); });
        embedded->setObjectName(u"embeddedAction"_s);
    }
    file->addSeparator();
    auto *quit = file->addAction(tr("&Quit"), this, &MainWindow::quitUnlessBusy);
    quit->setObjectName(u"quitAction"_s);
    quit->setShortcut(QKeySequence::Quit);

    auto *actions = menuBar()->addMenu(tr("&Actions"));
    actions->addActions(m_sessions->userActions());
    actions->addSeparator();
    actions->addAction(tr("&Add user…"), QKeySequence(Qt::CTRL | Qt::Key_N), m_usersAdmin, &UsersAdminView::addUser);
    actions->addAction(tr("&Refresh from server"), QKeySequence::Refresh, this, [this] {
        m_server.requestSnapshot();
        m_server.requestConnections();
    });

    auto *view = menuBar()->addMenu(tr("&View"));
    auto *dark = view->addAction(tr("&Dark theme"));
    dark->setObjectName(u"darkThemeAction"_s);
    dark->setCheckable(true);
    dark->setChecked(QSettings().value(u"view/dark"_s, false).toBool());
    if (dark->isChecked())
        Theme::apply(true);
    connect(dark, &QAction::toggled, this, [](bool on) {
        Theme::apply(on);
        QSettings().setValue(u"view/dark"_s, on);
    });
    for (int i = 0; i < m_tabs->count(); ++i) {
        auto *go = view->addAction(m_tabs->tabText(i), this, [this, i] { m_tabs->setCurrentIndex(i); });
        go->setShortcut(QKeySequence(Qt::ALT | Qt::Key(Qt::Key_1 + i)));
    }

    auto *help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&About Gatehouse"), this, [this] {
        QMessageBox::about(this, tr("About Gatehouse"),
                           tr("<b>Gatehouse</b> %1<br>Self-hosted sessions for real-time applications.<br>"
                              "Licensed under the GNU GPL, version 3 or later.")
                               .arg(QApplication::applicationVersion()));
    });
}

void MainWindow::showNotice(const QString &title, const QString &text, bool problem)
{
    auto *box = new QMessageBox(problem ? QMessageBox::Warning : QMessageBox::Information, title, text, QMessageBox::Ok,
                                this);
    box->setObjectName(u"noticeBox"_s);
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->setWindowModality(Qt::WindowModal);
    box->open();
}

namespace {
/// Where backups are offered to go, and looked for: the documents folder, else home.
QString backupFolder()
{
    const QString documents = QStandardPaths::writableLocation(QStandardPaths::DocumentsLocation);
    return QDir(documents).exists() ? documents : QDir::homePath();
}
} // namespace

void MainWindow::backUp()
{
    const QString name
        = u"gatehouse-%1.gatehouse-backup"_s.arg(QDateTime::currentDateTime().toString(u"yyyy-MM-dd-HHmm"_s));
    auto *dialog
        = new BackupDialog(BackupDialog::Mode::Backup, QDir(backupFolder()).filePath(name), backupFolder(), this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &QDialog::accepted, this, [this, dialog] {
        const QString file = dialog->file();
        statusBar()->showMessage(tr("Backing up to %1…").arg(file));
        setBackupUnderWay(true);
        m_server.backUp(file, dialog->passphrase(), this, [this](const Result<QString, QString> &written) {
            setBackupUnderWay(false);
            if (written)
                return showOutcome(*written);
            statusBar()->clearMessage();
            showNotice(tr("Backup failed"), tr("No backup was written: %1.").arg(written.error()), true);
        });
    });
    dialog->open();
}

void MainWindow::restore()
{
    auto *dialog = new BackupDialog(BackupDialog::Mode::Restore, QString(), backupFolder(), this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &QDialog::accepted, this, [this, dialog] {
        const QString file = dialog->file();
        const QByteArray passphrase = dialog->passphrase();
        statusBar()->showMessage(tr("Opening %1…").arg(file));
        setBackupUnderWay(true);
        m_server.checkBackup(
            file, passphrase, this, [this, file, passphrase](const Result<BackupSummary, QString> &summary) {
                setBackupUnderWay(false);
                statusBar()->clearMessage();
                if (!summary)
                    return showNotice(tr("Cannot restore"), tr("Nothing was restored: %1.").arg(summary.error()), true);
                const QString made
                    = QLocale().toString(QDateTime::fromSecsSinceEpoch(summary->createdAt), QLocale::LongFormat);
                confirmThen(this, tr("Restore from backup"),
                            tr("Restore the backup made on %1 (a database of %2 KiB, signing key %3)?\n\n"
                               "It replaces everything in %4: users, sessions, the audit log and the signing "
                               "keys. The server stops, and starts again on the restored data; connected "
                               "clients are disconnected.")
                                .arg(made)
                                .arg((summary->databaseBytes + 1023) / 1024)
                                .arg(summary->signingKeyId.isEmpty() ? tr("none yet") : summary->signingKeyId,
                                     m_server.dataDirectory()),
                            tr("Restore and restart"), [this, file, passphrase] {
                                statusBar()->showMessage(tr("Restoring from %1…").arg(file));
                                setBackupUnderWay(true); // until this window is replaced
                                m_server.restoreBackup(
                                    file, passphrase, this, [this](const Result<QString, QString> &restored) {
                                        if (restored)
                                            Q_EMIT restartRequested(tr("Restored"), *restored, false);
                                        else
                                            Q_EMIT restartRequested(
                                                tr("Restore failed"),
                                                tr("%1.\n\nThe server starts again on the data that is there.")
                                                    .arg(restored.error()),
                                                true);
                                    });
                            });
            });
    });
    dialog->open();
}

void MainWindow::setRememberedTokens(RememberedTokens *tokens)
{
    m_tokens = tokens;
}

void MainWindow::showConnectDialog(const QUrl &server, bool rememberToken)
{
    auto *dialog = new ConnectDialog(m_tokens, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    if (!server.isEmpty())
        dialog->setUrl(server);
    dialog->setRememberToken(rememberToken);
    connect(dialog, &QDialog::accepted, this, [this, dialog] { Q_EMIT connectRequested(dialog->request()); });
    dialog->open();
}

void MainWindow::followToken(const AttachedToken &token)
{
    connect(&token, &AttachedToken::rememberAnswered, this, &MainWindow::showOutcome);
    connect(&token, &AttachedToken::rememberedTokenRefused, this, &MainWindow::offerToReplaceRememberedToken);
}

void MainWindow::offerToReplaceRememberedToken(const QUrl &server, const QString &why)
{
    auto *box = new QMessageBox(QMessageBox::Warning, tr("Admin token refused"),
                                tr("%1 refused the admin token remembered for it (%2). It will not be tried again.")
                                    .arg(server.authority(), why),
                                QMessageBox::NoButton, this);
    box->setObjectName(u"refusedTokenDialog"_s);
    box->setAttribute(Qt::WA_DeleteOnClose);
    auto *forget = box->addButton(tr("Forget it"), QMessageBox::DestructiveRole);
    forget->setObjectName(u"forgetRefusedTokenButton"_s);
    auto *replace = box->addButton(tr("Enter another…"), QMessageBox::AcceptRole);
    replace->setObjectName(u"replaceRefusedTokenButton"_s);
    box->addButton(tr("Keep it"), QMessageBox::RejectRole);
    connect(box, &QMessageBox::buttonClicked, this, [this, server, forget, replace](QAbstractButton *button) {
        if (button == replace)
            return showConnectDialog(server, true); // the new one replaces it once accepted
        if (button != forget || !m_tokens)
            return;
        m_tokens->forget(server, this, [this, server](const QString &error) {
            showOutcome(error.isEmpty() ? tr("The admin token for %1 is forgotten.").arg(server.authority()) : error);
        });
    });
    box->open();
}

void MainWindow::showTab(Tab tab)
{
    m_tabs->setCurrentIndex(int(tab));
}

void MainWindow::handleServerStateChanged()
{
    if (m_useFilesButton && m_server.state() != ServerState::Starting)
        m_useFilesButton->hide();
    switch (m_server.state()) {
    case ServerState::Running:
        if (m_server.isRemote()) {
            // Attached: which server, and as whom (a viewer sees, and may not act).
            statusBar()->showMessage(tr("Attached to %1 as %2").arg(m_server.url().toString(), m_server.actor()));
            setWindowTitle(
                tr("Gatehouse — %1 (attached%2)")
                    .arg(m_server.url().authority(), m_server.mayOperate() ? QString() : tr(", viewer: read only")));
        } else {
            statusBar()->showMessage(tr("Listening on %1").arg(m_server.url().toString()));
            setWindowTitle(tr("Gatehouse — %1").arg(m_server.listenAddress()));
        }
        m_server.requestSnapshot();
        m_server.requestConnections();
        updateBackupActions();
        break;
    case ServerState::Failed:
        statusBar()->showMessage(tr("Server stopped: %1").arg(m_server.errorString()));
        showTab(ServerTab); // the reason is spelled out there
        break;
    case ServerState::Starting:
        // Attached and lost: said so, with when it tries again.
        statusBar()->showMessage(m_server.isRemote() && !m_server.errorString().isEmpty() ? m_server.errorString()
                                                                                          : tr("Starting…"));
        break;
    case ServerState::Stopped:
        statusBar()->showMessage(tr("Stopped"));
        break;
    }
}

void MainWindow::showOutcome(const QString &message)
{
    statusBar()->showMessage(message, 15000);
}

void MainWindow::offerFirstRun(bool noUsers)
{
    if (!noUsers || std::exchange(m_firstRunOffered, true))
        return;
    auto *box = new QMessageBox(QMessageBox::Information, tr("Welcome to Gatehouse"),
                                tr("This data directory has no users yet. Create the first one, or start a demo with "
                                   "simulated users at lab speed to watch sessions live."),
                                QMessageBox::NoButton, this);
    box->setObjectName(u"firstRunDialog"_s);
    box->setAttribute(Qt::WA_DeleteOnClose);
    auto *create = box->addButton(tr("Create first user…"), QMessageBox::AcceptRole);
    auto *demo = box->addButton(tr("Start a demo"), QMessageBox::ActionRole);
    demo->setObjectName(u"startDemoButton"_s);
    box->addButton(tr("Later"), QMessageBox::RejectRole);
    connect(box, &QMessageBox::buttonClicked, this, [this, create, demo](QAbstractButton *button) {
        if (button == create) {
            showTab(UsersTab);
            m_usersAdmin->addUser();
        } else if (button == demo) {
            m_server.setPolicy(SessionPolicy::labSpeed(), this, [](const QString &) {});
            m_lab->startLab(4, 2);
            showTab(SessionsTab);
        }
    });
    box->open();
}

void MainWindow::restoreSettings()
{
    QSettings settings;
    restoreGeometry(settings.value(u"window/geometry"_s).toByteArray());
    restoreState(settings.value(u"window/state"_s).toByteArray());
    m_tabs->setCurrentIndex(settings.value(u"window/tab"_s, 0).toInt());
    m_sessions->usersTable()->horizontalHeader()->restoreState(settings.value(u"columns/users"_s).toByteArray());
    m_sessions->sessionTree()->header()->restoreState(settings.value(u"columns/sessions"_s).toByteArray());
    m_audit->table()->horizontalHeader()->restoreState(settings.value(u"columns/audit"_s).toByteArray());
    for (auto *splitter : findChildren<QSplitter *>())
        splitter->restoreState(settings.value(u"splitters/"_s + splitter->objectName()).toByteArray());
}

void MainWindow::saveSettings() const
{
    QSettings settings;
    settings.setValue(u"window/geometry"_s, saveGeometry());
    settings.setValue(u"window/state"_s, saveState());
    settings.setValue(u"window/tab"_s, m_tabs->currentIndex());
    settings.setValue(u"columns/users"_s, m_sessions->usersTable()->horizontalHeader()->saveState());
    settings.setValue(u"columns/sessions"_s, m_sessions->sessionTree()->header()->saveState());
    settings.setValue(u"columns/audit"_s, m_audit->table()->horizontalHeader()->saveState());
    for (const auto *splitter : findChildren<QSplitter *>())
        settings.setValue(u"splitters/"_s + splitter->objectName(), splitter->saveState());
}

void MainWindow::setBackupUnderWay(bool underWay)
{
    m_backupUnderWay = underWay;
    updateBackupActions();
    // Nothing that would replace this window, or its server, while a job runs on its data.
    m_connectAction->setEnabled(!underWay);
}

void MainWindow::updateBackupActions()
{
    // Attached, what is offered depends on the token's scope, known once the feed says hello.
    const std::pair<QAction *, QString> actions[] = { { m_backupAction, m_server.backupUnavailableReason() },
                                                      { m_restoreAction, m_server.restoreUnavailableReason() } };
    for (const auto &[action, why] : actions) {
        action->setEnabled(why.isEmpty() && !m_backupUnderWay);
        action->setStatusTip(why);
        action->setToolTip(why.isEmpty() ? action->text().remove(u'&') : why);
    }
}

void MainWindow::quitUnlessBusy()
{
    if (m_backupUnderWay)
        return showOutcome(tr("A backup or restore is under way: quit when it has ended."));
    QApplication::quit();
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    if (m_backupUnderWay) {
        showOutcome(tr("A backup or restore is under way: close the window when it has ended."));
        event->ignore();
        return;
    }
    saveSettings();
    QMainWindow::closeEvent(event);
}
