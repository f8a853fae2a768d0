#pragma once

#include <QSqlDatabase>
#include <QVariantList>

class QSqlError;
class QSqlQuery;
#include <QString>

/// One SQLite database file opened through Qt SQL on the calling thread, in WAL mode with
/// full synchronisation (a commit is on disk before it returns) and the schema migrated to
/// the newest version. A QSqlDatabase belongs to the thread that opened it.
class Database final {
public:
    Database() = default;
    ~Database();
    Q_DISABLE_COPY_MOVE(Database)

    /// Opens (creating if needed) and migrates; false with errorString() on failure.
    bool open(const QString &path);
    void close();

    QSqlDatabase connection() const;
    QString errorString() const { return m_errorString; }
    int schemaVersion() const;

    /// Binds `values` in order and runs the prepared `query`; a failure is logged.
    static bool execute(QSqlQuery &query, const QVariantList &values);
    /// Begins a write transaction that takes the write lock at once (BEGIN IMMEDIATE), waiting
    /// for another process's lock up to the busy timeout. A deferred BEGIN that reads first
    /// would fail at once (SQLITE_BUSY_SNAPSHOT) when another process wrote meanwhile.
    static bool beginWrite(QSqlDatabase &db, QSqlError *error = nullptr);
    /// Why a write failed, in words a person can act on: "the disk is full", "the database
    /// is locked by another process", or SQLite's own message.
    static QString describe(const QSqlError &error);
    /// Whether the failure may pass by itself (a full disk, a lock): worth retrying.
    static bool isTransient(const QSqlError &error);

    /// Settings rows (name → value) for small facts such as the instance id.
    QString setting(const QString &name) const;
    bool setSetting(const QString &name, const QString &value);

private:
    bool migrate();

    QString m_connectionName;
    QString m_errorString;
};
