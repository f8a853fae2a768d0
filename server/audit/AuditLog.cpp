#include "audit/AuditLog.h"

#include "core/Clock.h"
#include "store/Database.h"

#include <QCryptographicHash>
#include <QDateTime>
#include <QJsonDocument>
#include <QLoggingCategory>
#include <QSqlError>
#include <QSqlQuery>

using namespace Qt::StringLiterals;

Q_LOGGING_CATEGORY(lcAudit, "gatehouse.audit")

namespace {
const auto genesisHash = QString(64, u'0');
const auto headSetting = u"audit_head"_s;
const auto eventColumns = u"id, at_ms, type, actor, username, device_id, session_id, remote_address, detail, "
                          "previous_hash, hash"_s;

AuditEvent eventFromQuery(const QSqlQuery &query)
{
    AuditEvent event;
    event.id = query.value(0).toLongLong();
    event.atMs = query.value(1).toLongLong();
    event.type = query.value(2).toString();
    event.actor = query.value(3).toString();
    event.username = query.value(4).toString();
    event.deviceId = query.value(5).toString();
    event.sessionId = query.value(6).toString();
    event.remoteAddress = query.value(7).toString();
    event.detail = QJsonDocument::fromJson(query.value(8).toString().toUtf8()).object();
    event.previousHash = query.value(9).toString();
    event.hash = query.value(10).toString();
    return event;
}
} // namespace

AuditLog::AuditLog(Database &database, const Clock &clock)
    : m_database(database)
    , m_clock(clock)
{
}

QByteArray AuditLog::canonicalContent(const AuditEvent &event)
{
    // QJsonObject keeps its members sorted, so the text is the same on every run.
    const QJsonObject content { { "id"_L1, event.id },
                                { "at_ms"_L1, event.atMs },
                                { "type"_L1, event.type },
                                { "actor"_L1, event.actor },
                                { "username"_L1, event.username },
                                { "device_id"_L1, event.deviceId },
                                { "session_id"_L1, event.sessionId },
                                { "remote_address"_L1, event.remoteAddress },
                                { "detail"_L1, event.detail } };
    return QJsonDocument(content).toJson(QJsonDocument::Compact);
}

QJsonObject AuditLog::toJson(const AuditEvent &event)
{
    return event.toJson();
}

QString AuditLog::chainHash(const QString &previousHash, const AuditEvent &event)
{
    QCryptographicHash hash(QCryptographicHash::Sha256);
    hash.addData(previousHash.toLatin1());
    hash.addData("\n");
    hash.addData(canonicalContent(event));
    return QString::fromLatin1(hash.result().toHex());
}

Result<AuditEvent, QString> AuditLog::append(AuditEvent event)
{
    if (event.type.isEmpty() || event.actor.isEmpty())
        return fail(u"an audit event needs a type and an actor"_s);
    auto db = m_database.connection();
    // The write lock first: reading the chain's head in a deferred transaction and writing
    // after would fail at once if another process wrote meanwhile.
    if (QSqlError error; !m_database.beginWrite(&error))
        return fail(Database::describe(error));
    QSqlQuery last(db);
    if (!last.exec(u"SELECT id, hash FROM audit_events ORDER BY id DESC LIMIT 1"_s)) {
        m_database.rollbackWrite();
        return fail(last.lastError().text());
    }
    const bool hasPrevious = last.next();
    event.id = hasPrevious ? last.value(0).toLongLong() + 1 : 1;
    event.previousHash = hasPrevious ? last.value(1).toString() : genesisHash;
    last.finish(); // an open statement would make the commit fail
    event.atMs = std::chrono::duration_cast<std::chrono::milliseconds>(m_clock.now().time_since_epoch()).count();
    event.hash = chainHash(event.previousHash, event);

    QSqlQuery insert(db);
    // A null QString binds as SQL NULL: empty optional fields are stored as ''.
    insert.prepare(
        u"INSERT INTO audit_events("_s + eventColumns
        + u") VALUES(?, ?, ?, ?, COALESCE(?, ''), COALESCE(?, ''), COALESCE(?, ''), COALESCE(?, ''), ?, ?, ?)"_s);
    for (const QVariant &value :
         { QVariant(event.id), QVariant(event.atMs), QVariant(event.type), QVariant(event.actor),
           QVariant(event.username), QVariant(event.deviceId), QVariant(event.sessionId), QVariant(event.remoteAddress),
           QVariant(QString::fromUtf8(QJsonDocument(event.detail).toJson(QJsonDocument::Compact))),
           QVariant(event.previousHash), QVariant(event.hash) })
        insert.addBindValue(value);
    QSqlQuery head(db);
    head.prepare(u"INSERT INTO settings(name, value) VALUES(?, ?) "
                 "ON CONFLICT(name) DO UPDATE SET value = excluded.value"_s);
    head.addBindValue(headSetting);
    head.addBindValue(QString(QString::number(event.id) + u':' + event.hash));
    QSqlError commitError;
    if (!insert.exec() || !head.exec() || !m_database.commitWrite(&commitError)) {
        const QString error = insert.lastError().isValid() ? insert.lastError().text()
            : head.lastError().isValid()                   ? head.lastError().text()
                                                           : commitError.text();
        m_database.rollbackWrite();
        return fail(error);
    }
    // In a write group, observers hear of it once the group is durable.
    m_database.afterCommit([this, event] {
        if (m_observer)
            m_observer(event);
    });
    return event;
}

QList<AuditEvent> AuditLog::query(const Filter &filter) const
{
    QSqlQuery query(m_database.connection());
    query.prepare(
        u"SELECT "_s + eventColumns
        + u" FROM audit_events WHERE at_ms >= ? AND (? = 0 OR at_ms <= ?) AND (COALESCE(?, '') = '' OR actor = ?)"
          " AND (COALESCE(?, '') = '' OR username = ?) AND (COALESCE(?, '') = '' OR type = ?)"
          " ORDER BY id DESC LIMIT ?"_s);
    for (const QVariant &value :
         { QVariant(filter.sinceMs), QVariant(filter.untilMs), QVariant(filter.untilMs), QVariant(filter.actor),
           QVariant(filter.actor), QVariant(filter.username), QVariant(filter.username), QVariant(filter.type),
           QVariant(filter.type), QVariant(std::clamp(filter.limit, 1, 100000)) })
        query.addBindValue(value);
    QList<AuditEvent> events;
    if (!query.exec())
        return events;
    while (query.next())
        events.append(eventFromQuery(query));
    return events;
}

QList<AuditEvent> AuditLog::after(qint64 id, int limit) const
{
    QSqlQuery query(m_database.connection());
    query.setForwardOnly(true);
    query.prepare(u"SELECT "_s + eventColumns + u" FROM audit_events WHERE id > ? ORDER BY id LIMIT ?"_s);
    query.addBindValue(id);
    query.addBindValue(std::max(limit, 1));
    QList<AuditEvent> events;
    if (!query.exec()) {
        qCWarning(lcAudit).noquote() << "cannot read the audit events after" << id << ":" << query.lastError().text();
        return events;
    }
    while (query.next())
        events.append(eventFromQuery(query));
    return events;
}

Result<qint64, QString> AuditLog::lastId() const
{
    QSqlQuery query(m_database.connection());
    if (!query.exec(u"SELECT COALESCE(MAX(id), 0) FROM audit_events"_s) || !query.next())
        return fail(query.lastError().text());
    return query.value(0).toLongLong();
}

Result<qint64, AuditLog::Break> AuditLog::verify() const
{
    QSqlQuery query(m_database.connection());
    query.setForwardOnly(true);
    if (!query.exec(u"SELECT "_s + eventColumns + u" FROM audit_events ORDER BY id"_s))
        return fail(Break { 0, query.lastError().text() });
    QString previousHash = genesisHash;
    qint64 expectedId = 1;
    qint64 count = 0;
    while (query.next()) {
        const AuditEvent event = eventFromQuery(query);
        if (event.id != expectedId)
            return fail(Break { event.id, u"event %1 is missing"_s.arg(expectedId) });
        if (event.previousHash != previousHash)
            return fail(Break { event.id, u"does not follow the event before it"_s });
        if (chainHash(previousHash, event) != event.hash)
            return fail(Break { event.id, u"its content was changed"_s });
        previousHash = event.hash;
        ++expectedId;
        ++count;
    }
    const QString head = m_database.setting(headSetting);
    const QString expectedHead = count == 0 ? QString() : QString::number(count) + u':' + previousHash;
    if (head != expectedHead)
        return fail(Break { 0, u"the newest events were removed (the chain ends before its recorded head)"_s });
    return count;
}

QString AuditLog::exportText(const QList<AuditEvent> &events, ExportFormat format)
{
    const auto csvField = [](QString text) -> QString {
        // RFC 4180 quoting, and a leading quote for cells a spreadsheet would run as formulas.
        if (!text.isEmpty() && QStringLiteral("=+-@").contains(text.front()))
            text.prepend(u'\'');
        return u'"' + text.replace(u'"', u"\"\""_s) + u'"';
    };
    const bool csv = format == ExportFormat::Csv;
    QString out = csv ? u"id,time,type,actor,username,device_id,session_id,remote_address,detail,hash\n"_s : QString();
    for (const auto &event : events) {
        if (csv) {
            const QString time = QDateTime::fromMSecsSinceEpoch(event.atMs, Qt::UTC).toString(Qt::ISODateWithMs);
            const QString detail = QString::fromUtf8(QJsonDocument(event.detail).toJson(QJsonDocument::Compact));
            out += QString::number(event.id) + u',';
            for (const auto &field : { time, event.type, event.actor, event.username, event.deviceId, event.sessionId,
                                       event.remoteAddress, detail })
                out += csvField(field) + u',';
            out += event.hash + u'\n';
            continue;
        }
        out += QString::fromUtf8(QJsonDocument(toJson(event)).toJson(QJsonDocument::Compact)) + u'\n';
    }
    return out;
}
