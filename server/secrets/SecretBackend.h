#pragma once

#include "secrets/SecretStore.h"

#include <QString>

#include <functional>
#include <memory>

class Database;

enum class SecretBackendMode { Automatic, Keychain, File };

/// Chooses the SecretStore of a data directory. The first choice is written to the
/// database and kept: keys put in the keychain are never looked for in files later, or the
/// other way round. `Automatic` tries the Secret Service and falls back, with a warning, to
/// owner-only files in `<data-dir>/secrets`.
namespace SecretBackend {
using Opened = std::function<void(Result<std::shared_ptr<SecretStore>, QString>)>;
/// Stops waiting for the Secret Service's answer to the probe (a password prompt nobody
/// answers): in `Automatic` mode the secrets go to owner-only files at once, as the admin
/// chose. Does nothing once the choice is made.
using StopWaiting = std::function<void()>;

std::optional<SecretBackendMode> modeFromName(const QString &name);
/// `done` runs when the store is chosen; the returned StopWaiting cuts a probe short.
StopWaiting open(Database &database, const QString &dataDirectory, SecretBackendMode mode, QObject *context,
                 Opened done);
/// The same choice for secrets that belong to no data directory's database (the console's
/// remembered admin tokens): keychain entries under `keychainPrefix`, or files in
/// `filesDirectory`. Nothing is recorded, so `Automatic` probes each time.
void openUnrecorded(const QString &keychainPrefix, const QString &filesDirectory, SecretBackendMode mode,
                    QObject *context, Opened done);
} // namespace SecretBackend
