#include "store/Database.h"

#include "store/Migrations.h"

#include <QFile>
#include <QLoggingCategory>
#include <QSqlError>
#include <QSqlQuery>
#include <QUuid>

using namespace Qt::StringLiterals;

Q_LOGGING_CATEGORY(lcStore, "gatehouse.store")

bool Database::execute(QSqlQuery &query, const QVariantList &values)
{
    for (const auto &value : values)
        query.addBindValue(value);
    if (query.exec())
        return true;
    qCWarning(lcStore).noquote() << "query failed:" << query.lastError().text();
    return false;
}

namespace {
constexpr int busyTimeoutMilliseconds = 5000;
}

Database::~Database()
{
    close();
}

bool Database::open(const QString &path, Checkpoints checkpoints)
{
    close();
    m_connectionName = u"gatehouse-"_s + QUuid::createUuid().toString(QUuid::WithoutBraces);
    auto db = QSqlDatabase::addDatabase(u"QSQLITE"_s, m_connectionName);
    db.setDatabaseName(path);
    db.setConnectOptions(u"QSQLITE_BUSY_TIMEOUT=%1"_s.arg(busyTimeoutMilliseconds));
    if (!db.open()) {
        m_errorString = u"cannot open database %1: %2"_s.arg(path, db.lastError().text());
        return false;
    }
    // Password hashes live here: owner-only, like the folder (SQLite gives -wal/-shm the same mode).
    QFile::setPermissions(path, QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    // WAL lets readers run beside the writer; synchronous=FULL makes every commit durable
    // before the caller is told it happened, even across power loss.
    QStringList pragmas = { u"PRAGMA journal_mode=WAL"_s, u"PRAGMA synchronous=FULL"_s, u"PRAGMA foreign_keys=ON"_s };
    if (checkpoints == Checkpoints::Elsewhere)
        pragmas << u"PRAGMA wal_autocheckpoint=0"_s;
    for (const auto &pragma : std::as_const(pragmas)) {
        QSqlQuery query(db);
        if (!query.exec(pragma)) {
            m_errorString = u"cannot use database %1: %2"_s.arg(path, query.lastError().text());
            return false;
        }
    }
    QSqlQuery check(db);
    if (!check.exec(u"PRAGMA quick_check"_s) || !check.next() || check.value(0).toString() != "ok"_L1) {
        m_errorString = u"database %1 is damaged or not a Gatehouse database"_s.arg(path);
        return false;
    }
    return migrate();
}

void Database::close()
{
    if (m_connectionName.isEmpty())
        return;
    {
        auto db = QSqlDatabase::database(m_connectionName, false);
        if (db.isOpen())
            db.close();
    }
    QSqlDatabase::removeDatabase(m_connectionName);
    m_connectionName.clear();
}

QSqlDatabase Database::connection() const
{
    return QSqlDatabase::database(m_connectionName, false);
}

int Database::schemaVersion() const
{
    QSqlQuery query(connection());
    if (!query.exec(u"PRAGMA user_version"_s) || !query.next())
        return -1;
    return query.value(0).toInt();
}

bool Database::migrate()
{
    const int current = schemaVersion();
    const auto &steps = Migrations::steps();
    if (current > static_cast<int>(steps.size())) {
        m_errorString
            = u"database schema version %1 is newer than this Gatehouse (%2); upgrade Gatehouse"_s.arg(current).arg(
                steps.size());
        return false;
    }
    auto db = connection();
    for (int version = current; version < static_cast<int>(steps.size()); ++version) {
        if (!db.transaction()) {
            m_errorString = db.lastError().text();
            return false;
        }
        for (const auto &statement : steps[static_cast<std::size_t>(version)]) {
            QSqlQuery query(db);
            if (!query.exec(statement)) {
                m_errorString = u"migration to schema %1 failed: %2"_s.arg(version + 1).arg(query.lastError().text());
                db.rollback();
                return false;
            }
        }
        QSqlQuery bump(db);
        if (!bump.exec(u"PRAGMA user_version=%1"_s.arg(version + 1)) || !db.commit()) {
            m_errorString = db.lastError().text();
            db.rollback();
            return false;
        }
        qCInfo(lcStore) << "database migrated to schema" << version + 1;
    }
    if (setting(u"instance_id"_s).isEmpty())
        setSetting(u"instance_id"_s, QUuid::createUuid().toString(QUuid::WithoutBraces));
    return true;
}

QString Database::setting(const QString &name) const
{
    QSqlQuery query(connection());
    query.prepare(u"SELECT value FROM settings WHERE name = ?"_s);
    query.addBindValue(name);
    if (!query.exec() || !query.next())
        return {};
    return query.value(0).toString();
}

bool Database::setSetting(const QString &name, const QString &value)
{
    QSqlQuery query(connection());
    query.prepare(u"INSERT INTO settings(name, value) VALUES(?, ?) "
                  "ON CONFLICT(name) DO UPDATE SET value = excluded.value"_s);
    query.addBindValue(name);
    query.addBindValue(value);
    return query.exec();
}

bool Database::beginWrite(QSqlDatabase &db, QSqlError *error)
{
    QSqlQuery begin(db);
    if (begin.exec(u"BEGIN IMMEDIATE"_s))
        return true;
    if (error)
        *error = begin.lastError();
    return false;
}

bool Database::beginWrite(QSqlError *error)
{
    auto db = connection();
    if (!m_inGroup)
        return beginWrite(db, error);
    QSqlQuery savepoint(db);
    if (savepoint.exec(u"SAVEPOINT gatehouse_write"_s))
        return true;
    if (error)
        *error = savepoint.lastError();
    return false;
}

bool Database::commitWrite(QSqlError *error)
{
    auto db = connection();
    if (!m_inGroup) {
        if (db.commit())
            return true;
        if (error)
            *error = db.lastError();
        return false;
    }
    QSqlQuery release(db);
    if (release.exec(u"RELEASE gatehouse_write"_s))
        return true;
    if (error)
        *error = release.lastError();
    return false;
}

void Database::rollbackWrite()
{
    auto db = connection();
    if (!m_inGroup) {
        db.rollback();
        return;
    }
    // Undoes this write alone; the group's transaction goes on.
    QSqlQuery undo(db);
    undo.exec(u"ROLLBACK TO gatehouse_write"_s);
    undo.exec(u"RELEASE gatehouse_write"_s);
}

void Database::afterCommit(std::function<void()> action)
{
    if (m_inGroup)
        m_afterCommit.append(std::move(action));
    else
        action();
}

Database::WriteGroup::WriteGroup(Database &database)
    : m_database(database)
{
    Q_ASSERT(!database.m_inGroup);
    auto db = database.connection();
    QSqlError error;
    m_open = Database::beginWrite(db, &error);
    if (!m_open)
        m_openError = Database::describe(error);
    m_database.m_inGroup = m_open;
}

Database::WriteGroup::~WriteGroup()
{
    if (!m_open)
        return;
    m_database.connection().rollback();
    m_database.m_inGroup = false;
    m_database.m_afterCommit.clear();
}

bool Database::WriteGroup::commit(QSqlError *error)
{
    if (!m_open)
        return false;
    m_open = false;
    m_database.m_inGroup = false;
    auto db = m_database.connection();
    const auto actions = std::exchange(m_database.m_afterCommit, {});
    if (!db.commit()) {
        if (error)
            *error = db.lastError();
        db.rollback();
        return false;
    }
    for (const auto &action : actions)
        action();
    return true;
}

namespace {
/// SQLite's primary result code (the low byte of an extended one), from Qt's native code.
int primaryCode(const QSqlError &error)
{
    bool ok = false;
    const int code = error.nativeErrorCode().toInt(&ok);
    return ok ? code & 0xff : -1;
}
constexpr int sqliteBusy = 5;
constexpr int sqliteLocked = 6;
constexpr int sqliteIoError = 10;
constexpr int sqliteFull = 13;
} // namespace

QString Database::describe(const QSqlError &error)
{
    // A failed COMMIT reports the cause only in its text.
    if (error.databaseText().contains(u"disk is full"_s))
        return u"the disk is full"_s;
    switch (primaryCode(error)) {
    case sqliteFull:
        return u"the disk is full"_s;
    case sqliteBusy:
    case sqliteLocked:
        return u"the database is locked by another process"_s;
    case sqliteIoError:
        return u"the disk could not be written (%1)"_s.arg(error.databaseText());
    default:
        return error.text().isEmpty() ? u"the database refused the write"_s : error.text();
    }
}

bool Database::isTransient(const QSqlError &error)
{
    const int code = primaryCode(error);
    return error.databaseText().contains(u"disk is full"_s) || code == sqliteFull || code == sqliteBusy
        || code == sqliteLocked || code == sqliteIoError;
}
