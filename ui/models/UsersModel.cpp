#include "models/UsersModel.h"

#include "models/Numerus.h"

#include "UserKey.h"
#include "models/LiveState.h"

#include <QDateTime>
#include <QLocale>

UsersModel::UsersModel(const LiveState &state, QObject *parent)
    : QAbstractTableModel(parent)
    , m_state(state)
{
    connect(&state, &LiveState::reset, this, &UsersModel::handleReset);
    connect(&state, &LiveState::usersAdded, this, &UsersModel::handleUsersAdded);
    connect(&state, &LiveState::usersTouched, this, &UsersModel::handleUsersTouched);
    handleReset();
}

int UsersModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int UsersModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant UsersModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid))
        return {};
    const QString &username = m_rows.at(index.row());
    const User *user = m_state.user(username);
    if (!user)
        return {};
    const int connections = m_state.liveConnectionCount(username);
    const UserKey key = UserKey::fromString(username);
    if (role == UsernameRole)
        return username;
    if (role == IssuerRole)
        return key.issuer;
    if (role == EnabledRole)
        return user->enabled;
    if (role == Qt::ToolTipRole && index.column() == Username && !key.isLocal())
        return tr("%1 as named by the trusted issuer %2: not one of this server's users").arg(key.subject, key.issuer);
    if (role == Qt::ToolTipRole && index.column() == State)
        return user->enabled ? numerus(tr("%n live connection(s)", nullptr, connections), connections)
                             : tr("Disabled: cannot log in");
    if (role == Qt::DisplayRole || role == SortRole) {
        const bool sorting = role == SortRole;
        switch (Column(index.column())) {
        case Username:
            return key.displayName();
        case DisplayName:
            return user->displayName;
        case State:
            if (!user->enabled)
                return sorting ? QVariant(-1) : QVariant(tr("disabled"));
            return sorting ? QVariant(connections > 0 ? 1 : 0)
                           : QVariant(connections > 0 ? tr("online") : tr("offline"));
        case Devices:
            return m_state.liveDeviceCount(username);
        case Connections:
            return connections;
        case LastActivity: {
            const qint64 ms = m_state.lastActivityMs(username);
            if (sorting)
                return ms;
            return ms == 0 ? QString() : QLocale().toString(QDateTime::fromMSecsSinceEpoch(ms), QLocale::ShortFormat);
        }
        case Roles:
            return user->roles.join(QLatin1StringView(", "));
        case ColumnCount:
            break;
        }
    }
    if (role == Qt::TextAlignmentRole && (index.column() == Devices || index.column() == Connections))
        return QVariant(Qt::AlignRight | Qt::AlignVCenter);
    return {};
}

QVariant UsersModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (Column(section)) {
    case Username:
        return tr("User");
    case State:
        return tr("State");
    case Devices:
        return tr("Devices");
    case Connections:
        return tr("Connections");
    case LastActivity:
        return tr("Last activity");
    case Roles:
        return tr("Roles");
    case DisplayName:
        return tr("Name");
    case ColumnCount:
        break;
    }
    return {};
}

QModelIndex UsersModel::indexOfUser(const QString &username) const
{
    const auto it = m_rowOf.constFind(username);
    return it == m_rowOf.cend() ? QModelIndex() : index(*it, Username);
}

void UsersModel::handleReset()
{
    beginResetModel();
    m_rows = m_state.usernames();
    m_rowOf.clear();
    for (int row = 0; row < m_rows.size(); ++row)
        m_rowOf.insert(m_rows.at(row), row);
    endResetModel();
}

void UsersModel::handleUsersAdded(const QList<QString> &usernames)
{
    QList<QString> fresh;
    for (const auto &username : usernames) {
        if (!m_rowOf.contains(username))
            fresh.append(username);
    }
    if (fresh.isEmpty())
        return;
    const int first = int(m_rows.size());
    beginInsertRows({}, first, first + int(fresh.size()) - 1);
    for (const auto &username : std::as_const(fresh)) {
        m_rowOf.insert(username, int(m_rows.size()));
        m_rows.append(username);
    }
    endInsertRows();
}

void UsersModel::handleUsersTouched(const QSet<QString> &usernames)
{
    for (const auto &username : usernames) {
        const auto it = m_rowOf.constFind(username);
        if (it != m_rowOf.cend())
            Q_EMIT dataChanged(index(*it, 0), index(*it, ColumnCount - 1));
    }
}
