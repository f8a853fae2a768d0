#pragma once

#include <QMainWindow>
#include <QSslCertificate>
#include <QUrl>

class ActivityView;
class AuditView;
class KeysView;
class LabPanel;
class LiveState;
class PolicyEditor;
class QLabel;
class QTabWidget;
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

Q_SIGNALS:
    /// File → Connect to server…: the application attaches to it instead (a new window).
    void connectRequested(const QUrl &url, const QByteArray &token, const QList<QSslCertificate> &trusted);
    /// File → Use the embedded server, from an attached console.
    void embeddedRequested();

protected:
    void closeEvent(QCloseEvent *event) override;

private:
    void handleServerStateChanged();
    void showOutcome(const QString &message);
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
    QLabel *m_connectionCount = nullptr;
    bool m_firstRunOffered = false;
};
