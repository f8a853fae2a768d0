#include "auth/JwsAlgorithm.h"

#include <array>

namespace {
struct AlgorithmInfo {
    JwsAlgorithm algorithm;
    QLatin1StringView name;
    KeyFamily family;
    const char *digest;
    int digestSize;
    QLatin1StringView curve;
    int coordinateSize;
};

using namespace Qt::StringLiterals;

constexpr std::array algorithms {
    AlgorithmInfo { JwsAlgorithm::HS256, "HS256"_L1, KeyFamily::Hmac, "SHA256", 32, {}, 0 },
    AlgorithmInfo { JwsAlgorithm::HS384, "HS384"_L1, KeyFamily::Hmac, "SHA384", 48, {}, 0 },
    AlgorithmInfo { JwsAlgorithm::HS512, "HS512"_L1, KeyFamily::Hmac, "SHA512", 64, {}, 0 },
    AlgorithmInfo { JwsAlgorithm::RS256, "RS256"_L1, KeyFamily::Rsa, "SHA256", 32, {}, 0 },
    AlgorithmInfo { JwsAlgorithm::RS384, "RS384"_L1, KeyFamily::Rsa, "SHA384", 48, {}, 0 },
    AlgorithmInfo { JwsAlgorithm::RS512, "RS512"_L1, KeyFamily::Rsa, "SHA512", 64, {}, 0 },
    AlgorithmInfo { JwsAlgorithm::PS256, "PS256"_L1, KeyFamily::RsaPss, "SHA256", 32, {}, 0 },
    AlgorithmInfo { JwsAlgorithm::PS384, "PS384"_L1, KeyFamily::RsaPss, "SHA384", 48, {}, 0 },
    AlgorithmInfo { JwsAlgorithm::PS512, "PS512"_L1, KeyFamily::RsaPss, "SHA512", 64, {}, 0 },
    AlgorithmInfo { JwsAlgorithm::ES256, "ES256"_L1, KeyFamily::Ecdsa, "SHA256", 32, "P-256"_L1, 32 },
    AlgorithmInfo { JwsAlgorithm::ES384, "ES384"_L1, KeyFamily::Ecdsa, "SHA384", 48, "P-384"_L1, 48 },
    AlgorithmInfo { JwsAlgorithm::ES512, "ES512"_L1, KeyFamily::Ecdsa, "SHA512", 64, "P-521"_L1, 66 },
    AlgorithmInfo { JwsAlgorithm::EdDSA, "EdDSA"_L1, KeyFamily::EdDsa, nullptr, 0, "Ed25519"_L1, 0 },
};

const AlgorithmInfo &info(JwsAlgorithm algorithm)
{
    return algorithms[static_cast<std::size_t>(algorithm)];
}
} // namespace

std::optional<JwsAlgorithm> Jwa::fromName(QStringView name)
{
    // Case-sensitive on purpose (RFC 7515 §4.1.1): "hs256" and "none" are not algorithms here.
    for (const auto &entry : algorithms) {
        if (name == entry.name)
            return entry.algorithm;
    }
    return std::nullopt;
}

QLatin1StringView Jwa::name(JwsAlgorithm algorithm)
{
    return info(algorithm).name;
}
KeyFamily Jwa::family(JwsAlgorithm algorithm)
{
    return info(algorithm).family;
}
const char *Jwa::digestName(JwsAlgorithm algorithm)
{
    return info(algorithm).digest;
}
int Jwa::digestSize(JwsAlgorithm algorithm)
{
    return info(algorithm).digestSize;
}
QLatin1StringView Jwa::curveName(JwsAlgorithm algorithm)
{
    return info(algorithm).curve;
}
int Jwa::ecdsaCoordinateSize(JwsAlgorithm algorithm)
{
    return info(algorithm).coordinateSize;
}
