#pragma once

#include <QAbstractTableModel>
#include <QHash>

class LiveState;

/// Every known user, one row each, with online state, devices, live connections, last
/// activity and roles. An external issuer's user is a row of its own, shown as
/// "alice @ https://idp.example". Rows are only ever appended; a burst of changes touches rows, it
/// never resets the model. Sort and filter through a NaturalSortProxy (SortRole).
class UsersModel final : public QAbstractTableModel {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(UsersModel)

public:
    enum Column { Username, State, Devices, Connections, LastActivity, Roles, DisplayName, ColumnCount };
    enum Role {
        UsernameRole = Qt::UserRole + 1, ///< the user's key (UserKey::toString()): the username for ours
        SortRole, ///< numbers as numbers, so that 10 sorts after 9
        EnabledRole,
        IssuerRole, ///< the external issuer, or empty for our own users
    };

    explicit UsersModel(const LiveState &state, QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
    QModelIndex indexOfUser(const QString &username) const;

private:
    void handleReset();
    void handleUsersAdded(const QList<QString> &usernames);
    void handleUsersTouched(const QSet<QString> &usernames);

    const LiveState &m_state;
    QList<QString> m_rows;
    QHash<QString, int> m_rowOf;
};
