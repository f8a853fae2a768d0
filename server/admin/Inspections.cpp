#include "admin/Inspections.h"

#include "audit/AuditLog.h"
#include "ws/ConnectionHub.h"

#include <QLoggingCategory>

using namespace Qt::StringLiterals;

Q_LOGGING_CATEGORY(lcInspect, "gatehouse.admin.inspect")

Inspections::Inspections(ConnectionHub &connections, AuditLog &audit, bool payloadsAllowed, QObject *parent)
    : QObject(parent)
    , m_connections(connections)
    , m_audit(audit)
    , m_payloadsAllowed(payloadsAllowed)
{
}

Inspections::~Inspections() = default;

Result<Inspections::Opened, QString> Inspections::open(quint64 connectionId, const QString &owner,
                                                       const AdminActor &actor, Sink sink)
{
    for (auto it = m_open.cbegin(); it != m_open.cend(); ++it) {
        if (it->connectionId == connectionId && it->owner == owner) {
            const auto connection = m_connections.connections(it->user);
            for (const auto &info : connection) {
                if (info.id == connectionId)
                    return Opened { it.key(), info, m_payloadsAllowed };
            }
        }
    }
    if (m_open.size() >= maximumInspections)
        return fail(u"%1 inspectors are open on this server already: close one first"_s.arg(maximumInspections));
    const quint64 inspection = m_nextInspection++;
    // The sink runs on the connection's thread; its end, when the connection closes, is
    // audited here. This object outlives the I/O threads (they stop first).
    MessageTap::Watcher watcher { inspection, m_payloadsAllowed,
                                  [this, inspection, sink = std::move(sink)](const InspectionBatch &batch) {
                                      sink(batch);
                                      if (batch.ended && batch.closeCode != 0)
                                          QMetaObject::invokeMethod(
                                              this,
                                              [this, inspection, reason = batch.reason] { ended(inspection, reason); },
                                              Qt::QueuedConnection);
                                  } };
    const auto connection = m_connections.inspect(connectionId, watcher);
    if (!connection)
        return fail(u"no live connection %1"_s.arg(connectionId));
    Open open { connectionId, owner, actor, connection->user };
    auditEvent(u"inspector_opened"_s, open, { { "payloads"_L1, m_payloadsAllowed } });
    m_open.insert(inspection, std::move(open));
    qCInfo(lcInspect).noquote() << actor.name << "inspects connection" << connectionId
                                << (m_payloadsAllowed ? "with payloads" : "without payloads");
    return Opened { inspection, *connection, m_payloadsAllowed };
}

bool Inspections::close(quint64 connectionId, const QString &owner, const QString &reason)
{
    for (auto it = m_open.begin(); it != m_open.end(); ++it) {
        if (it->connectionId == connectionId && it->owner == owner) {
            m_connections.stopInspecting(connectionId, it.key(), reason);
            finish(it, reason);
            return true;
        }
    }
    return false;
}

void Inspections::closeAll(const QString &owner, const QString &reason)
{
    // The keys first: erasing from a QHash invalidates every iterator into it.
    QList<quint64> owned;
    for (auto it = m_open.cbegin(); it != m_open.cend(); ++it) {
        if (it->owner == owner)
            owned.append(it.key());
    }
    for (const quint64 inspection : std::as_const(owned)) {
        const auto it = m_open.find(inspection);
        m_connections.stopInspecting(it->connectionId, inspection, reason);
        finish(it, reason);
    }
}

void Inspections::ended(quint64 inspection, const QString &reason)
{
    if (const auto it = m_open.find(inspection); it != m_open.end())
        finish(it, reason);
}

void Inspections::finish(QHash<quint64, Open>::iterator it, const QString &reason)
{
    auditEvent(u"inspector_closed"_s, *it, { { "reason"_L1, reason } });
    m_open.erase(it);
}

void Inspections::auditEvent(const QString &type, const Open &open, QJsonObject detail)
{
    AuditEvent event;
    event.type = type;
    event.actor = open.actor.name;
    event.remoteAddress = open.actor.remoteAddress;
    event.username = open.user.subject;
    detail.insert("connection"_L1, QString::number(open.connectionId));
    if (!open.user.isLocal())
        detail.insert("issuer"_L1, open.user.issuer);
    event.detail = detail;
    if (const auto appended = m_audit.append(event); !appended)
        qCWarning(lcInspect).noquote() << "audit append failed:" << appended.error();
}
