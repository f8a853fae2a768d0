#include "runtime/ServerRuntime.h"

#include "admin/AdminFeed.h"
#include "admin/AdminService.h"
#include "audit/AuditLog.h"
#include "auth/CompactJws.h"
#include "auth/DeviceCookie.h"
#include "auth/FormToken.h"
#include "auth/KeySet.h"
#include "auth/KeyStore.h"
#include "auth/TokenIssuer.h"
#include "auth/TokenVerifier.h"
#include "auth/VerifiedTokenCache.h"
#include "cli/BackupJobs.h"
#include "config/DataDirectory.h"
#include "http/HttpApi.h"
#include "http/HttpCensus.h"
#include "http/HttpDispatcher.h"
#include "http/TrustedProxies.h"
#include "identity/PasswordWorkers.h"
#include "identity/UserDirectory.h"
#include "metrics/ServerMetrics.h"
#include "oidc/ClientRegistry.h"
#include "oidc/OidcProvider.h"
#include "oidc/SqliteSingleLoginStore.h"
#include "policy/LoginLimits.h"
#include "policy/RateLimiter.h"
#include "secrets/AdminToken.h"
#include "secrets/CookieKey.h"
#include "secrets/SecretStore.h"
#include "sessions/SessionService.h"
#include "sessions/SqliteSessionStore.h"
#include "store/StoreFollower.h"
#include "store/WalCheckpointer.h"
#include "tls/TlsCertificate.h"
#include "tls/TlsContext.h"
#include "ws/CloseCode.h"
#include "ws/ConnectionCensus.h"
#include "ws/ConnectionHub.h"
#include "ws/IoThread.h"
#include "ws/LiveLimits.h"
#include "ws/RefusalTally.h"
#include "ws/SilentPeerAudit.h"
#include "ws/UpgradeGate.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QFileSystemWatcher>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QMap>
#include <QSaveFile>
#include <QSqlQuery>
#include <QThread>
#include <QUrl>

#include <unistd.h>

#include <openssl/crypto.h>

using namespace Qt::StringLiterals;

Q_LOGGING_CATEGORY(lcRuntime, "gatehouse.runtime")

namespace {
/// Password checks waiting for a worker; past this a login is answered 503 at once.
constexpr int passwordChecksWaiting = 64;
/// The self-signed certificate's key, in the secret store beside the signing keys.
const auto selfSignedKeySecret = QStringLiteral("tls-self-signed-key");
using namespace std::chrono_literals;
constexpr auto formTokenLifetime = 1h; ///< how long a login or logout page can be posted
} // namespace

ServerRuntime::ServerRuntime(ServerConfig config, QObject *parent)
    : QObject(parent)
    , m_config(std::move(config))
    , m_listener(this) // children move to the server thread with the runtime; bare members would not
    , m_tlsReloadTimer(this)
    , m_sweepTimer(this)
{
}

ServerRuntime::~ServerRuntime()
{
    stop();
    // The runtime dies on the server thread as it finishes. OpenSSL keeps per-thread state
    // (random generators, error queues) that it would free only in a thread-exit hook that
    // can run after QThread::wait() has returned; free it here, deterministically.
    OPENSSL_thread_stop();
}

void ServerRuntime::start()
{
    openStore();
}

void ServerRuntime::fail(const QString &message)
{
    qCWarning(lcRuntime).noquote() << message;
    Q_EMIT failed(message);
}

void ServerRuntime::openStore()
{
    if (const auto prepared = DataDirectory::prepare(m_config.dataDirectory); !prepared)
        return fail(prepared.error());
    if (!m_database.open(m_config.databasePath(), Database::Checkpoints::Elsewhere))
        return fail(m_database.errorString());
    m_checkpointer = std::make_unique<WalCheckpointer>(m_config.databasePath());
    m_users = std::make_unique<UserDirectory>(m_database, m_clock);
    m_sessionStore = std::make_unique<SqliteSessionStore>(m_database);
    m_audit = std::make_unique<AuditLog>(m_database, m_clock);
    openSecrets();
}

void ServerRuntime::openSecrets()
{
    // A keyring asking for its password (or to be made) keeps this waiting: say what for.
    QTimer::singleShot(std::chrono::seconds(1), this, [this] {
        if (m_secrets || !m_stopWaitingForKeyring)
            return;
        if (m_config.secretBackend != SecretBackendMode::Automatic) {
            Q_EMIT progress(u"waiting for the system keyring: a password prompt may be open. Without an answer "
                            "within seconds the server stops, as --secret-store keychain asks"_s);
            return;
        }
        Q_EMIT progress(u"waiting for the system keyring: a password prompt may be open. Without an answer "
                        "within seconds, the keys are kept in owner-only files instead (--secret-store file "
                        "chooses that from the start)"_s);
        Q_EMIT startedWaitingForKeyring();
    });
    auto opening = std::make_shared<bool>(true);
    auto stopWaiting = SecretBackend::open(m_database, m_config.dataDirectory, m_config.secretBackend, this,
                                           [this, opening](Result<std::shared_ptr<SecretStore>, QString> opened) {
                                               m_stopWaitingForKeyring = nullptr;
                                               *opening = false;
                                               if (!opened)
                                                   return fail(opened.error());
                                               m_secrets = std::move(opened).value();
                                               loadKeys();
                                           });
    if (*opening) // still probing: the keyring has not answered yet
        m_stopWaitingForKeyring = std::move(stopWaiting);
}

void ServerRuntime::useFileSecrets()
{
    if (m_secrets || !m_stopWaitingForKeyring || m_config.secretBackend != SecretBackendMode::Automatic)
        return;
    qCInfo(lcRuntime) << "the admin chose owner-only files for the secrets instead of waiting for the keyring";
    std::exchange(m_stopWaitingForKeyring, nullptr)();
}

void ServerRuntime::loadKeys()
{
    m_keys = std::make_unique<KeyStore>(m_database, *m_secrets, m_clock,
                                        KeyStore::Options { m_config.signingAlgorithm, m_config.verificationGrace() });
    connect(m_keys.get(), &KeyStore::failed, this, [this](const QString &message) {
        // At start, the server cannot run without its keys. Once running, a rotation or a
        // reload that fails (a second rotation at once, a key file the CLI wrote that this user
        // cannot read) leaves the key in force signing: said, not fatal.
        if (!m_admin)
            return fail(message);
        qCWarning(lcRuntime).noquote() << "signing keys:" << message << "(the key in force signs on)";
    });
    connect(m_keys.get(), &KeyStore::ready, this, &ServerRuntime::loadAdminToken, Qt::SingleShotConnection);
    connect(m_keys.get(), &KeyStore::rotated, this, [this] { rebuildVerifier(); });
    m_keys->load();
}

void ServerRuntime::loadAdminToken()
{
    AdminToken::load(*m_secrets, this, [this](Result<QByteArray, SecretFailure> token) {
        if (!token)
            return fail(u"cannot read the admin token from %1: %2"_s.arg(m_secrets->location(), token.error().message));
        m_adminTokens = std::make_unique<AdminTokenRegistry>(m_database);
        // The secret store's token is the full token "admin" (made, rotated, or from before
        // named tokens existed).
        if (const auto synced = m_adminTokens->syncAdmin(AdminToken::hash(*token), m_clock.nowSeconds()); !synced)
            return fail(u"cannot record the admin token: %1"_s.arg(synced.error()));
        reloadAdminTokens();
        // A token the CLI adds works, and one it revokes is refused, within a second; on a
        // thread of its own, so that a control thread busy with logins cannot delay it.
        // What the command line changes from now on is acted on; what it changed before, the
        // state read at start has already.
        m_followedChange = StoreChanges::latest(m_database);
        m_storeFollower = std::make_unique<StoreFollower>(m_config.databasePath(), std::chrono::seconds(1),
                                                          [this](Database &database) {
                                                              followAdminTokens(database);
                                                              followStoreChanges(database);
                                                              followAudit();
                                                          });
        loadCookieKey();
    });
}

void ServerRuntime::followAdminTokens(Database &database)
{
    auto tokens = AdminTokenRegistry(database).load();
    if (!tokens) {
        qCWarning(lcRuntime).noquote() << "cannot read the admin tokens:" << tokens.error();
        return;
    }
    // Any commit moves the store's version, logins included: act on a difference only.
    if (**tokens == *m_adminTokenSet.current())
        return;
    m_adminTokenSet.replace(*tokens); // refused from now on, by the admin API and every feed's next action
    QMetaObject::invokeMethod(
        this,
        [this, tokens = *tokens] {
            if (m_adminFeed)
                m_adminFeed->tokensChanged(tokens); // the revoked token's feeds close
        },
        Qt::QueuedConnection);
}

void ServerRuntime::followStoreChanges(Database &database)
{
    const auto changes = StoreChanges::since(database, m_followedChange);
    if (!changes) {
        qCWarning(lcRuntime).noquote() << "cannot read the store's changes:" << changes.error();
        return;
    }
    if (changes->isEmpty())
        return;
    m_followedChange = changes->last().seq;
    QMetaObject::invokeMethod(
        this, [this, changes = *changes] { applyStoreChanges(changes); }, Qt::QueuedConnection);
}

void ServerRuntime::followAudit()
{
    QMetaObject::invokeMethod(
        this,
        [this] {
            if (m_admin)
                m_admin->followAudit();
        },
        Qt::QueuedConnection);
}

void ServerRuntime::applyStoreChanges(const QList<StoreChange> &changes)
{
    if (!m_users || !m_keys)
        return; // stopping
    bool keys = false;
    for (const auto &change : changes) {
        if (change.kind == StoreChange::Kind::Keys) {
            keys = true;
            continue;
        }
        qCInfo(lcRuntime).noquote() << change.actor << "changed user" << change.subject << "in the store";
        m_users->announce(change.subject, change.password);
    }
    if (keys) {
        qCInfo(lcRuntime) << "the signing keys changed in the store: reading them again";
        m_keys->reload();
    }
}

void ServerRuntime::reloadAdminTokens()
{
    auto tokens = m_adminTokens->load();
    if (!tokens) {
        qCWarning(lcRuntime).noquote() << "cannot read the admin tokens:" << tokens.error();
        return;
    }
    m_adminTokenSet.replace(*tokens);
    if (m_adminFeed)
        m_adminFeed->tokensChanged(*tokens); // feeds of a revoked token close at once
}

void ServerRuntime::loadCookieKey()
{
    CookieKey::load(*m_secrets, this, [this](Result<QByteArray, SecretFailure> key) {
        if (!key)
            return fail(u"cannot read the cookie key from %1: %2"_s.arg(m_secrets->location(), key.error().message));
        m_cookieKey = *key;
        loadTls();
    });
}

void ServerRuntime::loadTls()
{
    using Mode = ServerConfig::Tls::Mode;
    switch (m_config.tls.mode) {
    case Mode::Off:
        return listen();
    case Mode::SelfSigned:
        return loadSelfSigned();
    case Mode::Files: {
        const QDir data(m_config.dataDirectory);
        const auto certificate = TlsCertificate::fromFiles(data.filePath(m_config.tls.certificateFile),
                                                           data.filePath(m_config.tls.privateKeyFile));
        if (!certificate)
            return fail(u"TLS: "_s + certificate.error());
        return useTls(*certificate);
    }
    }
}

void ServerRuntime::loadSelfSigned()
{
    // The names a lab reaches it by: loopback, the listen address, and public_url's host.
    QStringList names { u"localhost"_s };
    QList<QHostAddress> addresses { QHostAddress::LocalHost, QHostAddress::LocalHostIPv6 };
    const QHostAddress &listening = m_config.listenAddress;
    if (listening != QHostAddress::Any && listening != QHostAddress::AnyIPv4 && listening != QHostAddress::AnyIPv6
        && !addresses.contains(listening))
        addresses.append(listening);
    if (const QString host = QUrl(m_config.publicUrl).host(); !host.isEmpty()) {
        if (const QHostAddress address(host); !address.isNull()) {
            if (!addresses.contains(address))
                addresses.append(address);
        } else if (!names.contains(host)) {
            names.append(host);
        }
    }
    constexpr qint64 renewBefore = 14 * 86400;
    m_secrets->read(selfSignedKeySecret, this, [this, names, addresses](Result<QByteArray, SecretFailure> key) {
        if (!key && key.error().error != SecretError::NotFound)
            return fail(u"cannot read the TLS key from %1: %2"_s.arg(m_secrets->location(), key.error().message));
        QFile kept(m_config.selfSignedCertificatePath());
        if (key && kept.open(QIODevice::ReadOnly)) {
            const auto certificate = TlsCertificate::fromPem(kept.readAll(), *key);
            if (certificate && certificate->secondsLeft() > renewBefore && certificate->summary().dnsNames == names
                && certificate->summary().addresses == addresses)
                return useTls(*certificate);
        }
        const TlsCertificate made = TlsCertificate::selfSigned(u"Gatehouse (self-signed)"_s, names, addresses, 365);
        m_secrets->write(selfSignedKeySecret, made.keyPem(), this, [this, made](Result<bool, SecretFailure> written) {
            if (!written)
                return fail(u"cannot keep the TLS key in %1: %2"_s.arg(m_secrets->location(), written.error().message));
            QSaveFile file(m_config.selfSignedCertificatePath());
            if (!file.open(QIODevice::WriteOnly) || file.write(made.chainPem()) != made.chainPem().size()
                || !file.commit())
                return fail(u"cannot write the TLS certificate %1: %2"_s.arg(file.fileName(), file.errorString()));
            qCInfo(lcRuntime).noquote() << "made a self-signed TLS certificate for"
                                        << made.summary().dnsNames.join(u", "_s) << "- SHA-256"
                                        << made.summary().sha256Fingerprint;
            useTls(made);
        });
    });
}

void ServerRuntime::useTls(const TlsCertificate &certificate)
{
    auto context = TlsContext::create(certificate);
    if (!context)
        return fail(u"TLS: "_s + context.error());
    {
        const std::lock_guard lock(m_tlsMutex);
        m_tls = std::move(context).value();
    }
    const auto &summary = certificate.summary();
    qCInfo(lcRuntime).noquote() << "TLS certificate" << summary.subject << "valid until"
                                << summary.notAfter.toString(Qt::ISODate) << "- SHA-256" << summary.sha256Fingerprint;
    if (m_config.tls.mode == ServerConfig::Tls::Mode::Files)
        watchTlsFiles();
    listen();
}

Result<TlsCertificate::Summary, QString> ServerRuntime::reloadTls()
{
    using Mode = ServerConfig::Tls::Mode;
    if (m_config.tls.mode == Mode::Off)
        return ::fail(u"TLS is off: the server speaks plain HTTP"_s);
    if (m_config.tls.mode == Mode::SelfSigned)
        return ::fail(u"the self-signed certificate has no files to reload: it is made at start, and made again "
                      "there when it nears its end"_s);
    const QDir data(m_config.dataDirectory);
    const auto certificate = TlsCertificate::fromFiles(data.filePath(m_config.tls.certificateFile),
                                                       data.filePath(m_config.tls.privateKeyFile));
    if (!certificate)
        return ::fail(certificate.error());
    auto context = TlsContext::create(*certificate);
    if (!context)
        return ::fail(context.error());
    {
        const std::lock_guard lock(m_tlsMutex);
        m_tls = std::move(context).value(); // open connections keep the context they started with
    }
    const auto &summary = certificate->summary();
    qCInfo(lcRuntime).noquote() << "TLS certificate reloaded:" << summary.subject << "valid until"
                                << summary.notAfter.toString(Qt::ISODate) << "- SHA-256" << summary.sha256Fingerprint;
    return summary;
}

void ServerRuntime::watchTlsFiles()
{
    if (m_tlsWatcher)
        return;
    const QDir data(m_config.dataDirectory);
    const QStringList files { data.filePath(m_config.tls.certificateFile), data.filePath(m_config.tls.privateKeyFile) };
    m_tlsWatcher = new QFileSystemWatcher(files, this);
    m_tlsReloadTimer.setSingleShot(true);
    m_tlsReloadTimer.setInterval(500); // a renewal writes two files, often by renaming new ones in
    connect(m_tlsWatcher, &QFileSystemWatcher::fileChanged, &m_tlsReloadTimer, qOverload<>(&QTimer::start));
    connect(&m_tlsReloadTimer, &QTimer::timeout, this, [this, files] {
        // A file replaced by a rename is no longer watched: watch the new one.
        for (const auto &file : files) {
            if (!m_tlsWatcher->files().contains(file) && QFileInfo::exists(file))
                m_tlsWatcher->addPath(file);
        }
        if (m_admin)
            m_admin->reloadTls(AdminActor { u"system"_s, {} });
    });
}

std::shared_ptr<const TlsContext> ServerRuntime::tlsContext() const
{
    const std::lock_guard lock(m_tlsMutex);
    return m_tls;
}

bool ServerRuntime::rebuildVerifier()
{
    const IssuerPolicy local { m_config.issuer, m_config.audience, u"at+jwt"_s, true };
    auto keys = KeySet::build(m_keys->verificationKeys(), local, m_config.trustedIssuers);
    if (!keys) {
        fail(keys.error());
        return false;
    }
    auto verifier = std::make_shared<const TokenVerifier>(
        *keys, TokenVerifier::Options { m_config.clockSkew, 8 * 1024, m_config.maximumAccessTokenLifetime });
    const std::lock_guard lock(m_verifierMutex);
    m_verifier = std::move(verifier);
    return true;
}

std::shared_ptr<const TokenVerifier> ServerRuntime::verifier() const
{
    const std::lock_guard lock(m_verifierMutex);
    return m_verifier;
}

void ServerRuntime::listen()
{
    if (!rebuildVerifier())
        return;
    const auto mint = [this](const AccessTokenRequest &request) -> std::optional<IssuedToken> {
        const auto key = m_keys->signingKey();
        if (!key)
            return std::nullopt;
        return TokenIssuer(*key, m_config.issuer, m_config.audience).mint(request, m_clock.now());
    };
    SessionPolicy policy = m_config.sessionPolicy;
    policy.accessTokenTtl = m_config.accessTokenLifetime;
    // A policy changed live (admin API, console) outlives restarts, on top of the config file's.
    if (const QString stored = m_database.setting(AdminService::policySetting); !stored.isEmpty()) {
        const auto restored = SessionPolicy::fromJson(QJsonDocument::fromJson(stored.toUtf8()).object(), policy);
        if (restored)
            policy = *restored;
        else
            qCWarning(lcRuntime).noquote() << "the stored policy is ignored:" << restored.error();
    }
    m_sessions = std::make_unique<SessionService>(*m_sessionStore, *m_users, *m_audit, m_clock, mint, policy);
    m_passwordWorkers = std::make_unique<PasswordWorkers>(QThread::idealThreadCount(), passwordChecksWaiting);
    m_sessions->setPasswordWorkers(m_passwordWorkers.get());

    // Qt's default backlog (50) drops SYNs in a reconnect storm, and each drop costs the
    // client a one-second retransmission; the kernel caps this at net.core.somaxconn.
    m_listener.setListenBacklogSize(4096);
    if (!m_listener.listen(m_config.listenAddress, m_config.listenPort))
        return fail(u"cannot listen on %1:%2: %3"_s.arg(m_config.listenAddress.toString())
                        .arg(m_config.listenPort)
                        .arg(m_listener.errorString()));
    m_listener.pauseAccepting(); // the I/O threads accept from its socket
    m_httpDispatcher = std::make_unique<HttpDispatcher>();
    m_httpSockets
        = std::make_unique<HttpCensus>(m_config.maximumHttpConnections, m_config.maximumHttpConnectionsPerAddress);
    // Checked when the config was read.
    m_trustedProxies = std::make_unique<TrustedProxies>(TrustedProxies::parse(m_config.trustedProxies).value());
    m_adminFeed = std::make_unique<AdminFeed>([this](const AdminCommand &command) { return takeEffect(command); });
    m_adminFeed->setTokens(&m_adminTokenSet);
    if (!startIoThreads())
        return;
    // Revocation skips every queue: the sockets close before the call that revoked returns.
    connect(m_sessions.get(), &SessionService::sessionsRevoked, m_connections.get(),
            [this](const QStringList &sessionIds, const QString &reason) {
                const int closed = m_connections->closeSessions(sessionIds, CloseCode::sessionRevoked,
                                                                CloseCode::sessionRevokedReason(reason));
                qCInfo(lcRuntime).noquote() << "revoked" << sessionIds.size()
                                            << u"sessions ("_s + reason + u"), closed"_s << closed << "connections";
            });
    connect(m_sessions.get(), &SessionService::tokensRevokedBefore, m_connections.get(), [this](const UserKey &user) {
        m_connections->closeUser(user, {}, CloseCode::sessionRevoked, CloseCode::tokensRevokedReason());
    });
    connectObservers();
    connect(&m_sweepTimer, &QTimer::timeout, m_sessions.get(), &SessionService::sweep);
    m_sweepTimer.start(m_config.sweepInterval);
    const double loginRate = m_config.loginRatePerIpPerMinute;
    m_loginsPerIp = std::make_unique<RateLimiter>(loginRate / 60.0, loginRate);
    m_loginLimits = std::make_unique<LoginLimits>(LoginLimits::Settings {
        .freeFailures = m_config.loginFreeFailures, .maximumDelay = int(m_config.loginMaximumDelay.count()) });
    m_deviceCookies = std::make_unique<DeviceCookie>(m_cookieKey, m_config.loginDeviceLifetime);
    m_formTokens = std::make_unique<FormToken>(m_cookieKey, formTokenLifetime);
    for (const auto &user : m_users->list())
        m_knownUsers.insert(user.username, user);
    // A new password ends every session and login of the user, whatever the clock says.
    connect(m_users.get(), &UserDirectory::passwordChanged, this,
            [this](const QString &username) { m_sessions->revokeIssuedBefore(UserKey::local(username), u"system"_s); });
    connect(m_users.get(), &UserDirectory::userChanged, this, &ServerRuntime::handleUserChanged);

    const quint16 port = m_listener.serverPort();
    const QString host = m_config.listenAddress.protocol() == QAbstractSocket::IPv6Protocol
        ? u"[%1]"_s.arg(m_config.listenAddress.toString())
        : m_config.listenAddress.toString();
    const QString address = host + u':' + QString::number(port);
    startAdmin(address, int(m_ioThreads.size()));
    startOidc(port);

    HttpApi::Services services { [this] { return m_keys->jwks(); },
                                 [this] { return verifier(); },
                                 m_sessions.get(),
                                 m_users.get(),
                                 m_connections.get(),
                                 m_audit.get(),
                                 m_admin.get(),
                                 &m_adminTokenSet,
                                 m_config.adminFromAnywhere,
                                 [this] { return m_metrics->exposition(); },
                                 m_loginsPerIp.get(),
                                 m_loginLimits.get(),
                                 [this](const QString &kind) { m_metrics->countRateLimited(kind); },
                                 m_oidc.get(),
                                 QString(Jwa::name(m_config.signingAlgorithm)) };
    services.clock = &m_clock;
    services.deviceCookies = m_deviceCookies.get();
    services.formTokens = m_formTokens.get();
    m_http = std::make_unique<HttpApi>(std::move(services));
    m_httpDispatcher->serve(
        m_http.get(),
        [http = m_http.get()](const HttpRequest &request, HttpDispatcher::Reply reply) {
            http->handle(request, std::move(reply));
        },
        [http = m_http.get()](const HttpRequest &request) { return http->urgentHandler(request); });
    m_sessions->setYieldRequested([dispatcher = m_httpDispatcher.get()] { return dispatcher->hasUrgentWaiting(); });
    qCInfo(lcRuntime).noquote() << "listening on" << address << "with data in" << m_config.dataDirectory;
    writeRunRecord(port);
    {
        const std::lock_guard lock(m_effectsMutex);
        m_takesEffects = true;
    }
    Q_EMIT started(address);
}

ConnectionLimits ServerRuntime::startingLimits() const
{
    ConnectionLimits limits;
    limits.maximumConnections = m_config.maximumConnections;
    limits.maximumConnectionsPerUser = m_config.maximumConnectionsPerUser;
    limits.maximumMessageSize = m_config.maximumMessageSize;
    limits.handshakeTimeoutSeconds = std::max<qint64>(1, m_config.handshakeTimeout.count() / 1000);
    limits.pingIntervalSeconds = m_config.pingInterval.count();
    limits.pongTimeoutSeconds = m_config.pongTimeout.count();
    limits.messageRatePerSecond = m_config.messageRatePerSecond;
    limits.messageBurst = m_config.messageBurst;
    // Limits changed live (admin API, console) outlive restarts, on top of the config file's.
    if (const QString stored = m_database.setting(AdminService::limitsSetting); !stored.isEmpty()) {
        const auto restored = ConnectionLimits::fromJson(QJsonDocument::fromJson(stored.toUtf8()).object(), limits);
        if (restored)
            return *restored;
        qCWarning(lcRuntime).noquote() << "the stored limits are ignored:" << restored.error();
    }
    return limits;
}

bool ServerRuntime::startIoThreads()
{
    const ConnectionLimits limits = m_startLimits = startingLimits();
    m_census = std::make_unique<ConnectionCensus>(limits.maximumConnections, limits.maximumConnectionsPerUser);
    m_liveLimits = std::make_unique<LiveLimits>(limits);
    m_connections = std::make_unique<ConnectionHub>(*m_census);
    const int perIp = m_config.handshakeRatePerIpPerSecond;
    const int perUser = m_config.handshakeRatePerUserPerSecond;
    m_handshakesPerIp = std::make_unique<RateLimiter>(perIp, 2.0 * perIp);
    m_handshakesPerUser = std::make_unique<RateLimiter>(perUser, 2.0 * perUser);

    // One check for every bearer of a token, at the handshake and in band, on any I/O thread:
    // a good signature (remembered per thread for tokens seen before) and a live session.
    const auto authenticatorFor = [this](AccessGuard::SessionLoader loader) -> LiveConnection::Authenticator {
        auto cache = std::make_shared<VerifiedTokenCache>();
        const qint64 skew = m_config.clockSkew.count();
        return
            [this, loader = std::move(loader), cache, skew](const QByteArray &token) -> Result<AccessClaims, QString> {
                const qint64 now = m_clock.nowSeconds();
                const auto current = verifier();
                auto claims = cache->find(token, now, current.get());
                if (!claims) {
                    auto verified = current->verify(token, m_clock.now());
                    if (!verified)
                        return ::fail(QString(tokenErrorCode(verified.error())));
                    claims = std::move(verified).value();
                    if (!claims->symmetricKey) // an HMAC costs less than remembering it
                        cache->insert(token, *claims, std::max(claims->issuedAt, claims->notBefore) - skew,
                                      claims->expiresAt + skew, current.get());
                }
                if (const auto denied = m_sessions->accessGuard().check(*claims, now, loader))
                    return ::fail(QString(sessionErrorCode(*denied)));
                return std::move(*claims);
            };
    };
    const int threads = m_config.ioThreads > 0 ? m_config.ioThreads : std::max(1, QThread::idealThreadCount());
    auto *hub = m_connections.get();
    for (int index = 0; index < threads; ++index) {
        const int listening = ::dup(static_cast<int>(m_listener.socketDescriptor()));
        if (listening < 0) {
            fail(u"cannot share the listening socket: %1"_s.arg(qt_error_string(errno)));
            return false;
        }
        IoThread::Setup setup;
        setup.index = index;
        setup.listeningSocket = listening;
        setup.databasePath = m_config.databasePath();
        setup.authenticatorFor = authenticatorFor;
        setup.shared = UpgradeGate::Shared { m_census.get(),         m_handshakesPerIp.get(), m_handshakesPerUser.get(),
                                             m_httpDispatcher.get(), m_httpSockets.get(),     m_liveLimits.get() };
        if (m_config.tls.mode != ServerConfig::Tls::Mode::Off)
            setup.shared.tls = [this] { return tlsContext(); };
        setup.shared.proxies = m_trustedProxies.get();
        setup.shared.proxyProtocol = m_config.proxyProtocol;
        setup.shared.adminFeed = m_adminFeed.get();
        setup.shared.adminTokens = &m_adminTokenSet;
        setup.shared.adminFromAnywhere = m_config.adminFromAnywhere;
        setup.options.allowedOrigins = m_config.allowedOrigins;
        setup.options.maximumMessageSize = m_config.maximumMessageSize;
        setup.options.headTimeout = m_config.handshakeTimeout;
        setup.options.maximumBodySize = m_config.maximumRequestBodySize;
        setup.options.keepAliveTimeout = m_config.httpKeepAliveTimeout;
        setup.options.maximumRequestsPerConnection = m_config.maximumRequestsPerConnection;
        setup.census = m_census.get();
        setup.relay = [hub](const UserKey &user, quint64 fromId, const QByteArray &text) {
            hub->relaySync(user, fromId, text);
        };
        auto thread = std::make_unique<IoThread>(std::move(setup));
        m_connections->addRegistry(thread->registry());
        connect(thread->gate(), &UpgradeGate::requestsRefused, this, &ServerRuntime::handleRequestsRefused);
        m_ioThreads.push_back(std::move(thread));
    }
    qCInfo(lcRuntime) << "serving sockets on" << threads << "I/O threads";
    return true;
}

void ServerRuntime::startAdmin(const QString &address, int ioThreads)
{
    ServerStatistics fixed;
    fixed.startedAtMs = m_clock.nowMilliseconds();
    fixed.listenAddresses = { address };
    fixed.ioThreads = ioThreads;
    fixed.inspectPayloads = m_config.inspectPayloads;
    m_backups = std::make_unique<BackupJobs>();
    m_admin = std::make_unique<AdminService>(
        AdminService::Parts { m_sessions.get(), m_sessionStore.get(), m_users.get(), m_connections.get(), m_audit.get(),
                              m_keys.get(), m_metrics.get(), &m_database, m_census.get(), m_liveLimits.get(),
                              [this]() -> std::optional<TlsCertificate::Summary> {
                                  const auto context = tlsContext();
                                  if (!context)
                                      return std::nullopt;
                                  return context->certificate().summary();
                              },
                              [this] { return reloadTls(); }, m_config.tls.mode == ServerConfig::Tls::Mode::Files,
                              [this](const AdminActor &actor, const QByteArray &passphrase, auto done) {
                                  const QString to = u"the admin feed of %1"_s.arg(
                                      actor.remoteAddress.isEmpty() ? u"this machine"_s : actor.remoteAddress);
                                  m_backups->backUpToMemory(m_config, actor.name, actor.remoteAddress, to, passphrase,
                                                            this, std::move(done));
                              } },
        m_clock, fixed, m_startLimits);
    connect(m_admin.get(), &AdminService::usersChanged, this, &ServerRuntime::usersChanged);
    connect(m_admin.get(), &AdminService::sessionsChanged, this, &ServerRuntime::sessionsChanged);
    connect(m_admin.get(), &AdminService::auditAppended, this, &ServerRuntime::auditAppended);
    connect(m_admin.get(), &AdminService::policyChanged, this, &ServerRuntime::policyChanged);
    connect(m_admin.get(), &AdminService::limitsChanged, this, &ServerRuntime::limitsChanged);
    connect(m_admin.get(), &AdminService::signingKeysChanged, this, &ServerRuntime::signingKeysChanged);
    connect(m_admin.get(), &AdminService::statisticsSampled, this, &ServerRuntime::statisticsSampled);

    // The admin feed (/admin/ws) streams what the embedded console receives.
    AdminFeed *feed = m_adminFeed.get();
    feed->setAdmin(m_admin.get());
    connect(m_admin.get(), &AdminService::usersChanged, feed, &AdminFeed::publishUsers);
    connect(m_admin.get(), &AdminService::sessionsChanged, feed, &AdminFeed::publishSessions);
    connect(m_admin.get(), &AdminService::auditAppended, feed, &AdminFeed::publishAudit);
    connect(m_admin.get(), &AdminService::policyChanged, feed, &AdminFeed::publishPolicy);
    connect(m_admin.get(), &AdminService::limitsChanged, feed, &AdminFeed::publishLimits);
    connect(m_admin.get(), &AdminService::signingKeysChanged, feed, &AdminFeed::publishSigningKeys);
    connect(m_admin.get(), &AdminService::statisticsSampled, feed, &AdminFeed::publishStatistics);
    connect(m_connections.get(), &ConnectionHub::connectionsChanged, feed, &AdminFeed::publishConnectionsChanged);
    connect(this, &ServerRuntime::connectionsSnapshot, feed, &AdminFeed::publishConnections);
    connect(feed, &AdminFeed::connectionsWanted, this, &ServerRuntime::snapshotConnections);
}

QString ServerRuntime::publicUrl(quint16 port) const
{
    if (!m_config.publicUrl.isEmpty())
        return m_config.publicUrl;
    return localUrl(port);
}

QString ServerRuntime::localUrl(quint16 port) const
{
    // The address the server listens on; a wildcard one is reached here through loopback.
    const QHostAddress &listen = m_config.listenAddress;
    QString host = listen.toString();
    if (listen == QHostAddress::AnyIPv4 || listen == QHostAddress::Any)
        host = u"127.0.0.1"_s;
    else if (listen == QHostAddress::AnyIPv6)
        host = u"[::1]"_s;
    else if (listen.protocol() == QAbstractSocket::IPv6Protocol)
        host = u"[%1]"_s.arg(host);
    const bool tls = m_config.tls.mode != ServerConfig::Tls::Mode::Off;
    return u"%1://%2:%3"_s.arg(tls ? u"https"_s : u"http"_s, host).arg(port);
}

void ServerRuntime::writeRunRecord(quint16 port)
{
    // How `gatehoused status` (and what else runs beside this server on its data) finds it.
    const bool tls = m_config.tls.mode != ServerConfig::Tls::Mode::Off;
    QString certificate;
    if (m_config.tls.mode == ServerConfig::Tls::Mode::Files)
        certificate = QDir(m_config.dataDirectory).filePath(m_config.tls.certificateFile);
    else if (m_config.tls.mode == ServerConfig::Tls::Mode::SelfSigned)
        certificate = m_config.selfSignedCertificatePath();
    const QJsonObject record { { "pid"_L1, QCoreApplication::applicationPid() },
                               { "url"_L1, localUrl(port) },
                               { "tls"_L1, tls },
                               { "certificate"_L1, certificate },
                               { "started_at_ms"_L1, m_clock.nowMilliseconds() } };
    QSaveFile file(m_config.runRecordPath());
    if (!file.open(QIODevice::WriteOnly) || file.write(QJsonDocument(record).toJson()) < 0 || !file.commit())
        qCWarning(lcRuntime).noquote() << "cannot write" << m_config.runRecordPath() << ":" << file.errorString();
    else
        QFile::setPermissions(m_config.runRecordPath(), QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    m_wroteRunRecord = true;
}

void ServerRuntime::removeRunRecord()
{
    if (!std::exchange(m_wroteRunRecord, false))
        return;
    // Only ours: a second server refused on this data would not have written one.
    QFile file(m_config.runRecordPath());
    if (file.open(QIODevice::ReadOnly)
        && QJsonDocument::fromJson(file.readAll()).object().value("pid"_L1).toInteger()
            == QCoreApplication::applicationPid()) {
        file.close();
        file.remove();
    }
}

void ServerRuntime::startOidc(quint16 port)
{
    m_clients = std::make_unique<ClientRegistry>(m_database);
    m_singleLogins = std::make_unique<SqliteSingleLoginStore>(m_database);
    const auto sign = [this](const QJsonObject &header, const QJsonObject &claims) -> QByteArray {
        const auto key = m_keys->signingKey();
        if (!key)
            return {};
        return CompactJws::sign(header, QJsonDocument(claims).toJson(QJsonDocument::Compact), *key);
    };
    m_oidc = std::make_unique<OidcProvider>(OidcProvider::Parts { m_sessions.get(), m_users.get(), m_clients.get(),
                                                                  m_singleLogins.get(), m_sessionStore.get(),
                                                                  m_audit.get(), &m_clock, sign, publicUrl(port) });
    connect(&m_sweepTimer, &QTimer::timeout, m_oidc.get(), &OidcProvider::purgeExpired);
}

void ServerRuntime::handleRequestsRefused(const QList<RefusalCount> &refusals)
{
    // Counted exactly, audited in aggregate: one event per reason and batch (at most one batch
    // a second per I/O thread), never a synced write per refusal that strangers could cause.
    QMap<QString, QMap<QString, quint64>> byReason;
    for (const RefusalCount &refusal : refusals) {
        m_metrics->countHandshakeRefused(refusal.reason, refusal.count);
        byReason[refusal.reason][refusal.address] += refusal.count;
    }
    for (auto reason = byReason.cbegin(); reason != byReason.cend(); ++reason) {
        quint64 total = 0;
        QJsonObject addresses;
        for (auto address = reason->cbegin(); address != reason->cend(); ++address) {
            total += address.value();
            addresses.insert(address.key().isEmpty() ? u"(others)"_s : address.key(), qint64(address.value()));
        }
        AuditEvent event;
        event.type = u"handshake_refused"_s;
        event.actor = u"anonymous"_s;
        if (reason->size() == 1)
            event.remoteAddress = reason->firstKey();
        event.detail = QJsonObject { { "reason"_L1, reason.key() },
                                     { "count"_L1, qint64(total) },
                                     { "addresses"_L1, addresses } };
        m_audit->append(event);
    }
}

void ServerRuntime::handleConnectionsChanged(const QList<ConnectionInfo> &, const QList<ConnectionInfo> &closed)
{
    if (const auto event = SilentPeerAudit::eventFor(closed)) {
        if (const auto appended = m_audit->append(*event); !appended)
            qCWarning(lcRuntime).noquote() << "audit append failed:" << appended.error();
    }
}

void ServerRuntime::snapshotConnections()
{
    Q_EMIT connectionsSnapshot(m_connections ? m_connections->connections() : QList<ConnectionInfo> {});
}

void ServerRuntime::connectObservers()
{
    connect(m_connections.get(), &ConnectionHub::connectionsChanged, this, &ServerRuntime::connectionsChanged);
    connect(m_connections.get(), &ConnectionHub::connectionsChanged, this, &ServerRuntime::handleConnectionsChanged);
    m_metrics = std::make_unique<ServerMetrics>(ServerMetrics::Gauges {
        [this] { return qint64(m_connections->count()); }, [this] { return m_sessions->activeSessionCount(); },
        [this] {
            const auto context = tlsContext();
            return context ? context->certificate().summary().notAfter.toSecsSinceEpoch() : qint64(0);
        } });
    auto *metrics = m_metrics.get();
    connect(m_connections.get(), &ConnectionHub::connectionsChanged, metrics,
            [metrics](const QList<ConnectionInfo> &opened) { metrics->countHandshakesAccepted(opened.size()); });
    connect(m_sessions.get(), &SessionService::loginAttempted, metrics, &ServerMetrics::countLogin);
    connect(m_sessions.get(), &SessionService::tokenRefreshed, metrics, [metrics] { metrics->countRefresh(); });
    // A browser's WebSockets cannot be handed the new token in band (the page cannot read its
    // HttpOnly cookie): a refresh of their session over HTTP extends them.
    connect(m_sessions.get(), &SessionService::tokenRefreshed, this,
            [this](const QString &sessionId, qint64 accessExpiresAt) {
                if (m_connections)
                    m_connections->extendSession(sessionId, accessExpiresAt);
            });
    connect(m_sessions.get(), &SessionService::refreshTokenReused, metrics, [metrics] { metrics->countReuse(); });
    connect(m_sessions.get(), &SessionService::sessionsRevoked, metrics,
            [metrics](const QStringList &ids) { metrics->countRevocations(ids.size()); });
}

void ServerRuntime::handleUserChanged(const QString &username)
{
    // Continuous validation: a change of rights takes effect on live sessions at once.
    const auto before = m_knownUsers.value(username);
    const auto after = m_users->find(username);
    if (!after || !after->enabled) {
        m_sessions->revokeUser(username, {}, u"system"_s, u"user_disabled"_s);
    } else if (after->roles != before.roles) {
        m_connections->closeUser(UserKey::local(username), {}, CloseCode::disconnectedByAdmin,
                                 u"your rights changed: reconnect"_s);
    }
    if (after)
        m_knownUsers.insert(username, *after);
    else
        m_knownUsers.remove(username);
}

std::shared_ptr<const AdminEffect> ServerRuntime::takeEffect(const AdminCommand &command)
{
    const std::lock_guard lock(m_effectsMutex);
    return m_takesEffects ? m_admin->takeEffect(command) : nullptr;
}

void ServerRuntime::stop()
{
    {
        const std::lock_guard lock(m_effectsMutex);
        m_takesEffects = false;
    }
    if (!m_http && !m_keys && !m_users && !m_sessionStore)
        return;
    m_sweepTimer.stop();
    removeRunRecord();
    m_storeFollower.reset(); // joins: nothing is posted from it afterwards
    m_listener.close();
    if (m_adminFeed)
        m_adminFeed->stop(); // the feeds close with 1001, before their threads end
    // No request reaches the routes any more, nor any answer the I/O threads: they end next.
    if (m_httpDispatcher)
        m_httpDispatcher->stop();
    // Each I/O thread closes its connections with 1001 as it ends.
    if (m_connections)
        m_connections->clearRegistries();
    m_ioThreads.clear();
    m_adminFeed.reset(); // the I/O threads' feeds, which tell it when they close, are gone
    m_passwordWorkers.reset(); // waits for the checks under way; their answers are dropped
    m_httpDispatcher.reset();
    m_httpSockets.reset();
    m_http.reset();
    m_admin.reset();
    m_oidc.reset();
    m_singleLogins.reset();
    m_clients.reset();
    m_metrics.reset();
    m_connections.reset();
    m_census.reset();
    m_sessions.reset();
    m_keys.reset();
    m_audit.reset();
    m_sessionStore.reset();
    m_users.reset();
    m_checkpointer.reset();
    m_database.close();
    Q_EMIT stopped();
}
