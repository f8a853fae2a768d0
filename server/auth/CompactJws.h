#pragma once

#include "auth/JsonWebKey.h"
#include "auth/TokenError.h"
#include "Result.h"

#include <QByteArray>
#include <QJsonObject>

/// A JWS in compact serialisation (RFC 7515 §7.1), split and decoded but not yet verified.
struct CompactJws {
    QJsonObject header;
    JwsAlgorithm algorithm = JwsAlgorithm::EdDSA;
    QString keyId; ///< empty when the header names none
    QByteArray signingInput;
    QByteArray payload;
    QByteArray signature;

    /// Refuses anything that is not three strict base64url parts with a JSON object header
    /// naming a known `alg`, and any `crit` (we understand no extension, RFC 7515 §4.1.11).
    static Result<CompactJws, TokenError> parse(QByteArrayView token, qsizetype maximumSize);

    /// Signs `payload` with `key`, adding `alg` and `kid` to `header`.
    static QByteArray sign(QJsonObject header, QByteArrayView payload, const JsonWebKey &key);

    /// The signature check against one pinned key: the header's `alg` must be the key's.
    Result<bool, TokenError> verifyWith(const JsonWebKey &key) const;
};
