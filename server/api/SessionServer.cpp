#include "SessionServer.h"

#include "admin/AdminService.h"
#include "admin/Inspections.h"
#include "cli/BackupJobs.h"
#include "config/ConfigFile.h"
#include "runtime/ServerRuntime.h"
#include "tls/TlsContext.h"

#include <QLoggingCategory>
#include <QPointer>
#include <QThread>

using namespace Qt::StringLiterals;

Q_LOGGING_CATEGORY(lcSessionServer, "gatehouse.server")

void SessionServer::ThreadStopper::operator()(QThread *thread) const
{
    thread->quit();
    thread->wait();
    delete thread;
}

SessionServer::SessionServer(SessionServerOptions options, QObject *parent)
    : ServerFacade(parent)
    , m_options(std::move(options))
    , m_backups(std::make_unique<BackupJobs>())
{
    qRegisterMetaType<ServerState>();
    qRegisterMetaType<ConnectionInfo>();
    qRegisterMetaType<QList<ConnectionInfo>>();
    qRegisterMetaType<ConsoleSnapshot>();
    qRegisterMetaType<QList<User>>();
    qRegisterMetaType<QList<SessionRecord>>();
    qRegisterMetaType<QList<AuditEvent>>();
    qRegisterMetaType<SessionPolicy>();
    qRegisterMetaType<ConnectionLimits>();
    qRegisterMetaType<QList<SigningKeyInfo>>();
    qRegisterMetaType<ServerStatistics>();
    const QString login = qEnvironmentVariable("USER", qEnvironmentVariable("USERNAME"));
    m_actor = login.isEmpty() ? u"console"_s : u"console:"_s + login;
}

SessionServer::~SessionServer()
{
    stop();
}

void SessionServer::start()
{
    if (m_state == ServerState::Starting || m_state == ServerState::Running)
        return;
    const auto config = ConfigFile::resolve(m_options);
    if (!config) {
        handleFailed(config.error());
        return;
    }
    m_dataDirectory = config->dataDirectory;
    m_config = std::make_unique<ServerConfig>(*config);
    m_thread.reset(new QThread);
    m_thread->setObjectName(QStringLiteral("gatehouse-server"));
    m_runtime = new ServerRuntime(*config);
    m_runtime->moveToThread(m_thread.get());
    connect(m_thread.get(), &QThread::finished, m_runtime, &QObject::deleteLater);
    connect(m_runtime, &ServerRuntime::started, this, &SessionServer::handleStarted);
    connect(m_runtime, &ServerRuntime::progress, this, &SessionServer::startupProgress);
    connect(m_runtime, &ServerRuntime::startedWaitingForKeyring, this, &SessionServer::startedWaitingForKeyring);
    connect(m_runtime, &ServerRuntime::failed, this, &SessionServer::handleFailed);
    connect(m_runtime, &ServerRuntime::connectionsChanged, this, &SessionServer::connectionsChanged);
    connect(m_runtime, &ServerRuntime::connectionsSnapshot, this, &SessionServer::connectionsSnapshot);
    connect(m_runtime, &ServerRuntime::usersChanged, this, &SessionServer::usersChanged);
    connect(m_runtime, &ServerRuntime::sessionsChanged, this, &SessionServer::sessionsChanged);
    connect(m_runtime, &ServerRuntime::auditAppended, this, &SessionServer::auditAppended);
    connect(m_runtime, &ServerRuntime::policyChanged, this, &SessionServer::policyChanged);
    connect(m_runtime, &ServerRuntime::limitsChanged, this, &SessionServer::limitsChanged);
    connect(m_runtime, &ServerRuntime::signingKeysChanged, this, &SessionServer::signingKeysChanged);
    connect(m_runtime, &ServerRuntime::statisticsSampled, this, &SessionServer::statisticsSampled);
    setState(ServerState::Starting);
    m_thread->start();
    QMetaObject::invokeMethod(m_runtime, &ServerRuntime::start, Qt::QueuedConnection);
}

void SessionServer::stop()
{
    if (!m_thread)
        return;
    // Stop, then quit, both on the server thread and in that order; the runtime is deleted
    // there as the thread finishes (deleteLater on finished), and only then does wait() return.
    QMetaObject::invokeMethod(
        m_runtime,
        [runtime = m_runtime] {
            runtime->stop();
            runtime->thread()->quit();
        },
        Qt::QueuedConnection);
    m_thread.reset();
    m_runtime = nullptr;
    m_listenAddress.clear();
    m_certificateChain.clear();
    if (m_state != ServerState::Failed)
        setState(ServerState::Stopped);
}

void SessionServer::useFileSecretsInstead()
{
    if (m_runtime)
        QMetaObject::invokeMethod(m_runtime, &ServerRuntime::useFileSecrets, Qt::QueuedConnection);
}

void SessionServer::requestConnections()
{
    if (m_runtime)
        QMetaObject::invokeMethod(m_runtime, &ServerRuntime::snapshotConnections, Qt::QueuedConnection);
}

void SessionServer::requestSnapshot()
{
    if (!m_runtime)
        return;
    QMetaObject::invokeMethod(
        m_runtime,
        [runtime = m_runtime, self = this] {
            if (auto *admin = runtime->admin()) {
                QMetaObject::invokeMethod(
                    self, [self, snapshot = admin->snapshot()] { Q_EMIT self->snapshotReady(snapshot); },
                    Qt::QueuedConnection);
            }
        },
        Qt::QueuedConnection);
}

template<typename Value, typename Work>
void SessionServer::ask(QObject *context, Work work, std::function<void(const Value &)> done, Value unavailable)
{
    QPointer<QObject> guard(context);
    auto reply = [self = this, guard, done = std::move(done)](Value value) {
        // Posted to the facade, which outlives the server thread, and delivered only if the
        // asker is still there.
        QMetaObject::invokeMethod(
            self,
            [guard, done, value = std::move(value)] {
                if (guard && done)
                    done(value);
            },
            Qt::QueuedConnection);
    };
    if (!m_runtime || m_state != ServerState::Running) {
        reply(std::move(unavailable));
        return;
    }
    QMetaObject::invokeMethod(
        m_runtime,
        [runtime = m_runtime, actor = AdminActor { m_actor, u"console"_s }, work = std::move(work), reply,
         unavailable = std::move(unavailable)] {
            auto *admin = runtime->admin();
            reply(admin ? work(*admin, actor) : unavailable);
        },
        Qt::QueuedConnection);
}

namespace {
AdminOutcome notRunning()
{
    AdminOutcome outcome;
    outcome.error = u"the server is not running"_s;
    return outcome;
}

QString errorOf(const auto &result)
{
    return result ? QString() : result.error();
}
} // namespace

void SessionServer::act(const AdminCommand &command, QObject *context, OutcomeHandler done)
{
    // The part that must not wait takes effect from this thread at once (the guard refuses
    // the tokens, the I/O threads close the connections); the server thread then makes it
    // durable and audits it, and only then is the outcome reported.
    std::shared_ptr<const AdminEffect> effect
        = m_runtime && m_state == ServerState::Running ? m_runtime->takeEffect(command) : nullptr;
    ask<AdminOutcome>(
        context,
        [command, effect](AdminService &admin, const AdminActor &actor) {
            return admin.perform(command, actor, effect.get());
        },
        std::move(done), notRunning());
}

void SessionServer::disconnectConnection(quint64 connectionId, QObject *context, OutcomeHandler done)
{
    AdminCommand command;
    command.kind = AdminCommand::Kind::DisconnectConnection;
    command.connectionId = connectionId;
    act(command, context, std::move(done));
}

void SessionServer::disconnectDevice(const UserKey &user, const QString &deviceId, QObject *context,
                                     OutcomeHandler done)
{
    act(AdminCommand { AdminCommand::Kind::DisconnectDevice, user, deviceId, {}, 0 }, context, std::move(done));
}

void SessionServer::disconnectUser(const UserKey &user, QObject *context, OutcomeHandler done)
{
    act(AdminCommand { AdminCommand::Kind::DisconnectUser, user, {}, {}, 0 }, context, std::move(done));
}

void SessionServer::revokeSession(const QString &sessionId, QObject *context, OutcomeHandler done)
{
    act(AdminCommand { AdminCommand::Kind::RevokeSession, {}, {}, sessionId, 0 }, context, std::move(done));
}

void SessionServer::revokeUser(const UserKey &user, QObject *context, OutcomeHandler done)
{
    act(AdminCommand { AdminCommand::Kind::RevokeUser, user, {}, {}, 0 }, context, std::move(done));
}

void SessionServer::revokeIssuedBefore(const UserKey &user, QObject *context, OutcomeHandler done)
{
    act(AdminCommand { AdminCommand::Kind::RevokeIssuedBefore, user, {}, {}, 0 }, context, std::move(done));
}

void SessionServer::reloadTls(QObject *context, OutcomeHandler done)
{
    ask<AdminOutcome>(
        context, [](AdminService &admin, const AdminActor &actor) { return admin.reloadTls(actor); }, std::move(done),
        notRunning());
}

void SessionServer::inspectConnection(quint64 connectionId, QObject *context, OutcomeHandler done)
{
    ask<AdminOutcome>(
        context,
        [connectionId, self = this](AdminService &admin, const AdminActor &actor) {
            AdminOutcome outcome;
            outcome.action = u"inspector_opened"_s;
            // Batches come from the connection's I/O thread to this object's, which outlives
            // the server thread and so the I/O threads.
            const auto opened
                = admin.inspections().open(connectionId, u"console"_s, actor, [self](const InspectionBatch &batch) {
                      QMetaObject::invokeMethod(
                          self, [self, batch] { Q_EMIT self->inspected(batch); }, Qt::QueuedConnection);
                  });
            if (opened)
                outcome.affected = 1;
            else
                outcome.error = opened.error();
            return outcome;
        },
        std::move(done), notRunning());
}

void SessionServer::stopInspecting(quint64 connectionId)
{
    if (!m_runtime || m_state != ServerState::Running)
        return;
    QMetaObject::invokeMethod(
        m_runtime,
        [runtime = m_runtime, connectionId, actor = m_actor] {
            if (auto *admin = runtime->admin())
                admin->inspections().close(connectionId, u"console"_s, u"closed by %1"_s.arg(actor));
        },
        Qt::QueuedConnection);
}

void SessionServer::broadcast(const UserKey &user, const QJsonValue &payload, QObject *context, OutcomeHandler done)
{
    ask<AdminOutcome>(
        context,
        [user, payload](AdminService &admin, const AdminActor &actor) { return admin.broadcast(user, payload, actor); },
        std::move(done), notRunning());
}

void SessionServer::setPolicy(const SessionPolicy &policy, QObject *context, ErrorHandler done)
{
    ask<QString>(
        context,
        [policy](AdminService &admin, const AdminActor &actor) { return errorOf(admin.setPolicy(policy, actor)); },
        std::move(done), notRunning().error);
}

void SessionServer::setLimits(const ConnectionLimits &limits, QObject *context, ErrorHandler done)
{
    ask<QString>(
        context,
        [limits](AdminService &admin, const AdminActor &actor) { return errorOf(admin.setLimits(limits, actor)); },
        std::move(done), notRunning().error);
}

void SessionServer::addUser(const QString &username, const QString &displayName, const QByteArray &password,
                            const QStringList &roles, QObject *context, ErrorHandler done)
{
    ask<QString>(
        context,
        [=](AdminService &admin, const AdminActor &actor) {
            return errorOf(admin.addUser(username, displayName, password, roles, actor));
        },
        std::move(done), notRunning().error);
}

void SessionServer::setUserEnabled(const QString &username, bool enabled, QObject *context, ErrorHandler done)
{
    ask<QString>(
        context,
        [=](AdminService &admin, const AdminActor &actor) {
            return errorOf(admin.setUserEnabled(username, enabled, actor));
        },
        std::move(done), notRunning().error);
}

void SessionServer::setPassword(const QString &username, const QByteArray &password, QObject *context,
                                ErrorHandler done)
{
    ask<QString>(
        context,
        [=](AdminService &admin, const AdminActor &actor) {
            return errorOf(admin.setPassword(username, password, actor));
        },
        std::move(done), notRunning().error);
}

void SessionServer::setRoles(const QString &username, const QStringList &roles, QObject *context, ErrorHandler done)
{
    ask<QString>(
        context,
        [=](AdminService &admin, const AdminActor &actor) { return errorOf(admin.setRoles(username, roles, actor)); },
        std::move(done), notRunning().error);
}

void SessionServer::rotateSigningKey(QObject *context, ErrorHandler done)
{
    ask<QString>(
        context,
        [](AdminService &admin, const AdminActor &actor) {
            admin.rotateSigningKey(actor);
            return QString();
        },
        std::move(done), notRunning().error);
}

void SessionServer::queryAudit(const AuditFilter &filter, QObject *context,
                               std::function<void(const QList<AuditEvent> &events)> done)
{
    ask<QList<AuditEvent>>(context,
                           [filter](AdminService &admin, const AdminActor &) { return admin.queryAudit(filter); },
                           std::move(done), {});
}

void SessionServer::verifyAudit(QObject *context, std::function<void(const AuditVerification &result)> done)
{
    AuditVerification unavailable;
    unavailable.reason = notRunning().error;
    ask<AuditVerification>(
        context, [](AdminService &admin, const AdminActor &) { return admin.verifyAudit(); }, std::move(done),
        unavailable);
}

void SessionServer::exportAudit(const AuditFilter &filter, const QString &path, QObject *context,
                                std::function<void(qsizetype written, const QString &error)> done)
{
    using Written = std::pair<qsizetype, QString>;
    ask<Written>(
        context,
        [filter, path](AdminService &admin, const AdminActor &) {
            const auto written = admin.exportAudit(filter, path);
            return written ? Written { *written, {} } : Written { 0, written.error() };
        },
        [done = std::move(done)](const Written &result) { done(result.first, result.second); },
        Written { 0, notRunning().error });
}

QUrl SessionServer::url() const
{
    if (m_listenAddress.isEmpty())
        return {};
    return QUrl((m_certificateChain.isEmpty() ? u"http://"_s : u"https://"_s) + m_listenAddress);
}

void SessionServer::handleStarted(const QString &listenAddress)
{
    m_listenAddress = listenAddress;
    const auto tls = m_runtime ? m_runtime->tlsContext() : nullptr;
    m_certificateChain = tls ? tls->certificate().chainPem() : QByteArray();
    setState(ServerState::Running);
}

void SessionServer::handleFailed(const QString &message)
{
    qCWarning(lcSessionServer).noquote() << "server stopped:" << message;
    m_errorString = message;
    setState(ServerState::Failed);
}

void SessionServer::setState(ServerState state)
{
    if (m_state == state)
        return;
    m_state = state;
    Q_EMIT stateChanged(state);
}

Result<ServerConfig, QString> SessionServer::config() const
{
    if (m_config)
        return *m_config;
    return ConfigFile::resolve(m_options);
}

namespace {
template<typename Value>
void refuseLater(QObject *receiver, QObject *context, std::function<void(const Value &)> done, const QString &why)
{
    QMetaObject::invokeMethod(
        receiver,
        [guard = QPointer<QObject>(context), done = std::move(done), why] {
            if (guard && done)
                done(fail(why));
        },
        Qt::QueuedConnection);
}
} // namespace

void SessionServer::backUp(const QString &path, const QByteArray &passphrase, QObject *context,
                           std::function<void(const Result<QString, QString> &written)> done)
{
    const auto resolved = config();
    if (!resolved)
        return refuseLater(this, context, std::move(done), resolved.error());
    m_backups->backUp(*resolved, m_actor, path, passphrase, context, std::move(done));
}

void SessionServer::checkBackup(const QString &path, const QByteArray &passphrase, QObject *context,
                                std::function<void(const Result<BackupSummary, QString> &summary)> done)
{
    m_backups->check(path, passphrase, context, std::move(done));
}

void SessionServer::restoreBackup(const QString &path, const QByteArray &passphrase, QObject *context,
                                  std::function<void(const Result<QString, QString> &restored)> done)
{
    const auto resolved = config();
    if (!resolved)
        return refuseLater(this, context, std::move(done), resolved.error());
    // Stopped first, as promised, even when the restore is then refused: the caller starts a
    // server again either way. The runtime's thread is joined, its database closed.
    stop();
    m_backups->restore(*resolved, m_actor, path, passphrase, context, std::move(done));
}
