#pragma once

#include "ServerStatistics.h"

#include <QHash>
#include <QObject>
#include <QString>

#include <functional>

/// Counters fed by the server's signals, written in the Prometheus text format (0.0.4) at
/// GET /metrics. Gauges are read when scraped, through the callbacks given at construction.
class ServerMetrics final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ServerMetrics)

public:
    struct Gauges {
        std::function<qint64()> connections;
        std::function<qint64()> activeSessions;
        /// When the certificate served ends (seconds since the epoch); 0 without TLS.
        std::function<qint64()> tlsCertificateNotAfter = {};
    };

    explicit ServerMetrics(Gauges gauges, QObject *parent = nullptr);

    void countHandshakesAccepted(qsizetype count) { m_handshakesAccepted += count; }
    void countHandshakeRefused(const QString &reason, quint64 count = 1) { m_handshakeRefusals[reason] += count; }
    void countLogin(bool succeeded) { ++(succeeded ? m_loginsSucceeded : m_loginsFailed); }
    void countRefresh() { ++m_refreshes; }
    void countReuse() { ++m_reuses; }
    void countRevocations(qsizetype sessions) { m_revocations += sessions; }
    void countRateLimited(const QString &what) { ++m_rateLimited[what]; }

    QByteArray exposition() const;
    /// Copies the counters and gauges into a console sample.
    void sample(ServerStatistics &statistics) const;

private:
    Gauges m_gauges;
    quint64 m_handshakesAccepted = 0;
    QHash<QString, quint64> m_handshakeRefusals;
    quint64 m_loginsSucceeded = 0;
    quint64 m_loginsFailed = 0;
    quint64 m_refreshes = 0;
    quint64 m_reuses = 0;
    quint64 m_revocations = 0;
    QHash<QString, quint64> m_rateLimited;
};
