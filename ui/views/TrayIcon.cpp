#include "views/TrayIcon.h"

#include "models/Numerus.h"

#include <QApplication>
#include <QMenu>
#include <QStyle>
#include <QSystemTrayIcon>
#include <QWidget>

using namespace Qt::StringLiterals;

TrayIcon::TrayIcon(QWidget *window)
    : QObject(window)
{
    if (!QSystemTrayIcon::isSystemTrayAvailable())
        return;
    m_icon = new QSystemTrayIcon(QApplication::windowIcon().isNull()
                                     ? window->style()->standardIcon(QStyle::SP_ComputerIcon)
                                     : QApplication::windowIcon(),
                                 this);
    auto *menu = new QMenu(window);
    menu->addAction(tr("Show console"), window, [window] {
        window->showNormal();
        window->raise();
        window->activateWindow();
    });
    menu->addAction(tr("Quit"), this, &TrayIcon::quitRequested);
    m_icon->setContextMenu(menu);
    connect(m_icon, &QSystemTrayIcon::activated, window, [window](QSystemTrayIcon::ActivationReason reason) {
        if (reason == QSystemTrayIcon::Trigger)
            window->setVisible(!window->isVisible());
    });
    setConnectionCount(0);
    m_icon->show();
}

void TrayIcon::setConnectionCount(qint64 count)
{
    if (m_icon)
        m_icon->setToolTip(numerus(tr("Gatehouse: %n live connection(s)", nullptr, int(count)), int(count)));
}

void TrayIcon::noteEvents(const QList<AuditEvent> &events)
{
    for (const auto &event : events) {
        if (event.type != "refresh_token_reused"_L1)
            continue;
        m_lastWarning = tr("Refresh-token reuse: session %1 of %2 (device %3) was revoked")
                            .arg(event.sessionId.left(8), event.username, event.deviceId);
        if (m_icon)
            m_icon->showMessage(tr("Possible token theft"), m_lastWarning, QSystemTrayIcon::Warning, 10000);
        Q_EMIT warning(m_lastWarning);
    }
}
