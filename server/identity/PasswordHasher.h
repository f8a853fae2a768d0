#pragma once

#include <QByteArray>
#include <QByteArrayView>

/// Argon2id password hashes (RFC 9106) with OWASP's parameters: 19 MiB, 2 passes, 1 lane.
/// CPU-heavy (tens of milliseconds) by design: call it off the GUI thread.
namespace PasswordHasher {
/// The PHC-encoded hash ("$argon2id$v=19$m=19456,t=2,p=1$salt$hash"), or empty on failure.
QByteArray hash(QByteArrayView password);
bool verify(QByteArrayView password, const QByteArray &encodedHash);
} // namespace PasswordHasher
