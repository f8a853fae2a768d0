#pragma once

#include "ConnectionInfo.h"
#include "Result.h"
#include "admin/AdminService.h"
#include "ws/MessageTap.h"

#include <QHash>
#include <QObject>

class AuditLog;
class ConnectionHub;

/// The message inspectors open on live connections, on the control thread: who watches which
/// connection, each opening and closing audited (inspector_opened, inspector_closed). The
/// messages themselves go from the connection's I/O thread straight to the watcher's sink,
/// not through here. Payloads are shown only where the server's configuration allows it
/// (`inspect_payloads`).
class Inspections final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Inspections)

public:
    /// Across the server: each watched connection costs its I/O thread a batch every 100 ms.
    static constexpr int maximumInspections = 64;
    using Sink = MessageTap::Sink;
    struct Opened {
        quint64 inspection = 0;
        ConnectionInfo connection;
        bool payloads = false;
    };

    Inspections(ConnectionHub &connections, AuditLog &audit, bool payloadsAllowed, QObject *parent = nullptr);
    ~Inspections() override;

    bool payloadsAllowed() const { return m_payloadsAllowed; }
    int count() const { return static_cast<int>(m_open.size()); }

    /// `owner` names the watcher ("console", "feed:7"): it has at most one inspection of a
    /// connection, and asking again is answered with that one. `sink` runs on the connection's
    /// I/O thread, and gets a last batch marked ended.
    Result<Opened, QString> open(quint64 connectionId, const QString &owner, const AdminActor &actor, Sink sink);
    /// False when `owner` was not inspecting that connection.
    bool close(quint64 connectionId, const QString &owner, const QString &reason);
    /// Every inspection of `owner`'s: the feed or console that watched is gone.
    void closeAll(const QString &owner, const QString &reason);

private:
    struct Open {
        quint64 connectionId = 0;
        QString owner;
        AdminActor actor;
        UserKey user;
    };
    /// Posted from the connection's thread: it closed, and the inspection with it.
    void ended(quint64 inspection, const QString &reason);
    void auditEvent(const QString &type, const Open &open, QJsonObject detail);
    void finish(QHash<quint64, Open>::iterator it, const QString &reason);

    ConnectionHub &m_connections;
    AuditLog &m_audit;
    bool m_payloadsAllowed;
    QHash<quint64, Open> m_open;
    quint64 m_nextInspection = 1;
};
