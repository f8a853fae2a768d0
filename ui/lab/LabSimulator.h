#pragma once

#include <QMetaType>
#include <QObject>
#include <QSslCertificate>
#include <QTimer>
#include <QUrl>

#include <memory>

class LabDevice;
class QNetworkAccessManager;

/// What the simulated crowd is doing, summed over its devices.
struct LabStatistics {
    int devices = 0;
    int connected = 0;
    int waiting = 0; ///< logging in, connecting or backing off
    int revoked = 0;
    int refreshes = 0;
    int messagesSent = 0;
    int messagesReceived = 0;
    int reconnects = 0;
};
Q_DECLARE_METATYPE(LabStatistics)

/// Simulated users and devices for demos and training, on a thread of their own so that the
/// window never waits for them. They talk to the server over real HTTP and WebSockets.
class LabSimulator final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(LabSimulator)

public:
    explicit LabSimulator(QObject *parent = nullptr);
    ~LabSimulator() override;

    /// Starts `devicesPerUser` devices for each of `usernames`, who all have `password`.
    /// `trusted`: the certificates the devices trust over TLS (the server's own, for a lab).
    void start(const QUrl &server, const QList<QSslCertificate> &trusted, const QStringList &usernames,
               const QString &password, int devicesPerUser);
    void stop();

Q_SIGNALS:
    /// At most twice a second while anything runs.
    void statisticsChanged(const LabStatistics &statistics);

private:
    void report();

    std::unique_ptr<QNetworkAccessManager> m_network;
    std::vector<std::unique_ptr<LabDevice>> m_devices;
    QTimer m_report;
};
