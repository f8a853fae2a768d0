#pragma once

#include <QObject>

class QSocketNotifier;

/// SIGINT and SIGTERM (stop) and SIGHUP (reload the TLS certificate) as Qt signals (the
/// self-pipe idiom: the handler only writes a byte), so that the daemon acts on them through
/// its event loop: it stops closing connections properly, and reloads without a restart.
class DaemonSignals final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(DaemonSignals)

public:
    explicit DaemonSignals(QObject *parent = nullptr);
    ~DaemonSignals() override;

Q_SIGNALS:
    /// SIGINT or SIGTERM.
    void received(int signalNumber);
    /// SIGHUP (`systemctl reload`).
    void reloadRequested();

private:
    void handleReadable();

    QSocketNotifier *m_notifier = nullptr;
};
