#pragma once

#include <QLatin1StringView>
#include <QStringView>

#include <optional>

/// The JWS algorithms the verifier knows (RFC 7518 §3, RFC 8037 §3.1). A key is pinned to
/// exactly one of them; a token's `alg` header only has to agree with it.
enum class JwsAlgorithm {
    HS256,
    HS384,
    HS512,
    RS256,
    RS384,
    RS512,
    PS256,
    PS384,
    PS512,
    ES256,
    ES384,
    ES512,
    EdDSA,
};

enum class KeyFamily { Hmac, Rsa, RsaPss, Ecdsa, EdDsa };

namespace Jwa {
std::optional<JwsAlgorithm> fromName(QStringView name);
QLatin1StringView name(JwsAlgorithm algorithm);
KeyFamily family(JwsAlgorithm algorithm);
/// OpenSSL digest name ("SHA256"), or nullptr for EdDSA which hashes internally.
const char *digestName(JwsAlgorithm algorithm);
/// Bytes in the digest, which is also the minimum HMAC key and the PSS salt length.
int digestSize(JwsAlgorithm algorithm);
/// For ECDSA: the JWK curve name ("P-256") and the size of R and of S in bytes.
QLatin1StringView curveName(JwsAlgorithm algorithm);
int ecdsaCoordinateSize(JwsAlgorithm algorithm);
} // namespace Jwa
