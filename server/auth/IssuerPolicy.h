#pragma once

#include <QString>

/// What a token signed by a given key must also say: who issued it, for whom, and of which
/// type. Our own keys share one policy; each trusted external issuer has its own.
struct IssuerPolicy {
    QString issuer;
    QString audience;
    QString type = QStringLiteral("at+jwt"); ///< `typ` header, compared case-insensitively
    bool local = false; ///< tokens we minted: `jti`, `iat` and `sid` are required
};
