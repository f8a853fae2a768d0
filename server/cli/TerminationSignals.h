#pragma once

#include <QObject>

class QSocketNotifier;

/// SIGINT and SIGTERM as a Qt signal (the self-pipe idiom: the handler only writes a byte),
/// so that the daemon stops through its event loop and closes connections properly.
class TerminationSignals final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TerminationSignals)

public:
    explicit TerminationSignals(QObject *parent = nullptr);
    ~TerminationSignals() override;

Q_SIGNALS:
    void received(int signalNumber);

private:
    void handleReadable();

    QSocketNotifier *m_notifier = nullptr;
};
