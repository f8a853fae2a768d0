#pragma once

#include "AdminOutcome.h"
#include "AuditFilter.h"
#include "AuditVerification.h"
#include "ConnectionInfo.h"
#include "ConsoleSnapshot.h"
#include "ServerFacade.h"
#include "ServerState.h"
#include "SessionServerOptions.h"
#include "UserKey.h"

#include <QJsonValue>
#include <QList>
#include <QObject>
#include <QString>
#include <QUrl>

#include <functional>
#include <memory>

class QThread;
class ServerRuntime;
class BackupJobs;
struct AdminCommand;
struct ServerConfig;

/// The one door from the console (or any host program) into the session server. The
/// server lives on its own thread; this object stays on the caller's thread, never blocks
/// on the server, and only hands values across.
class SessionServer final : public ServerFacade {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SessionServer)

public:
    explicit SessionServer(SessionServerOptions options, QObject *parent = nullptr);
    ~SessionServer() override;

    void start() override;
    /// Stops the server and joins its thread.
    void stop() override;

    ServerState state() const override { return m_state; }
    QString errorString() const override { return m_errorString; }
    /// "127.0.0.1:8080" once running.
    QString listenAddress() const override { return m_listenAddress; }
    /// How clients on this machine reach it once running: "https://127.0.0.1:8080" with TLS.
    QUrl url() const override;
    /// The certificate chain it serves (PEM), for clients of the console to trust; empty
    /// without TLS.
    QByteArray certificateChain() const override { return m_certificateChain; }
    QString dataDirectory() const override { return m_dataDirectory; }

    /// Asks for every live connection; answered by connectionsSnapshot() once the server has
    /// gathered them from its I/O threads. Never blocks the caller.
    void requestConnections() override;
    /// Asks for users, sessions, policy, keys, statistics and the recent audit; answered by
    /// snapshotReady(). The change signals below then keep it current.
    void requestSnapshot() override;

    /// Callbacks of the actions below run on this object's thread, and only while `context`
    /// lives. Every action is audited with actor() as the actor, exactly as the admin API
    /// audits its own.

    void disconnectConnection(quint64 connectionId, QObject *context, OutcomeHandler done) override;
    /// A user is a UserKey (ConnectionInfo::user): our alice and an external issuer's alice are
    /// two users, and an action on one leaves the other alone.
    void disconnectDevice(const UserKey &user, const QString &deviceId, QObject *context, OutcomeHandler done) override;
    void disconnectUser(const UserKey &user, QObject *context, OutcomeHandler done) override;
    void revokeSession(const QString &sessionId, QObject *context, OutcomeHandler done) override;
    /// Single logout: every session of every device of our user (an external user has none).
    void revokeUser(const UserKey &user, QObject *context, OutcomeHandler done) override;
    /// Every token issued to the user before now is refused from now on.
    void revokeIssuedBefore(const UserKey &user, QObject *context, OutcomeHandler done) override;
    /// Reads the TLS certificate and key files again (AdminService::reloadTls).
    void reloadTls(QObject *context, OutcomeHandler done) override;
    /// To every live connection of `user`, or of everyone when it is empty.
    void broadcast(const UserKey &user, const QJsonValue &payload, QObject *context, OutcomeHandler done) override;

    void setPolicy(const SessionPolicy &policy, QObject *context, ErrorHandler done) override;
    void setLimits(const ConnectionLimits &limits, QObject *context, ErrorHandler done) override;
    void addUser(const QString &username, const QString &displayName, const QByteArray &password,
                 const QStringList &roles, QObject *context, ErrorHandler done) override;
    void setUserEnabled(const QString &username, bool enabled, QObject *context, ErrorHandler done) override;
    void setPassword(const QString &username, const QByteArray &password, QObject *context, ErrorHandler done) override;
    void setRoles(const QString &username, const QStringList &roles, QObject *context, ErrorHandler done) override;
    void rotateSigningKey(QObject *context, ErrorHandler done) override;

    void queryAudit(const AuditFilter &filter, QObject *context,
                    std::function<void(const QList<AuditEvent> &events)> done) override;
    void verifyAudit(QObject *context, std::function<void(const AuditVerification &result)> done) override;
    /// Writes the events `filter` selects to `path` (JSON lines or CSV, by the suffix ".csv"),
    /// on the server thread; `done` gets the number written or the error.
    void exportAudit(const AuditFilter &filter, const QString &path, QObject *context,
                     std::function<void(qsizetype written, const QString &error)> done) override;

    void inspectConnection(quint64 connectionId, QObject *context, OutcomeHandler done) override;
    void stopInspecting(quint64 connectionId) override;

    /// Backup and restore run on a thread of their own, one at a time: Argon2id and the copy
    /// of the database take their while, and the console never waits.
    QString backupUnavailableReason() const override { return {}; }
    QString restoreUnavailableReason() const override { return {}; }
    void backUp(const QString &path, const QByteArray &passphrase, QObject *context,
                std::function<void(const Result<QString, QString> &written)> done) override;
    void checkBackup(const QString &path, const QByteArray &passphrase, QObject *context,
                     std::function<void(const Result<BackupSummary, QString> &summary)> done) override;
    void restoreBackup(const QString &path, const QByteArray &passphrase, QObject *context,
                       std::function<void(const Result<QString, QString> &restored)> done) override;

    void useFileSecretsInstead() override;

    /// Who the console acts as in the audit log: "console:<login name>".
    QString actor() const override { return m_actor; }

private:
    void handleStarted(const QString &listenAddress);
    void handleFailed(const QString &message);
    void setState(ServerState state);
    /// Runs `work` with the AdminService on the server thread and hands its result to `done`
    /// back on this thread, if `context` still exists; `unavailable` when the server is not running.
    template<typename Value, typename Work>
    void ask(QObject *context, Work work, std::function<void(const Value &)> done, Value unavailable);
    /// A disconnection or revocation: in effect at once, then finished on the server thread.
    void act(const AdminCommand &command, QObject *context, OutcomeHandler done);

    /// The configuration this server runs (or ran) on; resolved again when it never started.
    Result<ServerConfig, QString> config() const;

    struct ThreadStopper {
        void operator()(QThread *thread) const;
    };

    SessionServerOptions m_options;
    std::unique_ptr<QThread, ThreadStopper> m_thread;
    ServerRuntime *m_runtime = nullptr; ///< lives on m_thread, deleted when it finishes
    std::unique_ptr<ServerConfig> m_config; ///< as resolved by the last start()
    std::unique_ptr<BackupJobs> m_backups; ///< waits for a job under way as it goes
    ServerState m_state = ServerState::Stopped;
    QString m_errorString;
    QString m_listenAddress;
    QByteArray m_certificateChain;
    QString m_dataDirectory;
    QString m_actor;
};
