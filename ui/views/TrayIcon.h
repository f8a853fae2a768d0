#pragma once

#include "AuditEvent.h"

#include <QObject>

class QSystemTrayIcon;
class QWidget;

/// The console in the system tray: the live connection count in the tooltip, and a warning
/// balloon for events an admin should see at once (refresh-token reuse). Does nothing where
/// the platform has no tray.
class TrayIcon final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TrayIcon)

public:
    explicit TrayIcon(QWidget *window);

    void setConnectionCount(qint64 count);
    void noteEvents(const QList<AuditEvent> &events);
    /// The last warning shown (for the window's status bar too).
    QString lastWarning() const { return m_lastWarning; }

Q_SIGNALS:
    void warning(const QString &message);
    /// Its menu's Quit was chosen (the window decides whether it may quit now).
    void quitRequested();

private:
    QSystemTrayIcon *m_icon = nullptr; ///< null without a tray
    QString m_lastWarning;
};
