#include "views/ActivityChart.h"

#include <QLocale>
#include <QPainter>
#include <QPainterPath>

using namespace Qt::StringLiterals;

namespace {
const QColor seriesColours[]
    = { QColor(0x2e, 0x86, 0xde), QColor(0xe0, 0x6c, 0x3c), QColor(0x4c, 0xaf, 0x50), QColor(0xb0, 0x5c, 0xc8),
        QColor(0xd4, 0xa0, 0x17), QColor(0x26, 0xa6, 0x9a), QColor(0xe9, 0x1e, 0x63), QColor(0x79, 0x55, 0x48) };
}

ActivityChart::ActivityChart(const QString &title, QWidget *parent)
    : QWidget(parent)
    , m_title(title)
{
    setAccessibleName(title);
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
}

void ActivityChart::addSample(const QList<std::pair<QString, double>> &values)
{
    for (const auto &[name, value] : values) {
        auto it = std::find_if(m_series.begin(), m_series.end(), [&](const Series &s) { return s.name == name; });
        if (it == m_series.end()) {
            m_series.append({ name, seriesColours[m_series.size() % std::size(seriesColours)],
                              std::deque<double>(size_t(std::min(m_samples, capacity)), 0.0) });
            it = m_series.end() - 1;
        }
        it->points.push_back(value);
    }
    ++m_samples;
    for (auto &series : m_series) {
        while (series.points.size() < size_t(std::min(m_samples, capacity)))
            series.points.push_back(0.0);
        while (series.points.size() > size_t(capacity))
            series.points.pop_front();
    }
    update();
}

QList<double> ActivityChart::series(const QString &name) const
{
    for (const auto &series : m_series) {
        if (series.name == name)
            return QList<double>(series.points.begin(), series.points.end());
    }
    return {};
}

void ActivityChart::paintEvent(QPaintEvent *)
{
    QPainter painter(this);
    painter.setRenderHint(QPainter::Antialiasing);
    const QPalette &colours = palette();
    painter.fillRect(rect(), colours.color(QPalette::Base));
    const QFontMetrics metrics = fontMetrics();
    const int line = metrics.height();
    painter.setPen(colours.color(QPalette::Text));
    painter.drawText(QRect(8, 4, width() - 16, line), Qt::AlignLeft | Qt::AlignVCenter, m_title);

    double maximum = 1;
    for (const auto &series : std::as_const(m_series)) {
        for (const double value : series.points)
            maximum = std::max(maximum, value);
    }
    // A round top for the scale: 1, 2, 5 × 10^n.
    double top = 1;
    while (top < maximum)
        top *= (QString::number(top).startsWith(u'2') ? 2.5 : 2);
    const QString topText = QLocale().toString(top, 'g', 6);
    const int axis = metrics.horizontalAdvance(topText) + 12;
    const QRect plot(axis, 8 + line, width() - axis - 8, height() - 2 * line - 16);
    if (plot.width() < 10 || plot.height() < 10)
        return;
    painter.setPen(colours.color(QPalette::Mid));
    painter.drawRect(plot);
    for (int i = 1; i < 4; ++i) {
        const int y = plot.top() + plot.height() * i / 4;
        painter.drawLine(plot.left(), y, plot.right(), y);
    }
    painter.setPen(colours.color(QPalette::PlaceholderText));
    painter.drawText(QRect(0, plot.top() - line / 2, axis - 4, line), Qt::AlignRight | Qt::AlignVCenter, topText);
    painter.drawText(QRect(0, plot.bottom() - line / 2, axis - 4, line), Qt::AlignRight | Qt::AlignVCenter, u"0"_s);
    painter.drawText(QRect(plot.left(), plot.bottom() + 2, plot.width(), line), Qt::AlignLeft,
                     tr("-%1 min").arg(capacity / 60));
    painter.drawText(QRect(plot.left(), plot.bottom() + 2, plot.width(), line), Qt::AlignRight, tr("now"));

    int legendX = plot.left() + metrics.horizontalAdvance(m_title) + 24;
    for (const auto &series : std::as_const(m_series)) {
        const double step = double(plot.width()) / double(capacity - 1);
        const double offset = double(capacity - int(series.points.size())) * step;
        QPainterPath path;
        int i = 0;
        for (const double value : series.points) {
            const QPointF point(plot.left() + offset + i * step, plot.bottom() - value / top * plot.height());
            if (i++ == 0)
                path.moveTo(point);
            else
                path.lineTo(point);
        }
        painter.setPen(QPen(series.colour, 1.6));
        painter.drawPath(path);
        const QString label = series.points.empty()
            ? series.name
            : u"%1 %2"_s.arg(series.name, QLocale().toString(series.points.back(), 'g', 6));
        painter.fillRect(QRect(legendX, 4 + line / 2 - 3, 10, 6), series.colour);
        painter.setPen(colours.color(QPalette::Text));
        painter.drawText(QRect(legendX + 14, 4, width(), line), Qt::AlignLeft | Qt::AlignVCenter, label);
        legendX += metrics.horizontalAdvance(label) + 30;
    }
}
