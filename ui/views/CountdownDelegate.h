#pragma once

#include <QStyledItemDelegate>

/// Draws a countdown column as a bar that shrinks and shifts from green through amber to red
/// as expiry nears, with the time left on it; "expired" or the ended state ("revoked",
/// "closed 4003") stays visible in place of the bar. Reads SessionTreeModel's ExpiresAtRole,
/// LifetimeRole and EndedRole; the view repaints once a second.
class CountdownDelegate final : public QStyledItemDelegate {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(CountdownDelegate)

public:
    explicit CountdownDelegate(QObject *parent = nullptr);

    void paint(QPainter *painter, const QStyleOptionViewItem &option, const QModelIndex &index) const override;
    QSize sizeHint(const QStyleOptionViewItem &option, const QModelIndex &index) const override;

    /// The bar's colour for the fraction of life left (1: fresh, 0: expired).
    static QColor colourFor(double fractionLeft);
    /// "4:05", "1:02:03", "3 d", or "expired".
    static QString remainingText(qint64 seconds);
};
