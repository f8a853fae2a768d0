#pragma once

#include "Result.h"
#include "auth/AccessClaims.h"
#include "auth/KeySet.h"
#include "auth/TokenError.h"

#include <QByteArrayView>

#include <chrono>
#include <memory>

/// Verifies access tokens against a key set: signature with the pinned key and algorithm,
/// then `typ`, `iss`, `aud`, `exp`, `nbf`, `iat` and the required claims, and the lifetime
/// of an external issuer's token. Pure: the time comes in, nothing is logged or stored, and
/// it is safe to call from any thread.
class TokenVerifier final {
public:
    struct Options {
        std::chrono::seconds clockSkew { 30 };
        qsizetype maximumTokenSize = 8 * 1024;
        /// max_access_token_ttl: the longest an external issuer's token may live, from its
        /// `iat` (or from now when it has none) to its `exp`.
        std::chrono::seconds maximumLifetime { 24 * 3600 };
    };

    TokenVerifier(std::shared_ptr<const KeySet> keys, Options options);

    Result<AccessClaims, TokenError> verify(QByteArrayView token, std::chrono::system_clock::time_point now) const;

    const KeySet &keys() const { return *m_keys; }

private:
    std::shared_ptr<const KeySet> m_keys;
    Options m_options;
};
