#pragma once

#include "auth/JwsAlgorithm.h"
#include "Result.h"

#include <QByteArray>
#include <QJsonObject>
#include <QString>

#include <memory>

#include <openssl/types.h>

enum class KeyError {
    MissingAlgorithm,
    UnsupportedAlgorithm,
    MissingKeyId,
    WrongKeyType,
    WrongCurve,
    InvalidKeyMaterial,
    KeyTooSmall,
    WrongUse,
    WrongKeyOperations,
    BadPem,
    GenerationFailed,
};

QLatin1StringView keyErrorName(KeyError error);

/// One signing or verification key, pinned to one JWS algorithm and named by its `kid`
/// (RFC 7517). Immutable and cheap to copy; safe to use for verification from several
/// threads at once.
class JsonWebKey final {
public:
    /// A JWK object with `kty`, `alg` and `kid`; refused if it is not fit for signatures.
    static Result<JsonWebKey, KeyError> fromJwk(const QJsonObject &jwk);
    /// A PEM public key (SPKI) or private key (PKCS#8 or traditional).
    static Result<JsonWebKey, KeyError> fromPem(QByteArrayView pem, JwsAlgorithm algorithm, const QString &keyId);
    /// A shared secret for HS256/HS384/HS512, at least as long as the digest (RFC 7518 §3.2).
    static Result<JsonWebKey, KeyError> fromSecret(const QByteArray &secret, JwsAlgorithm algorithm,
                                                   const QString &keyId);
    /// A fresh key; asymmetric keys are named by their RFC 7638 thumbprint.
    static Result<JsonWebKey, KeyError> generate(JwsAlgorithm algorithm);

    const QString &keyId() const { return m_keyId; }
    JwsAlgorithm algorithm() const { return m_algorithm; }
    bool isSymmetric() const { return Jwa::family(m_algorithm) == KeyFamily::Hmac; }
    bool hasPrivateKey() const { return m_hasPrivate; }

    /// The public half as a JWK with `kid`, `alg` and `use: sig`; empty for symmetric keys.
    QJsonObject publicJwk() const;
    /// RFC 7638 thumbprint (base64url SHA-256); empty for symmetric keys.
    QByteArray thumbprint() const;
    /// The public key as SPKI PEM ("BEGIN PUBLIC KEY"); empty for symmetric keys.
    QByteArray publicKeyPem() const;
    /// The private key as PKCS#8 PEM, or the shared secret in base64url; empty for public keys.
    QByteArray privateKeyMaterial() const;

    /// The JWS signature over `signingInput` in its JWS encoding (R||S for ECDSA), or empty on failure.
    QByteArray sign(QByteArrayView signingInput) const;
    bool verify(QByteArrayView signingInput, QByteArrayView signature) const;

private:
    JsonWebKey(JwsAlgorithm algorithm, QString keyId);

    JwsAlgorithm m_algorithm;
    QString m_keyId;
    bool m_hasPrivate = false;
    std::shared_ptr<EVP_PKEY> m_key;
    QByteArray m_secret;
    std::shared_ptr<EVP_MAC_CTX> m_hmac; ///< keyed once; each use works on a copy
};
