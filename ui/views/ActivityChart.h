#pragma once

#include <QColor>
#include <QList>
#include <QWidget>

#include <deque>

/// A small custom-painted line chart of the last few minutes: one or more named series, one
/// point a second, with the scale's maximum and a legend. Painting is cheap and bounded: it
/// keeps `capacity` points per series.
class ActivityChart final : public QWidget {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ActivityChart)

public:
    explicit ActivityChart(const QString &title, QWidget *parent = nullptr);

    /// Appends one point to every series; series that are new get a colour and earlier points
    /// of zero, series that are missing get zero.
    void addSample(const QList<std::pair<QString, double>> &values);
    QList<double> series(const QString &name) const;
    static constexpr int capacity = 300;

    QSize sizeHint() const override { return { 420, 170 }; }
    QSize minimumSizeHint() const override { return { 200, 110 }; }

protected:
    void paintEvent(QPaintEvent *event) override;

private:
    struct Series {
        QString name;
        QColor colour;
        std::deque<double> points;
    };

    QString m_title;
    QList<Series> m_series;
    int m_samples = 0;
};
