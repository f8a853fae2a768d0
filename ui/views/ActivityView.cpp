#include "views/ActivityView.h"

#include "models/Numerus.h"

#include "ServerFacade.h"
#include "views/ActivityChart.h"

#include <QClipboard>
#include <QDateTime>
#include <QFormLayout>
#include <QGridLayout>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QLabel>
#include <QLocale>
#include <QPushButton>

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

ActivityView::ActivityView(ServerFacade &server, QWidget *parent)
    : QWidget(parent)
    , m_connections(new ActivityChart(tr("Live connections"), this))
    , m_handshakes(new ActivityChart(tr("Handshakes per second"), this))
    , m_refused(new ActivityChart(tr("Refused handshakes per second, by reason"), this))
    , m_addresses(new QLabel(this))
    , m_tls(new QLabel(this))
    , m_copyFingerprint(new QPushButton(tr("Copy fingerprint"), this))
    , m_reloadCertificate(new QPushButton(tr("Reload certificate"), this))
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
    m_tls->setWordWrap(true);
    m_tls->setObjectName(u"tlsLabel"_s);
    m_copyFingerprint->setObjectName(u"copyFingerprintButton"_s);
    m_reloadCertificate->setObjectName(u"reloadCertificateButton"_s);
    m_copyFingerprint->setVisible(false);
    m_reloadCertificate->setVisible(false);
    connect(m_copyFingerprint, &QPushButton::clicked, this,
            [this] { QGuiApplication::clipboard()->setText(m_fingerprint); });
    connect(m_reloadCertificate, &QPushButton::clicked, this, [this, &server] {
        m_reloadCertificate->setEnabled(false);
        server.reloadTls(this, [this](const AdminOutcome &outcome) {
            m_reloadCertificate->setEnabled(true);
            m_reloadOutcome = outcome.ok() ? tr("Reloaded.") : tr("Not reloaded: %1").arg(outcome.error);
            if (m_previous)
                showTls(*m_previous);
        });
    });
    auto *tlsActions = new QHBoxLayout;
    tlsActions->addWidget(m_copyFingerprint);
    tlsActions->addWidget(m_reloadCertificate);
    tlsActions->addStretch();

    auto *facts = new QFormLayout;
    facts->addRow(tr("Listening on"), m_addresses);
    facts->addRow(tr("TLS"), m_tls);
    facts->addRow(QString(), tlsActions);
    facts->addRow(tr("Uptime"), m_uptime);
    facts->addRow(tr("Limits"), m_limits);
    facts->addRow(tr("Totals"), m_totals);

    auto *layout = new QGridLayout(this);
    layout->addWidget(m_connections, 0, 0);
    layout->addWidget(m_handshakes, 0, 1);
    layout->addWidget(m_refused, 1, 0);
    layout->addLayout(facts, 1, 1);
    connect(&server, &ServerFacade::statisticsSampled, this, &ActivityView::addStatistics);
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
    showTls(statistics);
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

void ActivityView::showTls(const ServerStatistics &statistics)
{
    m_copyFingerprint->setVisible(statistics.tls);
    m_reloadCertificate->setVisible(statistics.tls);
    // A self-signed certificate has no files to read again: it is made (and renewed) at start.
    m_reloadCertificate->setEnabled(statistics.tlsReloadable);
    m_reloadCertificate->setToolTip(statistics.tlsReloadable
                                        ? tr("Reads the certificate and key files again")
                                        : tr("A self-signed certificate is made at start, and made again there "
                                             "when it nears its end: it has no files to reload"));
    m_fingerprint = statistics.tlsFingerprint;
    if (!statistics.tls) {
        m_tls->setText(tr("off: plain HTTP and WS; keep it on loopback or behind a TLS proxy"));
    } else {
        const qint64 secondsLeft = (statistics.tlsNotAfterMs - statistics.sampledAtMs) / 1000;
        const int daysLeft = int(secondsLeft / 86400);
        const QString ends
            = QLocale().toString(QDateTime::fromMSecsSinceEpoch(statistics.tlsNotAfterMs).date(), QLocale::ShortFormat);
        QString countdown = secondsLeft <= 0
            ? tr("expired on %1").arg(ends)
            : numerus(tr("%n day(s) left, until %1", nullptr, daysLeft), daysLeft).arg(ends);
        // A countdown like the tokens': a warning from 14 days, in the colour of a warning.
        if (secondsLeft < 14 * 86400)
            countdown = u"<b style=\"color:#b3261e\">%1</b>"_s.arg(countdown.toHtmlEscaped());
        else
            countdown = countdown.toHtmlEscaped();
        QString text
            = tr("on (HTTPS and WSS) · %1 · %2<br>%3<br>SHA-256 %4")
                  .arg(statistics.tlsSubject.toHtmlEscaped(), statistics.tlsNames.join(u", "_s).toHtmlEscaped(),
                       countdown, statistics.tlsFingerprint);
        // Why the server refused its last reload (from here, SIGHUP, the API or the files
        // changing); else what this console's last reload said.
        if (!statistics.tlsProblem.isEmpty())
            text += u"<br>"_s + tr("Last reload refused: %1").arg(statistics.tlsProblem).toHtmlEscaped();
        else if (!m_reloadOutcome.isEmpty())
            text += u"<br>"_s + m_reloadOutcome.toHtmlEscaped();
        m_tls->setText(text);
    }
}
