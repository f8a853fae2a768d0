#pragma once

#include <QByteArrayView>
#include <QString>

/// Unguessable identifiers from the operating system's CSPRNG, base64url without padding.
namespace RandomToken {
QString generate(int bytes);
/// How a bearer secret (refresh token, code, cookie) is stored: hex SHA-256, never the secret.
QString storedHash(QByteArrayView secret);
} // namespace RandomToken
