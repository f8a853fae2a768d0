#pragma once

#include "ServerStatistics.h"

#include <QWidget>

#include <optional>

class ActivityChart;
class QLabel;
class QPushButton;
class ServerFacade;

/// Live charts of the last five minutes (connections, handshakes per second, refused
/// handshakes per second by reason) and the server's addresses, TLS state, uptime and limits.
/// With TLS: the certificate's subject, names, fingerprint (to copy, so that a lab can trust
/// it) and a countdown to its end (a warning from 14 days), and a button that reloads it.
class ActivityView final : public QWidget {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ActivityView)

public:
    explicit ActivityView(ServerFacade &server, QWidget *parent = nullptr);

    void addStatistics(const ServerStatistics &statistics);

private:
    void showTls(const ServerStatistics &statistics);

    ActivityChart *m_connections = nullptr;
    ActivityChart *m_handshakes = nullptr;
    ActivityChart *m_refused = nullptr;
    QLabel *m_addresses = nullptr;
    QLabel *m_tls = nullptr;
    QPushButton *m_copyFingerprint = nullptr;
    QPushButton *m_reloadCertificate = nullptr;
    QString m_fingerprint;
    QString m_reloadOutcome; ///< what the last reload from here said
    QLabel *m_uptime = nullptr;
    QLabel *m_limits = nullptr;
    QLabel *m_totals = nullptr;
    std::optional<ServerStatistics> m_previous;
};
