#pragma once

#include "InspectedMessage.h"

#include <QAbstractTableModel>
#include <QList>

/// One connection's messages as an inspector shows them, oldest first, bounded: the oldest
/// rows fall off the top once `capacity` is reached.
class InspectorModel final : public QAbstractTableModel {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(InspectorModel)

public:
    enum Column { Time, Direction, Type, Size, Payload, ColumnCount };
    enum Role {
        PayloadRole = Qt::UserRole + 1, ///< the whole payload shown, as it passed
        OutgoingRole,
    };

    explicit InspectorModel(qsizetype capacity = 10000, QObject *parent = nullptr);

    void append(const QList<InspectedMessage> &messages);
    void clear();
    const InspectedMessage &message(int row) const { return m_messages.at(row); }

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    qsizetype m_capacity;
    QList<InspectedMessage> m_messages;
};
