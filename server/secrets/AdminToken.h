#pragma once

#include "secrets/SecretStore.h"

#include <QByteArray>

#include <functional>

/// The administrator's bearer token (`gha_…`), kept in the SecretStore under "admin-token".
/// Only its SHA-256 is held in memory by the server; comparison is in constant time.
namespace AdminToken {
using Done = std::function<void(Result<QByteArray, SecretFailure>)>;

/// The current token, created on first use.
void load(SecretStore &secrets, QObject *context, Done done);
/// A new token replaces the old one (a running server picks it up at its next start).
void rotate(SecretStore &secrets, QObject *context, Done done);

QByteArray hash(QByteArrayView token);
bool matches(QByteArrayView presented, const QByteArray &expectedHash);
} // namespace AdminToken
