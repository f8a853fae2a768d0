#include "models/AuditFilterProxy.h"

#include "models/AuditLogModel.h"

AuditFilterProxy::AuditFilterProxy(QObject *parent)
    : QSortFilterProxyModel(parent)
{
}

void AuditFilterProxy::setCriteria(const QString &type, const QString &username, const QString &actor, qint64 sinceMs,
                                   qint64 untilMs)
{
    m_type = type;
    m_username = username;
    m_actor = actor;
    m_sinceMs = sinceMs;
    m_untilMs = untilMs;
    invalidateFilter();
}

bool AuditFilterProxy::filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const
{
    const QModelIndex index = sourceModel()->index(sourceRow, 0, sourceParent);
    const auto matches
        = [&](const QString &wanted, int role) { return wanted.isEmpty() || index.data(role).toString() == wanted; };
    const qint64 at = index.data(AuditLogModel::TimeMsRole).toLongLong();
    return matches(m_type, AuditLogModel::TypeRole) && matches(m_username, AuditLogModel::UsernameRole)
        && matches(m_actor, AuditLogModel::ActorRole) && (m_sinceMs == 0 || at >= m_sinceMs)
        && (m_untilMs == 0 || at <= m_untilMs);
}
