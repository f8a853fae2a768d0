#include "views/ActivityView.h"

#include "models/Numerus.h"

#include "SessionServer.h"
#include "views/ActivityChart.h"

#include <QFormLayout>
#include <QGridLayout>
#include <QLabel>
#include <QLocale>

using namespace Qt::StringLiterals;

namespace {
QString uptimeText(qint64 seconds)
{
    const qint64 days = seconds / 86400;
    const QString clock = u"%1:%2:%3"_s.arg((seconds / 3600) % 24, 2, 10, QLatin1Char('0'))
                              .arg((seconds / 60) % 60, 2, 10, QLatin1Char('0'))
                              .arg(seconds % 60, 2, 10, QLatin1Char('0'));
    return days > 0 ? numerus(ActivityView::tr("%n day(s), %1", nullptr, int(days)), int(days)).arg(clock) : clock;
}
} // namespace

ActivityView::ActivityView(SessionServer &server, QWidget *parent)
    : QWidget(parent)
    , m_connections(new ActivityChart(tr("Live connections"), this))
    , m_handshakes(new ActivityChart(tr("Handshakes per second"), this))
    , m_refused(new ActivityChart(tr("Refused handshakes per second, by reason"), this))
    , m_addresses(new QLabel(this))
    , m_tls(new QLabel(this))
    , m_uptime(new QLabel(this))
    , m_limits(new QLabel(this))
    , m_totals(new QLabel(this))
{
    m_connections->setObjectName(u"connectionsChart"_s);
    m_handshakes->setObjectName(u"handshakesChart"_s);
    m_refused->setObjectName(u"refusedChart"_s);
    m_uptime->setObjectName(u"uptimeLabel"_s);
    m_addresses->setObjectName(u"listenAddressesLabel"_s);
    for (auto *label : { m_addresses, m_tls, m_uptime, m_limits, m_totals })
        label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_limits->setWordWrap(true);
    m_totals->setWordWrap(true);

    auto *facts = new QFormLayout;
    facts->addRow(tr("Listening on"), m_addresses);
    facts->addRow(tr("TLS"), m_tls);
    facts->addRow(tr("Uptime"), m_uptime);
    facts->addRow(tr("Limits"), m_limits);
    facts->addRow(tr("Totals"), m_totals);

    auto *layout = new QGridLayout(this);
    layout->addWidget(m_connections, 0, 0);
    layout->addWidget(m_handshakes, 0, 1);
    layout->addWidget(m_refused, 1, 0);
    layout->addLayout(facts, 1, 1);
    connect(&server, &SessionServer::statisticsSampled, this, &ActivityView::addStatistics);
}

void ActivityView::addStatistics(const ServerStatistics &statistics)
{
    const QLocale locale;
    m_connections->addSample({ { tr("connections"), double(statistics.connections) },
                               { tr("sessions"), double(statistics.activeSessions) } });
    if (m_previous && statistics.sampledAtMs > m_previous->sampledAtMs) {
        const double seconds = double(statistics.sampledAtMs - m_previous->sampledAtMs) / 1000.0;
        const auto rate
            = [&](quint64 now, quint64 before) { return now >= before ? double(now - before) / seconds : 0.0; };
        quint64 refusedNow = 0;
        quint64 refusedBefore = 0;
        QList<std::pair<QString, double>> byReason;
        for (auto it = statistics.handshakesRefused.cbegin(); it != statistics.handshakesRefused.cend(); ++it) {
            const quint64 before = m_previous->handshakesRefused.value(it.key());
            refusedNow += it.value();
            refusedBefore += before;
            byReason.append({ it.key(), rate(it.value(), before) });
        }
        std::sort(byReason.begin(), byReason.end());
        m_handshakes->addSample(
            { { tr("accepted"), rate(statistics.handshakesAccepted, m_previous->handshakesAccepted) },
              { tr("refused"), rate(refusedNow, refusedBefore) },
              { tr("logins"), rate(statistics.loginsSucceeded, m_previous->loginsSucceeded) },
              { tr("refreshes"), rate(statistics.refreshes, m_previous->refreshes) } });
        m_refused->addSample(byReason);
    }
    m_previous = statistics;
    m_addresses->setText(statistics.listenAddresses.join(u", "_s));
    m_tls->setText(statistics.tls ? tr("on (HTTPS and WSS)")
                                  : tr("off: plain HTTP and WS; keep it on loopback or "
                                       "behind a TLS proxy"));
    m_uptime->setText(uptimeText(std::max<qint64>(0, (statistics.sampledAtMs - statistics.startedAtMs) / 1000)));
    m_limits->setText(
        numerus(tr("%1 connections in all, %2 per user; messages up to %3; handshake timeout %4 ms; %n I/O "
                   "thread(s)",
                   nullptr, statistics.ioThreads),
                statistics.ioThreads)
            .arg(locale.toString(statistics.maximumConnections))
            .arg(locale.toString(statistics.maximumConnectionsPerUser))
            .arg(locale.formattedDataSize(statistics.maximumMessageSize))
            .arg(statistics.handshakeTimeoutMs));
    m_totals->setText(tr("%1 handshakes accepted · %2 logins, %3 failed · %4 refreshes · %5 reuses detected · %6 "
                         "revocations")
                          .arg(locale.toString(statistics.handshakesAccepted))
                          .arg(locale.toString(statistics.loginsSucceeded))
                          .arg(locale.toString(statistics.loginsFailed))
                          .arg(locale.toString(statistics.refreshes))
                          .arg(locale.toString(statistics.refreshTokenReuses))
                          .arg(locale.toString(statistics.revocations)));
}
