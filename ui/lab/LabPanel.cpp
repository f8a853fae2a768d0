#include "lab/LabPanel.h"

#include "models/Numerus.h"

#include "ServerFacade.h"

#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QRandomGenerator>
#include <QSpinBox>
#include <QSslCertificate>
#include <QThread>
#include <QUrl>
#include <QVBoxLayout>

using namespace Qt::StringLiterals;

LabPanel::LabPanel(ServerFacade &server, QWidget *parent)
    : QWidget(parent)
    , m_server(server)
    , m_thread(new QThread(this))
    , m_simulator(new LabSimulator)
    , m_users(new QSpinBox(this))
    , m_devices(new QSpinBox(this))
    , m_start(new QPushButton(tr("&Start lab"), this))
    , m_stop(new QPushButton(tr("S&top all"), this))
    , m_summary(new QLabel(tr("No simulated clients."), this))
{
    // A password for this console run only; the lab users are re-keyed on every start.
    m_password = u"lab-%1"_s.arg(QRandomGenerator::system()->generate64(), 16, 16, QLatin1Char('0'));
    m_thread->setObjectName(u"gatehouse-lab"_s);
    m_simulator->moveToThread(m_thread);
    connect(m_thread, &QThread::finished, m_simulator, &QObject::deleteLater);
    connect(m_simulator, &LabSimulator::statisticsChanged, this, &LabPanel::showStatistics);
    m_thread->start();

    m_users->setObjectName(u"labUsersSpin"_s);
    m_users->setRange(1, 200);
    m_users->setValue(4);
    m_users->setAccessibleName(tr("Simulated users"));
    m_devices->setObjectName(u"labDevicesSpin"_s);
    m_devices->setRange(1, 10);
    m_devices->setValue(2);
    m_devices->setAccessibleName(tr("Devices per user"));
    m_start->setObjectName(u"labStartButton"_s);
    m_stop->setObjectName(u"labStopButton"_s);
    m_stop->setEnabled(false);
    m_summary->setObjectName(u"labSummary"_s);
    m_summary->setWordWrap(true);
    auto *labSpeed = new QPushButton(tr("Apply &lab-speed policy"), this);
    labSpeed->setObjectName(u"labSpeedPolicyButton"_s);
    labSpeed->setToolTip(tr("Access tokens of 30 s, sessions idle after 90 s: watch expiry and refresh live"));

    auto *form = new QFormLayout;
    form->setFieldGrowthPolicy(QFormLayout::FieldsStayAtSizeHint);
    form->addRow(tr("Simulated users"), m_users);
    form->addRow(tr("Devices per user"), m_devices);
    auto *buttons = new QHBoxLayout;
    buttons->addWidget(m_start);
    buttons->addWidget(m_stop);
    buttons->addWidget(labSpeed);
    buttons->addStretch();
    auto *layout = new QVBoxLayout(this);
    auto *intro = new QLabel(tr("Simulated users (lab-01, lab-02, …) log in over HTTP, connect over real WebSockets, "
                                "refresh in-band before their tokens expire, message their other devices, and "
                                "reconnect with jittered back-off after a disconnect, but not after a revocation."),
                             this);
    intro->setWordWrap(true);
    layout->addWidget(intro);
    layout->addLayout(form);
    layout->addLayout(buttons);
    layout->addWidget(m_summary);
    layout->addStretch();

    connect(m_start, &QPushButton::clicked, this, [this] { startLab(m_users->value(), m_devices->value()); });
    connect(m_stop, &QPushButton::clicked, this, &LabPanel::stopLab);
    connect(labSpeed, &QPushButton::clicked, this, [this] {
        m_server.setPolicy(SessionPolicy::labSpeed(), this, [this](const QString &error) {
            Q_EMIT outcome(error.isEmpty() ? tr("Lab-speed policy applied: access tokens live 30 s")
                                           : tr("Policy refused: %1").arg(error));
        });
    });
}

LabPanel::~LabPanel()
{
    QMetaObject::invokeMethod(m_simulator, &LabSimulator::stop, Qt::BlockingQueuedConnection);
    m_thread->quit();
    m_thread->wait();
}

void LabPanel::startLab(int users, int devicesPerUser)
{
    const QUrl url = m_server.url();
    const QList<QSslCertificate> trusted = QSslCertificate::fromData(m_server.certificateChain());
    if (m_server.listenAddress().isEmpty()) {
        Q_EMIT outcome(tr("The server is not running."));
        return;
    }
    m_start->setEnabled(false);
    QStringList usernames;
    for (int i = 1; i <= users; ++i)
        usernames.append(u"lab-%1"_s.arg(i, 2, 10, QLatin1Char('0')));
    // Create each user, or give an existing one this run's password; start once all answered.
    auto pending = std::make_shared<int>(int(usernames.size()));
    const auto ready = [this, pending, url, trusted, usernames, devicesPerUser] {
        if (--*pending > 0)
            return;
        QMetaObject::invokeMethod(
            m_simulator, [simulator = m_simulator, url, trusted, usernames, password = m_password, devicesPerUser] {
                simulator->start(url, trusted, usernames, password, devicesPerUser);
            });
        m_stop->setEnabled(true);
        Q_EMIT outcome(numerus(tr("Lab started: %n device(s)", nullptr, int(usernames.size()) * devicesPerUser),
                               int(usernames.size()) * devicesPerUser));
    };
    for (const auto &username : std::as_const(usernames)) {
        m_server.addUser(username, tr("Lab user %1").arg(username.mid(4)), m_password.toUtf8(), { u"user"_s }, this,
                         [this, username, ready](const QString &error) {
                             if (error.isEmpty())
                                 return ready();
                             m_server.setPassword(username, m_password.toUtf8(), this,
                                                  [ready](const QString &) { ready(); });
                         });
    }
}

void LabPanel::stopLab()
{
    QMetaObject::invokeMethod(m_simulator, &LabSimulator::stop);
    m_start->setEnabled(true);
    m_stop->setEnabled(false);
    Q_EMIT outcome(tr("Lab stopped"));
}

void LabPanel::showStatistics(const LabStatistics &statistics)
{
    m_statistics = statistics;
    if (statistics.devices == 0) {
        m_summary->setText(tr("No simulated clients."));
    } else {
        m_summary->setText(
            tr("%1 devices: %2 connected, %3 on their way, %4 revoked · %5 refreshes · %6 messages sent, "
               "%7 received · %8 reconnects")
                .arg(statistics.devices)
                .arg(statistics.connected)
                .arg(statistics.waiting)
                .arg(statistics.revoked)
                .arg(statistics.refreshes)
                .arg(statistics.messagesSent)
                .arg(statistics.messagesReceived)
                .arg(statistics.reconnects));
    }
    Q_EMIT statisticsChanged(statistics);
}
