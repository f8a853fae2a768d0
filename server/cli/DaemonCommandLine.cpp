#include "cli/DaemonCommandLine.h"

#include <QCommandLineParser>

#include <optional>

using namespace Qt::StringLiterals;

namespace {
constexpr qint64 maximumLifetimeFlag = 30 * 24 * 3600;
constexpr int maximumMintCount = 100000;

const auto usage = u"Usage: gatehoused <command> [options]\n"
                   "\n"
                   "Commands:\n"
                   "  serve [--listen HOST:PORT] [--access-token-ttl S] [--refresh-token-idle-ttl S]\n"
                   "        [--refresh-token-max-ttl S] [--session-idle-ttl S]   run the server (headless)\n"
                   "        [--tls self-signed | --tls-cert FILE --tls-key FILE]  HTTPS and WSS on the port\n"
                   "  user add NAME [--display-name TEXT] [--role ROLE]... [--password-stdin]\n"
                   "  user list [--json]\n"
                   "  user enable NAME | user disable NAME\n"
                   "  user passwd NAME [--password-stdin]\n"
                   "  user roles NAME [--role ROLE]...        replace the user's roles\n"
                   "  token mint --user NAME --device ID [--ttl SECONDS] [--count N]\n"
                   "                                          N sessions on devices ID-1..ID-N, a token a line\n"
                   "  keys list | keys rotate | keys jwks\n"
                   "  audit verify                            check the audit log's hash chain\n"
                   "  audit export [--format jsonl|csv]       print the audit log, oldest first\n"
                   "  admin-token show | admin-token rotate   the built-in full admin token, \"admin\"\n"
                   "  admin-token add NAME --scope viewer|operator|full\n"
                   "                                          a named admin token, printed once\n"
                   "  admin-token list [--json] | admin-token revoke NAME\n"
                   "  client add --id ID --redirect-uri URI [--redirect-uri URI ...]\n"
                   "             [--backchannel-logout-uri URI] [--frontchannel-logout-uri URI]\n"
                   "  client list [--json] | client remove --id ID   OIDC relying parties\n"
                   "  status                                  ask the server running on the data directory\n"
                   "                                          for its address, TLS, connections, uptime\n"
                   "  check-config [--config FILE]            check the configuration (and TLS files)\n"
                   "                                          without starting: for ExecStartPre\n"
                   "  tls show [--tls-cert FILE]              the certificate served: subject, names,\n"
                   "                                          validity, SHA-256 fingerprint\n"
                   "  backup --to FILE [--passphrase-stdin]   the database and the secrets that make it\n"
                   "                                          work, sealed with a passphrase; the server\n"
                   "                                          may be running\n"
                   "  restore --from FILE [--passphrase-stdin] [--force]\n"
                   "                                          into --data-dir (the server stopped); --force\n"
                   "                                          replaces a database already there\n"
                   "\n"
                   "Every command takes --data-dir DIR (or $GATEHOUSE_DATA_DIR), --config FILE and\n"
                   "--secret-store auto|keychain|file. Passwords are read from a prompt, or from\n"
                   "standard input with --password-stdin; never from the command line. So is a\n"
                   "backup's passphrase (--passphrase-stdin).\n"_s;

struct Route {
    QStringList words;
    DaemonCommand::Kind kind;
    bool takesName;
};

const Route routes[] = {
    { { u"serve"_s }, DaemonCommand::Kind::Serve, false },
    { { u"user"_s, u"add"_s }, DaemonCommand::Kind::UserAdd, true },
    { { u"user"_s, u"list"_s }, DaemonCommand::Kind::UserList, false },
    { { u"user"_s, u"enable"_s }, DaemonCommand::Kind::UserEnable, true },
    { { u"user"_s, u"disable"_s }, DaemonCommand::Kind::UserDisable, true },
    { { u"user"_s, u"passwd"_s }, DaemonCommand::Kind::UserPassword, true },
    { { u"user"_s, u"roles"_s }, DaemonCommand::Kind::UserRoles, true },
    { { u"token"_s, u"mint"_s }, DaemonCommand::Kind::TokenMint, false },
    { { u"keys"_s, u"list"_s }, DaemonCommand::Kind::KeysList, false },
    { { u"keys"_s, u"rotate"_s }, DaemonCommand::Kind::KeysRotate, false },
    { { u"keys"_s, u"jwks"_s }, DaemonCommand::Kind::KeysJwks, false },
    { { u"audit"_s, u"verify"_s }, DaemonCommand::Kind::AuditVerify, false },
    { { u"audit"_s, u"export"_s }, DaemonCommand::Kind::AuditExport, false },
    { { u"admin-token"_s, u"show"_s }, DaemonCommand::Kind::AdminTokenShow, false },
    { { u"admin-token"_s, u"rotate"_s }, DaemonCommand::Kind::AdminTokenRotate, false },
    { { u"admin-token"_s, u"add"_s }, DaemonCommand::Kind::AdminTokenAdd, true },
    { { u"admin-token"_s, u"list"_s }, DaemonCommand::Kind::AdminTokenList, false },
    { { u"admin-token"_s, u"revoke"_s }, DaemonCommand::Kind::AdminTokenRevoke, true },
    { { u"client"_s, u"add"_s }, DaemonCommand::Kind::ClientAdd, false },
    { { u"client"_s, u"list"_s }, DaemonCommand::Kind::ClientList, false },
    { { u"client"_s, u"remove"_s }, DaemonCommand::Kind::ClientRemove, false },
    { { u"tls"_s, u"show"_s }, DaemonCommand::Kind::TlsShow, false },
    { { u"check-config"_s }, DaemonCommand::Kind::CheckConfig, false },
    { { u"status"_s }, DaemonCommand::Kind::Status, false },
    { { u"backup"_s }, DaemonCommand::Kind::Backup, false },
    { { u"restore"_s }, DaemonCommand::Kind::Restore, false },
};

/// backup and restore: --to, --from, --passphrase-stdin and --force, each with its command.
std::optional<QString> readBackupOptions(const QCommandLineParser &parser, DaemonCommand &command)
{
    const bool backup = command.kind == DaemonCommand::Kind::Backup;
    const bool restore = command.kind == DaemonCommand::Kind::Restore;
    if (parser.isSet(u"to"_s) && !backup)
        return u"--to only goes with backup"_s;
    if ((parser.isSet(u"from"_s) || parser.isSet(u"force"_s)) && !restore)
        return u"--from and --force only go with restore"_s;
    if (parser.isSet(u"passphrase-stdin"_s) && !backup && !restore)
        return u"--passphrase-stdin only goes with backup and restore"_s;
    if (backup && parser.value(u"to"_s).isEmpty())
        return u"backup needs --to FILE"_s;
    if (restore && parser.value(u"from"_s).isEmpty())
        return u"restore needs --from FILE"_s;
    command.backupFile = backup ? parser.value(u"to"_s) : parser.value(u"from"_s);
    command.passphraseFromStdin = parser.isSet(u"passphrase-stdin"_s);
    command.force = parser.isSet(u"force"_s);
    return std::nullopt;
}
} // namespace

Result<DaemonCommand, QString> DaemonCommandLine::parse(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.setSingleDashWordOptionMode(QCommandLineParser::ParseAsLongOptions);
    const QCommandLineOption help({ u"h"_s, u"help"_s }, u"Show this help."_s);
    const QCommandLineOption version(u"version"_s, u"Show the version."_s);
    const QCommandLineOption dataDir(u"data-dir"_s, u"Data directory."_s, u"DIR"_s);
    const QCommandLineOption config(u"config"_s, u"Config file."_s, u"FILE"_s);
    const QCommandLineOption secretStore(u"secret-store"_s, u"auto, keychain or file."_s, u"MODE"_s);
    const QCommandLineOption listen(u"listen"_s, u"Listen address."_s, u"HOST:PORT"_s);
    const QCommandLineOption tls(u"tls"_s, u"self-signed: TLS with a certificate made for a lab."_s, u"MODE"_s);
    const QCommandLineOption tlsCertificate(u"tls-cert"_s, u"TLS certificate chain (PEM)."_s, u"FILE"_s);
    const QCommandLineOption tlsKey(u"tls-key"_s, u"TLS private key (PEM)."_s, u"FILE"_s);
    const QCommandLineOption displayName(u"display-name"_s, u"Display name."_s, u"TEXT"_s);
    const QCommandLineOption role(u"role"_s, u"A role (repeatable)."_s, u"ROLE"_s);
    const QCommandLineOption passwordStdin(u"password-stdin"_s, u"Read the password from standard input."_s);
    const QCommandLineOption json(u"json"_s, u"Print JSON."_s);
    const QCommandLineOption user(u"user"_s, u"Username."_s, u"NAME"_s);
    const QCommandLineOption device(u"device"_s, u"Device id."_s, u"ID"_s);
    const QCommandLineOption ttl(u"ttl"_s, u"Token lifetime in seconds."_s, u"SECONDS"_s);
    const QCommandLineOption count(u"count"_s, u"How many sessions to open."_s, u"N"_s);
    const QCommandLineOption format(u"format"_s, u"Export format: jsonl or csv."_s, u"FORMAT"_s);
    const QCommandLineOption clientId(u"id"_s, u"Client id."_s, u"ID"_s);
    const QCommandLineOption scope(u"scope"_s, u"An admin token's scope: viewer, operator or full."_s, u"SCOPE"_s);
    const QCommandLineOption redirectUri(u"redirect-uri"_s, u"A redirect URI (repeatable)."_s, u"URI"_s);
    const QCommandLineOption backchannel(u"backchannel-logout-uri"_s, u"Back-channel logout URI."_s, u"URI"_s);
    const QCommandLineOption frontchannel(u"frontchannel-logout-uri"_s, u"Front-channel logout URI."_s, u"URI"_s);
    const QCommandLineOption to(u"to"_s, u"The backup file to write."_s, u"FILE"_s);
    const QCommandLineOption from(u"from"_s, u"The backup file to restore."_s, u"FILE"_s);
    const QCommandLineOption passphraseStdin(u"passphrase-stdin"_s,
                                             u"Read the backup's passphrase from standard input."_s);
    const QCommandLineOption force(u"force"_s, u"restore: replace the data directory's database."_s);
    const QStringList lifetimeNames { u"access-token-ttl"_s, u"refresh-token-idle-ttl"_s, u"refresh-token-max-ttl"_s,
                                      u"session-idle-ttl"_s };
    for (const auto &name : lifetimeNames)
        parser.addOption(QCommandLineOption(name, u"Lifetime in seconds (serve)."_s, u"SECONDS"_s));
    parser.addOptions({ help,   version,     dataDir,  config,        secretStore, listen,       tls,    tlsCertificate,
                        tlsKey, displayName, role,     passwordStdin, json,        user,         device, ttl,
                        count,  format,      clientId, redirectUri,   backchannel, frontchannel, scope });
    parser.addOptions({ to, from, passphraseStdin, force });

    DaemonCommand command;
    // The commands, then every option from the table above: `--help` and the man page made
    // from it (help2man, packaging/CMakeLists.txt) cannot miss one.
    const QString generated = parser.helpText();
    const qsizetype options = generated.indexOf(u"Options:"_s);
    command.helpText = usage + (options < 0 ? QString() : u'\n' + generated.mid(options));
    if (!parser.parse(arguments))
        return fail(parser.errorText());
    if (parser.isSet(help))
        return command;
    if (parser.isSet(version)) {
        command.kind = DaemonCommand::Kind::Version;
        return command;
    }

    const QStringList words = parser.positionalArguments();
    const Route *route = nullptr;
    for (const auto &candidate : routes) {
        if (words.mid(0, candidate.words.size()) == candidate.words) {
            route = &candidate;
            break;
        }
    }
    if (!route)
        return fail(words.isEmpty() ? u"no command given (try --help)"_s
                                    : u"unknown command \"%1\" (try --help)"_s.arg(words.join(u' ')));
    const QStringList rest = words.mid(route->words.size());
    if (route->takesName && rest.size() != 1)
        return fail(u"\"%1\" takes exactly one %2"_s.arg(
            route->words.join(u' '), route->words.first() == "user"_L1 ? u"user name"_s : u"name"_s));
    if (!route->takesName && !rest.isEmpty())
        return fail(u"unexpected argument \"%1\""_s.arg(rest.first()));

    command.kind = route->kind;
    command.username = route->takesName ? rest.first() : parser.value(user);
    command.launch = SessionServerOptions { parser.value(dataDir), parser.value(config), parser.value(listen),
                                            parser.value(secretStore) };
    command.launch.tls = parser.value(tls);
    command.launch.tlsCertificate = parser.value(tlsCertificate);
    command.launch.tlsKey = parser.value(tlsKey);
    command.displayName = parser.value(displayName);
    command.roles = parser.values(role);
    command.rolesGiven = parser.isSet(role);
    command.passwordFromStdin = parser.isSet(passwordStdin);
    command.json = parser.isSet(json);
    command.device = parser.value(device);

    if (parser.isSet(format)) {
        command.format = parser.value(format);
        if (command.kind != DaemonCommand::Kind::AuditExport)
            return fail(u"--format only goes with audit export"_s);
        if (command.format != "jsonl"_L1 && command.format != "csv"_L1)
            return fail(u"--format: jsonl or csv"_s);
    }
    for (const auto &name : lifetimeNames) {
        if (!parser.isSet(name))
            continue;
        if (command.kind != DaemonCommand::Kind::Serve)
            return fail(u"--%1 only goes with serve"_s.arg(name));
        bool ok = false;
        const qint64 seconds = parser.value(name).toLongLong(&ok);
        if (!ok)
            return fail(u"--%1: a whole number of seconds"_s.arg(name));
        command.launch.lifetimes.append({ QString(name).replace(u'-', u'_'), seconds });
    }
    const bool clientCommand = command.kind == DaemonCommand::Kind::ClientAdd
        || command.kind == DaemonCommand::Kind::ClientList || command.kind == DaemonCommand::Kind::ClientRemove;
    for (const auto *option : { &clientId, &redirectUri, &backchannel, &frontchannel }) {
        if (parser.isSet(*option) && !clientCommand)
            return fail(u"--%1 only goes with client commands"_s.arg(option->names().first()));
    }
    if (clientCommand) {
        command.clientId = parser.value(clientId);
        command.redirectUris = parser.values(redirectUri);
        command.backchannelLogoutUri = parser.value(backchannel);
        command.frontchannelLogoutUri = parser.value(frontchannel);
        if (command.kind != DaemonCommand::Kind::ClientList && command.clientId.isEmpty())
            return fail(u"client %1 needs --id ID"_s.arg(words.value(1)));
        if (command.kind != DaemonCommand::Kind::ClientAdd
            && (!command.redirectUris.isEmpty() || parser.isSet(backchannel) || parser.isSet(frontchannel)))
            return fail(u"URIs only go with client add"_s);
        if (command.kind == DaemonCommand::Kind::ClientAdd && command.redirectUris.isEmpty())
            return fail(u"client add needs at least one --redirect-uri URI"_s);
    }
    if (parser.isSet(scope) != (command.kind == DaemonCommand::Kind::AdminTokenAdd))
        return fail(parser.isSet(scope) ? u"--scope only goes with admin-token add"_s
                                        : u"admin-token add needs --scope viewer|operator|full"_s);
    command.scope = parser.value(scope);
    if (const auto problem = readBackupOptions(parser, command))
        return fail(*problem);
    if (parser.isSet(listen) && command.kind != DaemonCommand::Kind::Serve)
        return fail(u"--listen only goes with serve"_s);
    if ((parser.isSet(tls) || parser.isSet(tlsCertificate) || parser.isSet(tlsKey))
        && command.kind != DaemonCommand::Kind::Serve && command.kind != DaemonCommand::Kind::TlsShow)
        return fail(u"--tls, --tls-cert and --tls-key only go with serve (and tls show)"_s);
    if (command.kind == DaemonCommand::Kind::TokenMint) {
        if (command.username.isEmpty())
            return fail(u"token mint needs --user NAME"_s);
        if (command.device.isEmpty())
            return fail(u"token mint needs --device ID"_s);
        if (parser.isSet(count)) {
            bool ok = false;
            command.count = parser.value(count).toInt(&ok);
            if (!ok || command.count < 1 || command.count > maximumMintCount)
                return fail(u"--count: a whole number from 1 to %1"_s.arg(maximumMintCount));
        }
        if (parser.isSet(ttl)) {
            bool ok = false;
            command.lifetimeSeconds = parser.value(ttl).toLongLong(&ok);
            if (!ok || command.lifetimeSeconds < 1 || command.lifetimeSeconds > maximumLifetimeFlag)
                return fail(u"--ttl: a whole number of seconds from 1 to %1"_s.arg(maximumLifetimeFlag));
        }
    }
    return command;
}
