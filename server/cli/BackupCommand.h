#pragma once

#include "cli/DaemonCommandLine.h"
#include "config/ServerConfig.h"
#include "core/Clock.h"
#include "store/BackupFile.h"
#include "store/Database.h"

#include <QObject>
#include <QStringList>

#include <memory>

class SecretStore;

/// `gatehoused backup` and `gatehoused restore`: a data directory's database and the secrets
/// that make it work (signing key, cookie key, admin token) in one passphrase-sealed file
/// (store/BackupFile), and back. Ends with finished(): exit code 0 with what to print on
/// standard output, or 1 with one sentence for standard error.
class BackupCommand final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(BackupCommand)

public:
    /// No backup this build writes is larger: a bigger file is refused before it is read.
    static constexpr qint64 largestBackupFile = qint64(2) * 1024 * 1024 * 1024 + 1024 * 1024;

    /// A backup file's bytes, if it is a regular file no larger than any backup written.
    static Result<QByteArray, QString> readBackupFile(const QString &path);
    /// Whether an opened backup can be restored by this build: its format, and a schema this
    /// build knows (a newer one is refused before anything is replaced).
    static Result<bool, QString> checkRestorable(const QJsonObject &about);

    BackupCommand(DaemonCommand command, ServerConfig config, QString actor, QObject *parent = nullptr);
    ~BackupCommand() override;

    /// The passphrase, given by a program (the console) instead of read from standard input
    /// or a terminal.
    void setPassphrase(QByteArray passphrase);
    /// The sealed backup goes to sealed() rather than to a file: the admin feed's backup,
    /// whose file is made on the admin's computer. `destination` is what the audit names.
    void keepInMemory(const QString &destination);
    /// Where the one who asked is, for the audit event (the admin feed's peer).
    void setRemoteAddress(const QString &address) { m_remoteAddress = address; }
    void run();

Q_SIGNALS:
    /// In memory mode, the sealed backup, just before finished().
    void sealed(const QByteArray &backup);
    void finished(int exitCode, const QString &text);

private:
    void backup();
    void restore();
    /// Reads the named secrets one after the other into m_secretValues, then calls next().
    void readSecrets(QStringList names, std::function<void()> next);
    void writeSecrets(QList<std::pair<QString, QByteArray>> secrets, std::function<void()> next);
    /// Fails the command if the secret store has not answered for `secretName` when the
    /// timeout is up, and its call is still the last one made.
    void giveUpAfterTimeout(const QString &secretName);
    void finishBackup(const QString &keyId);
    void finishRestore();
    Result<QByteArray, QString> passphrase(bool twice) const;
    void succeed(const QString &text);
    void failWith(const QString &sentence);

    DaemonCommand m_command;
    ServerConfig m_config;
    QString m_actor;
    SystemClock m_clock;
    Database m_database;
    std::shared_ptr<SecretStore> m_secrets;
    QByteArray m_passphrase;
    QByteArray m_givenPassphrase; ///< setPassphrase(); null when it is to be read
    QString m_memoryDestination; ///< keepInMemory(); empty: to m_command.backupFile
    QString m_remoteAddress;
    QByteArray m_snapshot; ///< backup: the database as VACUUM INTO wrote it
    QJsonObject m_secretValues; ///< name → base64 of the secret
    BackupFile::Contents m_restored; ///< restore: what the file held
    bool m_finished = false;
    int m_secretSteps = 0; ///< calls made to the secret store, for giveUpAfterTimeout
};
