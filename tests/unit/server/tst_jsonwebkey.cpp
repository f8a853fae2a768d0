#include "auth/Base64Url.h"
#include "auth/JsonWebKey.h"

#include <QJsonArray>
#include <QTest>

using namespace Qt::StringLiterals;

namespace {
// RFC 8037 Appendix A.1 / A.2.
const QJsonObject rfc8037Private { { "kty"_L1, "OKP"_L1 },
                                   { "crv"_L1, "Ed25519"_L1 },
                                   { "d"_L1, "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"_L1 },
                                   { "x"_L1, "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"_L1 },
                                   { "alg"_L1, "EdDSA"_L1 },
                                   { "kid"_L1, "rfc8037"_L1 } };

QJsonObject without(QJsonObject object, QLatin1StringView name)
{
    object.remove(name);
    return object;
}

QJsonObject with(QJsonObject object, QLatin1StringView name, const QJsonValue &value)
{
    object.insert(name, value);
    return object;
}

QJsonObject generatedPublic(JwsAlgorithm algorithm)
{
    return JsonWebKey::generate(algorithm)->publicJwk();
}
} // namespace

class TestJsonWebKey final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void thumbprintMatchesRfc8037();
    void privateKeyMustMatchPublicHalf();
    void signsAndVerifiesEveryAlgorithm_data();
    void signsAndVerifiesEveryAlgorithm();
    void refusesUnfitKeys_data();
    void refusesUnfitKeys();
    void publicKeyCannotSign();
    void pemRoundTripKeepsTheKey();
    void pemOfTheWrongTypeIsRefused();
};

void TestJsonWebKey::thumbprintMatchesRfc8037()
{
    const auto key = JsonWebKey::fromJwk(rfc8037Private);
    QVERIFY(key.ok());
    QVERIFY(key->hasPrivateKey());
    QCOMPARE(key->thumbprint(), QByteArray("kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k")); // RFC 8037 A.3
    QCOMPARE(key->publicJwk().value("x"_L1).toString(), rfc8037Private.value("x"_L1).toString());
    QVERIFY(!key->publicJwk().contains("d"_L1));
}

void TestJsonWebKey::privateKeyMustMatchPublicHalf()
{
    auto mismatched = rfc8037Private;
    mismatched.insert("x"_L1, generatedPublic(JwsAlgorithm::EdDSA).value("x"_L1));
    const auto key = JsonWebKey::fromJwk(mismatched);
    QVERIFY(!key.ok());
    QCOMPARE(key.error(), KeyError::InvalidKeyMaterial);
}

void TestJsonWebKey::signsAndVerifiesEveryAlgorithm_data()
{
    QTest::addColumn<JwsAlgorithm>("algorithm");
    for (const auto algorithm :
         { JwsAlgorithm::EdDSA, JwsAlgorithm::ES256, JwsAlgorithm::ES384, JwsAlgorithm::ES512, JwsAlgorithm::RS256,
           JwsAlgorithm::RS512, JwsAlgorithm::PS256, JwsAlgorithm::HS256, JwsAlgorithm::HS512 })
        QTest::newRow(Jwa::name(algorithm).data()) << algorithm;
}

void TestJsonWebKey::signsAndVerifiesEveryAlgorithm()
{
    QFETCH(JwsAlgorithm, algorithm);
    const auto key = JsonWebKey::generate(algorithm);
    QVERIFY(key.ok());
    QVERIFY(!key->keyId().isEmpty());
    const QByteArray input = "header.payload";
    const QByteArray signature = key->sign(input);
    QVERIFY(!signature.isEmpty());
    QVERIFY(key->verify(input, signature));
    QVERIFY(!key->verify("header.payloaD", signature));
    QByteArray flipped = signature;
    flipped[flipped.size() / 2] = static_cast<char>(flipped[flipped.size() / 2] ^ 0x01);
    QVERIFY(!key->verify(input, flipped));
    QVERIFY(!key->verify(input, QByteArray(signature + QByteArray(1, '\0'))));
    QVERIFY(!key->verify(input, {}));
    if (key->isSymmetric())
        return;
    // The published half verifies what the private half signed.
    const auto published = JsonWebKey::fromJwk(key->publicJwk());
    QVERIFY2(published.ok(), published.ok() ? "" : keyErrorName(published.error()).data());
    QVERIFY(published->verify(input, signature));
    QCOMPARE(published->thumbprint(), key->thumbprint());
}

void TestJsonWebKey::refusesUnfitKeys_data()
{
    QTest::addColumn<QJsonObject>("jwk");
    QTest::addColumn<KeyError>("error");

    const auto ec = generatedPublic(JwsAlgorithm::ES256);
    const auto rsa = generatedPublic(JwsAlgorithm::RS256);
    const auto okp = generatedPublic(JwsAlgorithm::EdDSA);
    const QJsonObject secret { { "kty"_L1, "oct"_L1 },
                               { "alg"_L1, "HS256"_L1 },
                               { "kid"_L1, "s"_L1 },
                               { "k"_L1, QString::fromLatin1(Base64Url::encode(QByteArray(32, 'k'))) } };

    QTest::newRow("key without alg refused") << without(ec, "alg"_L1) << KeyError::MissingAlgorithm;
    QTest::newRow("alg none refused") << with(ec, "alg"_L1, "none"_L1) << KeyError::UnsupportedAlgorithm;
    QTest::newRow("alg ES224 refused") << with(ec, "alg"_L1, "ES224"_L1) << KeyError::UnsupportedAlgorithm;
    QTest::newRow("lower-case alg refused") << with(ec, "alg"_L1, "es256"_L1) << KeyError::UnsupportedAlgorithm;
    QTest::newRow("key without kid refused") << without(ec, "kid"_L1) << KeyError::MissingKeyId;
    QTest::newRow("encryption key refused") << with(ec, "use"_L1, "enc"_L1) << KeyError::WrongUse;
    QTest::newRow("key_ops without verify refused")
        << with(ec, "key_ops"_L1, QJsonArray { "encrypt"_L1 }) << KeyError::WrongKeyOperations;
    QTest::newRow("EC key claiming kty RSA refused") << with(ec, "kty"_L1, "RSA"_L1) << KeyError::WrongKeyType;
    QTest::newRow("P-256 key for ES512 refused") << with(ec, "alg"_L1, "ES512"_L1) << KeyError::WrongCurve;
    QTest::newRow("curve P-384 with ES256 refused") << with(ec, "crv"_L1, "P-384"_L1) << KeyError::WrongCurve;
    auto offCurve = ec;
    auto y = *Base64Url::decode(ec.value("y"_L1).toString().toLatin1());
    y[31] = static_cast<char>(y[31] ^ 0x01);
    offCurve.insert("y"_L1, QString::fromLatin1(Base64Url::encode(y)));
    QTest::newRow("EC point off the curve refused") << offCurve << KeyError::InvalidKeyMaterial;
    QTest::newRow("EC x of wrong length refused") << with(ec, "x"_L1, "AAAA"_L1) << KeyError::InvalidKeyMaterial;
    QTest::newRow("EC x padded base64 refused")
        << with(ec, "x"_L1, QString(ec.value("x"_L1).toString() + u"="_s)) << KeyError::InvalidKeyMaterial;
    QTest::newRow("RSA exponent one refused") << with(rsa, "e"_L1, "AQ"_L1) << KeyError::InvalidKeyMaterial;
    QTest::newRow("RSA even exponent refused") << with(rsa, "e"_L1, "Ag"_L1) << KeyError::InvalidKeyMaterial;
    QTest::newRow("RSA 1024-bit modulus refused")
        << with(rsa, "n"_L1, QString::fromLatin1(Base64Url::encode(QByteArray(128, '\xc1')))) << KeyError::KeyTooSmall;
    QTest::newRow("RSA without modulus refused") << without(rsa, "n"_L1) << KeyError::InvalidKeyMaterial;
    QTest::newRow("RSA private key missing factors refused")
        << with(rsa, "d"_L1, "AQAB"_L1) << KeyError::InvalidKeyMaterial;
    QTest::newRow("Ed25519 x of 31 bytes refused")
        << with(okp, "x"_L1, QString::fromLatin1(Base64Url::encode(QByteArray(31, 'x'))))
        << KeyError::InvalidKeyMaterial;
    QTest::newRow("Ed448 curve refused") << with(okp, "crv"_L1, "Ed448"_L1) << KeyError::WrongCurve;
    QTest::newRow("HS256 secret of 31 bytes refused")
        << with(secret, "k"_L1, QString::fromLatin1(Base64Url::encode(QByteArray(31, 'k')))) << KeyError::KeyTooSmall;
    QTest::newRow("HS256 secret missing refused") << without(secret, "k"_L1) << KeyError::InvalidKeyMaterial;
    QTest::newRow("secret claiming kty EC refused") << with(secret, "kty"_L1, "EC"_L1) << KeyError::WrongKeyType;
    QTest::newRow("AES key used for signing refused")
        << with(secret, "alg"_L1, "A256GCM"_L1) << KeyError::UnsupportedAlgorithm;
}

void TestJsonWebKey::refusesUnfitKeys()
{
    QFETCH(QJsonObject, jwk);
    QFETCH(KeyError, error);
    const auto key = JsonWebKey::fromJwk(jwk);
    QVERIFY(!key.ok());
    QCOMPARE(key.error(), error);
}

void TestJsonWebKey::publicKeyCannotSign()
{
    const auto key = JsonWebKey::fromJwk(generatedPublic(JwsAlgorithm::ES256));
    QVERIFY(key.ok());
    QVERIFY(!key->hasPrivateKey());
    QVERIFY(key->sign("input").isEmpty());
    QVERIFY(key->privateKeyMaterial().isEmpty());
}

void TestJsonWebKey::pemRoundTripKeepsTheKey()
{
    for (const auto algorithm : { JwsAlgorithm::EdDSA, JwsAlgorithm::ES256, JwsAlgorithm::RS256 }) {
        const auto key = JsonWebKey::generate(algorithm);
        const QByteArray pem = key->privateKeyMaterial();
        QVERIFY(pem.startsWith("-----BEGIN PRIVATE KEY-----"));
        const auto restored = JsonWebKey::fromPem(pem, algorithm, key->keyId());
        QVERIFY(restored.ok());
        QCOMPARE(restored->thumbprint(), key->thumbprint());
        QVERIFY(key->verify("x", restored->sign("x")));
    }
}

void TestJsonWebKey::pemOfTheWrongTypeIsRefused()
{
    const QByteArray edPem = JsonWebKey::generate(JwsAlgorithm::EdDSA)->privateKeyMaterial();
    QCOMPARE(JsonWebKey::fromPem(edPem, JwsAlgorithm::RS256, u"k"_s).error(), KeyError::WrongKeyType);
    const QByteArray p256Pem = JsonWebKey::generate(JwsAlgorithm::ES256)->privateKeyMaterial();
    QCOMPARE(JsonWebKey::fromPem(p256Pem, JwsAlgorithm::ES384, u"k"_s).error(), KeyError::WrongKeyType);
    QCOMPARE(JsonWebKey::fromPem("-----BEGIN PUBLIC KEY-----\ngarbage\n-----END PUBLIC KEY-----\n", JwsAlgorithm::ES256,
                                 u"k"_s)
                 .error(),
             KeyError::BadPem);
    QCOMPARE(JsonWebKey::fromPem("", JwsAlgorithm::ES256, u"k"_s).error(), KeyError::BadPem);
    QCOMPARE(JsonWebKey::fromPem(edPem, JwsAlgorithm::HS256, u"k"_s).error(), KeyError::WrongKeyType);
}

QTEST_APPLESS_MAIN(TestJsonWebKey)
#include "tst_jsonwebkey.moc"
