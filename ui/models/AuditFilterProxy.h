#pragma once

#include <QSortFilterProxyModel>

/// Narrows the audit tail by type, user, actor and time range (all optional).
class AuditFilterProxy final : public QSortFilterProxyModel {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(AuditFilterProxy)

public:
    explicit AuditFilterProxy(QObject *parent = nullptr);

    void setCriteria(const QString &type, const QString &username, const QString &actor, qint64 sinceMs,
                     qint64 untilMs);

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const override;

private:
    QString m_type;
    QString m_username;
    QString m_actor;
    qint64 m_sinceMs = 0;
    qint64 m_untilMs = 0;
};
