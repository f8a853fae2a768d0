#pragma once

#include "lab/LabSimulator.h"

#include <QWidget>

class QLabel;
class QPushButton;
class QSpinBox;
class QThread;
class ServerFacade;

/// Lab tools for demos and training: spawn simulated users and devices against the embedded
/// server, stop them, and switch the policy to lab speed so that expiry, refresh and
/// revocation happen within seconds.
class LabPanel final : public QWidget {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(LabPanel)

public:
    explicit LabPanel(ServerFacade &server, QWidget *parent = nullptr);
    ~LabPanel() override;

    /// Creates (or re-keys) lab-01 … lab-NN and starts their devices.
    void startLab(int users, int devicesPerUser);
    void stopLab();
    const LabStatistics &statistics() const { return m_statistics; }

Q_SIGNALS:
    void outcome(const QString &message);
    void statisticsChanged(const LabStatistics &statistics);

private:
    void showStatistics(const LabStatistics &statistics);

    ServerFacade &m_server;
    QThread *m_thread = nullptr;
    LabSimulator *m_simulator = nullptr; ///< lives on m_thread
    QString m_password;
    LabStatistics m_statistics;
    QSpinBox *m_users = nullptr;
    QSpinBox *m_devices = nullptr;
    QPushButton *m_start = nullptr;
    QPushButton *m_stop = nullptr;
    QLabel *m_summary = nullptr;
};
