#pragma once

#include <QCollator>
#include <QSortFilterProxyModel>

/// Sorts text as a person reads it: numbers inside names by their value, so that user2 comes
/// before user10, and letters by the locale's collation. Values that are not text (counts,
/// times) compare as QSortFilterProxyModel compares them.
class NaturalSortProxy final : public QSortFilterProxyModel {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(NaturalSortProxy)

public:
    explicit NaturalSortProxy(QObject *parent = nullptr);

protected:
    bool lessThan(const QModelIndex &left, const QModelIndex &right) const override;

private:
    QCollator m_collator;
};
