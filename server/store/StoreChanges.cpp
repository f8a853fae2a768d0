#include "store/StoreChanges.h"

#include "store/Database.h"

#include <QSqlError>
#include <QSqlQuery>

using namespace Qt::StringLiterals;

namespace {
constexpr qint64 keptSeconds = 24 * 3600;
} // namespace

Result<bool, QString> StoreChanges::record(Database &database, StoreChange::Kind kind, const QString &subject,
                                           bool password, const QString &actor, qint64 now)
{
    QSqlQuery query(database.connection());
    query.prepare(u"INSERT INTO store_changes (kind, subject, password, actor, at) VALUES (?, ?, ?, ?, ?)"_s);
    query.addBindValue(kind == StoreChange::Kind::User ? u"user"_s : u"keys"_s);
    query.addBindValue(subject.isEmpty() ? u""_s : subject); // a null QString binds as NULL
    query.addBindValue(password ? 1 : 0);
    query.addBindValue(actor);
    query.addBindValue(now);
    if (!query.exec())
        return fail(Database::describe(query.lastError()));
    QSqlQuery prune(database.connection());
    prune.prepare(u"DELETE FROM store_changes WHERE at < ?"_s);
    prune.addBindValue(now - keptSeconds);
    prune.exec(); // a failed pruning loses nothing: the next one tries again
    return true;
}

Result<QList<StoreChange>, QString> StoreChanges::since(Database &database, qint64 seq)
{
    QSqlQuery query(database.connection());
    query.prepare(u"SELECT seq, kind, subject, password, actor FROM store_changes WHERE seq > ? ORDER BY seq"_s);
    query.addBindValue(seq);
    if (!query.exec())
        return fail(Database::describe(query.lastError()));
    QList<StoreChange> changes;
    while (query.next()) {
        StoreChange change;
        change.seq = query.value(0).toLongLong();
        change.kind = query.value(1).toString() == "keys"_L1 ? StoreChange::Kind::Keys : StoreChange::Kind::User;
        change.subject = query.value(2).toString();
        change.password = query.value(3).toBool();
        change.actor = query.value(4).toString();
        changes.append(change);
    }
    return changes;
}

qint64 StoreChanges::latest(Database &database)
{
    QSqlQuery query(database.connection());
    return query.exec(u"SELECT coalesce(max(seq), 0) FROM store_changes"_s) && query.next()
        ? query.value(0).toLongLong()
        : 0;
}
