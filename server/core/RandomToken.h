#pragma once

#include <QString>

/// Unguessable identifiers from the operating system's CSPRNG, base64url without padding.
namespace RandomToken {
QString generate(int bytes);
}
