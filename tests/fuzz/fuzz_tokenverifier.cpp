// A compact JWS/JWT through TokenVerifier::verify: CompactJws::parse, the key choice, the
// signature check and every claim decision after it, against a fixed key set.
//
// A random token almost never carries a valid signature, so most inputs would stop at the
// signature. The first byte (mod 8) therefore picks who signs the rest, which is a token whose
// last part is replaced by a real signature over everything before its last '.':
//   0, 7  nobody: the token as sent;
//   1     the local HS256 key ("hs-local");      2  the local Ed25519 key ("ed-local");
//   3     the partner's kid-less HS384 key;      4  the key the header's kid names (or the
//                                                   kid-less key), whatever its algorithm;
//   5, 6  HS256 keyed with the Ed25519 public key, raw and as PEM: the algorithm-confusion
//         forgery (RFC 8725 §2.1), which must never be accepted.
#include "FuzzCheck.h"

#include "auth/Base64Url.h"
#include "auth/CompactJws.h"
#include "auth/KeySet.h"
#include "auth/TokenVerifier.h"

#include <QJsonDocument>

#include <cstdlib>

using namespace Qt::StringLiterals;
using namespace std::chrono_literals;

namespace {
constexpr auto now = std::chrono::system_clock::time_point(1'700'000'000s); // 2023-11-14
constexpr qint64 nowSeconds = 1'700'000'000;

JsonWebKey must(Result<JsonWebKey, KeyError> key)
{
    if (!key)
        std::abort();
    return std::move(key).value();
}

/// A generated key under a name of our choosing, so that seeds can name it.
JsonWebKey generated(JwsAlgorithm algorithm, const QString &keyId)
{
    const auto key = must(JsonWebKey::generate(algorithm));
    return must(JsonWebKey::fromPem(key.privateKeyMaterial(), algorithm, keyId));
}

struct Fixture {
    // RFC 8037 §A.1's Ed25519 key; the secrets are fixed so that seeds stay meaningful.
    JsonWebKey ed25519 = must(JsonWebKey::fromJwk({ { "kty"_L1, "OKP"_L1 },
                                                    { "crv"_L1, "Ed25519"_L1 },
                                                    { "alg"_L1, "EdDSA"_L1 },
                                                    { "kid"_L1, "ed-local"_L1 },
                                                    { "d"_L1, "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"_L1 },
                                                    { "x"_L1, "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"_L1 } }));
    JsonWebKey hs256
        = must(JsonWebKey::fromSecret("gatehouse fuzz: the local HS256 secret", JwsAlgorithm::HS256, u"hs-local"_s));
    // A trusted issuer with one key and no kid (ConfigFile names such a key "(no kid) <issuer>").
    JsonWebKey partnerDefault = must(JsonWebKey::fromSecret("gatehouse fuzz partner HS384 secret, at least 48 bytes",
                                                            JwsAlgorithm::HS384, u"(no kid) partner"_s));
    // Wycheproof's HS256 key, so that its valid cases pass the signature as sent.
    JsonWebKey wycheproof = must(JsonWebKey::fromJwk({ { "kty"_L1, "oct"_L1 },
                                                       { "alg"_L1, "HS256"_L1 },
                                                       { "kid"_L1, "kid-aes-sign"_L1 },
                                                       { "k"_L1, "-ebuDNsVZ2iJtoZ-akfXTSCt4UO2cruLCsbWlBinggE"_L1 } }));
    JsonWebKey ecdsa = generated(JwsAlgorithm::ES256, u"ec-partner"_s);
    JsonWebKey rsa = generated(JwsAlgorithm::RS256, u"rsa-partner"_s);
    JsonWebKey confusedRaw = must(JsonWebKey::fromSecret(
        *Base64Url::decode(ed25519.publicJwk().value("x"_L1).toString().toLatin1()), JwsAlgorithm::HS256, u"x"_s));
    JsonWebKey confusedPem = must(JsonWebKey::fromSecret(ed25519.publicKeyPem(), JwsAlgorithm::HS256, u"x"_s));
    std::shared_ptr<const KeySet> keys;

    Fixture()
    {
        const IssuerPolicy local { u"https://gatehouse.test"_s, u"gatehouse"_s, u"at+jwt"_s, true };
        const QList<TrustedIssuer> trusted {
            { { u"https://idp.example"_s, u"gatehouse"_s, u"at+jwt"_s, false }, { partnerDefault }, true },
            { { u"https://partner.example"_s, u"gatehouse"_s, u"at+jwt"_s, false }, { ecdsa, rsa }, false },
            { { u"https://wycheproof.example"_s, u"gatehouse"_s, u"JWT"_s, false }, { wycheproof }, false },
        };
        auto built = KeySet::build({ hs256, ed25519 }, local, trusted);
        if (!built)
            std::abort();
        keys = *built;
    }
};

const Fixture &fixture()
{
    static const Fixture instance;
    return instance;
}

QByteArray resigned(const QByteArray &token, const JsonWebKey &key)
{
    const qsizetype lastDot = token.lastIndexOf('.');
    const QByteArray signingInput = lastDot < 0 ? token : token.first(lastDot);
    return signingInput + '.' + Base64Url::encode(key.sign(signingInput));
}

const JsonWebKey *signer(int mode, const QByteArray &token)
{
    const Fixture &f = fixture();
    switch (mode) {
    case 1:
        return &f.hs256;
    case 2:
        return &f.ed25519;
    case 3:
        return &f.partnerDefault;
    case 4: {
        const auto jws = CompactJws::parse(token, 1 << 20);
        if (!jws)
            return nullptr;
        const KeySet::Entry *entry = jws->keyId.isEmpty() ? f.keys->defaultEntry() : f.keys->find(jws->keyId);
        return entry ? &entry->key : nullptr;
    }
    case 5:
        return &f.confusedRaw;
    case 6:
        return &f.confusedPem;
    default:
        return nullptr;
    }
}

/// What an accepted token must be, checked again from its text rather than from the verifier's
/// own reading of it.
void checkAccepted(const QByteArray &token, const AccessClaims &claims, const JsonWebKey *signedBy)
{
    const Fixture &f = fixture();
    const KeySet::Entry *entry
        = f.keys->defaultEntry()->key.keyId() == claims.keyId ? f.keys->defaultEntry() : f.keys->find(claims.keyId);
    FUZZ_CHECK(entry != nullptr);
    if (signedBy)
        FUZZ_CHECK(signedBy->keyId() == claims.keyId);
    FUZZ_CHECK(token.size() <= TokenVerifier::Options().maximumTokenSize);

    const auto parts = token.split('.');
    FUZZ_CHECK(parts.size() == 3);
    const auto headerText = Base64Url::decode(parts[0]);
    FUZZ_CHECK(headerText.has_value());
    const QJsonObject header = QJsonDocument::fromJson(*headerText).object();
    FUZZ_CHECK(header.value("alg"_L1).toString() == Jwa::name(entry->key.algorithm()));
    FUZZ_CHECK(!header.contains("crit"_L1));
    FUZZ_CHECK(header.contains("kid"_L1) == (entry != f.keys->defaultEntry()));

    const IssuerPolicy &policy = *entry->policy;
    FUZZ_CHECK(claims.local == policy.local);
    FUZZ_CHECK(claims.issuer == policy.issuer);
    FUZZ_CHECK(claims.audiences.contains(policy.audience));
    FUZZ_CHECK(!claims.subject.isEmpty());
    const qint64 skew = TokenVerifier::Options().clockSkew.count();
    FUZZ_CHECK(nowSeconds < claims.expiresAt + skew);
    FUZZ_CHECK(claims.notBefore <= nowSeconds + skew);
    FUZZ_CHECK(claims.issuedAt <= nowSeconds + skew);
    if (policy.local)
        FUZZ_CHECK(!claims.jwtId.isEmpty() && !claims.sessionId.isEmpty());
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    static const TokenVerifier verifier(fixture().keys, TokenVerifier::Options());
    const int mode = data[0] % 8;
    QByteArray token(reinterpret_cast<const char *>(data) + 1, qsizetype(size) - 1);
    const JsonWebKey *signedBy = signer(mode, token);
    if (signedBy)
        token = resigned(token, *signedBy);

    const auto claims = verifier.verify(token, now);
    if (!claims) {
        FUZZ_CHECK(!tokenErrorCode(claims.error()).isEmpty());
        return 0;
    }
    FUZZ_CHECK(mode != 5 && mode != 6); // a signature keyed with a public key verifies nothing
    checkAccepted(token, *claims, signedBy);
    return 0;
}
