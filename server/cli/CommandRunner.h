#pragma once

#include "cli/DaemonCommandLine.h"
#include "config/ServerConfig.h"
#include "core/Clock.h"
#include "store/Database.h"
#include "store/StoreChanges.h"

#include <QJsonObject>

#include <QObject>

#include <functional>
#include <memory>

class AuditLog;
class QNetworkAccessManager;
class BackupCommand;
class KeyStore;
class SessionService;
class SqliteSessionStore;
class SecretStore;
class SessionServer;
class UserDirectory;

/// Carries out one `gatehoused` command and ends with finished(exitCode): 0 done, 1 the
/// operation failed (a sentence on stderr), 2 the command line was wrong.
class CommandRunner final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(CommandRunner)

public:
    explicit CommandRunner(DaemonCommand command, QObject *parent = nullptr);
    ~CommandRunner() override;

    void run();
    /// SIGHUP: a running server reads its TLS files again, and says what came of it.
    void reload();

Q_SIGNALS:
    void finished(int exitCode);

private:
    void runUserCommand();
    void runTlsShow();
    void runCheckConfig();
    /// From the data directory's gatehoused.run: false (and said so) when no server runs there.
    bool findRunningServer();
    void runStatus();
    void runUserAdd();
    void runUserList();
    void withSecrets(std::function<void()> next);
    void withKeys(std::function<void()> next);
    void runAdminTokenCommand();
    /// admin-token add | list | revoke: the named tokens, in the store.
    void runNamedAdminTokenCommand();
    void runKeysCommand();
    void runTokenMint();
    void runAuditCommand();
    void runClientCommand();
    /// backup | restore (cli/BackupCommand), which open the database their own way.
    void runBackupCommand();
    void serve();
    /// "cli:<unix user>" (the effective user), as the audit log names it.
    static QString actor();
    /// A change made: audited with actor(), and recorded for a running server to act on.
    void recordChange(const QString &auditType, const QString &username, const QJsonObject &detail,
                      StoreChange::Kind kind, bool password);
    void succeed(const QString &output);
    void failWith(const QString &message, int exitCode = 1);

    DaemonCommand m_command;
    ServerConfig m_config;
    SystemClock m_clock;
    Database m_database;
    std::unique_ptr<UserDirectory> m_users;
    std::shared_ptr<SecretStore> m_secrets;
    std::unique_ptr<KeyStore> m_keys;
    std::unique_ptr<SqliteSessionStore> m_sessionStore;
    std::unique_ptr<AuditLog> m_audit;
    std::unique_ptr<SessionService> m_sessions;
    std::unique_ptr<SessionServer> m_server;
    std::unique_ptr<BackupCommand> m_backup;
    bool m_finished = false;
    QJsonObject m_running; ///< the running server's record, for status
    std::unique_ptr<QNetworkAccessManager> m_network;
};
