#pragma once

#include <QWidget>

class QLabel;
class QPushButton;
class QSortFilterProxyModel;
class QTableView;
class ServerFacade;
class UsersModel;

/// User administration: add a user, disable or enable one, reset a password, edit roles.
/// Every change goes through the facade and is audited with the console as actor.
class UsersAdminView final : public QWidget {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(UsersAdminView)

public:
    UsersAdminView(ServerFacade &server, UsersModel &model, QWidget *parent = nullptr);

    QTableView *table() const { return m_table; }
    void addUser();
    QString currentUser() const;

Q_SIGNALS:
    void outcome(const QString &message);

private:
    void toggleEnabled();
    void resetPassword();
    void editRoles();
    void updateButtons();
    void report(const QString &success, const QString &error);

    ServerFacade &m_server;
    QSortFilterProxyModel *m_proxy = nullptr;
    QTableView *m_table = nullptr;
    QPushButton *m_enable = nullptr;
    QPushButton *m_password = nullptr;
    QPushButton *m_roles = nullptr;
    QLabel *m_message = nullptr;
};
