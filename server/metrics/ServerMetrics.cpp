#include "metrics/ServerMetrics.h"

#include <QDateTime>

#include <algorithm>

namespace {
/// Label values come from our own reason codes, but are escaped anyway (the format's rules).
QByteArray label(const QString &value)
{
    QString escaped = value;
    escaped.replace(QLatin1Char('\\'), QStringLiteral("\\\\")).replace(QLatin1Char('"'), QStringLiteral("\\\""));
    escaped.replace(QLatin1Char('\n'), QStringLiteral("\\n"));
    return escaped.toUtf8();
}

void family(QByteArray &out, const char *name, const char *type, const char *help)
{
    out += QByteArray("# HELP ") + name + ' ' + help + "\n# TYPE " + name + ' ' + type + '\n';
}

void labelled(QByteArray &out, const char *name, const char *labelName, const QHash<QString, quint64> &values)
{
    QStringList keys = values.keys();
    std::sort(keys.begin(), keys.end());
    for (const auto &key : keys)
        out += QByteArray(name) + '{' + labelName + "=\"" + label(key) + "\"} " + QByteArray::number(values.value(key))
            + '\n';
}
} // namespace

ServerMetrics::ServerMetrics(Gauges gauges, QObject *parent)
    : QObject(parent)
    , m_gauges(std::move(gauges))
{
}

QByteArray ServerMetrics::exposition() const
{
    QByteArray out;
    family(out, "gatehouse_connections", "gauge", "Live WebSocket connections.");
    out += "gatehouse_connections " + QByteArray::number(m_gauges.connections()) + '\n';
    family(out, "gatehouse_sessions_active", "gauge", "Sessions neither revoked nor expired.");
    out += "gatehouse_sessions_active " + QByteArray::number(m_gauges.activeSessions()) + '\n';
    family(out, "gatehouse_handshakes_total", "counter", "WebSocket handshakes accepted.");
    out += "gatehouse_handshakes_total " + QByteArray::number(m_handshakesAccepted) + '\n';
    family(out, "gatehouse_handshake_rejects_total", "counter", "WebSocket handshakes refused, by reason.");
    labelled(out, "gatehouse_handshake_rejects_total", "reason", m_handshakeRefusals);
    family(out, "gatehouse_logins_total", "counter", "Login attempts, by result.");
    out += "gatehouse_logins_total{result=\"succeeded\"} " + QByteArray::number(m_loginsSucceeded) + '\n';
    out += "gatehouse_logins_total{result=\"failed\"} " + QByteArray::number(m_loginsFailed) + '\n';
    family(out, "gatehouse_refreshes_total", "counter", "Refresh-token rotations.");
    out += "gatehouse_refreshes_total " + QByteArray::number(m_refreshes) + '\n';
    family(out, "gatehouse_refresh_reuse_total", "counter",
           "Refresh tokens presented twice (sessions revoked for it).");
    out += "gatehouse_refresh_reuse_total " + QByteArray::number(m_reuses) + '\n';
    family(out, "gatehouse_revocations_total", "counter", "Sessions revoked.");
    out += "gatehouse_revocations_total " + QByteArray::number(m_revocations) + '\n';
    family(out, "gatehouse_rate_limited_total", "counter", "Requests refused by a rate limit, by kind.");
    labelled(out, "gatehouse_rate_limited_total", "kind", m_rateLimited);
    if (const qint64 notAfter = m_gauges.tlsCertificateNotAfter ? m_gauges.tlsCertificateNotAfter() : 0) {
        family(out, "gatehouse_tls_certificate_expiry_seconds", "gauge",
               "Seconds until the TLS certificate served expires (negative once it has).");
        out += "gatehouse_tls_certificate_expiry_seconds "
            + QByteArray::number(notAfter - QDateTime::currentSecsSinceEpoch()) + '\n';
    }
    return out;
}

void ServerMetrics::sample(ServerStatistics &statistics) const
{
    statistics.connections = m_gauges.connections ? m_gauges.connections() : 0;
    statistics.activeSessions = m_gauges.activeSessions ? m_gauges.activeSessions() : 0;
    statistics.handshakesAccepted = m_handshakesAccepted;
    statistics.handshakesRefused = m_handshakeRefusals;
    statistics.loginsSucceeded = m_loginsSucceeded;
    statistics.loginsFailed = m_loginsFailed;
    statistics.refreshes = m_refreshes;
    statistics.refreshTokenReuses = m_reuses;
    statistics.revocations = m_revocations;
}
