#include "auth/JsonWebKey.h"

#include "auth/Base64Url.h"
#include "auth/OpenSslHandles.h"

#include <QCryptographicHash>
#include <QJsonArray>
#include <QJsonDocument>

#include <openssl/core_names.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

using namespace Qt::StringLiterals;

namespace {
constexpr int minimumRsaBits = 2048; // RFC 7518 §3.3
constexpr int ed25519KeySize = 32;
constexpr int generatedSecretSize = 64;

const char *openSslGroupName(QLatin1StringView curve)
{
    if (curve == "P-256"_L1)
        return "prime256v1";
    if (curve == "P-384"_L1)
        return "secp384r1";
    if (curve == "P-521"_L1)
        return "secp521r1";
    return nullptr;
}

QLatin1StringView expectedKeyType(JwsAlgorithm algorithm)
{
    switch (Jwa::family(algorithm)) {
    case KeyFamily::Hmac:
        return "oct"_L1;
    case KeyFamily::Rsa:
    case KeyFamily::RsaPss:
        return "RSA"_L1;
    case KeyFamily::Ecdsa:
        return "EC"_L1;
    case KeyFamily::EdDsa:
        return "OKP"_L1;
    }
    return {};
}

std::optional<QByteArray> member(const QJsonObject &jwk, QLatin1StringView name)
{
    const auto value = jwk.value(name);
    if (!value.isString())
        return std::nullopt;
    return Base64Url::decode(value.toString().toLatin1());
}

/// RFC 7517 §4.2–4.3: a key marked for encryption, or whose operations exclude verifying,
/// must not verify signatures.
std::optional<KeyError> checkIntendedUse(const QJsonObject &jwk)
{
    if (jwk.contains("use"_L1) && jwk.value("use"_L1) != "sig"_L1)
        return KeyError::WrongUse;
    if (jwk.contains("key_ops"_L1)) {
        const auto operations = jwk.value("key_ops"_L1).toArray();
        bool allowsVerify = false;
        for (const auto &operation : operations) {
            if (!operation.isString())
                return KeyError::WrongKeyOperations;
            allowsVerify = allowsVerify || operation == "verify"_L1 || operation == "sign"_L1;
        }
        if (!allowsVerify)
            return KeyError::WrongKeyOperations;
    }
    return std::nullopt;
}

BignumHandle toBignum(const QByteArray &bytes)
{
    return BignumHandle(
        BN_bin2bn(reinterpret_cast<const unsigned char *>(bytes.constData()), static_cast<int>(bytes.size()), nullptr));
}

std::shared_ptr<EVP_PKEY> keyFromParams(const char *type, OSSL_PARAM_BLD *builder, bool isPrivate)
{
    ParamsHandle params(OSSL_PARAM_BLD_to_param(builder));
    KeyContextHandle context(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
    if (!params || !context || EVP_PKEY_fromdata_init(context.get()) <= 0)
        return {};
    EVP_PKEY *key = nullptr;
    const int selection = isPrivate ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY;
    if (EVP_PKEY_fromdata(context.get(), &key, selection, params.get()) <= 0)
        return {};
    return sharedKey(key);
}

bool publicKeyIsSound(EVP_PKEY *key)
{
    KeyContextHandle context(EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr));
    return context && EVP_PKEY_public_check(context.get()) == 1;
}

Result<std::shared_ptr<EVP_PKEY>, KeyError> rsaFromJwk(const QJsonObject &jwk)
{
    const auto modulus = member(jwk, "n"_L1);
    const auto exponent = member(jwk, "e"_L1);
    if (!modulus || !exponent || modulus->isEmpty() || exponent->isEmpty())
        return fail(KeyError::InvalidKeyMaterial);
    const auto n = toBignum(*modulus);
    const auto e = toBignum(*exponent);
    if (BN_num_bits(n.get()) < minimumRsaBits)
        return fail(KeyError::KeyTooSmall);
    if (!BN_is_odd(e.get()) || BN_is_one(e.get()))
        return fail(KeyError::InvalidKeyMaterial);

    ParamBuilderHandle builder(OSSL_PARAM_BLD_new());
    OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_N, n.get());
    OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_E, e.get());
    std::vector<BignumHandle> privateParts;
    const bool isPrivate = jwk.contains("d"_L1);
    if (isPrivate) {
        const std::pair<QLatin1StringView, const char *> parts[] = {
            { "d"_L1, OSSL_PKEY_PARAM_RSA_D },          { "p"_L1, OSSL_PKEY_PARAM_RSA_FACTOR1 },
            { "q"_L1, OSSL_PKEY_PARAM_RSA_FACTOR2 },    { "dp"_L1, OSSL_PKEY_PARAM_RSA_EXPONENT1 },
            { "dq"_L1, OSSL_PKEY_PARAM_RSA_EXPONENT2 }, { "qi"_L1, OSSL_PKEY_PARAM_RSA_COEFFICIENT1 },
        };
        for (const auto &[name, param] : parts) {
            const auto bytes = member(jwk, name);
            if (!bytes)
                return fail(KeyError::InvalidKeyMaterial);
            privateParts.push_back(toBignum(*bytes));
            OSSL_PARAM_BLD_push_BN(builder.get(), param, privateParts.back().get());
        }
    }
    auto key = keyFromParams("RSA", builder.get(), isPrivate);
    if (!key)
        return fail(KeyError::InvalidKeyMaterial);
    return key;
}

Result<std::shared_ptr<EVP_PKEY>, KeyError> ecFromJwk(const QJsonObject &jwk, JwsAlgorithm algorithm)
{
    if (jwk.value("crv"_L1) != Jwa::curveName(algorithm))
        return fail(KeyError::WrongCurve);
    const auto x = member(jwk, "x"_L1);
    const auto y = member(jwk, "y"_L1);
    const int size = Jwa::ecdsaCoordinateSize(algorithm);
    if (!x || !y || x->size() != size || y->size() != size)
        return fail(KeyError::InvalidKeyMaterial);
    const QByteArray point = QByteArray(1, '\x04') + *x + *y; // SEC 1 §2.3.3 uncompressed

    ParamBuilderHandle builder(OSSL_PARAM_BLD_new());
    OSSL_PARAM_BLD_push_utf8_string(builder.get(), OSSL_PKEY_PARAM_GROUP_NAME,
                                    openSslGroupName(Jwa::curveName(algorithm)), 0);
    OSSL_PARAM_BLD_push_octet_string(builder.get(), OSSL_PKEY_PARAM_PUB_KEY, point.constData(),
                                     static_cast<size_t>(point.size()));
    BignumHandle privateScalar;
    const bool isPrivate = jwk.contains("d"_L1);
    if (isPrivate) {
        const auto d = member(jwk, "d"_L1);
        if (!d || d->size() != size)
            return fail(KeyError::InvalidKeyMaterial);
        privateScalar = toBignum(*d);
        OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_PRIV_KEY, privateScalar.get());
    }
    auto key = keyFromParams("EC", builder.get(), isPrivate);
    // The point must lie on the curve: an invalid-curve point leaks the private key.
    if (!key || !publicKeyIsSound(key.get()))
        return fail(KeyError::InvalidKeyMaterial);
    return key;
}

Result<std::shared_ptr<EVP_PKEY>, KeyError> okpFromJwk(const QJsonObject &jwk)
{
    if (jwk.value("crv"_L1) != "Ed25519"_L1)
        return fail(KeyError::WrongCurve);
    const auto x = member(jwk, "x"_L1);
    if (!x || x->size() != ed25519KeySize)
        return fail(KeyError::InvalidKeyMaterial);
    if (jwk.contains("d"_L1)) {
        const auto d = member(jwk, "d"_L1);
        if (!d || d->size() != ed25519KeySize)
            return fail(KeyError::InvalidKeyMaterial);
        auto key = sharedKey(EVP_PKEY_new_raw_private_key(
            EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char *>(d->constData()), ed25519KeySize));
        // The private half must match the published public half.
        unsigned char derived[ed25519KeySize];
        size_t derivedSize = sizeof derived;
        if (!key || EVP_PKEY_get_raw_public_key(key.get(), derived, &derivedSize) != 1
            || QByteArrayView(derived, ed25519KeySize) != *x)
            return fail(KeyError::InvalidKeyMaterial);
        return key;
    }
    auto key = sharedKey(EVP_PKEY_new_raw_public_key(
        EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char *>(x->constData()), ed25519KeySize));
    if (!key)
        return fail(KeyError::InvalidKeyMaterial);
    return key;
}

bool keyMatchesAlgorithm(EVP_PKEY *key, JwsAlgorithm algorithm)
{
    switch (Jwa::family(algorithm)) {
    case KeyFamily::Hmac:
        return false;
    case KeyFamily::Rsa:
    case KeyFamily::RsaPss:
        return EVP_PKEY_is_a(key, "RSA") && EVP_PKEY_get_bits(key) >= minimumRsaBits;
    case KeyFamily::EdDsa:
        return EVP_PKEY_is_a(key, "ED25519");
    case KeyFamily::Ecdsa: {
        char group[64] = {};
        size_t length = 0;
        return EVP_PKEY_is_a(key, "EC")
            && EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &length) == 1
            && qstrcmp(group, openSslGroupName(Jwa::curveName(algorithm))) == 0;
    }
    }
    return false;
}

QByteArray bignumParam(EVP_PKEY *key, const char *name, int padTo = 0)
{
    BIGNUM *raw = nullptr;
    if (EVP_PKEY_get_bn_param(key, name, &raw) != 1)
        return {};
    const BignumHandle value(raw);
    QByteArray bytes(padTo > 0 ? padTo : BN_num_bytes(value.get()), Qt::Uninitialized);
    BN_bn2binpad(value.get(), reinterpret_cast<unsigned char *>(bytes.data()), static_cast<int>(bytes.size()));
    return bytes;
}
} // namespace

QLatin1StringView keyErrorName(KeyError error)
{
    switch (error) {
    case KeyError::MissingAlgorithm:
        return "missing_algorithm"_L1;
    case KeyError::UnsupportedAlgorithm:
        return "unsupported_algorithm"_L1;
    case KeyError::MissingKeyId:
        return "missing_kid"_L1;
    case KeyError::WrongKeyType:
        return "wrong_key_type"_L1;
    case KeyError::WrongCurve:
        return "wrong_curve"_L1;
    case KeyError::InvalidKeyMaterial:
        return "invalid_key_material"_L1;
    case KeyError::KeyTooSmall:
        return "key_too_small"_L1;
    case KeyError::WrongUse:
        return "wrong_use"_L1;
    case KeyError::WrongKeyOperations:
        return "wrong_key_operations"_L1;
    case KeyError::BadPem:
        return "bad_pem"_L1;
    case KeyError::GenerationFailed:
        return "generation_failed"_L1;
    }
    return "unknown"_L1;
}

JsonWebKey::JsonWebKey(JwsAlgorithm algorithm, QString keyId)
    : m_algorithm(algorithm)
    , m_keyId(std::move(keyId))
{
}

Result<JsonWebKey, KeyError> JsonWebKey::fromJwk(const QJsonObject &jwk)
{
    if (!jwk.value("alg"_L1).isString())
        return fail(KeyError::MissingAlgorithm);
    const auto algorithm = Jwa::fromName(jwk.value("alg"_L1).toString());
    if (!algorithm)
        return fail(KeyError::UnsupportedAlgorithm);
    const QString keyId = jwk.value("kid"_L1).toString();
    if (keyId.isEmpty())
        return fail(KeyError::MissingKeyId);
    if (jwk.value("kty"_L1) != expectedKeyType(*algorithm))
        return fail(KeyError::WrongKeyType);
    if (const auto useError = checkIntendedUse(jwk))
        return fail(*useError);

    if (Jwa::family(*algorithm) == KeyFamily::Hmac) {
        const auto secret = member(jwk, "k"_L1);
        if (!secret)
            return fail(KeyError::InvalidKeyMaterial);
        return fromSecret(*secret, *algorithm, keyId);
    }

    Result<std::shared_ptr<EVP_PKEY>, KeyError> key = fail(KeyError::WrongKeyType);
    switch (Jwa::family(*algorithm)) {
    case KeyFamily::Rsa:
    case KeyFamily::RsaPss:
        key = rsaFromJwk(jwk);
        break;
    case KeyFamily::Ecdsa:
        key = ecFromJwk(jwk, *algorithm);
        break;
    case KeyFamily::EdDsa:
        key = okpFromJwk(jwk);
        break;
    case KeyFamily::Hmac:
        break;
    }
    if (!key)
        return fail(key.error());
    JsonWebKey result(*algorithm, keyId);
    result.m_key = std::move(key).value();
    result.m_hasPrivate = jwk.contains("d"_L1);
    return result;
}

Result<JsonWebKey, KeyError> JsonWebKey::fromPem(QByteArrayView pem, JwsAlgorithm algorithm, const QString &keyId)
{
    if (Jwa::family(algorithm) == KeyFamily::Hmac)
        return fail(KeyError::WrongKeyType);
    if (keyId.isEmpty())
        return fail(KeyError::MissingKeyId);
    const bool isPrivate = pem.contains("PRIVATE KEY");
    BioHandle bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    auto key = sharedKey(isPrivate ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr)
                                   : PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
    if (!key)
        return fail(KeyError::BadPem);
    if (!keyMatchesAlgorithm(key.get(), algorithm))
        return fail(KeyError::WrongKeyType);
    if (Jwa::family(algorithm) == KeyFamily::Ecdsa && !publicKeyIsSound(key.get()))
        return fail(KeyError::InvalidKeyMaterial);
    JsonWebKey result(algorithm, keyId);
    result.m_key = std::move(key);
    result.m_hasPrivate = isPrivate;
    return result;
}

Result<JsonWebKey, KeyError> JsonWebKey::fromSecret(const QByteArray &secret, JwsAlgorithm algorithm,
                                                    const QString &keyId)
{
    if (Jwa::family(algorithm) != KeyFamily::Hmac)
        return fail(KeyError::WrongKeyType);
    if (keyId.isEmpty())
        return fail(KeyError::MissingKeyId);
    if (secret.size() < Jwa::digestSize(algorithm))
        return fail(KeyError::KeyTooSmall);
    JsonWebKey result(algorithm, keyId);
    result.m_secret = secret;
    result.m_hasPrivate = true;
    return result;
}

Result<JsonWebKey, KeyError> JsonWebKey::generate(JwsAlgorithm algorithm)
{
    if (Jwa::family(algorithm) == KeyFamily::Hmac) {
        QByteArray secret(generatedSecretSize, Qt::Uninitialized);
        QByteArray keyId(16, Qt::Uninitialized);
        if (RAND_bytes(reinterpret_cast<unsigned char *>(secret.data()), generatedSecretSize) != 1
            || RAND_bytes(reinterpret_cast<unsigned char *>(keyId.data()), 16) != 1)
            return fail(KeyError::GenerationFailed);
        return fromSecret(secret, algorithm, QString::fromLatin1(Base64Url::encode(keyId)));
    }
    EVP_PKEY *raw = nullptr;
    switch (Jwa::family(algorithm)) {
    case KeyFamily::Rsa:
    case KeyFamily::RsaPss:
        raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t { minimumRsaBits });
        break;
    case KeyFamily::Ecdsa:
        raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", openSslGroupName(Jwa::curveName(algorithm)));
        break;
    case KeyFamily::EdDsa:
        raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
        break;
    case KeyFamily::Hmac:
        break;
    }
    auto key = sharedKey(raw);
    if (!key)
        return fail(KeyError::GenerationFailed);
    JsonWebKey result(algorithm, QString());
    result.m_key = std::move(key);
    result.m_hasPrivate = true;
    result.m_keyId = QString::fromLatin1(result.thumbprint());
    return result;
}

QJsonObject JsonWebKey::publicJwk() const
{
    if (!m_key)
        return {};
    QJsonObject jwk { { "kty"_L1, expectedKeyType(m_algorithm) } };
    switch (Jwa::family(m_algorithm)) {
    case KeyFamily::Rsa:
    case KeyFamily::RsaPss:
        jwk.insert("n"_L1, QString::fromLatin1(Base64Url::encode(bignumParam(m_key.get(), OSSL_PKEY_PARAM_RSA_N))));
        jwk.insert("e"_L1, QString::fromLatin1(Base64Url::encode(bignumParam(m_key.get(), OSSL_PKEY_PARAM_RSA_E))));
        break;
    case KeyFamily::Ecdsa: {
        const int size = Jwa::ecdsaCoordinateSize(m_algorithm);
        jwk.insert("crv"_L1, Jwa::curveName(m_algorithm));
        jwk.insert("x"_L1,
                   QString::fromLatin1(Base64Url::encode(bignumParam(m_key.get(), OSSL_PKEY_PARAM_EC_PUB_X, size))));
        jwk.insert("y"_L1,
                   QString::fromLatin1(Base64Url::encode(bignumParam(m_key.get(), OSSL_PKEY_PARAM_EC_PUB_Y, size))));
        break;
    }
    case KeyFamily::EdDsa: {
        unsigned char raw[ed25519KeySize];
        size_t size = sizeof raw;
        EVP_PKEY_get_raw_public_key(m_key.get(), raw, &size);
        jwk.insert("crv"_L1, "Ed25519"_L1);
        jwk.insert("x"_L1, QString::fromLatin1(Base64Url::encode(QByteArrayView(raw, ed25519KeySize))));
        break;
    }
    case KeyFamily::Hmac:
        return {};
    }
    if (!m_keyId.isEmpty())
        jwk.insert("kid"_L1, m_keyId);
    jwk.insert("alg"_L1, Jwa::name(m_algorithm));
    jwk.insert("use"_L1, "sig"_L1);
    return jwk;
}

QByteArray JsonWebKey::thumbprint() const
{
    // RFC 7638 §3.2: the required members only, in lexicographic order, no white space.
    // QJsonDocument writes object members sorted, which is exactly that order.
    const QJsonObject full = publicJwk();
    if (full.isEmpty())
        return {};
    QJsonObject required;
    for (const auto name : { "crv"_L1, "e"_L1, "kty"_L1, "n"_L1, "x"_L1, "y"_L1 }) {
        if (full.contains(name))
            required.insert(name, full.value(name));
    }
    const auto canonical = QJsonDocument(required).toJson(QJsonDocument::Compact);
    return Base64Url::encode(QCryptographicHash::hash(canonical, QCryptographicHash::Sha256));
}

QByteArray JsonWebKey::privateKeyMaterial() const
{
    if (!m_hasPrivate)
        return {};
    if (isSymmetric())
        return Base64Url::encode(m_secret);
    BioHandle bio(BIO_new(BIO_s_mem()));
    if (PEM_write_bio_PrivateKey(bio.get(), m_key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
        return {};
    char *data = nullptr;
    const long length = BIO_get_mem_data(bio.get(), &data);
    return QByteArray(data, length);
}
