#pragma once

#include "secrets/SecretStore.h"

#include <QByteArray>

#include <functional>

/// The key that signs what the server hands browsers to keep: device cookies and the login
/// pages' form tokens. 256 random bits, kept in the SecretStore under "cookie-key" so that
/// device cookies outlive restarts; only the server thread holds it in memory.
namespace CookieKey {
using Done = std::function<void(Result<QByteArray, SecretFailure>)>;

/// The current key, created on first use (and replaced if what is stored is not one).
void load(SecretStore &secrets, QObject *context, Done done);
} // namespace CookieKey
