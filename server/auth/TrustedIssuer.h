#pragma once

#include "auth/IssuerPolicy.h"
#include "auth/JsonWebKey.h"

#include <QList>

/// Another service whose tokens we accept: its expected `iss`/`aud`/`typ` and its keys.
struct TrustedIssuer {
    IssuerPolicy policy;
    QList<JsonWebKey> keys;
    /// True when its single key has no `kid`: it then verifies tokens whose header names none.
    bool keyWithoutId = false;
};
