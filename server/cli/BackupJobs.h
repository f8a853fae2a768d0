#pragma once

#include "BackupSummary.h"
#include "Result.h"

#include <QObject>
#include <QString>

#include <functional>
#include <memory>

class BackupCommand;
class QThread;
struct DaemonCommand;
struct ServerConfig;

/// The console's backups and restores (ServerFacade::backUp, checkBackup, restoreBackup): what
/// `gatehoused backup` and `restore` do (cli/BackupCommand), with the passphrase given, on a
/// thread of their own, one at a time. Results come back on this object's thread while their
/// context lives. The destructor waits for a job under way: a restore cut short would leave a
/// database without its secrets (the job's calls to the secret store time out on their own).
class BackupJobs final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(BackupJobs)

public:
    using Done = std::function<void(const Result<QString, QString> &)>;
    using Checked = std::function<void(const Result<BackupSummary, QString> &)>;
    using Sealed = std::function<void(const Result<QByteArray, QString> &)>;

    explicit BackupJobs(QObject *parent = nullptr);
    ~BackupJobs() override;

    /// Whether a job is under way: another is refused until it ends.
    bool busy() const;
    void backUp(const ServerConfig &config, const QString &actor, const QString &path, const QByteArray &passphrase,
                QObject *context, Done done);
    /// The sealed backup itself, for the admin feed to carry to the admin's computer; the
    /// audit names `destination` and the asker's `remoteAddress`.
    void backUpToMemory(const ServerConfig &config, const QString &actor, const QString &remoteAddress,
                        const QString &destination, const QByteArray &passphrase, QObject *context, Sealed done);
    /// Opens `path` and says what it holds, writing nothing; a backup this build cannot restore
    /// (of a newer schema) is refused here already.
    void check(const QString &path, const QByteArray &passphrase, QObject *context, Checked done);
    /// Into `config`'s data directory, replacing its database (whose server must be stopped).
    void restore(const ServerConfig &config, const QString &actor, const QString &path, const QByteArray &passphrase,
                 QObject *context, Done done);

private:
    template<typename Value> bool refuseWhileBusy(QObject *context, const std::function<void(const Value &)> &done);
    /// Starts `job` on a new m_thread; it quits the thread as it finishes.
    void start(BackupCommand *job);
    void run(const DaemonCommand &command, const ServerConfig &config, const QString &actor,
             const QByteArray &passphrase, QObject *context, Done done);

    std::unique_ptr<QThread> m_thread; ///< the job under way, or the last one
};
