#include "models/AuditLogModel.h"

#include <QColor>
#include <QDateTime>
#include <QJsonDocument>
#include <QLocale>

using namespace Qt::StringLiterals;

AuditLogModel::AuditLogModel(qsizetype capacity, QObject *parent)
    : QAbstractTableModel(parent)
    , m_capacity(std::max<qsizetype>(1, capacity))
{
}

void AuditLogModel::prepend(const QList<AuditEvent> &events)
{
    if (events.isEmpty())
        return;
    QList<AuditEvent> fresh = events;
    const auto newestFirst = [](const AuditEvent &a, const AuditEvent &b) { return a.id > b.id; };
    std::sort(fresh.begin(), fresh.end(), newestFirst);
    if (fresh.size() > m_capacity)
        fresh.resize(m_capacity);
    if (m_events.isEmpty() || fresh.last().id > m_events.first().id) {
        const qsizetype overflow = m_events.size() + fresh.size() - m_capacity;
        if (overflow > 0) {
            const int first = int(m_events.size() - overflow);
            beginRemoveRows({}, first, int(m_events.size()) - 1);
            m_events.resize(first);
            endRemoveRows();
        }
        beginInsertRows({}, 0, int(fresh.size()) - 1);
        m_events = fresh + m_events;
        endInsertRows();
    } else {
        // Older than what is shown: another writer's events (the command line, a backup),
        // told a moment after the server's own. Each goes where its id puts it.
        for (const auto &event : std::as_const(fresh)) {
            const auto at = std::lower_bound(m_events.begin(), m_events.end(), event, newestFirst);
            if (at != m_events.end() && at->id == event.id)
                continue;
            const int row = int(at - m_events.begin());
            beginInsertRows({}, row, row);
            m_events.insert(row, event);
            endInsertRows();
        }
        if (m_events.size() > m_capacity) {
            beginRemoveRows({}, int(m_capacity), int(m_events.size()) - 1);
            m_events.resize(m_capacity);
            endRemoveRows();
        }
    }
    noteTypes(fresh);
}

void AuditLogModel::setEvents(QList<AuditEvent> events)
{
    beginResetModel();
    std::sort(events.begin(), events.end(), [](const AuditEvent &a, const AuditEvent &b) { return a.id > b.id; });
    if (events.size() > m_capacity)
        events.resize(m_capacity);
    m_events = std::move(events);
    endResetModel();
    noteTypes(m_events);
}

QStringList AuditLogModel::knownTypes() const
{
    return m_types;
}

void AuditLogModel::noteTypes(const QList<AuditEvent> &events)
{
    bool added = false;
    for (const auto &event : events) {
        if (!m_types.contains(event.type)) {
            m_types.append(event.type);
            added = true;
        }
    }
    if (added) {
        m_types.sort();
        Q_EMIT typesChanged();
    }
}

int AuditLogModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_events.size());
}

int AuditLogModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant AuditLogModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid))
        return {};
    const auto &event = m_events.at(index.row());
    switch (role) {
    case TimeMsRole:
        return event.atMs;
    case TypeRole:
        return event.type;
    case ActorRole:
        return event.actor;
    case UsernameRole:
        return event.username;
    case DetailRole:
        return QString::fromUtf8(QJsonDocument(event.toJson()).toJson(QJsonDocument::Indented));
    case Qt::ForegroundRole:
        if (event.type.contains("reuse"_L1) || event.type.contains("failed"_L1) || event.type.contains("refused"_L1))
            return QColor(0xd0, 0x40, 0x30);
        return {};
    case Qt::DisplayRole:
        switch (Column(index.column())) {
        case Time:
            return QLocale().toString(QDateTime::fromMSecsSinceEpoch(event.atMs), u"yyyy-MM-dd HH:mm:ss.zzz"_s);
        case Type:
            return event.type;
        case Actor:
            return event.actor;
        case User:
            return event.username;
        case Device:
            return event.deviceId;
        case Session:
            return event.sessionId.left(8);
        case RemoteAddress:
            return event.remoteAddress;
        case ColumnCount:
            break;
        }
    }
    return {};
}

QVariant AuditLogModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (Column(section)) {
    case Time:
        return tr("Time");
    case Type:
        return tr("Type");
    case Actor:
        return tr("Actor");
    case User:
        return tr("User");
    case Device:
        return tr("Device");
    case Session:
        return tr("Session");
    case RemoteAddress:
        return tr("Remote address");
    case ColumnCount:
        break;
    }
    return {};
}
