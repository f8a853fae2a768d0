#include "admin/AdminService.h"

#include "admin/Inspections.h"
#include "audit/AuditLog.h"
#include "auth/KeyStore.h"
#include "core/Clock.h"
#include "identity/UserDirectory.h"
#include "metrics/ServerMetrics.h"
#include "sessions/AccessGuard.h"
#include "sessions/SessionService.h"
#include "sessions/SessionStore.h"
#include "store/Database.h"
#include "ws/CloseCode.h"
#include "ws/ConnectionCensus.h"
#include "ws/ConnectionHub.h"
#include "ws/LiveLimits.h"

#include <QElapsedTimer>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLoggingCategory>
#include <QSaveFile>

using namespace Qt::StringLiterals;
using namespace std::chrono_literals;

Q_LOGGING_CATEGORY(lcAdmin, "gatehouse.admin")

namespace {
constexpr auto flushInterval = 250ms;
constexpr auto statisticsInterval = 1s;
/// A storm of refused handshakes must not grow the console's backlog without bound.
constexpr qsizetype maximumPendingEvents = 2000;
/// Events of other writers read at a time (AdminService::followAudit), a batch per flush.
constexpr qsizetype followedAuditBatch = 200;
/// The server's own events told past another writer's not read yet; more are not deduplicated.
constexpr qsizetype maximumOwnEventsAhead = 100000;

qint64 monotonicNs()
{
    static QElapsedTimer clock = [] {
        QElapsedTimer started;
        started.start();
        return started;
    }();
    return clock.nsecsElapsed();
}

QString disconnectReason()
{
    return u"disconnected by an administrator"_s;
}
} // namespace

AdminService::AdminService(Parts parts, const Clock &clock, ServerStatistics fixed, ConnectionLimits limits,
                           QObject *parent)
    : QObject(parent)
    , m_parts(parts)
    , m_clock(clock)
    , m_fixed(std::move(fixed))
    , m_limits(limits)
    , m_flushTimer(this)
    , m_statisticsTimer(this)
    , m_inspections(std::make_unique<Inspections>(*parts.connections, *parts.audit, m_fixed.inspectPayloads))
{
    m_flushTimer.setSingleShot(true);
    m_flushTimer.setInterval(flushInterval);
    connect(&m_flushTimer, &QTimer::timeout, this, &AdminService::flush);
    m_statisticsTimer.setInterval(statisticsInterval);
    connect(&m_statisticsTimer, &QTimer::timeout, this, [this] { Q_EMIT statisticsSampled(statistics()); });
    m_statisticsTimer.start();

    auto *sessions = m_parts.sessions;
    connect(sessions, &SessionService::sessionOpened, this,
            [this](const SessionRecord &session) { markSessionChanged(session.id); });
    connect(sessions, &SessionService::tokenRefreshed, this, &AdminService::markSessionChanged);
    connect(sessions, &SessionService::sessionsRevoked, this, [this](const QStringList &ids) {
        for (const auto &id : ids)
            markSessionChanged(id);
    });
    connect(m_parts.users, &UserDirectory::userChanged, this, [this] {
        m_usersChanged = true;
        m_flushTimer.start();
    });
    connect(m_parts.keys, &KeyStore::rotated, this, [this] { Q_EMIT signingKeysChanged(signingKeys(), jwks()); });
    if (const auto last = m_parts.audit->lastId(); last)
        m_auditCursor = *last;
    else
        qCWarning(lcAdmin).noquote() << "cannot read the audit log's last event; events other writers append will not "
                                        "be shown live:"
                                     << last.error();
    m_parts.audit->setObserver([this](const AuditEvent &event) {
        if (m_auditCursor >= 0) {
            if (event.id == m_auditCursor + 1)
                m_auditCursor = event.id;
            else if (m_ownEventsAhead.size() < maximumOwnEventsAhead)
                m_ownEventsAhead.insert(event.id); // past another writer's event, not read yet
        }
        if (m_newEvents.size() >= maximumPendingEvents)
            m_newEvents.removeFirst();
        m_newEvents.append(event);
        if (!m_flushTimer.isActive())
            m_flushTimer.start();
    });
}

AdminService::~AdminService()
{
    m_parts.audit->setObserver({});
}

void AdminService::followAudit()
{
    if (m_auditCursor < 0)
        return;
    const auto events = m_parts.audit->after(m_auditCursor, followedAuditBatch);
    for (const auto &event : events) {
        m_auditCursor = event.id;
        if (m_ownEventsAhead.remove(event.id))
            continue; // told of as it was appended
        m_newEvents.append(event);
    }
    // A flood from elsewhere is told of a batch per flush, the next read as this one goes out.
    m_auditBehind = events.size() == followedAuditBatch;
    if (!events.isEmpty() && !m_flushTimer.isActive())
        m_flushTimer.start();
}

void AdminService::backUp(const AdminActor &actor, const QByteArray &passphrase,
                          std::function<void(const Result<QByteArray, QString> &sealed)> done)
{
    if (!m_parts.backUp)
        return done(fail(u"this server makes no backups over its admin interface"_s));
    m_parts.backUp(actor, passphrase, std::move(done));
}

void AdminService::markSessionChanged(const QString &sessionId)
{
    m_changedSessions.insert(sessionId);
    if (!m_flushTimer.isActive())
        m_flushTimer.start();
}

void AdminService::flush()
{
    if (!m_changedSessions.isEmpty()) {
        // One read for the whole batch: this runs on the thread that serves admin requests.
        const QStringList ids(m_changedSessions.cbegin(), m_changedSessions.cend());
        m_changedSessions.clear();
        Q_EMIT sessionsChanged(m_parts.sessionStore->findSessions(ids));
    }
    if (!m_newEvents.isEmpty())
        Q_EMIT auditAppended(std::exchange(m_newEvents, {}));
    if (std::exchange(m_auditBehind, false))
        followAudit();
    if (std::exchange(m_usersChanged, false))
        Q_EMIT usersChanged(users());
}

void AdminService::audit(const QString &type, const QString &username, const QJsonObject &detail,
                         const AdminActor &actor)
{
    AuditEvent event;
    event.type = type;
    event.actor = actor.name;
    event.username = username;
    event.remoteAddress = actor.remoteAddress;
    event.detail = detail;
    if (const auto appended = m_parts.audit->append(event); !appended)
        qCWarning(lcAdmin).noquote() << "audit append failed:" << appended.error();
}

AdminOutcome AdminService::finish(AdminOutcome outcome, const QString &username, const QString &target,
                                  const AdminActor &actor, qint64 startedNs)
{
    outcome.elapsedMs = double(monotonicNs() - startedNs) / 1e6;
    audit(outcome.action, username,
          QJsonObject { { "target"_L1, target },
                        { "affected"_L1, outcome.affected },
                        { "elapsed_us"_L1, qint64(outcome.elapsedMs * 1000) } },
          actor);
    return outcome;
}

UserKey AdminService::resolve(const UserKey &user) const
{
    if (!user.isLocal() || user.isEmpty())
        return user;
    const auto found = m_parts.users->find(user.subject);
    return found ? UserKey::local(found->username) : user;
}

std::shared_ptr<const AdminEffect> AdminService::takeEffect(const AdminCommand &command) const
{
    using Kind = AdminCommand::Kind;
    auto effect = std::make_shared<AdminEffect>();
    effect->startedNs = monotonicNs();
    AccessGuard &guard = m_parts.sessions->accessGuard();
    const ConnectionHub &connections = *m_parts.connections;
    // Our user as the sessions here spell it (usernames ignore case; tokens carry that
    // spelling); empty when no session of the user is known, so none of its connections is.
    const UserKey user = command.user.isLocal() && !command.user.isEmpty()
        ? UserKey::local(guard.knownUsername(command.user.subject))
        : command.user;
    switch (command.kind) {
    case Kind::DisconnectConnection:
        effect->closes
            = connections.postCloseConnection(command.connectionId, CloseCode::disconnectedByAdmin, disconnectReason());
        break;
    case Kind::DisconnectDevice:
    case Kind::DisconnectUser:
        if (!user.isEmpty())
            effect->closes
                = connections.postCloseUser(user, command.kind == Kind::DisconnectDevice ? command.deviceId : QString(),
                                            CloseCode::disconnectedByAdmin, disconnectReason());
        break;
    case Kind::RevokeSession:
        if (guard.endSession(command.sessionId)) {
            effect->endedSessions = { command.sessionId };
            effect->closes = connections.postCloseSessions(effect->endedSessions, CloseCode::sessionRevoked,
                                                           CloseCode::sessionRevokedReason(u"revoked_by_admin"_s));
        }
        break;
    case Kind::RevokeUser:
        if (user.isLocal() && !user.isEmpty()) {
            effect->endedSessions = guard.endSessionsOf(user.subject, {});
            effect->closes = connections.postCloseSessions(effect->endedSessions, CloseCode::sessionRevoked,
                                                           CloseCode::sessionRevokedReason(u"single_logout"_s));
        }
        break;
    case Kind::RevokeIssuedBefore:
        if (!user.isEmpty()) {
            effect->cutoffAt = m_clock.nowSeconds();
            guard.revokedBefore(user, effect->cutoffAt);
            if (user.isLocal())
                effect->endedSessions = guard.endSessionsOf(user.subject, {});
            effect->closes
                = connections.postCloseUser(user, {}, CloseCode::sessionRevoked, CloseCode::tokensRevokedReason());
        }
        break;
    }
    return effect;
}

AdminOutcome AdminService::perform(const AdminCommand &command, const AdminActor &actor, const AdminEffect *effect)
{
    using Kind = AdminCommand::Kind;
    switch (command.kind) {
    case Kind::DisconnectConnection:
        return disconnectConnection(command.connectionId, actor, effect);
    case Kind::DisconnectDevice:
        return disconnectDevice(command.user, command.deviceId, actor, effect);
    case Kind::DisconnectUser:
        return disconnectUser(command.user, actor, effect);
    case Kind::RevokeSession:
        return revokeSession(command.sessionId, actor, effect);
    case Kind::RevokeUser:
        return revokeUser(command.user, actor, effect);
    case Kind::RevokeIssuedBefore:
        return revokeIssuedBefore(command.user, actor, effect);
    }
    Q_UNREACHABLE();
    return {};
}

namespace {
qint64 startOf(const AdminEffect *effect)
{
    return effect ? effect->startedNs : monotonicNs();
}

/// The connections the effect closed at once (they are all the action closes: a client that
/// reconnects after a disconnection is not disconnected twice), or nothing when it had none.
std::optional<int> closedAtOnce(const AdminEffect *effect)
{
    if (!effect || !effect->closes)
        return std::nullopt;
    return effect->closes->wait();
}

EndedAtOnce endedAtOnce(const AdminEffect *effect)
{
    return effect ? EndedAtOnce { effect->endedSessions, effect->cutoffAt } : EndedAtOnce {};
}
} // namespace

AdminOutcome AdminService::disconnectConnection(quint64 connectionId, const AdminActor &actor,
                                                const AdminEffect *effect)
{
    const qint64 started = startOf(effect);
    UserKey user;
    auto closed = closedAtOnce(effect);
    if (closed) {
        user = effect->closes->user();
    } else {
        for (const auto &connection : m_parts.connections->connections()) {
            if (connection.id == connectionId) {
                user = connection.user;
                break;
            }
        }
        closed = m_parts.connections->closeConnection(connectionId, CloseCode::disconnectedByAdmin, disconnectReason());
    }
    return finish(AdminOutcome::of(u"admin_disconnected_connection"_s, *closed, *closed), user.toString(),
                  QString::number(connectionId), actor, started);
}

AdminOutcome AdminService::disconnectDevice(const UserKey &who, const QString &deviceId, const AdminActor &actor,
                                            const AdminEffect *effect)
{
    const qint64 started = startOf(effect);
    const UserKey user = resolve(who);
    auto closed = closedAtOnce(effect);
    if (!closed)
        closed = m_parts.connections->closeUser(user, deviceId, CloseCode::disconnectedByAdmin, disconnectReason());
    return finish(AdminOutcome::of(u"admin_disconnected_device"_s, *closed, *closed), user.toString(), deviceId, actor,
                  started);
}

AdminOutcome AdminService::disconnectUser(const UserKey &who, const AdminActor &actor, const AdminEffect *effect)
{
    const qint64 started = startOf(effect);
    const UserKey user = resolve(who);
    auto closed = closedAtOnce(effect);
    if (!closed)
        closed = m_parts.connections->closeUser(user, {}, CloseCode::disconnectedByAdmin, disconnectReason());
    return finish(AdminOutcome::of(u"admin_disconnected_user"_s, *closed, *closed), user.toString(), user.toString(),
                  actor, started);
}

void AdminService::markUnsaved(AdminOutcome &outcome, const Revocation &revocation)
{
    if (revocation.saved())
        return;
    outcome.unsaved = revocation.unsaved;
    outcome.error
        = u"in force, but not saved: %1; it is saved again every second until it is"_s.arg(revocation.unsaved);
}

AdminOutcome AdminService::revokeSession(const QString &sessionId, const AdminActor &actor, const AdminEffect *effect)
{
    const qint64 started = startOf(effect);
    const auto closed = closedAtOnce(effect);
    const auto before = m_parts.connections->count();
    // SessionService audits the revocation itself (session_revoked, with this actor).
    const auto revoked = m_parts.sessions->revokeSession(
        sessionId, actor.name, u"revoked_by_admin"_s, ClientContext { actor.remoteAddress, {} }, endedAtOnce(effect));
    auto outcome = AdminOutcome::of(u"session_revoked"_s, int(revoked.sessionIds.size()),
                                    closed.value_or(int(before - m_parts.connections->count())));
    outcome.elapsedMs = double(monotonicNs() - started) / 1e6;
    if (revoked.sessionIds.isEmpty())
        outcome.error = u"no live session %1"_s.arg(sessionId);
    markUnsaved(outcome, revoked);
    return outcome;
}

AdminOutcome AdminService::revokeUser(const UserKey &who, const AdminActor &actor, const AdminEffect *effect)
{
    const qint64 started = startOf(effect);
    const UserKey user = resolve(who);
    if (!user.isLocal()) {
        AdminOutcome refused = AdminOutcome::of(u"user_revoked"_s, 0);
        refused.error
            = u"%1 has no sessions here; revoke the tokens issued before now instead"_s.arg(user.displayName());
        return refused;
    }
    const auto closed = closedAtOnce(effect);
    const auto before = m_parts.connections->countForUser(user);
    const auto revoked
        = m_parts.sessions->revokeUser(user.subject, {}, actor.name, u"single_logout"_s, endedAtOnce(effect));
    auto outcome = AdminOutcome::of(u"user_revoked"_s, int(revoked.sessionIds.size()),
                                    closed.value_or(int(before - m_parts.connections->countForUser(user))));
    outcome.elapsedMs = double(monotonicNs() - started) / 1e6;
    markUnsaved(outcome, revoked);
    return outcome;
}

AdminOutcome AdminService::revokeIssuedBefore(const UserKey &who, const AdminActor &actor, const AdminEffect *effect)
{
    const qint64 started = startOf(effect);
    const UserKey user = resolve(who);
    const auto closed = closedAtOnce(effect);
    const auto before = m_parts.connections->countForUser(user);
    const auto revoked = m_parts.sessions->revokeIssuedBefore(user, actor.name, endedAtOnce(effect));
    auto outcome = AdminOutcome::of(u"tokens_revoked_before"_s, int(revoked.sessionIds.size()),
                                    closed.value_or(int(before - m_parts.connections->countForUser(user))));
    outcome.elapsedMs = double(monotonicNs() - started) / 1e6;
    markUnsaved(outcome, revoked);
    return outcome;
}

AdminOutcome AdminService::reloadTls(const AdminActor &actor)
{
    const qint64 started = monotonicNs();
    AdminOutcome outcome = AdminOutcome::of(u"tls_reloaded"_s, 0);
    if (!m_parts.reloadTls) {
        outcome.error = u"TLS is not available"_s;
        return outcome;
    }
    const auto reloaded = m_parts.reloadTls();
    if (!reloaded) {
        m_tlsProblem = reloaded.error();
        outcome.action = u"tls_reload_refused"_s;
        outcome.error = reloaded.error();
        audit(outcome.action, {}, QJsonObject { { "error"_L1, reloaded.error() } }, actor);
        return outcome;
    }
    m_tlsProblem.clear();
    outcome.affected = 1;
    outcome.elapsedMs = double(monotonicNs() - started) / 1e6;
    audit(outcome.action, {},
          QJsonObject { { "subject"_L1, reloaded->subject },
                        { "fingerprint"_L1, reloaded->sha256Fingerprint },
                        { "not_after"_L1, reloaded->notAfter.toString(Qt::ISODate) } },
          actor);
    Q_EMIT statisticsSampled(statistics());
    return outcome;
}

AdminOutcome AdminService::broadcast(const UserKey &who, const QJsonValue &payload, const AdminActor &actor)
{
    const qint64 started = monotonicNs();
    const UserKey user = resolve(who);
    const int delivered = m_parts.connections->broadcast(user, payload);
    return finish(AdminOutcome::of(u"admin_broadcast"_s, delivered), user.toString(),
                  user.isEmpty() ? u"everyone"_s : user.toString(), actor, started);
}

Result<SessionPolicy, QString> AdminService::setPolicy(const SessionPolicy &policy, const AdminActor &actor)
{
    // The same checks as a PUT /admin/policy body: a policy from the console passes through JSON.
    const auto checked = SessionPolicy::fromJson(policy.toJson(), m_parts.sessions->policy());
    if (!checked)
        return checked;
    // On disk before it is acknowledged, like everything else the admin is told happened.
    if (m_parts.database
        && !m_parts.database->setSetting(
            policySetting, QString::fromUtf8(QJsonDocument(checked->toJson()).toJson(QJsonDocument::Compact))))
        return fail(u"the policy could not be stored: %1"_s.arg(m_parts.database->errorString()));
    m_parts.sessions->setPolicy(*checked);
    audit(u"policy_changed"_s, {}, checked->toJson(), actor);
    Q_EMIT policyChanged(*checked);
    return checked;
}

Result<ConnectionLimits, QString> AdminService::setLimits(const ConnectionLimits &limits, const AdminActor &actor)
{
    const auto checked = ConnectionLimits::fromJson(limits.toJson(), m_limits);
    if (!checked)
        return checked;
    if (m_parts.database
        && !m_parts.database->setSetting(
            limitsSetting, QString::fromUtf8(QJsonDocument(checked->toJson()).toJson(QJsonDocument::Compact))))
        return fail(u"the limits could not be stored: %1"_s.arg(m_parts.database->errorString()));
    m_limits = *checked;
    if (m_parts.census)
        m_parts.census->setLimits(m_limits.maximumConnections, m_limits.maximumConnectionsPerUser);
    if (m_parts.liveLimits)
        m_parts.liveLimits->set(m_limits);
    audit(u"limits_changed"_s, {}, m_limits.toJson(), actor);
    Q_EMIT limitsChanged(m_limits);
    return m_limits;
}

Result<User, QString> AdminService::auditUserChange(Result<User, UserError> changed, const QString &type,
                                                    const QJsonObject &detail, const AdminActor &actor)
{
    if (!changed)
        return fail(userErrorMessage(changed.error()));
    audit(type, changed->username, detail, actor);
    return std::move(changed).value();
}

Result<User, QString> AdminService::addUser(const QString &username, const QString &displayName,
                                            const QByteArray &password, const QStringList &roles,
                                            const AdminActor &actor)
{
    return auditUserChange(m_parts.users->add(username, displayName, password, roles), u"user_added"_s,
                           { { "roles"_L1, QJsonArray::fromStringList(roles) } }, actor);
}

Result<User, QString> AdminService::setUserEnabled(const QString &username, bool enabled, const AdminActor &actor)
{
    return auditUserChange(m_parts.users->setEnabled(username, enabled),
                           enabled ? u"user_enabled"_s : u"user_disabled"_s, {}, actor);
}

Result<User, QString> AdminService::setPassword(const QString &username, const QByteArray &password,
                                                const AdminActor &actor)
{
    return auditUserChange(m_parts.users->setPassword(username, password), u"user_password_reset"_s, {}, actor);
}

Result<User, QString> AdminService::setRoles(const QString &username, const QStringList &roles, const AdminActor &actor)
{
    return auditUserChange(m_parts.users->setRoles(username, roles), u"user_roles_changed"_s,
                           { { "roles"_L1, QJsonArray::fromStringList(roles) } }, actor);
}

void AdminService::rotateSigningKey(const AdminActor &actor)
{
    audit(u"signing_key_rotation_requested"_s, {}, {}, actor);
    m_parts.keys->rotate();
}

QList<User> AdminService::users() const
{
    return m_parts.users->list();
}

QList<SessionRecord> AdminService::sessions(const QString &username) const
{
    return m_parts.sessions->listSessions(username);
}

QList<SigningKeyInfo> AdminService::signingKeys() const
{
    return m_parts.keys->keys();
}

QJsonObject AdminService::jwks() const
{
    return m_parts.keys->jwks();
}

ServerStatistics AdminService::statistics() const
{
    ServerStatistics statistics = m_fixed;
    statistics.maximumConnections = m_limits.maximumConnections;
    statistics.maximumConnectionsPerUser = m_limits.maximumConnectionsPerUser;
    statistics.maximumMessageSize = m_limits.maximumMessageSize;
    statistics.handshakeTimeoutMs = m_limits.handshakeTimeoutSeconds * 1000;
    statistics.sampledAtMs = m_clock.nowMilliseconds();
    m_parts.metrics->sample(statistics);
    if (const auto certificate = m_parts.tlsCertificate ? m_parts.tlsCertificate() : std::nullopt) {
        statistics.tls = true;
        statistics.tlsSubject = certificate->subject;
        statistics.tlsNames = certificate->dnsNames;
        for (const auto &address : certificate->addresses)
            statistics.tlsNames.append(address.toString());
        statistics.tlsFingerprint = certificate->sha256Fingerprint;
        statistics.tlsNotAfterMs = certificate->notAfter.toMSecsSinceEpoch();
        statistics.tlsProblem = m_tlsProblem;
        statistics.tlsReloadable = m_parts.tlsFromFiles;
    }
    return statistics;
}

SessionPolicy AdminService::policy() const
{
    return m_parts.sessions->policy();
}

ConsoleSnapshot AdminService::snapshot() const
{
    ConsoleSnapshot snapshot;
    snapshot.users = users();
    const qint64 now = m_clock.nowSeconds();
    constexpr qint64 keepEndedFor = 3600;
    for (auto &session : m_parts.sessions->listSessions({})) {
        const qint64 endedAt = session.isRevoked() ? session.revokedAt : session.absoluteExpiresAt;
        if (endedAt == 0 || endedAt > now - keepEndedFor)
            snapshot.sessions.append(std::move(session));
    }
    snapshot.policy = policy();
    snapshot.limits = m_limits;
    snapshot.signingKeys = signingKeys();
    snapshot.jwks = jwks();
    snapshot.statistics = statistics();
    AuditFilter recent;
    recent.limit = maximumPendingEvents;
    snapshot.recentAudit = m_parts.audit->query(recent);
    return snapshot;
}

QList<AuditEvent> AdminService::queryAudit(const AuditFilter &filter) const
{
    return m_parts.audit->query(filter);
}

AuditVerification AdminService::verifyAudit() const
{
    AuditVerification verification;
    const auto verified = m_parts.audit->verify();
    verification.intact = bool(verified);
    if (verified) {
        verification.events = *verified;
    } else {
        verification.brokenAt = verified.error().eventId;
        verification.reason = verified.error().reason;
    }
    return verification;
}

Result<qsizetype, QString> AdminService::exportAudit(const AuditFilter &filter, const QString &path) const
{
    return writeAuditExport(m_parts.audit->query(filter), path);
}
