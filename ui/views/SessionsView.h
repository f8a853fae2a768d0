#pragma once

#include "AdminOutcome.h"

#include <QHash>
#include <QPointer>
#include <QWidget>

class InspectorDialog;
class LiveState;
class QAction;
class QLabel;
class QLineEdit;
class QSortFilterProxyModel;
class QTableView;
class QTreeView;
class ServerFacade;
class SessionTreeModel;
class UsersModel;

/// Who is connected from where: users on the left (search, sort), the chosen user's devices,
/// sessions and connections on the right with token countdowns, and the actions that
/// disconnect and revoke, from buttons, context menus and keyboard shortcuts.
class SessionsView final : public QWidget {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SessionsView)

public:
    SessionsView(ServerFacade &server, LiveState &state, QWidget *parent = nullptr);

    QTableView *usersTable() const { return m_users; }
    QTreeView *sessionTree() const { return m_tree; }
    UsersModel *usersModel() const { return m_usersModel; }
    SessionTreeModel *treeModel() const { return m_treeModel; }
    void selectUser(const QString &username);
    QString selectedUser() const;
    QList<QAction *> userActions() const;
    /// Opens (or raises) the message inspector of the selected connection.
    InspectorDialog *inspectSelected();

    static QString describe(const AdminOutcome &outcome);

Q_SIGNALS:
    void outcome(const QString &message);

private:
    void handleUserSelected();
    void updateActions();
    void disconnectSelected();
    void revokeSelectedSession();
    void revokeSelectedUser();
    void revokeSelectedBefore();
    /// To the user with this key (UserKey::toString()), or to everyone when it is empty.
    void broadcastMessage(const QString &key);
    void report(const AdminOutcome &outcome);
    QModelIndex currentTreeIndex() const;

    ServerFacade &m_server;
    LiveState &m_state;
    UsersModel *m_usersModel = nullptr;
    QSortFilterProxyModel *m_usersProxy = nullptr;
    SessionTreeModel *m_treeModel = nullptr;
    QLineEdit *m_search = nullptr;
    QTableView *m_users = nullptr;
    QTreeView *m_tree = nullptr;
    QLabel *m_outcome = nullptr;
    QAction *m_disconnect = nullptr;
    QAction *m_revokeSession = nullptr;
    QAction *m_revokeUser = nullptr;
    QAction *m_revokeBefore = nullptr;
    QAction *m_broadcast = nullptr;
    QAction *m_broadcastAll = nullptr;
    QAction *m_inspect = nullptr;
    bool m_inspectPayloads = false; ///< the server's inspect_payloads, as last reported
    QHash<quint64, QPointer<InspectorDialog>> m_inspectors;
};
