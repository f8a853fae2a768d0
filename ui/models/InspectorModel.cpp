#include "models/InspectorModel.h"

#include <QDateTime>
#include <QLocale>

using namespace Qt::StringLiterals;

InspectorModel::InspectorModel(qsizetype capacity, QObject *parent)
    : QAbstractTableModel(parent)
    , m_capacity(std::max<qsizetype>(1, capacity))
{
}

void InspectorModel::append(const QList<InspectedMessage> &messages)
{
    if (messages.isEmpty())
        return;
    const qsizetype incoming = std::min(messages.size(), m_capacity);
    const qsizetype overflow = m_messages.size() + incoming - m_capacity;
    if (overflow > 0) {
        beginRemoveRows({}, 0, int(overflow - 1));
        m_messages.remove(0, overflow);
        endRemoveRows();
    }
    const int first = int(m_messages.size());
    beginInsertRows({}, first, first + int(incoming) - 1);
    m_messages.append(messages.mid(messages.size() - incoming));
    endInsertRows();
}

void InspectorModel::clear()
{
    beginResetModel();
    m_messages.clear();
    endResetModel();
}

int InspectorModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_messages.size());
}

int InspectorModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant InspectorModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= m_messages.size())
        return {};
    const InspectedMessage &message = m_messages.at(index.row());
    if (role == PayloadRole) {
        // As it passed, byte for byte: re-indenting JSON would reorder its members.
        QString shown = QString::fromUtf8(message.payload);
        if (message.truncated)
            shown += tr("\n… (the first %1 of %2 bytes)").arg(message.payload.size()).arg(message.size);
        return shown;
    }
    if (role == OutgoingRole)
        return message.outgoing;
    if (role == Qt::TextAlignmentRole && index.column() == Size)
        return QVariant(Qt::AlignRight | Qt::AlignVCenter);
    if (role == Qt::ToolTipRole && index.column() == Direction)
        return message.outgoing ? tr("from the server to the client") : tr("from the client to the server");
    if (role != Qt::DisplayRole)
        return {};
    switch (index.column()) {
    case Time:
        return QDateTime::fromMSecsSinceEpoch(message.atMs).toString(u"HH:mm:ss.zzz"_s);
    case Direction:
        return message.outgoing ? tr("← out") : tr("→ in");
    case Type:
        return message.type.isEmpty() ? tr("(none)") : message.type;
    case Size:
        return QLocale().formattedDataSize(message.size, 1, QLocale::DataSizeTraditionalFormat);
    case Payload:
        return QString::fromUtf8(message.payload.left(200)).simplified();
    default:
        return {};
    }
}

QVariant InspectorModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case Time:
        return tr("Time");
    case Direction:
        return tr("Direction");
    case Type:
        return tr("Type");
    case Size:
        return tr("Size");
    case Payload:
        return tr("Payload");
    default:
        return {};
    }
}
