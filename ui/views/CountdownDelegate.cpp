#include "views/CountdownDelegate.h"

#include "models/SessionTreeModel.h"

#include <QApplication>
#include <QDateTime>
#include <QPainter>

using namespace Qt::StringLiterals;

CountdownDelegate::CountdownDelegate(QObject *parent)
    : QStyledItemDelegate(parent)
{
}

QColor CountdownDelegate::colourFor(double fractionLeft)
{
    // Hue from green (120°) at a full life through amber to red (0°) at expiry.
    const double clamped = std::clamp(fractionLeft, 0.0, 1.0);
    return QColor::fromHsvF(float(clamped * 120.0 / 360.0), 0.75f, 0.85f);
}

QString CountdownDelegate::remainingText(qint64 seconds)
{
    if (seconds <= 0)
        return tr("expired");
    if (seconds >= 2 * 86400)
        return tr("%1 d").arg(seconds / 86400);
    if (seconds >= 3600)
        return u"%1:%2:%3"_s.arg(seconds / 3600)
            .arg((seconds / 60) % 60, 2, 10, QLatin1Char('0'))
            .arg(seconds % 60, 2, 10, QLatin1Char('0'));
    return u"%1:%2"_s.arg(seconds / 60).arg(seconds % 60, 2, 10, QLatin1Char('0'));
}

void CountdownDelegate::paint(QPainter *painter, const QStyleOptionViewItem &option, const QModelIndex &index) const
{
    const QVariant expiresAt = index.data(SessionTreeModel::ExpiresAtRole);
    if (!expiresAt.isValid() || expiresAt.toLongLong() == 0) {
        QStyledItemDelegate::paint(painter, option, index);
        return;
    }
    QStyleOptionViewItem background = option;
    initStyleOption(&background, index);
    background.text.clear();
    const QWidget *widget = option.widget;
    QStyle *style = widget ? widget->style() : QApplication::style();
    style->drawControl(QStyle::CE_ItemViewItem, &background, painter, widget);

    const qint64 left = expiresAt.toLongLong() - QDateTime::currentSecsSinceEpoch();
    const qint64 lifetime = std::max<qint64>(1, index.data(SessionTreeModel::LifetimeRole).toLongLong());
    const QString ended = index.data(SessionTreeModel::EndedRole).toString();
    const QRect bar = option.rect.adjusted(3, 3, -3, -3);
    painter->save();
    painter->setRenderHint(QPainter::Antialiasing);
    const QPalette &palette = option.palette;
    painter->setPen(Qt::NoPen);
    painter->setBrush(palette.color(QPalette::AlternateBase).darker(110));
    painter->drawRoundedRect(bar, 3, 3);
    QString text;
    if (!ended.isEmpty()) {
        text = ended;
        painter->setPen(palette.color(QPalette::PlaceholderText));
    } else {
        const double fraction = double(left) / double(lifetime);
        if (left > 0) {
            QRect filled = bar;
            filled.setWidth(std::max(2, int(bar.width() * std::clamp(fraction, 0.0, 1.0))));
            painter->setBrush(colourFor(fraction));
            painter->drawRoundedRect(filled, 3, 3);
        }
        text = remainingText(left);
        painter->setPen(left > 0 ? QColor(Qt::black) : palette.color(QPalette::Text));
    }
    painter->drawText(bar, Qt::AlignCenter, text);
    painter->restore();
}

QSize CountdownDelegate::sizeHint(const QStyleOptionViewItem &option, const QModelIndex &index) const
{
    QSize size = QStyledItemDelegate::sizeHint(option, index);
    size.setWidth(std::max(size.width(), 110));
    return size;
}
