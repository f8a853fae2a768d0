#pragma once

#include "AdminOutcome.h"
#include "AuditEvent.h"
#include "AuditFilter.h"
#include "AuditVerification.h"
#include "ConnectionInfo.h"
#include "ConnectionLimits.h"
#include "ConsoleSnapshot.h"
#include "Result.h"
#include "ServerStatistics.h"
#include "SessionPolicy.h"
#include "SessionRecord.h"
#include "SigningKeyInfo.h"
#include "User.h"
#include "UserKey.h"
#include "tls/TlsCertificate.h"

#include <QJsonValue>
#include <QObject>
#include <QSet>
#include <QTimer>

#include <memory>

class AuditLog;
class Inspections;
class Clock;
class ConnectionCensus;
class ConnectionHub;
class Database;
class KeyStore;
class LiveLimits;
class PostedClose;
class ServerMetrics;
class SessionService;
class SessionStore;
class UserDirectory;
enum class UserError;
struct Revocation;

/// Who asks for an administrative action, as the audit log records it.
struct AdminActor {
    QString name; ///< "admin" for the admin API, "console:<login>" for the console
    QString remoteAddress;
};

/// An action on live connections or sessions, as the admin API and the console ask for it.
struct AdminCommand {
    enum class Kind {
        DisconnectConnection,
        DisconnectDevice,
        DisconnectUser,
        RevokeSession,
        RevokeUser,
        RevokeIssuedBefore
    };
    Kind kind = Kind::DisconnectConnection;
    UserKey user; ///< DisconnectDevice, DisconnectUser, RevokeUser, RevokeIssuedBefore
    QString deviceId; ///< DisconnectDevice
    QString sessionId; ///< RevokeSession
    quint64 connectionId = 0; ///< DisconnectConnection
};

/// What a command did at once, on the thread that received it (AdminService::takeEffect):
/// the sessions and cut-off it put in force and the closes it posted. Its outcome follows from
/// AdminService::perform on the control thread, which makes it durable and audits it.
struct AdminEffect {
    qint64 startedNs = 0;
    QStringList endedSessions;
    qint64 cutoffAt = 0;
    std::shared_ptr<PostedClose> closes; ///< none when there was nothing to close
};

/// Every administrative action in one place, for the admin API and the console alike: each
/// one acts at once (revocations close sockets before returning), is audited with its actor,
/// and reports an AdminOutcome. A user is a UserKey: an action on our alice leaves an external
/// issuer's alice alone, and the reverse. It also feeds the console: changed sessions, new audit
/// events and users, coalesced every 250 ms, and a statistics sample every second.
/// Lives on the server thread.
class AdminService final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(AdminService)

public:
    struct Parts {
        SessionService *sessions = nullptr;
        SessionStore *sessionStore = nullptr;
        UserDirectory *users = nullptr;
        ConnectionHub *connections = nullptr;
        AuditLog *audit = nullptr;
        KeyStore *keys = nullptr;
        ServerMetrics *metrics = nullptr;
        Database *database = nullptr; ///< where live policy and limit changes are kept across restarts
        ConnectionCensus *census = nullptr;
        LiveLimits *liveLimits = nullptr;
        /// The certificate served now (nothing without TLS), and a reload of it from its files:
        /// the new certificate's summary, or why it was refused (the old one serves on).
        std::function<std::optional<TlsCertificate::Summary>()> tlsCertificate = {};
        std::function<Result<TlsCertificate::Summary, QString>()> reloadTls = {};
        bool tlsFromFiles = false; ///< what reloadTls reads again; a self-signed one has none
        /// A backup of the data directory, sealed with the passphrase, made off this thread
        /// (cli/BackupJobs); the answer comes back on this thread.
        std::function<void(const AdminActor &actor, const QByteArray &passphrase,
                           std::function<void(const Result<QByteArray, QString> &sealed)> done)>
            backUp = {};
    };
    /// The `settings` row that holds the policy last set live.
    static constexpr QLatin1StringView policySetting { "policy" };
    /// The `settings` row that holds the connection limits last set live.
    static constexpr QLatin1StringView limitsSetting { "limits" };

    AdminService(Parts parts, const Clock &clock, ServerStatistics fixed, ConnectionLimits limits,
                 QObject *parent = nullptr);
    ~AdminService() override;

    /// For any thread, before perform(): what must not wait for the control thread (busy with
    /// logins and refresh rotations) takes effect here. The sessions the guard knows end, a
    /// cut-off applies, and the connections' closes are posted to the I/O threads. perform()
    /// must follow, with the effect, on the control thread; nothing else may come between.
    std::shared_ptr<const AdminEffect> takeEffect(const AdminCommand &command) const;
    /// The command, finished on the control thread: what takeEffect() did (if it ran) is made
    /// durable and audited, and anything it could not reach is done here.
    AdminOutcome perform(const AdminCommand &command, const AdminActor &actor, const AdminEffect *effect = nullptr);

    AdminOutcome disconnectConnection(quint64 connectionId, const AdminActor &actor,
                                      const AdminEffect *effect = nullptr);
    AdminOutcome disconnectDevice(const UserKey &user, const QString &deviceId, const AdminActor &actor,
                                  const AdminEffect *effect = nullptr);
    AdminOutcome disconnectUser(const UserKey &user, const AdminActor &actor, const AdminEffect *effect = nullptr);
    AdminOutcome revokeSession(const QString &sessionId, const AdminActor &actor, const AdminEffect *effect = nullptr);
    /// Single logout: every session of every device of our user. An external issuer's user
    /// has no sessions here: that is an error (revokeIssuedBefore cuts its tokens off).
    AdminOutcome revokeUser(const UserKey &user, const AdminActor &actor, const AdminEffect *effect = nullptr);
    /// Every token of the user issued before now is refused from now on.
    AdminOutcome revokeIssuedBefore(const UserKey &user, const AdminActor &actor, const AdminEffect *effect = nullptr);
    /// Reads the certificate and key files again and serves them to new connections (open ones
    /// keep theirs); a pair that does not check out is refused with a sentence, and audited.
    AdminOutcome reloadTls(const AdminActor &actor);
    /// The sealed backup (`gatehoused backup`'s file) for an admin to take away: one at a time,
    /// audited as backup_made by `actor`; `done` runs on this thread.
    void backUp(const AdminActor &actor, const QByteArray &passphrase,
                std::function<void(const Result<QByteArray, QString> &sealed)> done);
    /// To every connection of `user`, or of everyone when it is empty.
    AdminOutcome broadcast(const UserKey &user, const QJsonValue &payload, const AdminActor &actor);

    Result<SessionPolicy, QString> setPolicy(const SessionPolicy &policy, const AdminActor &actor);
    /// New connection limits for handshakes from now on; stored, audited (limits_changed).
    Result<ConnectionLimits, QString> setLimits(const ConnectionLimits &limits, const AdminActor &actor);
    ConnectionLimits limits() const { return m_limits; }
    Result<User, QString> addUser(const QString &username, const QString &displayName, const QByteArray &password,
                                  const QStringList &roles, const AdminActor &actor);
    Result<User, QString> setUserEnabled(const QString &username, bool enabled, const AdminActor &actor);
    Result<User, QString> setPassword(const QString &username, const QByteArray &password, const AdminActor &actor);
    Result<User, QString> setRoles(const QString &username, const QStringList &roles, const AdminActor &actor);
    /// Starts a rotation; keysChanged() follows when the new key signs.
    void rotateSigningKey(const AdminActor &actor);

    /// The message inspectors open on live connections.
    Inspections &inspections() { return *m_inspections; }

    QList<User> users() const;
    QList<SessionRecord> sessions(const QString &username = {}) const;
    QList<SigningKeyInfo> signingKeys() const;
    QJsonObject jwks() const;
    ServerStatistics statistics() const;
    SessionPolicy policy() const;
    /// Tells of the audit events another writer appended (the command line, a backup, another
    /// process), as of its own: the store follower calls it when the database moved. A batch
    /// at a time, the next after the one told of.
    void followAudit();
    /// What the console starts from: live sessions and those ended within the last hour.
    ConsoleSnapshot snapshot() const;
    QList<AuditEvent> queryAudit(const AuditFilter &filter) const;
    AuditVerification verifyAudit() const;
    /// Writes the selected events to `path` (CSV when it ends in ".csv", else JSON lines).
    Result<qsizetype, QString> exportAudit(const AuditFilter &filter, const QString &path) const;

Q_SIGNALS:
    void usersChanged(const QList<User> &users);
    /// Sessions opened, refreshed or ended since the last emission, as they are now.
    void sessionsChanged(const QList<SessionRecord> &sessions);
    void auditAppended(const QList<AuditEvent> &events);
    void policyChanged(const SessionPolicy &policy);
    void limitsChanged(const ConnectionLimits &limits);
    void signingKeysChanged(const QList<SigningKeyInfo> &keys, const QJsonObject &jwks);
    void statisticsSampled(const ServerStatistics &statistics);

private:
    static void markUnsaved(AdminOutcome &outcome, const Revocation &revocation);
    /// Our user as the directory spells it (usernames ignore case; tokens carry that spelling).
    UserKey resolve(const UserKey &user) const;
    AdminOutcome finish(AdminOutcome outcome, const QString &username, const QString &target, const AdminActor &actor,
                        qint64 startedNs);
    void audit(const QString &type, const QString &username, const QJsonObject &detail, const AdminActor &actor);
    Result<User, QString> auditUserChange(Result<User, UserError> changed, const QString &type,
                                          const QJsonObject &detail, const AdminActor &actor);
    void markSessionChanged(const QString &sessionId);
    void flush();

    Parts m_parts;
    const Clock &m_clock;
    ServerStatistics m_fixed; ///< what does not change while running: addresses, start time
    ConnectionLimits m_limits;
    QTimer m_flushTimer;
    QTimer m_statisticsTimer;
    QSet<QString> m_changedSessions;
    QList<AuditEvent> m_newEvents;
    /// The audit events this service has told of, up to here without a gap; those of its own
    /// past a gap (another writer's event not yet read) wait in m_ownEventsAhead.
    qint64 m_auditCursor = -1; ///< -1: the log could not be read at start; not followed
    QSet<qint64> m_ownEventsAhead;
    bool m_auditBehind = false; ///< a full batch was read: the next follows the flush
    bool m_usersChanged = false;
    std::unique_ptr<Inspections> m_inspections;
    QString m_tlsProblem; ///< why the last reload was refused; empty once one succeeds
};
