#include "lab/LabSimulator.h"

#include <QSslConfiguration>

#include "lab/LabDevice.h"

#include <QNetworkAccessManager>

using namespace Qt::StringLiterals;

LabSimulator::LabSimulator(QObject *parent)
    : QObject(parent)
    , m_report(this)
{
    qRegisterMetaType<LabStatistics>();
    m_report.setInterval(500);
    connect(&m_report, &QTimer::timeout, this, &LabSimulator::report);
}

LabSimulator::~LabSimulator() = default;

void LabSimulator::start(const QUrl &server, const QList<QSslCertificate> &trusted, const QStringList &usernames,
                         const QString &password, int devicesPerUser)
{
    QSslConfiguration ssl = QSslConfiguration::defaultConfiguration();
    if (!trusted.isEmpty())
        ssl.setCaCertificates(trusted);
    stop();
    if (!m_network)
        m_network = std::make_unique<QNetworkAccessManager>(); // created here, on the lab's thread
    const QStringList kinds { u"laptop"_s, u"phone"_s, u"tablet"_s, u"desktop"_s, u"watch"_s };
    for (const auto &username : usernames) {
        for (int i = 0; i < devicesPerUser; ++i) {
            const QString device = u"%1-%2"_s.arg(kinds.at(i % kinds.size())).arg(i / kinds.size() + 1);
            m_devices.push_back(std::make_unique<LabDevice>(*m_network, server, ssl, username, password, device));
            m_devices.back()->start();
        }
    }
    m_report.start();
    report();
}

void LabSimulator::stop()
{
    for (auto &device : m_devices)
        device->stop();
    m_devices.clear();
    m_report.stop();
    report();
}

void LabSimulator::report()
{
    LabStatistics statistics;
    statistics.devices = int(m_devices.size());
    for (const auto &device : m_devices) {
        switch (device->state()) {
        case LabDevice::State::Connected:
            ++statistics.connected;
            break;
        case LabDevice::State::Revoked:
            ++statistics.revoked;
            break;
        case LabDevice::State::LoggingIn:
        case LabDevice::State::Connecting:
        case LabDevice::State::Waiting:
            ++statistics.waiting;
            break;
        case LabDevice::State::Stopped:
            break;
        }
        const auto &counters = device->counters();
        statistics.refreshes += counters.refreshes;
        statistics.messagesSent += counters.messagesSent;
        statistics.messagesReceived += counters.messagesReceived;
        statistics.reconnects += counters.reconnects;
    }
    Q_EMIT statisticsChanged(statistics);
}
