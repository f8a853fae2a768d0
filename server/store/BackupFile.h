#pragma once

#include "Result.h"

#include <QByteArray>
#include <QJsonObject>

/// The sealed file `gatehoused backup` writes and `restore` reads:
///
///     magic "GATEHOUSE-BACKUP" (16 bytes) | version u16 | KDF id u8 (1: Argon2id)
///     | time cost u32 | memory KiB u32 | lanes u32 | salt (16) | nonce (12)
///     | ciphertext length u64 | AES-256-GCM ciphertext | tag (16)
///
/// big-endian numbers; the key is Argon2id(passphrase, salt) with the parameters of the
/// header, and the whole header is the cipher's additional data, so that the tag vouches for
/// every byte of the file. The plaintext is `length u32 | secrets (JSON) | database bytes`.
/// Pure: no files, no output.
namespace BackupFile {
struct Contents {
    QJsonObject secrets; ///< {"secrets": {name: value}, ...}: what the secret store held
    QByteArray database; ///< an SQLite database file, as VACUUM INTO wrote it
};

/// Seals `contents` with a key derived from `passphrase` (never empty).
Result<QByteArray, QString> seal(const Contents &contents, QByteArrayView passphrase);
/// Opens a sealed file, or says in one sentence why not: not a backup, a version this
/// build does not read, truncated, or a wrong passphrase or altered bytes (GCM cannot tell
/// these two apart).
Result<Contents, QString> open(QByteArrayView file, QByteArrayView passphrase);
} // namespace BackupFile
