#pragma once

#include "AuditEvent.h"

#include <QAbstractTableModel>
#include <QList>

/// The audit log's live tail, newest first, bounded: the oldest rows fall off the end once
/// `capacity` is reached. A server query can replace the contents (setEvents).
class AuditLogModel final : public QAbstractTableModel {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(AuditLogModel)

public:
    enum Column { Time, Type, Actor, User, Device, Session, RemoteAddress, ColumnCount };
    enum Role {
        TimeMsRole = Qt::UserRole + 1,
        TypeRole,
        ActorRole,
        UsernameRole,
        DetailRole, ///< the whole event as indented JSON
    };

    explicit AuditLogModel(qsizetype capacity = 5000, QObject *parent = nullptr);

    /// Adds events (as the server reports them, in any order) at the top.
    void prepend(const QList<AuditEvent> &events);
    /// Replaces everything with `events`, newest first.
    void setEvents(QList<AuditEvent> events);
    const AuditEvent &event(int row) const { return m_events.at(row); }
    QStringList knownTypes() const;

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

Q_SIGNALS:
    void typesChanged();

private:
    void noteTypes(const QList<AuditEvent> &events);

    qsizetype m_capacity;
    QList<AuditEvent> m_events;
    QStringList m_types;
};
