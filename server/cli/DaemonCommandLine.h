#pragma once

#include "Result.h"
#include "SessionServerOptions.h"

#include <QStringList>

/// One parsed `gatehoused` invocation.
struct DaemonCommand {
    enum class Kind {
        Help,
        Version,
        Serve,
        UserAdd,
        UserList,
        UserEnable,
        UserDisable,
        UserPassword,
        UserRoles,
        TokenMint,
        KeysList,
        KeysRotate,
        KeysJwks,
        AuditVerify,
        AuditExport,
        AdminTokenShow,
        AdminTokenRotate,
        AdminTokenAdd,
        AdminTokenList,
        AdminTokenRevoke,
        ClientAdd,
        ClientList,
        ClientRemove,
        TlsShow,
        CheckConfig,
        Status,
        Backup,
        Restore,
    };

    Kind kind = Kind::Help;
    SessionServerOptions launch;
    QString username;
    QString displayName;
    QStringList roles;
    bool rolesGiven = false;
    bool passwordFromStdin = false;
    bool json = false;
    QString device;
    qint64 lifetimeSeconds = 0; ///< 0: the configured default
    int count = 1; ///< token mint: sessions to open
    QString format = QStringLiteral("jsonl"); ///< audit export: jsonl or csv
    QString scope; ///< admin-token add: --scope viewer|operator|full
    QString clientId; ///< client add|remove: --id
    QStringList redirectUris;
    QString backchannelLogoutUri;
    QString frontchannelLogoutUri;
    QString backupFile; ///< backup --to, restore --from
    bool passphraseFromStdin = false;
    bool force = false; ///< restore: replace the database of the data directory
    QString helpText;
};

/// Turns argv into a DaemonCommand, or one sentence saying what is wrong (exit code 2).
/// Pure: no files, no output.
namespace DaemonCommandLine {
Result<DaemonCommand, QString> parse(const QStringList &arguments);
}
