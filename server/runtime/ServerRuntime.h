#pragma once

#include "admin/AdminTokens.h"

#include "AuditEvent.h"
#include "ConnectionInfo.h"
#include "ConnectionLimits.h"
#include "ServerStatistics.h"
#include "SessionPolicy.h"
#include "SessionRecord.h"
#include "SigningKeyInfo.h"
#include "User.h"
#include "config/ServerConfig.h"
#include "core/Clock.h"
#include "secrets/SecretBackend.h"
#include "store/Database.h"
#include "store/StoreChanges.h"
#include "tls/TlsCertificate.h"

#include <QHash>
#include <QObject>
#include <QTcpServer>
#include <QTimer>

#include <memory>
#include <mutex>
#include <vector>

class AdminService;
struct AdminCommand;
struct AdminEffect;
class AdminFeed;
class QFileSystemWatcher;
class TrustedProxies;
class TlsContext;
class AuditLog;
class BackupJobs;
class ConnectionCensus;
class ConnectionHub;
class HttpApi;
class HttpCensus;
class PasswordWorkers;
class HttpDispatcher;
class IoThread;
class WalCheckpointer;
class DeviceCookie;
class FormToken;
class LoginLimits;
class RateLimiter;
class ServerMetrics;
class SessionService;
class ClientRegistry;
class SqliteSingleLoginStore;
class OidcProvider;
class SqliteSessionStore;
class TokenVerifier;
class KeyStore;
class LiveLimits;
struct RefusalCount;
class SecretStore;
class StoreFollower;
class UserDirectory;

/// Where the server's parts meet, on the server thread: the database, the secret store, the
/// keys, the users and the HTTP API. start() walks through small named steps and ends in
/// started() or failed(); nothing here ever touches a widget.
class ServerRuntime final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ServerRuntime)

public:
    explicit ServerRuntime(ServerConfig config, QObject *parent = nullptr);
    ~ServerRuntime() override;

    void start();
    /// While startedWaitingForKeyring(): keep the secrets in owner-only files, now.
    void useFileSecrets();
    void stop();
    /// Emits connectionsSnapshot() with every live connection (nothing while not running).
    void snapshotConnections();
    /// The administrative actions and the console's feeds; null until started.
    AdminService *admin() const { return m_admin.get(); }
    /// The TLS context new connections start with; null without TLS. Any thread.
    std::shared_ptr<const TlsContext> tlsContext() const;
    /// From any thread (the console's): AdminService::takeEffect while the server runs, so that
    /// the console's revocations do not wait for this thread either; null once it stops.
    std::shared_ptr<const AdminEffect> takeEffect(const AdminCommand &command);

Q_SIGNALS:
    void started(const QString &listenAddress);
    /// While starting: what it waits for, in words ("waiting for the system keyring…").
    void progress(const QString &message);
    /// Starting waits for the system keyring (a password prompt may be open); in automatic
    /// mode useFileSecrets() stops waiting.
    void startedWaitingForKeyring();
    void failed(const QString &message);
    void stopped();
    void connectionsChanged(const QList<ConnectionInfo> &opened, const QList<ConnectionInfo> &closed);
    void connectionsSnapshot(const QList<ConnectionInfo> &connections);
    // Forwarded from AdminService for the facade, which connects before the service exists.
    void usersChanged(const QList<User> &users);
    void sessionsChanged(const QList<SessionRecord> &sessions);
    void auditAppended(const QList<AuditEvent> &events);
    void policyChanged(const SessionPolicy &policy);
    void limitsChanged(const ConnectionLimits &limits);
    void signingKeysChanged(const QList<SigningKeyInfo> &keys, const QJsonObject &jwks);
    void statisticsSampled(const ServerStatistics &statistics);

private:
    void openStore();
    void openSecrets();
    void loadKeys();
    void loadAdminToken();
    /// The admin tokens again, read on this thread (at start).
    /// On the store follower's thread: the admin tokens as the store has them now, in force at
    /// once on every thread; the feeds of a revoked one are closed from this thread.
    void followAdminTokens(Database &database);
    /// On the store follower's thread: what the command line changed since the last look,
    /// passed to applyStoreChanges on this thread.
    void followStoreChanges(Database &database);
    /// Has the admin service tell of audit events appended by other writers (the command line,
    /// a backup), on the control thread.
    void followAudit();
    /// Acts on the command line's changes as on the console's: a disabled user's sessions end
    /// and sockets close (4003), new roles reconnect, a new password ends the sessions, new
    /// keys sign and are published.
    void applyStoreChanges(const QList<StoreChange> &changes);
    void reloadAdminTokens();
    void loadCookieKey();
    /// The TLS context, when the config asks for TLS: the operator's files, or the lab's
    /// self-signed certificate (made on first start and when it nears its end; its key is kept
    /// in the secret store like the signing keys). Start-up fails with a sentence otherwise.
    void loadTls();
    void loadSelfSigned();
    void useTls(const TlsCertificate &certificate);
    /// The operator's files read again (SIGHUP, POST /admin/tls/reload, the console, or the
    /// files changing on disk): a new context for new connections, or why not.
    Result<TlsCertificate::Summary, QString> reloadTls();
    /// Reloads (audited as the system) half a second after the files stop changing.
    void watchTlsFiles();
    void listen();
    bool rebuildVerifier();
    std::shared_ptr<const TokenVerifier> verifier() const;
    bool startIoThreads();
    /// The config file's limits, with those set live on top.
    ConnectionLimits startingLimits() const;
    void handleUserChanged(const QString &username);
    void connectObservers();
    void startAdmin(const QString &address, int ioThreads);
    /// The OpenID provider, with `issuer` the public URL (public_url, or the listen address).
    void startOidc(quint16 port);
    QString publicUrl(quint16 port) const;
    /// How this machine reaches the server: its own address, a wildcard one by loopback.
    QString localUrl(quint16 port) const;
    /// <data>/gatehoused.run: pid, local URL and certificate, while it serves; removed at stop.
    void writeRunRecord(quint16 port);
    void removeRunRecord();
    void handleRequestsRefused(const QList<RefusalCount> &refusals);
    /// Audits the connections closed because their peer stopped answering pings.
    void handleConnectionsChanged(const QList<ConnectionInfo> &opened, const QList<ConnectionInfo> &closed);
    void fail(const QString &message);

    ServerConfig m_config;
    SystemClock m_clock;
    Database m_database;
    std::unique_ptr<WalCheckpointer> m_checkpointer; ///< the log back into the file, off this thread
    std::shared_ptr<SecretStore> m_secrets;
    SecretBackend::StopWaiting m_stopWaitingForKeyring;
    std::unique_ptr<UserDirectory> m_users;
    std::unique_ptr<SqliteSessionStore> m_sessionStore;
    std::unique_ptr<AuditLog> m_audit;
    std::unique_ptr<KeyStore> m_keys;
    std::unique_ptr<SessionService> m_sessions;
    std::unique_ptr<PasswordWorkers> m_passwordWorkers; ///< Argon2 off this thread; goes before m_sessions
    std::unique_ptr<ClientRegistry> m_clients;
    std::unique_ptr<SqliteSingleLoginStore> m_singleLogins;
    std::unique_ptr<OidcProvider> m_oidc;
    std::unique_ptr<ConnectionCensus> m_census;
    std::unique_ptr<LiveLimits> m_liveLimits; ///< what the gates read; AdminService changes it
    ConnectionLimits m_startLimits;
    std::unique_ptr<ConnectionHub> m_connections;
    std::unique_ptr<RateLimiter> m_handshakesPerIp;
    std::unique_ptr<RateLimiter> m_handshakesPerUser;
    QTcpServer m_listener; ///< binds the port; the I/O threads accept from its socket
    /// Requests from the I/O threads to m_http; made before them, stopped before they end.
    std::unique_ptr<HttpDispatcher> m_httpDispatcher;
    std::unique_ptr<HttpCensus> m_httpSockets;
    std::vector<std::unique_ptr<IoThread>> m_ioThreads;
    std::unique_ptr<HttpApi> m_http;
    std::unique_ptr<ServerMetrics> m_metrics;
    std::unique_ptr<AdminService> m_admin;
    std::unique_ptr<AdminFeed> m_adminFeed; ///< made before the I/O threads, which open its feeds
    std::mutex m_effectsMutex; ///< takeEffect() against stop()
    bool m_takesEffects = false; ///< between started and stop(), under m_effectsMutex
    std::unique_ptr<RateLimiter> m_loginsPerIp;
    std::unique_ptr<LoginLimits> m_loginLimits;
    std::unique_ptr<DeviceCookie> m_deviceCookies;
    std::unique_ptr<FormToken> m_formTokens;
    QByteArray m_cookieKey; ///< signs device cookies and form tokens
    mutable std::mutex m_tlsMutex;
    std::shared_ptr<const TlsContext> m_tls; ///< what new connections start with; null: plain
    QFileSystemWatcher *m_tlsWatcher = nullptr; ///< a child, with TLS from files
    std::unique_ptr<TrustedProxies> m_trustedProxies;
    QTimer m_tlsReloadTimer;
    QHash<QString, User> m_knownUsers; ///< last seen state, to tell what a change changed
    mutable std::mutex m_verifierMutex;
    std::shared_ptr<const TokenVerifier> m_verifier; ///< replaced whole when the keys change; any thread reads it
    std::unique_ptr<AdminTokenRegistry> m_adminTokens;
    AdminTokenHolder m_adminTokenSet; ///< what /admin recognises, any thread
    /// Notices what another process (the CLI) wrote to the store, off this thread.
    std::unique_ptr<StoreFollower> m_storeFollower;
    std::unique_ptr<BackupJobs> m_backups; ///< the admin feed's backups; made on this thread
    qint64 m_followedChange = 0; ///< the last store change acted on; the follower's thread only
    QTimer m_sweepTimer;
    bool m_wroteRunRecord = false;
};
