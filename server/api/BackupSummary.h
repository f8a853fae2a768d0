#pragma once

#include <QString>
#include <QtGlobal>

/// What a backup file (`gatehoused backup`, docs/operations.md) says of itself once opened
/// with its passphrase: enough for an admin to be sure it is the one to restore.
struct BackupSummary {
    qint64 createdAt = 0; ///< seconds since the epoch, when the backup was made
    int schemaVersion = 0; ///< of the database it holds
    QString signingKeyId; ///< the key that signed when it was made; empty if none yet
    qint64 databaseBytes = 0;
    int secretCount = 0; ///< signing key, cookie key, admin token: those the server had
};
