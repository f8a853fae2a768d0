#pragma once

#include "ServerStatistics.h"

#include <QWidget>

#include <optional>

class ActivityChart;
class QLabel;
class SessionServer;

/// Live charts of the last five minutes (connections, handshakes per second, refused
/// handshakes per second by reason) and the server's addresses, TLS state, uptime and limits.
class ActivityView final : public QWidget {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ActivityView)

public:
    explicit ActivityView(SessionServer &server, QWidget *parent = nullptr);

    void addStatistics(const ServerStatistics &statistics);

private:
    ActivityChart *m_connections = nullptr;
    ActivityChart *m_handshakes = nullptr;
    ActivityChart *m_refused = nullptr;
    QLabel *m_addresses = nullptr;
    QLabel *m_tls = nullptr;
    QLabel *m_uptime = nullptr;
    QLabel *m_limits = nullptr;
    QLabel *m_totals = nullptr;
    std::optional<ServerStatistics> m_previous;
};
