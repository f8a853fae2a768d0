#pragma once

#include "AuditEvent.h"
#include "AuditFilter.h"
#include "Result.h"

#include <QList>

#include <functional>

class Clock;
class Database;

/// The append-only audit chain in SQLite. Each event's hash covers its content and the
/// previous event's hash, and the newest hash is also kept apart (`audit_head`), so an edited,
/// removed, inserted or cut-off event shows up in verify(). Tokens and passwords never go in.
class AuditLog final {
public:
    using Filter = AuditFilter;

    struct Break {
        qint64 eventId = 0; ///< the first event that does not check out (0: the head)
        QString reason;
    };

    AuditLog(Database &database, const Clock &clock);

    /// Appends durably and returns the stored event (with id, time and hashes).
    Result<AuditEvent, QString> append(AuditEvent event);
    QList<AuditEvent> query(const Filter &filter) const;
    /// Events after `id`, oldest first, at most `limit`: what others appended since.
    QList<AuditEvent> after(qint64 id, int limit) const;
    /// The newest event's id (0 when there is none), or why it could not be read.
    Result<qint64, QString> lastId() const;
    /// Walks the whole chain; the number of events on success.
    Result<qint64, Break> verify() const;

    /// The hash input of an event: its content as compact JSON with sorted members.
    static QByteArray canonicalContent(const AuditEvent &event);
    /// An event as the admin API and `audit export` show it, with its time and chain hashes.
    static QJsonObject toJson(const AuditEvent &event);
    enum class ExportFormat {
        JsonLines,
        Csv, ///< RFC 4180, with cells a spreadsheet would run as formulas defused
    };
    /// Events in the order given, one per line, with their chain hashes so that an export can
    /// be checked against the database later.
    static QString exportText(const QList<AuditEvent> &events, ExportFormat format);
    /// Told of every event once it is on disk (the console's live tail).
    void setObserver(std::function<void(const AuditEvent &)> observer) { m_observer = std::move(observer); }
    static QString chainHash(const QString &previousHash, const AuditEvent &event);

private:
    Database &m_database;
    const Clock &m_clock;
    std::function<void(const AuditEvent &)> m_observer;
};
