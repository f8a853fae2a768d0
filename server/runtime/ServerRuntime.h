#pragma once

#include "config/ServerConfig.h"
#include "core/Clock.h"
#include "identity/User.h"
#include "store/Database.h"

#include <QHash>
#include <QTimer>

#include <QObject>

#include <memory>

class AuditLog;
class ConnectionRegistry;
class UpgradeGate;
class HttpApi;
class LoginBackoff;
class RateLimiter;
class ServerMetrics;
class SessionService;
class SqliteSessionStore;
class TokenVerifier;
class KeyStore;
class SecretStore;
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
    void stop();

Q_SIGNALS:
    void started(const QString &listenAddress);
    void failed(const QString &message);
    void stopped();

private:
    void openStore();
    void openSecrets();
    void loadKeys();
    void loadAdminToken();
    void listen();
    bool rebuildVerifier();
    void handleUserChanged(const QString &username);
    void connectObservers();
    void fail(const QString &message);

    ServerConfig m_config;
    SystemClock m_clock;
    Database m_database;
    std::shared_ptr<SecretStore> m_secrets;
    std::unique_ptr<UserDirectory> m_users;
    std::unique_ptr<SqliteSessionStore> m_sessionStore;
    std::unique_ptr<AuditLog> m_audit;
    std::unique_ptr<KeyStore> m_keys;
    std::unique_ptr<SessionService> m_sessions;
    std::unique_ptr<ConnectionRegistry> m_connections;
    std::unique_ptr<UpgradeGate> m_gate;
    std::unique_ptr<HttpApi> m_http;
    std::unique_ptr<ServerMetrics> m_metrics;
    std::unique_ptr<RateLimiter> m_loginsPerIp;
    std::unique_ptr<LoginBackoff> m_loginBackoff;
    QHash<QString, User> m_knownUsers; ///< last seen state, to tell what a change changed
    std::shared_ptr<const TokenVerifier> m_verifier; ///< replaced whole when the keys change
    QByteArray m_adminTokenHash;
    QTimer m_sweepTimer;
};
