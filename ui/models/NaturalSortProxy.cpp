#include "models/NaturalSortProxy.h"

NaturalSortProxy::NaturalSortProxy(QObject *parent)
    : QSortFilterProxyModel(parent)
{
    // Qt's C locale (LANG=C, as on many servers) has no collation and ignores numeric mode:
    // take the Unicode default order then, as English uses it.
    if (m_collator.locale().language() == QLocale::C)
        m_collator.setLocale(QLocale(QLocale::English));
    m_collator.setNumericMode(true);
    m_collator.setCaseSensitivity(Qt::CaseInsensitive);
}

bool NaturalSortProxy::lessThan(const QModelIndex &left, const QModelIndex &right) const
{
    const QVariant leftValue = left.data(sortRole());
    const QVariant rightValue = right.data(sortRole());
    if (leftValue.typeId() != QMetaType::QString || rightValue.typeId() != QMetaType::QString)
        return QSortFilterProxyModel::lessThan(left, right);
    const QString leftText = leftValue.toString();
    const QString rightText = rightValue.toString();
    if (const int order = m_collator.compare(leftText, rightText); order != 0)
        return order < 0;
    // Equal to the collator ("user02" and "user2", "Bob" and "bob"): a fixed order all the same.
    return leftText < rightText;
}
