#include "cli/CommandRunner.h"

#include "SessionServer.h"
#include "admin/AdminTokens.h"
#include "audit/AuditLog.h"
#include "auth/KeyStore.h"
#include "auth/TokenIssuer.h"
#include "cli/BackupCommand.h"
#include "cli/PasswordInput.h"
#include "config/ConfigFile.h"
#include "config/DataDirectory.h"
#include "identity/UserDirectory.h"
#include "oidc/ClientRegistry.h"
#include "secrets/AdminToken.h"
#include "secrets/SecretStore.h"
#include "sessions/SessionService.h"
#include "sessions/SqliteSessionStore.h"
#include "store/StoreChanges.h"
#include "tls/TlsCertificate.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QTimer>

#include <cstdio>

#include <cerrno>
#include <csignal>
#include <pwd.h>
#include <unistd.h>

using namespace Qt::StringLiterals;
using Kind = DaemonCommand::Kind;

namespace {
void print(FILE *stream, const QString &text)
{
    const QByteArray bytes = text.toUtf8();
    std::fwrite(bytes.constData(), 1, static_cast<size_t>(bytes.size()), stream);
    std::fflush(stream);
}

QString isoTime(qint64 seconds)
{
    return seconds == 0 ? u"-"_s : QDateTime::fromSecsSinceEpoch(seconds, Qt::UTC).toString(Qt::ISODate);
}

QJsonObject userToJson(const User &user)
{
    return QJsonObject { { "username"_L1, user.username },
                         { "display_name"_L1, user.displayName },
                         { "roles"_L1, QJsonArray::fromStringList(user.roles) },
                         { "enabled"_L1, user.enabled },
                         { "created_at"_L1, user.createdAt },
                         { "password_changed_at"_L1, user.passwordChangedAt } };
}
} // namespace

CommandRunner::CommandRunner(DaemonCommand command, QObject *parent)
    : QObject(parent)
    , m_command(std::move(command))
{
}

CommandRunner::~CommandRunner() = default;

void CommandRunner::succeed(const QString &output)
{
    if (std::exchange(m_finished, true))
        return;
    print(stdout, output);
    Q_EMIT finished(0);
}

void CommandRunner::failWith(const QString &message, int exitCode)
{
    if (std::exchange(m_finished, true))
        return;
    print(stderr, u"gatehoused: "_s + message + u'\n');
    Q_EMIT finished(exitCode);
}

void CommandRunner::run()
{
    switch (m_command.kind) {
    case Kind::Help:
        return succeed(m_command.helpText);
    case Kind::Version:
        return succeed(u"gatehoused "_s + QCoreApplication::applicationVersion() + u'\n');
    case Kind::Serve:
        return serve();
    default:
        break;
    }
    const auto config = ConfigFile::resolve(m_command.launch);
    if (!config)
        return failWith(config.error());
    m_config = *config;
    if (m_command.kind == Kind::CheckConfig)
        return runCheckConfig(); // before anything is made on disk
    if (m_command.kind == Kind::Status && !findRunningServer())
        return;
    // Root writing into another user's data (the packaged server's, /var/lib/gatehouse) would
    // leave files that user cannot read: a key rotated as root would stop the server's reload.
    if (const QFileInfo data(m_config.dataDirectory);
        ::geteuid() == 0 && data.exists() && data.ownerId() != 0 && m_command.kind != Kind::Status) {
        const passwd *owner = ::getpwuid(data.ownerId());
        const QString name = owner ? QString::fromLocal8Bit(owner->pw_name) : QString::number(data.ownerId());
        return failWith(u"%1 belongs to %2: run this as that user (sudo -u %2 gatehoused …), so that what it "
                        "writes stays readable by the server"_s.arg(m_config.dataDirectory, name));
    }
    if (m_command.kind == Kind::Backup || m_command.kind == Kind::Restore)
        return runBackupCommand();
    if (const auto prepared = DataDirectory::prepare(m_config.dataDirectory); !prepared)
        return failWith(prepared.error());
    if (!m_database.open(m_config.databasePath()))
        return failWith(m_database.errorString());
    m_users = std::make_unique<UserDirectory>(m_database, m_clock);

    switch (m_command.kind) {
    case Kind::TokenMint:
        return withKeys([this] { runTokenMint(); });
    case Kind::KeysList:
    case Kind::KeysRotate:
    case Kind::KeysJwks:
        return withKeys([this] { runKeysCommand(); });
    case Kind::AuditVerify:
    case Kind::AuditExport:
        return runAuditCommand();
    case Kind::AdminTokenShow:
    case Kind::AdminTokenRotate:
        return withSecrets([this] { runAdminTokenCommand(); });
    case Kind::AdminTokenAdd:
    case Kind::AdminTokenList:
    case Kind::AdminTokenRevoke:
        return runNamedAdminTokenCommand();
    case Kind::ClientAdd:
    case Kind::ClientList:
    case Kind::ClientRemove:
        return runClientCommand();
    case Kind::TlsShow:
        return runTlsShow();
    case Kind::Status:
        return withSecrets([this] { runStatus(); });
    default:
        return runUserCommand();
    }
}

bool CommandRunner::findRunningServer()
{
    QFile file(m_config.runRecordPath());
    if (!file.open(QIODevice::ReadOnly)) {
        failWith(u"no server is running on %1 (it writes gatehoused.run there while it serves)"_s.arg(
            m_config.dataDirectory));
        return false;
    }
    m_running = QJsonDocument::fromJson(file.read(64 * 1024)).object();
    const qint64 pid = m_running.value("pid"_L1).toInteger();
    // Alive when it can be signalled (EPERM: it is, but not ours to signal).
    if (pid <= 0 || (::kill(pid_t(pid), 0) != 0 && errno != EPERM)) {
        failWith(u"no server is running on %1: gatehoused.run names pid %2, which is gone"_s.arg(m_config.dataDirectory)
                     .arg(pid));
        return false;
    }
    return true;
}

void CommandRunner::runStatus()
{
    AdminToken::load(*m_secrets, this, [this](Result<QByteArray, SecretFailure> token) {
        if (!token)
            return failWith(
                u"cannot use the admin token in %1: %2"_s.arg(m_secrets->location(), token.error().message));
        QUrl url(m_running.value("url"_L1).toString());
        url.setPath(u"/admin/status"_s);
        QNetworkRequest request(url);
        request.setRawHeader("Authorization", "Bearer " + *token);
        request.setTransferTimeout(10000);
        QList<QSslError> expected;
        if (url.scheme() == "https"_L1) {
            // The server's own certificate, from its files: trusted for this one question, also
            // when it names another host than the loopback address asked here.
            const auto chain = QSslCertificate::fromPath(m_running.value("certificate"_L1).toString());
            QSslConfiguration ssl = QSslConfiguration::defaultConfiguration();
            ssl.addCaCertificates(chain);
            request.setSslConfiguration(ssl);
            if (!chain.isEmpty())
                expected = { QSslError(QSslError::HostNameMismatch, chain.first()),
                             QSslError(QSslError::SelfSignedCertificate, chain.first()) };
        }
        m_network = std::make_unique<QNetworkAccessManager>();
        QNetworkReply *reply = m_network->get(request);
        reply->ignoreSslErrors(expected);
        connect(reply, &QNetworkReply::finished, this, [this, reply, url] {
            reply->deleteLater();
            const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
            const QJsonObject body = QJsonDocument::fromJson(reply->readAll()).object();
            if (status != 200)
                return failWith(u"the server at %1 did not answer: %2"_s.arg(
                    url.authority(), body.value("error_description"_L1).toString(reply->errorString())));
            const qint64 uptime = body.value("uptime_seconds"_L1).toInteger();
            const QString tls = body.value("tls"_L1).toBool()
                ? u"TLS, SHA-256 %1"_s.arg(body.value("tls_fingerprint"_L1).toString())
                : u"plain HTTP"_s;
            QStringList addresses;
            for (const auto address : body.value("listen_addresses"_L1).toArray())
                addresses.append(address.toString());
            const QString out = u"running      pid %1, version %2, up %3 h %4 min\n"
                                "listening    %5 (%6)\n"
                                "connections  %7 (at most %8)\n"
                                "sessions     %9 active\n"_s.arg(body.value("pid"_L1).toInteger())
                                    .arg(body.value("version"_L1).toString())
                                    .arg(uptime / 3600)
                                    .arg(uptime / 60 % 60)
                                    .arg(addresses.join(u", "_s), tls)
                                    .arg(body.value("connections"_L1).toInteger())
                                    .arg(body.value("max_connections"_L1).toInteger())
                                    .arg(body.value("active_sessions"_L1).toInteger());
            // The connection (and its TLS state, on the manager's own thread) is closed before
            // the process ends, not left to the exit.
            m_network->clearConnectionCache();
            m_network.release()->deleteLater();
            QTimer::singleShot(100, this, [this, out] { succeed(out); });
        });
    });
}

void CommandRunner::runCheckConfig()
{
    // What serve would refuse at start, found without starting: the file and its values
    // (ConfigFile::resolve above), and the operator's certificate and key.
    using Mode = ServerConfig::Tls::Mode;
    QString tls = u"off"_s;
    if (m_config.tls.mode == Mode::Files) {
        const QDir data(m_config.dataDirectory);
        const auto certificate = TlsCertificate::fromFiles(data.filePath(m_config.tls.certificateFile),
                                                           data.filePath(m_config.tls.privateKeyFile));
        if (!certificate)
            return failWith(u"TLS: "_s + certificate.error());
        tls = u"from %1"_s.arg(data.filePath(m_config.tls.certificateFile));
    } else if (m_config.tls.mode == Mode::SelfSigned) {
        tls = u"self-signed"_s;
    }
    QString file = m_command.launch.configFile;
    if (file.isEmpty()) // as resolve() looks for it
        file = QFile::exists(QDir(m_config.dataDirectory).filePath(u"gatehouse.json"_s))
            ? QDir(m_config.dataDirectory).filePath(u"gatehouse.json"_s)
            : u"(no file: the defaults)"_s;
    succeed(u"configuration valid: %1\n"
            "listen       %2:%3\n"
            "data         %4\n"
            "tls          %5\n"_s.arg(file, m_config.listenAddress.toString())
                .arg(m_config.listenPort)
                .arg(m_config.dataDirectory, tls));
}

void CommandRunner::runTlsShow()
{
    using Mode = ServerConfig::Tls::Mode;
    QString path;
    if (m_config.tls.mode == Mode::Files)
        path = QDir(m_config.dataDirectory).filePath(m_config.tls.certificateFile);
    else if (m_config.tls.mode == Mode::SelfSigned)
        path = m_config.selfSignedCertificatePath();
    else
        return failWith(u"TLS is off: give \"tls\" in the config, or --tls-cert FILE"_s);
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return failWith(m_config.tls.mode == Mode::SelfSigned
                            ? u"no self-signed certificate yet: the server makes it when it first starts with TLS"_s
                            : u"cannot read %1: %2"_s.arg(path, file.errorString()));
    const auto summary = TlsCertificate::summaryOf(file.read(1024 * 1024));
    if (!summary)
        return failWith(u"%1: %2"_s.arg(path, summary.error()));
    QStringList names = summary->dnsNames;
    for (const auto &address : summary->addresses)
        names.append(address.toString());
    const qint64 daysLeft = QDateTime::currentDateTimeUtc().secsTo(summary->notAfter) / 86400;
    succeed(u"file         %1\n"
            "subject      %2\n"
            "issuer       %3\n"
            "names        %4\n"
            "valid from   %5\n"
            "valid until  %6 (%7)\n"
            "chain        %8 certificate(s)\n"
            "SHA-256      %9\n"
            "SPKI SHA-256 %10\n"_s
                .arg(path, summary->subject, summary->issuer, names.join(u", "_s),
                     summary->notBefore.toString(Qt::ISODate), summary->notAfter.toString(Qt::ISODate),
                     daysLeft >= 0 ? u"%1 days left"_s.arg(daysLeft) : u"EXPIRED"_s)
                .arg(summary->chainLength)
                .arg(summary->sha256Fingerprint, QString::fromLatin1(summary->spkiSha256Base64)));
}

void CommandRunner::runAuditCommand()
{
    const AuditLog audit(m_database, m_clock);
    if (m_command.kind == Kind::AuditVerify) {
        const auto verified = audit.verify();
        if (!verified) {
            const auto &problem = verified.error();
            return failWith(problem.eventId == 0
                                ? u"audit chain BROKEN: "_s + problem.reason
                                : u"audit chain BROKEN at event %1: %2"_s.arg(problem.eventId).arg(problem.reason));
        }
        return succeed(u"audit chain intact: %1 events\n"_s.arg(*verified));
    }
    // Oldest first, as a log is read; the chain hashes are included so that an export can be
    // checked against the database later.
    AuditFilter everything;
    everything.limit = 1'000'000;
    auto events = audit.query(everything);
    std::reverse(events.begin(), events.end());
    succeed(AuditLog::exportText(
        events, m_command.format == "csv"_L1 ? AuditLog::ExportFormat::Csv : AuditLog::ExportFormat::JsonLines));
}

void CommandRunner::runClientCommand()
{
    ClientRegistry clients(m_database);
    if (m_command.kind == Kind::ClientAdd) {
        OidcClient client;
        client.id = m_command.clientId;
        client.redirectUris = m_command.redirectUris;
        client.backchannelLogoutUri = m_command.backchannelLogoutUri;
        client.frontchannelLogoutUri = m_command.frontchannelLogoutUri;
        const auto added = clients.add(client, m_clock.nowSeconds());
        if (!added)
            return failWith(added.error());
        return succeed(u"added client %1\n"_s.arg(added->id));
    }
    if (m_command.kind == Kind::ClientRemove) {
        const auto removed = clients.remove(m_command.clientId);
        if (!removed)
            return failWith(removed.error());
        if (!*removed)
            return failWith(u"no client %1"_s.arg(m_command.clientId));
        return succeed(u"removed client %1\n"_s.arg(m_command.clientId));
    }
    const auto all = clients.list();
    if (m_command.json) {
        QJsonArray array;
        for (const auto &client : all) {
            array.append(QJsonObject { { "id"_L1, client.id },
                                       { "redirect_uris"_L1, QJsonArray::fromStringList(client.redirectUris) },
                                       { "backchannel_logout_uri"_L1, client.backchannelLogoutUri },
                                       { "frontchannel_logout_uri"_L1, client.frontchannelLogoutUri },
                                       { "created_at"_L1, client.createdAt } });
        }
        return succeed(QString::fromUtf8(QJsonDocument(array).toJson(QJsonDocument::Indented)));
    }
    QString out;
    for (const auto &client : all)
        out += u"%1  %2\n"_s.arg(client.id, client.redirectUris.join(u' '));
    succeed(out.isEmpty() ? u"no clients\n"_s : out);
}

QString CommandRunner::actor()
{
    // Who ran the command, as the audit log names them: the effective user, which an
    // environment variable cannot change (SUDO_USER could be set by anyone).
    const passwd *entry = ::getpwuid(::geteuid());
    return u"cli:"_s + (entry ? QString::fromLocal8Bit(entry->pw_name) : QString::number(::geteuid()));
}

void CommandRunner::recordChange(const QString &auditType, const QString &username, const QJsonObject &detail,
                                 StoreChange::Kind kind, bool password)
{
    // Audited as the console's own action is, and put in the outbox for a running server to
    // act on at once (a disabled user's sockets closed, a new key signing).
    AuditEvent event;
    event.type = auditType;
    event.actor = actor();
    event.username = username;
    event.detail = detail;
    if (const QByteArray sudoUser = qgetenv("SUDO_USER"); !sudoUser.isEmpty() && ::geteuid() == 0)
        event.detail.insert("sudo_user"_L1, QString::fromLocal8Bit(sudoUser)); // as sudo said it
    if (const auto appended = AuditLog(m_database, m_clock).append(event); !appended)
        std::fprintf(stderr, "gatehoused: the audit log was not written: %s\n", qPrintable(appended.error()));
    if (const auto recorded
        = StoreChanges::record(m_database, kind, username, password, event.actor, m_clock.nowSeconds());
        !recorded)
        std::fprintf(stderr, "gatehoused: a running server will not see this change before its restart: %s\n",
                     qPrintable(recorded.error()));
}

void CommandRunner::runUserCommand()
{
    const QString &name = m_command.username;
    Result<User, UserError> outcome = fail(UserError::NotFound);
    QString done;
    switch (m_command.kind) {
    case Kind::UserAdd:
        return runUserAdd();
    case Kind::UserList:
        return runUserList();
    case Kind::UserEnable:
        outcome = m_users->setEnabled(name, true);
        done = u"enabled %1\n"_s.arg(name);
        break;
    case Kind::UserDisable:
        outcome = m_users->setEnabled(name, false);
        done = u"disabled %1\n"_s.arg(name);
        break;
    case Kind::UserRoles:
        outcome = m_users->setRoles(name, m_command.roles);
        done = u"%1 now has roles: %2\n"_s.arg(name,
                                               m_command.roles.isEmpty() ? u"(none)"_s : m_command.roles.join(u", "_s));
        break;
    case Kind::UserPassword: {
        if (!m_users->find(name))
            return failWith(u"%1: %2"_s.arg(name, userErrorMessage(UserError::NotFound)));
        const auto password = PasswordInput::read(m_command.passwordFromStdin, u"New password for %1: "_s.arg(name));
        if (!password)
            return failWith(password.error());
        outcome = m_users->setPassword(name, *password);
        done = u"password changed for %1\n"_s.arg(name);
        break;
    }
    default:
        return failWith(u"not a user command"_s, 2);
    }
    if (!outcome)
        return failWith(u"%1: %2"_s.arg(name, userErrorMessage(outcome.error())));
    switch (m_command.kind) {
    case Kind::UserEnable:
        recordChange(u"user_enabled"_s, outcome->username, {}, StoreChange::Kind::User, false);
        break;
    case Kind::UserDisable:
        recordChange(u"user_disabled"_s, outcome->username, {}, StoreChange::Kind::User, false);
        break;
    case Kind::UserRoles:
        recordChange(u"user_roles_changed"_s, outcome->username,
                     { { "roles"_L1, QJsonArray::fromStringList(m_command.roles) } }, StoreChange::Kind::User, false);
        break;
    default: // a new password
        recordChange(u"user_password_reset"_s, outcome->username, {}, StoreChange::Kind::User, true);
        break;
    }
    succeed(done);
}

void CommandRunner::runUserAdd()
{
    const QString &name = m_command.username;
    if (!UserDirectory::isValidUsername(name))
        return failWith(userErrorMessage(UserError::InvalidUsername));
    if (m_users->find(name))
        return failWith(u"%1: %2"_s.arg(name, userErrorMessage(UserError::AlreadyExists)));
    const auto password = PasswordInput::read(m_command.passwordFromStdin, u"Password for %1: "_s.arg(name));
    if (!password)
        return failWith(password.error());
    const auto user = m_users->add(name, m_command.displayName, *password, m_command.roles);
    if (!user)
        return failWith(u"%1: %2"_s.arg(name, userErrorMessage(user.error())));
    recordChange(u"user_added"_s, user->username, { { "roles"_L1, QJsonArray::fromStringList(user->roles) } },
                 StoreChange::Kind::User, false);
    succeed(u"added %1\n"_s.arg(user->username));
}

void CommandRunner::runUserList()
{
    const auto users = m_users->list();
    if (m_command.json) {
        QJsonArray array;
        for (const auto &user : users)
            array.append(userToJson(user));
        return succeed(QString::fromUtf8(QJsonDocument(array).toJson(QJsonDocument::Indented)));
    }
    QString out
        = u"%1 %2 %3 %4\n"_s.arg(u"USERNAME"_s, -24).arg(u"STATE"_s, -9).arg(u"ROLES"_s, -24).arg(u"DISPLAY NAME"_s);
    for (const auto &user : users)
        out += u"%1 %2 %3 %4\n"_s.arg(user.username, -24)
                   .arg(user.enabled ? u"enabled"_s : u"disabled"_s, -9)
                   .arg(user.roles.join(u','), -24)
                   .arg(user.displayName);
    succeed(out);
}

void CommandRunner::withSecrets(std::function<void()> next)
{
    SecretBackend::open(m_database, m_config.dataDirectory, m_config.secretBackend, this,
                        [this, next](Result<std::shared_ptr<SecretStore>, QString> opened) {
                            if (!opened)
                                return failWith(opened.error());
                            m_secrets = std::move(opened).value();
                            next();
                        });
}

void CommandRunner::withKeys(std::function<void()> next)
{
    withSecrets([this, next] {
        m_keys
            = std::make_unique<KeyStore>(m_database, *m_secrets, m_clock,
                                         KeyStore::Options { m_config.signingAlgorithm, m_config.verificationGrace() });
        connect(m_keys.get(), &KeyStore::failed, this, [this](const QString &message) { failWith(message); });
        connect(m_keys.get(), &KeyStore::ready, this, next, Qt::SingleShotConnection);
        m_keys->load();
    });
}

void CommandRunner::runAdminTokenCommand()
{
    const auto print = [this](Result<QByteArray, SecretFailure> token) {
        if (!token)
            return failWith(
                u"cannot use the admin token in %1: %2"_s.arg(m_secrets->location(), token.error().message));
        // Recorded as the full token "admin": a running server follows the store, and takes
        // the rotated token (and refuses the old one) within a second.
        const auto synced = AdminTokenRegistry(m_database).syncAdmin(AdminToken::hash(*token), m_clock.nowSeconds());
        if (!synced)
            return failWith(u"cannot record the admin token: %1"_s.arg(synced.error()));
        succeed(QString::fromLatin1(*token) + u'\n');
    };
    if (m_command.kind == Kind::AdminTokenRotate)
        AdminToken::rotate(*m_secrets, this, print);
    else
        AdminToken::load(*m_secrets, this, print);
}

void CommandRunner::runNamedAdminTokenCommand()
{
    AdminTokenRegistry tokens(m_database);
    const QString &name = m_command.username;
    if (m_command.kind == Kind::AdminTokenAdd) {
        const auto scope = AdminScopes::parse(m_command.scope);
        if (!scope)
            return failWith(u"--scope: viewer, operator or full"_s);
        const auto token = tokens.add(name, *scope, m_clock.nowSeconds());
        if (!token)
            return failWith(token.error());
        std::fputs(
            qPrintable(u"gatehoused: admin token %1 (%2) made; it is shown this once\n"_s.arg(name, m_command.scope)),
            stderr);
        return succeed(QString::fromLatin1(*token) + u'\n');
    }
    if (m_command.kind == Kind::AdminTokenRevoke) {
        const auto revoked = tokens.revoke(name);
        if (!revoked)
            return failWith(revoked.error());
        if (!*revoked)
            return failWith(u"no admin token named %1"_s.arg(name));
        return succeed(u"revoked admin token %1\n"_s.arg(name));
    }
    const auto all = tokens.list();
    if (m_command.json) {
        QJsonArray array;
        for (const auto &token : all)
            array.append(QJsonObject { { "name"_L1, token.name },
                                       { "scope"_L1, AdminScopes::name(token.scope) },
                                       { "created_at"_L1, token.createdAt } });
        return succeed(QString::fromUtf8(QJsonDocument(array).toJson(QJsonDocument::Indented)));
    }
    QString out;
    for (const auto &token : all)
        out += u"%1 %2 %3\n"_s.arg(token.name, -24)
                   .arg(AdminScopes::name(token.scope), -9)
                   .arg(QDateTime::fromSecsSinceEpoch(token.createdAt, Qt::UTC).toString(Qt::ISODate));
    succeed(out.isEmpty() ? u"no admin tokens (the server records \"admin\" at its first start)\n"_s : out);
}

void CommandRunner::runKeysCommand()
{
    if (m_command.kind == Kind::KeysJwks)
        return succeed(QString::fromUtf8(QJsonDocument(m_keys->jwks()).toJson(QJsonDocument::Indented)));
    if (m_command.kind == Kind::KeysRotate) {
        connect(m_keys.get(), &KeyStore::rotated, this, [this](const QString &keyId) {
            recordChange(u"signing_key_rotated"_s, {}, { { "kid"_L1, keyId } }, StoreChange::Kind::Keys, false);
            succeed(u"signing key is now %1\n"_s.arg(keyId));
        });
        m_keys->rotate();
        return;
    }
    QString out = u"%1 %2 %3 %4 %5\n"_s.arg(u"KID"_s, -44)
                      .arg(u"ALG"_s, -6)
                      .arg(u"STATE"_s, -8)
                      .arg(u"CREATED"_s, -21)
                      .arg(u"VERIFIES UNTIL"_s);
    for (const auto &key : m_keys->keys())
        out += u"%1 %2 %3 %4 %5\n"_s.arg(key.keyId, -44)
                   .arg(key.algorithm, -6)
                   .arg(key.active ? u"signing"_s : u"retired"_s, -8)
                   .arg(isoTime(key.createdAt), -21)
                   .arg(key.active ? u"(current)"_s : isoTime(key.verifyUntil));
    succeed(out);
}

void CommandRunner::runTokenMint()
{
    const auto user = m_users->find(m_command.username);
    if (!user)
        return failWith(u"%1: %2"_s.arg(m_command.username, userErrorMessage(UserError::NotFound)));
    if (!user->enabled)
        return failWith(u"%1: %2"_s.arg(m_command.username, userErrorMessage(UserError::Disabled)));
    const auto lifetime = m_command.lifetimeSeconds > 0 ? std::chrono::seconds(m_command.lifetimeSeconds)
                                                        : m_config.accessTokenLifetime;
    if (lifetime > m_config.maximumAccessTokenLifetime)
        return failWith(
            u"--ttl: at most %1 seconds (max_access_token_ttl)"_s.arg(m_config.maximumAccessTokenLifetime.count()));
    // A real session, so that the token is honoured, listed and revocable like any other.
    m_sessionStore = std::make_unique<SqliteSessionStore>(m_database);
    m_audit = std::make_unique<AuditLog>(m_database, m_clock);
    const auto mint = [this](const AccessTokenRequest &request) -> std::optional<IssuedToken> {
        return TokenIssuer(*m_keys->signingKey(), m_config.issuer, m_config.audience).mint(request, m_clock.now());
    };
    m_sessions = std::make_unique<SessionService>(*m_sessionStore, *m_users, *m_audit, m_clock, mint, SessionPolicy {});
    QString tokens;
    for (int i = 1; i <= m_command.count; ++i) {
        const QString device = m_command.count == 1 ? m_command.device : u"%1-%2"_s.arg(m_command.device).arg(i);
        const auto pair = m_sessions->openTrustedSession(user->username, device, lifetime, actor());
        if (!pair)
            return failWith(u"cannot open a session: "_s + sessionErrorCode(pair.error()));
        tokens += QString::fromLatin1(pair->accessToken) + u'\n';
    }
    succeed(tokens);
}

void CommandRunner::reload()
{
    if (!m_server || m_server->state() != ServerState::Running)
        return;
    m_server->reloadTls(this, [this](const AdminOutcome &outcome) {
        if (outcome.ok())
            print(stdout, u"gatehoused: TLS certificate reloaded\n"_s);
        else
            print(stderr, u"gatehoused: TLS certificate not reloaded: %1\n"_s.arg(outcome.error));
    });
}

void CommandRunner::serve()
{
    m_server = std::make_unique<SessionServer>(m_command.launch);
    connect(m_server.get(), &SessionServer::stateChanged, this, [this](ServerState state) {
        if (state == ServerState::Running)
            print(stdout,
                  u"gatehoused: listening on %1 (data in %2)\n"_s.arg(m_server->listenAddress(),
                                                                      m_server->dataDirectory()));
        else if (state == ServerState::Failed)
            failWith(m_server->errorString());
    });
    m_server->start();
}

void CommandRunner::runBackupCommand()
{
    m_backup = std::make_unique<BackupCommand>(m_command, m_config, actor());
    connect(m_backup.get(), &BackupCommand::finished, this, [this](int exitCode, const QString &text) {
        if (exitCode == 0)
            succeed(text);
        else
            failWith(text, exitCode);
    });
    m_backup->run();
}
