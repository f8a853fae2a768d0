// JsonWebKey::sign and ::verify: the JWS signature algorithms of RFC 7518 §3 and RFC 8037 §3.1
// on OpenSSL 3 EVP. Kept apart from key import and export so that each file reads on its own.
#include "auth/JsonWebKey.h"

#include "auth/OpenSslHandles.h"

#include <openssl/crypto.h>
#include <openssl/rsa.h>

namespace {
constexpr int maximumDigestSize = 64;

const unsigned char *bytes(QByteArrayView view)
{
    return reinterpret_cast<const unsigned char *>(view.data());
}

/// HMAC from the key's prepared context (RFC 7518 §3.2): a copy of a context that holds the
/// key and digest already, so nothing is looked up by name on this path.
std::optional<QByteArray> hmac(EVP_MAC_CTX *prepared, QByteArrayView input)
{
    if (!prepared)
        return std::nullopt;
    const std::unique_ptr<EVP_MAC_CTX, OpenSslDeleter<EVP_MAC_CTX_free>> context(EVP_MAC_CTX_dup(prepared));
    unsigned char mac[maximumDigestSize];
    size_t macSize = 0;
    if (!context || EVP_MAC_update(context.get(), bytes(input), static_cast<size_t>(input.size())) != 1
        || EVP_MAC_final(context.get(), mac, &macSize, sizeof mac) != 1)
        return std::nullopt;
    return QByteArray(reinterpret_cast<const char *>(mac), static_cast<qsizetype>(macSize));
}

/// Sets up a digest context for `algorithm`; RSASSA-PSS uses MGF1 with the same hash and a
/// salt as long as the hash (RFC 7518 §3.5).
DigestContextHandle digestContext(JwsAlgorithm algorithm, EVP_PKEY *key, bool forSigning)
{
    DigestContextHandle context(EVP_MD_CTX_new());
    EVP_PKEY_CTX *keyContext = nullptr;
    const char *digest = Jwa::digestName(algorithm);
    const int initialised = forSigning
        ? EVP_DigestSignInit_ex(context.get(), &keyContext, digest, nullptr, nullptr, key, nullptr)
        : EVP_DigestVerifyInit_ex(context.get(), &keyContext, digest, nullptr, nullptr, key, nullptr);
    if (initialised != 1)
        return {};
    if (Jwa::family(algorithm) == KeyFamily::RsaPss) {
        if (EVP_PKEY_CTX_set_rsa_padding(keyContext, RSA_PKCS1_PSS_PADDING) != 1
            || EVP_PKEY_CTX_set_rsa_pss_saltlen(keyContext, Jwa::digestSize(algorithm)) != 1
            || EVP_PKEY_CTX_set_rsa_mgf1_md_name(keyContext, digest, nullptr) != 1)
            return {};
    } else if (Jwa::family(algorithm) == KeyFamily::Rsa) {
        if (EVP_PKEY_CTX_set_rsa_padding(keyContext, RSA_PKCS1_PADDING) != 1)
            return {};
    }
    return context;
}

/// JWS carries ECDSA signatures as R||S, each left-padded to the curve size (RFC 7518 §3.4);
/// OpenSSL speaks DER.
std::optional<QByteArray> ecdsaRawToDer(QByteArrayView raw, int coordinateSize)
{
    if (raw.size() != 2 * coordinateSize)
        return std::nullopt;
    EcdsaSignatureHandle signature(ECDSA_SIG_new());
    BIGNUM *r = BN_bin2bn(bytes(raw.first(coordinateSize)), coordinateSize, nullptr);
    BIGNUM *s = BN_bin2bn(bytes(raw.sliced(coordinateSize)), coordinateSize, nullptr);
    if (!signature || !r || !s || ECDSA_SIG_set0(signature.get(), r, s) != 1) {
        BN_free(r);
        BN_free(s);
        return std::nullopt;
    }
    unsigned char *der = nullptr;
    const int length = i2d_ECDSA_SIG(signature.get(), &der);
    if (length <= 0)
        return std::nullopt;
    QByteArray result(reinterpret_cast<const char *>(der), length);
    OPENSSL_free(der);
    return result;
}

QByteArray ecdsaDerToRaw(const QByteArray &der, int coordinateSize)
{
    const auto *cursor = bytes(der);
    EcdsaSignatureHandle signature(d2i_ECDSA_SIG(nullptr, &cursor, der.size()));
    if (!signature)
        return {};
    QByteArray raw(2 * coordinateSize, Qt::Uninitialized);
    auto *out = reinterpret_cast<unsigned char *>(raw.data());
    BN_bn2binpad(ECDSA_SIG_get0_r(signature.get()), out, coordinateSize);
    BN_bn2binpad(ECDSA_SIG_get0_s(signature.get()), out + coordinateSize, coordinateSize);
    return raw;
}
} // namespace

QByteArray JsonWebKey::sign(QByteArrayView signingInput) const
{
    if (!m_hasPrivate)
        return {};
    if (isSymmetric())
        return hmac(m_hmac.get(), signingInput).value_or(QByteArray());

    const auto context = digestContext(m_algorithm, m_key.get(), true);
    size_t size = 0;
    if (!context || EVP_DigestSign(context.get(), nullptr, &size, bytes(signingInput), signingInput.size()) != 1)
        return {};
    QByteArray signature(static_cast<qsizetype>(size), Qt::Uninitialized);
    if (EVP_DigestSign(context.get(), reinterpret_cast<unsigned char *>(signature.data()), &size, bytes(signingInput),
                       signingInput.size())
        != 1)
        return {};
    signature.resize(static_cast<qsizetype>(size));
    if (Jwa::family(m_algorithm) == KeyFamily::Ecdsa)
        return ecdsaDerToRaw(signature, Jwa::ecdsaCoordinateSize(m_algorithm));
    return signature;
}

bool JsonWebKey::verify(QByteArrayView signingInput, QByteArrayView signature) const
{
    if (isSymmetric()) {
        const auto expected = hmac(m_hmac.get(), signingInput);
        return expected && expected->size() == signature.size()
            && CRYPTO_memcmp(expected->constData(), signature.data(), static_cast<size_t>(signature.size())) == 0;
    }
    if (!m_key)
        return false;

    QByteArray derSignature;
    switch (Jwa::family(m_algorithm)) {
    case KeyFamily::Ecdsa: {
        const auto der = ecdsaRawToDer(signature, Jwa::ecdsaCoordinateSize(m_algorithm));
        if (!der)
            return false;
        derSignature = *der;
        signature = derSignature;
        break;
    }
    case KeyFamily::Rsa:
    case KeyFamily::RsaPss:
        // The signature is exactly as long as the modulus (RFC 8017 §8.2.2 step 1).
        if (signature.size() != EVP_PKEY_get_size(m_key.get()))
            return false;
        break;
    case KeyFamily::EdDsa:
    case KeyFamily::Hmac:
        break;
    }
    const auto context = digestContext(m_algorithm, m_key.get(), false);
    return context
        && EVP_DigestVerify(context.get(), bytes(signature), static_cast<size_t>(signature.size()), bytes(signingInput),
                            static_cast<size_t>(signingInput.size()))
        == 1;
}
