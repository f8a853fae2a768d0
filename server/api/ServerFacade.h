#pragma once

#include "AdminOutcome.h"
#include "AuditFilter.h"
#include "AuditVerification.h"
#include "BackupSummary.h"
#include "ConnectionInfo.h"
#include "ConsoleSnapshot.h"
#include "InspectedMessage.h"
#include "Result.h"
#include "ServerState.h"
#include "UserKey.h"

#include <QJsonValue>
#include <QList>
#include <QObject>
#include <QString>
#include <QUrl>

#include <functional>

/// What the console sees of a session server and asks of it: the server it embeds
/// (SessionServer), or one it is attached to over the admin feed (RemoteServer). Values only
/// cross it; nothing blocks the caller. Callbacks run on this object's thread, and only while
/// their `context` lives.
class ServerFacade : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ServerFacade)

public:
    using OutcomeHandler = std::function<void(const AdminOutcome &)>;
    /// Empty on success, else why it failed, in words.
    using ErrorHandler = std::function<void(const QString &error)>;

    explicit ServerFacade(QObject *parent = nullptr)
        : QObject(parent)
    {
    }
    ~ServerFacade() override = default;

    virtual void start() = 0;
    virtual void stop() = 0;
    virtual ServerState state() const = 0;
    virtual QString errorString() const = 0;
    /// "127.0.0.1:8080" once running (attached: the server's host and port).
    virtual QString listenAddress() const = 0;
    /// How clients reach it: "https://127.0.0.1:8080" with TLS.
    virtual QUrl url() const = 0;
    /// The certificate chain it serves (PEM), for the console's own clients to trust; empty
    /// without TLS, or when it is not known here.
    virtual QByteArray certificateChain() const = 0;
    /// The embedded server's data directory; empty when attached.
    virtual QString dataDirectory() const = 0;
    /// Whether this is a server elsewhere, watched and acted on through its admin feed.
    virtual bool isRemote() const { return false; }
    /// What this console may do there: everything embedded; what the token's scope allows.
    virtual bool mayOperate() const { return true; } ///< disconnect, revoke, broadcast
    virtual bool mayAdminister() const { return true; } ///< users, policy, limits, keys, TLS

    virtual void requestConnections() = 0;
    virtual void requestSnapshot() = 0;

    virtual void disconnectConnection(quint64 connectionId, QObject *context, OutcomeHandler done) = 0;
    virtual void disconnectDevice(const UserKey &user, const QString &deviceId, QObject *context, OutcomeHandler done)
        = 0;
    virtual void disconnectUser(const UserKey &user, QObject *context, OutcomeHandler done) = 0;
    virtual void revokeSession(const QString &sessionId, QObject *context, OutcomeHandler done) = 0;
    virtual void revokeUser(const UserKey &user, QObject *context, OutcomeHandler done) = 0;
    virtual void revokeIssuedBefore(const UserKey &user, QObject *context, OutcomeHandler done) = 0;
    virtual void reloadTls(QObject *context, OutcomeHandler done) = 0;
    virtual void broadcast(const UserKey &user, const QJsonValue &payload, QObject *context, OutcomeHandler done) = 0;

    virtual void setPolicy(const SessionPolicy &policy, QObject *context, ErrorHandler done) = 0;
    virtual void setLimits(const ConnectionLimits &limits, QObject *context, ErrorHandler done) = 0;
    virtual void addUser(const QString &username, const QString &displayName, const QByteArray &password,
                         const QStringList &roles, QObject *context, ErrorHandler done)
        = 0;
    virtual void setUserEnabled(const QString &username, bool enabled, QObject *context, ErrorHandler done) = 0;
    virtual void setPassword(const QString &username, const QByteArray &password, QObject *context, ErrorHandler done)
        = 0;
    virtual void setRoles(const QString &username, const QStringList &roles, QObject *context, ErrorHandler done) = 0;
    virtual void rotateSigningKey(QObject *context, ErrorHandler done) = 0;

    virtual void queryAudit(const AuditFilter &filter, QObject *context,
                            std::function<void(const QList<AuditEvent> &events)> done)
        = 0;
    virtual void verifyAudit(QObject *context, std::function<void(const AuditVerification &result)> done) = 0;
    virtual void exportAudit(const AuditFilter &filter, const QString &path, QObject *context,
                             std::function<void(qsizetype written, const QString &error)> done)
        = 0;

    /// A message inspector on one live connection: its messages as they pass come in batches
    /// through inspected(), until stopInspecting() or its close (a batch marked ended). Payloads
    /// only where the server allows them (ServerStatistics::inspectPayloads). Opening and
    /// closing are audited (inspector_opened, inspector_closed). Any scope may inspect.
    virtual void inspectConnection(quint64 connectionId, QObject *context, OutcomeHandler done) = 0;
    virtual void stopInspecting(quint64 connectionId) = 0;

    /// Backups of the server's data directory, the same files `gatehoused backup` writes and
    /// `gatehoused restore` reads (docs/operations.md), with the passphrase given here rather
    /// than read from a terminal. Empty when offered here, else why not, in words.
    virtual QString backupUnavailableReason() const = 0;
    /// A restore replaces the data directory, which only the server's own computer can do with
    /// the server stopped: the embedded server's, not an attached one's.
    virtual QString restoreUnavailableReason() const = 0;
    /// Writes a backup of the running server's data (a consistent snapshot; the server goes
    /// on serving) to `path` on this computer, owner-only; `done` gets what was written.
    virtual void backUp(const QString &path, const QByteArray &passphrase, QObject *context,
                        std::function<void(const Result<QString, QString> &written)> done)
        = 0;
    /// Opens `path` with `passphrase` and says what it holds, writing nothing.
    virtual void checkBackup(const QString &path, const QByteArray &passphrase, QObject *context,
                             std::function<void(const Result<BackupSummary, QString> &summary)> done)
        = 0;
    /// Stops the server, then replaces its database and secrets with the backup's. The server
    /// stays stopped, restored or not: a new one on the same data directory starts on what
    /// is there. `done` gets what was restored, in words, or why not.
    virtual void restoreBackup(const QString &path, const QByteArray &passphrase, QObject *context,
                               std::function<void(const Result<QString, QString> &restored)> done)
        = 0;

    /// While startedWaitingForKeyring(): stop waiting, keep the keys in owner-only files (as
    /// `--secret-store file` would have from the start). Nothing elsewhere.
    virtual void useFileSecretsInstead() { }

    /// Who the console acts as in the audit log: "console:<login>", or "admin:<token name>".
    virtual QString actor() const = 0;

Q_SIGNALS:
    void stateChanged(ServerState state);
    /// While starting: what it waits for, in words ("waiting for the system keyring…").
    void startupProgress(const QString &message);
    /// Starting waits for the system keyring, which may be showing a password prompt; until
    /// it answers, useFileSecretsInstead() is offered.
    void startedWaitingForKeyring();
    /// Connections opened and closed since the last emission, coalesced by the server.
    void connectionsChanged(const QList<ConnectionInfo> &opened, const QList<ConnectionInfo> &closed);
    void connectionsSnapshot(const QList<ConnectionInfo> &connections);
    void snapshotReady(const ConsoleSnapshot &snapshot);
    void usersChanged(const QList<User> &users);
    void sessionsChanged(const QList<SessionRecord> &sessions);
    void auditAppended(const QList<AuditEvent> &events);
    void policyChanged(const SessionPolicy &policy);
    void limitsChanged(const ConnectionLimits &limits);
    void signingKeysChanged(const QList<SigningKeyInfo> &keys, const QJsonObject &jwks);
    void statisticsSampled(const ServerStatistics &statistics);
    /// What an inspected connection passed since the last batch, or the inspection's end.
    void inspected(const InspectionBatch &batch);
};
