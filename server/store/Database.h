#pragma once

#include <QSqlDatabase>
#include <QVariantList>

#include <functional>

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

    /// Who copies the write-ahead log back into the file: SQLite, inside whichever commit
    /// crosses 1000 pages of log, or a WalCheckpointer (the server, whose commits must not).
    enum class Checkpoints { InCommits, Elsewhere };

    /// Opens (creating if needed) and migrates; false with errorString() on failure.
    bool open(const QString &path, Checkpoints checkpoints = Checkpoints::InCommits);
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

    /// The same, for this database's connection, and aware of a write group: inside one, a
    /// write's transaction is a savepoint of the group's, durable only when the group commits.
    bool beginWrite(QSqlError *error = nullptr);
    bool commitWrite(QSqlError *error = nullptr);
    void rollbackWrite();
    /// Runs `action` once what was written so far is durable: at once outside a group, after a
    /// group's commit inside one (never, if the group fails). For observers that must not be
    /// told of what may yet be rolled back.
    void afterCommit(std::function<void()> action);

    /// Several writes made durable by one commit, so one sync of the log for all of them (group
    /// commit). Writes that join a group must use the member beginWrite/commitWrite/rollbackWrite.
    /// Destroyed without commit(), it rolls back everything written in it.
    class WriteGroup final {
    public:
        explicit WriteGroup(Database &database);
        ~WriteGroup();
        Q_DISABLE_COPY_MOVE(WriteGroup)
        /// Whether the group's transaction began (the write lock is held); if not, nothing was.
        bool isOpen() const { return m_open; }
        /// Why it did not begin, in words a person can act on.
        QString openError() const { return m_openError; }
        /// Commits (one sync); on failure rolls back and drops the afterCommit actions.
        bool commit(QSqlError *error = nullptr);

    private:
        Database &m_database;
        bool m_open = false;
        QString m_openError;
    };

    /// Settings rows (name → value) for small facts such as the instance id.
    QString setting(const QString &name) const;
    bool setSetting(const QString &name, const QString &value);

private:
    bool migrate();

    QString m_connectionName;
    QString m_errorString;
    bool m_inGroup = false;
    QList<std::function<void()>> m_afterCommit; ///< while in a group
};
