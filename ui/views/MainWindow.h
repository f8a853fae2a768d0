#pragma once

#include "remote/AttachRequest.h"

#include <QMainWindow>
#include <QPointer>
#include <QUrl>

class ActivityView;
class QAction;
class AttachedToken;
class AuditView;
class KeysView;
class LabPanel;
class LiveState;
class PolicyEditor;
class QLabel;
class QPushButton;
class QTabWidget;
class RememberedTokens;
class ServerFacade;
class SessionsView;
class TrayIcon;
class UsersAdminView;

/// The console's window. Reads the server only through the ServerFacade (the embedded SessionServer, or a
/// RemoteServer): a snapshot when the server is up, then the facade's coalesced changes, kept in a LiveState that the
/// models read. Window state, column layout and the last tab persist in QSettings.
class MainWindow final : public QMainWindow {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(MainWindow)

public:
    explicit MainWindow(ServerFacade &server, QWidget *parent = nullptr);
    ~MainWindow() override;

    enum Tab { SessionsTab, AuditTab, ActivityTab, PolicyTab, UsersTab, KeysTab, LabTab, ServerTab };
    void showTab(Tab tab);
    SessionsView *sessionsView() const { return m_sessions; }
    AuditView *auditView() const { return m_audit; }
    PolicyEditor *policyEditor() const { return m_policy; }
    UsersAdminView *usersAdminView() const { return m_usersAdmin; }
    LabPanel *labPanel() const { return m_lab; }
    const LiveState &liveState() const { return *m_state; }
    /// Where File → Connect looks for remembered admin tokens, and keeps them.
    void setRememberedTokens(RememberedTokens *tokens);
    /// File → Connect to server…, its address filled in when given.
    void showConnectDialog(const QUrl &server = {}, bool rememberToken = false);
    /// Says what becomes of an attached server's token (remembered, or refused).
    void followToken(const AttachedToken &token);
    /// The server refused the token remembered for it: say so, offer to forget or replace it.
    void offerToReplaceRememberedToken(const QUrl &server, const QString &why);
    /// A sentence in the status bar for a while.
    void showOutcome(const QString &message);
    /// A notice the window shows once it is up (object name "noticeBox"): what became of the
    /// window it replaces, such as a restore.
    void showNotice(const QString &title, const QString &text, bool problem);
    /// File → Back up…: the backup dialog; the backup is written on the server's job thread.
    void backUp();
    /// File → Restore from backup…: the backup dialog, what the file holds, a confirmation,
    /// then the server stops, is restored and starts again (restartRequested).
    void restore();

Q_SIGNALS:
    /// File → Connect to server…: the application attaches to it instead (a new window).
    void connectRequested(const AttachRequest &request);
    /// File → Use the embedded server, from an attached console.
    void embeddedRequested();
    /// After a restore: a new embedded server on the restored data, and a new window on it
    /// that shows `notice` (showNotice).
    void restartRequested(const QString &title, const QString &notice, bool problem);

protected:
    void closeEvent(QCloseEvent *event) override;

private:
    void handleServerStateChanged();
    /// While a backup, a check or a restore runs: no other, no Connect, no Quit, no close.
    void setBackupUnderWay(bool underWay);
    /// Back up… and Restore… offered where the server allows them, else greyed with the reason.
    void updateBackupActions();
    /// File → Quit and the tray's Quit, refused while a backup or restore runs.
    void quitUnlessBusy();
    void offerFirstRun(bool noUsers);
    void buildMenus();
    void restoreSettings();
    void saveSettings() const;

    ServerFacade &m_server;
    LiveState *m_state = nullptr;
    QTabWidget *m_tabs = nullptr;
    SessionsView *m_sessions = nullptr;
    AuditView *m_audit = nullptr;
    ActivityView *m_activity = nullptr;
    PolicyEditor *m_policy = nullptr;
    UsersAdminView *m_usersAdmin = nullptr;
    KeysView *m_keys = nullptr;
    LabPanel *m_lab = nullptr;
    TrayIcon *m_tray = nullptr;
    QPushButton *m_useFilesButton = nullptr; ///< while the server waits for the keyring
    QAction *m_backupAction = nullptr;
    QAction *m_restoreAction = nullptr;
    QAction *m_connectAction = nullptr;
    bool m_backupUnderWay = false;
    QLabel *m_connectionCount = nullptr;
    bool m_firstRunOffered = false;
    QPointer<RememberedTokens> m_tokens;
};
