#include "auth/Base64Url.h"
#include "auth/CompactJws.h"
#include "auth/KeySet.h"
#include "auth/TokenIssuer.h"
#include "auth/TokenVerifier.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>

using namespace Qt::StringLiterals;
using namespace std::chrono_literals;

namespace {
constexpr qint64 now = 1'800'000'000;
const auto localIssuer = u"https://gatehouse.test"_s;
const auto externalIssuer = u"https://auth.example"_s;
constexpr int accepted = -1;
constexpr qint64 maximumLifetime = 3600; ///< max_access_token_ttl for these tests
constexpr qint64 year9999 = 253402300799; ///< 9999-12-31T23:59:59Z, the largest NumericDate read

QByteArray json(const QJsonObject &object)
{
    return QJsonDocument(object).toJson(QJsonDocument::Compact);
}

/// A compact JWS from raw header and payload bytes, signed by `key` (or with `signature`).
QByteArray rawToken(const QByteArray &header, const QByteArray &payload, const JsonWebKey *key,
                    const QByteArray &signature = {})
{
    const QByteArray input = Base64Url::encode(header) + '.' + Base64Url::encode(payload);
    return input + '.' + Base64Url::encode(key ? key->sign(input) : signature);
}

QJsonObject localClaims()
{
    return QJsonObject {
        { "iss"_L1, localIssuer }, { "sub"_L1, "alice"_L1 }, { "aud"_L1, "gatehouse"_L1 },
        { "jti"_L1, "j1"_L1 },     { "sid"_L1, "s1"_L1 },    { "iat"_L1, now - 10 },
        { "nbf"_L1, now - 10 },    { "exp"_L1, now + 300 },  { "roles"_L1, QJsonArray { "admin"_L1 } }
    };
}

QJsonObject externalClaims()
{
    return QJsonObject {
        { "iss"_L1, externalIssuer }, { "sub"_L1, "bob"_L1 }, { "aud"_L1, "realtime"_L1 }, { "exp"_L1, now + 300 }
    };
}

QJsonObject with(QJsonObject object, QLatin1StringView name, const QJsonValue &value)
{
    object.insert(name, value);
    return object;
}

QJsonObject without(QJsonObject object, QLatin1StringView name)
{
    object.remove(name);
    return object;
}
} // namespace

class TestTokenVerifier final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void verify_data();
    void verify();
    void issuedTokenCarriesTheRequest();
    void retiredKeyStillVerifiesUntilRemoved();

private:
    QByteArray local(const QJsonObject &claims, const QJsonObject &header = { { "typ"_L1, "at+jwt"_L1 } }) const;
    QByteArray external(const QJsonObject &claims) const;

    std::optional<JsonWebKey> m_edKey;
    std::optional<JsonWebKey> m_esKey;
    std::optional<JsonWebKey> m_rsaExternal;
    std::optional<JsonWebKey> m_sharedSecret;
    std::optional<TokenVerifier> m_verifier;
};

void TestTokenVerifier::initTestCase()
{
    m_edKey = *JsonWebKey::generate(JwsAlgorithm::EdDSA);
    m_esKey = *JsonWebKey::generate(JwsAlgorithm::ES256);
    m_rsaExternal = *JsonWebKey::generate(JwsAlgorithm::RS256);
    m_sharedSecret = *JsonWebKey::fromSecret(QByteArray("an external issuer's shared secret, 32+ bytes"),
                                             JwsAlgorithm::HS256, u"(no kid)"_s);
    TrustedIssuer hsIssuer { IssuerPolicy { externalIssuer, u"realtime"_s, u"JWT"_s, false },
                             { *m_sharedSecret },
                             true };
    TrustedIssuer rsIssuer { IssuerPolicy { u"https://rsa.example"_s, u"realtime"_s, u"at+jwt"_s, false },
                             { *JsonWebKey::fromJwk(m_rsaExternal->publicJwk()) },
                             false };
    const auto keys
        = KeySet::build({ *JsonWebKey::fromJwk(m_edKey->publicJwk()), *JsonWebKey::fromJwk(m_esKey->publicJwk()) },
                        IssuerPolicy { localIssuer, u"gatehouse"_s, u"at+jwt"_s, true }, { hsIssuer, rsIssuer });
    QVERIFY(keys.ok());
    m_verifier.emplace(*keys, TokenVerifier::Options { 30s, 8 * 1024, std::chrono::seconds(maximumLifetime) });
}

QByteArray TestTokenVerifier::local(const QJsonObject &claims, const QJsonObject &header) const
{
    return CompactJws::sign(header, json(claims), *m_edKey);
}

QByteArray TestTokenVerifier::external(const QJsonObject &claims) const
{
    // An external HS256 issuer in the style of `jsonwebtoken`: typ JWT and no kid.
    return rawToken(R"({"alg":"HS256","typ":"JWT"})", json(claims), &*m_sharedSecret);
}

void TestTokenVerifier::verify_data()
{
    QTest::addColumn<QByteArray>("token");
    QTest::addColumn<int>("error");
    const QByteArray edHeader
        = json({ { "alg"_L1, "EdDSA"_L1 }, { "kid"_L1, m_edKey->keyId() }, { "typ"_L1, "at+jwt"_L1 } });

    QTest::newRow("EdDSA access token from our issuer accepted") << local(localClaims()) << accepted;
    QTest::newRow("ES256 access token from our issuer accepted")
        << CompactJws::sign({ { "typ"_L1, "at+jwt"_L1 } }, json(localClaims()), *m_esKey) << accepted;
    QTest::newRow("HS256 token of a trusted issuer without kid accepted") << external(externalClaims()) << accepted;
    QTest::newRow("RS256 token of a trusted issuer with kid accepted")
        << CompactJws::sign({ { "typ"_L1, "at+jwt"_L1 } },
                            json(with(with(externalClaims(), "iss"_L1, u"https://rsa.example"_s), "exp"_L1, now + 5)),
                            *m_rsaExternal)
        << accepted;
    QTest::newRow("audience array containing ours accepted")
        << local(with(localClaims(), "aud"_L1, QJsonArray { "other"_L1, "gatehouse"_L1 })) << accepted;
    QTest::newRow("typ application/at+jwt in any case accepted")
        << local(localClaims(), { { "typ"_L1, "Application/AT+JWT"_L1 } }) << accepted;
    QTest::newRow("expired within the clock skew accepted")
        << local(with(localClaims(), "exp"_L1, now - 29)) << accepted;
    QTest::newRow("nbf within the clock skew accepted") << local(with(localClaims(), "nbf"_L1, now + 30)) << accepted;
    QTest::newRow("fractional NumericDate accepted") << local(with(localClaims(), "exp"_L1, now + 10.5)) << accepted;
    QTest::newRow("external token living exactly max_access_token_ttl accepted")
        << external(with(with(externalClaims(), "iat"_L1, now - 10), "exp"_L1, now - 10 + maximumLifetime)) << accepted;
    QTest::newRow("external token without iat ending within max_access_token_ttl plus skew accepted")
        << external(with(externalClaims(), "exp"_L1, now + maximumLifetime + 30)) << accepted;
    QTest::newRow("our own token longer than max_access_token_ttl accepted (its lifetime is ours to set)")
        << local(with(localClaims(), "exp"_L1, now + 2 * maximumLifetime)) << accepted;

    QTest::newRow("expired token refused")
        << local(with(localClaims(), "exp"_L1, now - 31)) << int(TokenError::Expired);
    QTest::newRow("token at exp plus skew refused")
        << local(with(localClaims(), "exp"_L1, now - 30)) << int(TokenError::Expired);
    QTest::newRow("token not yet valid refused")
        << local(with(localClaims(), "nbf"_L1, now + 31)) << int(TokenError::NotYetValid);
    QTest::newRow("token issued in the future refused")
        << local(with(localClaims(), "iat"_L1, now + 31)) << int(TokenError::IssuedInFuture);
    QTest::newRow("external token with exp in the year 9999 refused")
        << external(with(with(externalClaims(), "iat"_L1, now), "exp"_L1, year9999))
        << int(TokenError::LifetimeTooLong);
    QTest::newRow("external token without iat and exp in the year 9999 refused")
        << external(with(externalClaims(), "exp"_L1, year9999)) << int(TokenError::LifetimeTooLong);
    QTest::newRow("external token without iat but with a recent nbf and exp in the year 9999 refused")
        << external(with(with(externalClaims(), "nbf"_L1, now - 5), "exp"_L1, year9999))
        << int(TokenError::LifetimeTooLong);
    QTest::newRow("external token living one second past max_access_token_ttl refused")
        << external(with(with(externalClaims(), "iat"_L1, now - 10), "exp"_L1, now - 9 + maximumLifetime))
        << int(TokenError::LifetimeTooLong);
    QTest::newRow("external token without iat ending past max_access_token_ttl plus skew refused")
        << external(with(externalClaims(), "exp"_L1, now + maximumLifetime + 31)) << int(TokenError::LifetimeTooLong);
    QTest::newRow("external token issued in 1970 and still valid refused")
        << external(with(with(externalClaims(), "iat"_L1, 1), "exp"_L1, now + 300)) << int(TokenError::LifetimeTooLong);
    QTest::newRow("external token whose fractional exp ends just past max_access_token_ttl refused")
        << external(with(with(externalClaims(), "iat"_L1, now), "exp"_L1, now + maximumLifetime + 1.5))
        << int(TokenError::LifetimeTooLong);
    QTest::newRow("RS256 token of a trusted issuer with kid and exp in the year 9999 refused")
        << CompactJws::sign({ { "typ"_L1, "at+jwt"_L1 } },
                            json(with(with(externalClaims(), "iss"_L1, u"https://rsa.example"_s), "exp"_L1, year9999)),
                            *m_rsaExternal)
        << int(TokenError::LifetimeTooLong);
    QTest::newRow("wrong audience refused")
        << local(with(localClaims(), "aud"_L1, "other"_L1)) << int(TokenError::WrongAudience);
    QTest::newRow("empty audience array refused")
        << local(with(localClaims(), "aud"_L1, QJsonArray {})) << int(TokenError::WrongAudience);
    QTest::newRow("our key claiming another issuer refused")
        << local(with(localClaims(), "iss"_L1, externalIssuer)) << int(TokenError::WrongIssuer);
    QTest::newRow("trusted issuer's key claiming our issuer refused")
        << external(with(externalClaims(), "iss"_L1, localIssuer)) << int(TokenError::WrongIssuer);
    QTest::newRow("alg none refused") << rawToken(R"({"alg":"none","kid":"x"})", json(localClaims()), nullptr, "x")
                                      << int(TokenError::AlgorithmNone);
    QTest::newRow("alg NoNe refused") << rawToken(R"({"alg":"NoNe"})", json(localClaims()), nullptr, "x")
                                      << int(TokenError::AlgorithmNone);
    QTest::newRow("alg none with empty signature refused")
        << QByteArray(Base64Url::encode(R"({"alg":"none"})") + '.' + Base64Url::encode(json(localClaims())) + '.')
        << int(TokenError::AlgorithmNone);
    {
        // The classic confusion: HMAC "signed" with our public key bytes, under our kid.
        const QByteArray publicBytes = json(m_edKey->publicJwk()) + QByteArray(32, ' ');
        const auto forged = JsonWebKey::fromSecret(publicBytes, JwsAlgorithm::HS256, m_edKey->keyId());
        QTest::newRow("HS256 signed with our public key refused")
            << rawToken(json({ { "alg"_L1, "HS256"_L1 }, { "kid"_L1, m_edKey->keyId() }, { "typ"_L1, "at+jwt"_L1 } }),
                        json(localClaims()), &*forged)
            << int(TokenError::AlgorithmMismatch);
        const auto pemAsSecret = JsonWebKey::fromSecret(m_rsaExternal->publicJwk().value("n"_L1).toString().toLatin1(),
                                                        JwsAlgorithm::HS256, m_rsaExternal->keyId());
        QTest::newRow("HS256 signed with the RSA modulus refused")
            << rawToken(json({ { "alg"_L1, "HS256"_L1 }, { "kid"_L1, m_rsaExternal->keyId() } }),
                        json(externalClaims()), &*pemAsSecret)
            << int(TokenError::AlgorithmMismatch);
    }
    QTest::newRow("kid-less EdDSA token refused (only the HS256 key is kid-less)")
        << rawToken(R"({"alg":"EdDSA","typ":"at+jwt"})", json(localClaims()), &*m_edKey)
        << int(TokenError::AlgorithmMismatch);
    {
        QByteArray token = local(localClaims());
        const QByteArray forgedPayload = Base64Url::encode(json(with(localClaims(), "sub"_L1, "mallory"_L1)));
        const auto parts = token.split('.');
        QTest::newRow("tampered payload refused")
            << QByteArray(parts[0] + '.' + forgedPayload + '.' + parts[2]) << int(TokenError::BadSignature);
        QTest::newRow("signature from another token refused")
            << QByteArray(parts[0] + '.' + parts[1] + '.' + local(with(localClaims(), "jti"_L1, "j2"_L1)).split('.')[2])
            << int(TokenError::BadSignature);
        QTest::newRow("empty signature refused")
            << QByteArray(parts[0] + '.' + parts[1] + '.') << int(TokenError::BadSignature);
    }
    QTest::newRow("unknown kid refused") << rawToken(
        json({ { "alg"_L1, "EdDSA"_L1 }, { "kid"_L1, "nobody"_L1 }, { "typ"_L1, "at+jwt"_L1 } }), json(localClaims()),
        &*m_edKey) << int(TokenError::UnknownKey);
    QTest::newRow("missing typ refused") << local(localClaims(), {}) << int(TokenError::WrongType);
    QTest::newRow("typ JWT on our token refused")
        << local(localClaims(), { { "typ"_L1, "JWT"_L1 } }) << int(TokenError::WrongType);
    QTest::newRow("typ as a number refused") << local(localClaims(), { { "typ"_L1, 1 } }) << int(TokenError::WrongType);
    QTest::newRow("duplicate claim refused")
        << rawToken(edHeader, json(localClaims()).chopped(1) + R"(,"sub":"mallory"})", &*m_edKey)
        << int(TokenError::DuplicateMember);
    QTest::newRow("duplicate header parameter refused")
        << rawToken(edHeader.chopped(1) + R"(,"alg":"none"})", json(localClaims()), &*m_edKey)
        << int(TokenError::DuplicateMember);
    QTest::newRow("missing sub refused") << local(without(localClaims(), "sub"_L1)) << int(TokenError::MissingClaim);
    QTest::newRow("missing exp refused") << local(without(localClaims(), "exp"_L1)) << int(TokenError::MissingClaim);
    QTest::newRow("missing jti on our token refused")
        << local(without(localClaims(), "jti"_L1)) << int(TokenError::MissingClaim);
    QTest::newRow("missing sid on our token refused")
        << local(without(localClaims(), "sid"_L1)) << int(TokenError::MissingClaim);
    QTest::newRow("missing iss refused") << local(without(localClaims(), "iss"_L1)) << int(TokenError::MissingClaim);
    QTest::newRow("exp as a string refused")
        << local(with(localClaims(), "exp"_L1, "tomorrow"_L1)) << int(TokenError::InvalidClaim);
    QTest::newRow("negative exp refused") << local(with(localClaims(), "exp"_L1, -5)) << int(TokenError::InvalidClaim);
    QTest::newRow("exp beyond year 9999 refused")
        << local(with(localClaims(), "exp"_L1, 1e300)) << int(TokenError::InvalidClaim);
    QTest::newRow("empty sub refused") << local(with(localClaims(), "sub"_L1, ""_L1)) << int(TokenError::InvalidClaim);
    QTest::newRow("audience array with a number refused")
        << local(with(localClaims(), "aud"_L1, QJsonArray { "gatehouse"_L1, 7 })) << int(TokenError::InvalidClaim);
    QTest::newRow("roles as an object refused")
        << local(with(localClaims(), "roles"_L1, QJsonObject {})) << int(TokenError::InvalidClaim);
    QTest::newRow("claims that are an array refused")
        << rawToken(edHeader, "[1]", &*m_edKey) << int(TokenError::BadClaims);
    QTest::newRow("claims that are not JSON refused")
        << rawToken(edHeader, "foo", &*m_edKey) << int(TokenError::BadClaims);
    QTest::newRow("crit header refused") << rawToken(json({ { "alg"_L1, "EdDSA"_L1 },
                                                            { "kid"_L1, m_edKey->keyId() },
                                                            { "crit"_L1, QJsonArray { "b64"_L1 } },
                                                            { "b64"_L1, false } }),
                                                     json(localClaims()), &*m_edKey)
                                         << int(TokenError::UnsupportedCritical);
    QTest::newRow("oversized token refused")
        << local(with(localClaims(), "pad"_L1, QString(9000, u'x'))) << int(TokenError::TooLarge);
    QTest::newRow("two parts refused") << QByteArray("eyJhbGciOiJFZERTQSJ9.e30") << int(TokenError::Malformed);
    QTest::newRow("four parts refused") << QByteArray("a.b.c.d") << int(TokenError::Malformed);
    QTest::newRow("empty token refused") << QByteArray() << int(TokenError::Malformed);
    QTest::newRow("empty header part refused") << QByteArray(".e30.AAAA") << int(TokenError::Malformed);
    QTest::newRow("padded base64 refused")
        << QByteArray(local(localClaims()).replace(".", "=.")) << int(TokenError::BadEncoding);
    QTest::newRow("header that is not JSON refused")
        << rawToken("not json", json(localClaims()), &*m_edKey) << int(TokenError::BadHeader);
    QTest::newRow("header without alg refused")
        << rawToken(R"({"kid":"x"})", json(localClaims()), &*m_edKey) << int(TokenError::BadHeader);
    QTest::newRow("numeric kid refused") << rawToken(R"({"alg":"EdDSA","kid":5})", json(localClaims()), &*m_edKey)
                                         << int(TokenError::BadHeader);
    QTest::newRow("unknown alg refused") << rawToken(R"({"alg":"HS1"})", json(localClaims()), &*m_edKey)
                                         << int(TokenError::UnsupportedAlgorithm);
}

void TestTokenVerifier::verify()
{
    QFETCH(QByteArray, token);
    QFETCH(int, error);
    const auto result = m_verifier->verify(token, std::chrono::system_clock::time_point(std::chrono::seconds(now)));
    if (error == accepted) {
        QVERIFY2(result.ok(), result.ok() ? "" : tokenErrorCode(result.error()).data());
    } else {
        QVERIFY2(!result.ok(), "token was accepted");
        QCOMPARE(tokenErrorCode(result.error()), tokenErrorCode(static_cast<TokenError>(error)));
    }
}

void TestTokenVerifier::issuedTokenCarriesTheRequest()
{
    const TokenIssuer issuer(*m_edKey, localIssuer, u"gatehouse"_s);
    const auto issued = issuer.mint({ u"alice"_s, u"session-1"_s, u"laptop"_s, { u"admin"_s, u"ops"_s }, 120s, {} },
                                    std::chrono::system_clock::time_point(std::chrono::seconds(now)));
    QCOMPARE(issued.expiresAt - issued.issuedAt, 120);
    const auto claims
        = m_verifier->verify(issued.token, std::chrono::system_clock::time_point(std::chrono::seconds(now + 60)));
    QVERIFY(claims.ok());
    QCOMPARE(claims->subject, u"alice"_s);
    QCOMPARE(claims->sessionId, u"session-1"_s);
    QCOMPARE(claims->deviceId, u"laptop"_s);
    QCOMPARE(claims->roles, (QStringList { u"admin"_s, u"ops"_s }));
    QCOMPARE(claims->jwtId, issued.jwtId);
    QCOMPARE(claims->keyId, m_edKey->keyId());
    QVERIFY(claims->local);
    const auto jws = CompactJws::parse(issued.token, 8192);
    QCOMPARE(jws->header.value("typ"_L1).toString(), u"at+jwt"_s);
    QCOMPARE(jws->header.value("kid"_L1).toString(), m_edKey->keyId());
    QCOMPARE(m_verifier->verify(issued.token, std::chrono::system_clock::time_point(std::chrono::seconds(now + 151)))
                 .error(),
             TokenError::Expired);
}

void TestTokenVerifier::retiredKeyStillVerifiesUntilRemoved()
{
    const TokenIssuer oldIssuer(*m_esKey, localIssuer, u"gatehouse"_s);
    const auto token = oldIssuer
                           .mint({ u"alice"_s, u"s"_s, {}, {}, 60s, {} },
                                 std::chrono::system_clock::time_point(std::chrono::seconds(now)))
                           .token;
    const auto withoutOldKey
        = KeySet::build({ *m_edKey }, IssuerPolicy { localIssuer, u"gatehouse"_s, u"at+jwt"_s, true }, {});
    const TokenVerifier verifier(*withoutOldKey, {});
    QCOMPARE(verifier.verify(token, std::chrono::system_clock::time_point(std::chrono::seconds(now))).error(),
             TokenError::UnknownKey);
    QVERIFY(m_verifier->verify(token, std::chrono::system_clock::time_point(std::chrono::seconds(now))).ok());
}

QTEST_APPLESS_MAIN(TestTokenVerifier)
#include "tst_tokenverifier.moc"
