#include "auth/JsonWebKey.h"
#include "config/ConfigFile.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTemporaryDir>
#include <QTest>

using namespace Qt::StringLiterals;

namespace {
bool writeFile(const QString &path, const QByteArray &bytes)
{
    QFile file(path);
    return file.open(QIODevice::WriteOnly) && file.write(bytes) == bytes.size();
}
} // namespace

class TestConfigFile final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void defaultsWithoutAFile();
    void trustedIssuersOfEveryKind();
    void refusesBadConfig_data();
    void refusesBadConfig();
    void parsesListenAddresses_data();
    void parsesListenAddresses();
    void flagsOverrideTheFile();
    void unreadableOrHugeFileIsAClearError();

private:
    QTemporaryDir m_dir;
    QString m_jwksPath;
};

void TestConfigFile::initTestCase()
{
    QVERIFY(m_dir.isValid());
    const auto rsa = JsonWebKey::generate(JwsAlgorithm::RS256);
    const auto ec = JsonWebKey::generate(JwsAlgorithm::ES256);
    m_jwksPath = m_dir.filePath(u"issuer.jwks.json"_s);
    QVERIFY(writeFile(
        m_jwksPath,
        QJsonDocument(QJsonObject { { "keys"_L1, QJsonArray { rsa->publicJwk(), ec->publicJwk() } } }).toJson()));
    QVERIFY(writeFile(m_dir.filePath(u"ec-public.pem"_s), ec->publicKeyPem()));
    QVERIFY(writeFile(m_dir.filePath(u"secret.txt"_s), "a shared secret that is at least 32 bytes long\n"));
    QVERIFY(writeFile(m_dir.filePath(u"short-secret.txt"_s), "too short"));
    QVERIFY(writeFile(m_dir.filePath(u"private.pem"_s), ec->privateKeyMaterial()));
    QVERIFY(writeFile(m_dir.filePath(u"not-json.json"_s), "{ nope"));
    QVERIFY(writeFile(m_dir.filePath(u"mixed.jwks.json"_s),
                      QJsonDocument(QJsonObject { { "keys"_L1,
                                                    QJsonArray { rsa->publicJwk(),
                                                                 QJsonObject { { "kty"_L1, "oct"_L1 },
                                                                               { "alg"_L1, "HS256"_L1 },
                                                                               { "kid"_L1, "s"_L1 },
                                                                               { "k"_L1, QString(43, u'A') } } } } })
                          .toJson()));
}

void TestConfigFile::defaultsWithoutAFile()
{
    const auto config = ConfigFile::resolve(SessionServerOptions { m_dir.filePath(u"empty"_s), {}, {}, {} });
    QVERIFY(config.ok());
    QCOMPARE(config->listenPort, 8080);
    QCOMPARE(config->listenAddress, QHostAddress(QHostAddress::LocalHost));
    QCOMPARE(config->signingAlgorithm, JwsAlgorithm::EdDSA);
    QCOMPARE(config->accessTokenLifetime.count(), 7200);
    QCOMPARE(config->databasePath(), m_dir.filePath(u"empty/gatehouse.sqlite"_s));
}

void TestConfigFile::trustedIssuersOfEveryKind()
{
    const QJsonObject object {
        { "listen"_L1, "127.0.0.1:9000"_L1 },
        { "issuer"_L1, "https://gatehouse.test"_L1 },
        { "access_token_ttl"_L1, 300 },
        { "signing_algorithm"_L1, "ES256"_L1 },
        { "trusted_issuers"_L1,
          QJsonArray {
              QJsonObject { { "issuer"_L1, "https://a.example"_L1 },
                            { "audience"_L1, "rt"_L1 },
                            { "jwks_file"_L1, "issuer.jwks.json"_L1 } },
              QJsonObject { { "issuer"_L1, "https://b.example"_L1 },
                            { "audience"_L1, "rt"_L1 },
                            { "typ"_L1, "JWT"_L1 },
                            { "shared_secret_file"_L1, "secret.txt"_L1 },
                            { "algorithm"_L1, "HS256"_L1 } },
              QJsonObject { { "issuer"_L1, "https://c.example"_L1 },
                            { "audience"_L1, "rt"_L1 },
                            { "shared_secret"_L1, "another shared secret, for HS384 at least 48 bytes long"_L1 },
                            { "algorithm"_L1, "HS384"_L1 },
                            { "kid"_L1, "c-1"_L1 } },
              QJsonObject { { "issuer"_L1, "https://d.example"_L1 },
                            { "audience"_L1, "rt"_L1 },
                            { "public_key_file"_L1, "ec-public.pem"_L1 },
                            { "algorithm"_L1, "ES256"_L1 },
                            { "kid"_L1, "d-1"_L1 } } } },
    };
    const auto config = ConfigFile::apply(object, m_dir.path(), {});
    QVERIFY2(config.ok(), config.ok() ? "" : qPrintable(config.error()));
    QCOMPARE(config->listenPort, 9000);
    QCOMPARE(config->issuer, u"https://gatehouse.test"_s);
    QCOMPARE(config->signingAlgorithm, JwsAlgorithm::ES256);
    QCOMPARE(config->trustedIssuers.size(), 4);
    QVERIFY(!ConfigFile::apply({}, m_dir.path(), {})->inspectPayloads); // off unless asked for
    const auto limits = ConfigFile::apply({ { "admin_remote"_L1, true },
                                            { "inspect_payloads"_L1, true },
                                            { "handshake_rate_per_ip"_L1, 7 },
                                            { "login_free_failures"_L1, 0 },
                                            { "login_max_delay"_L1, 60 },
                                            { "login_device_ttl"_L1, 86400 },
                                            { "allowed_origins"_L1, QJsonArray { "*"_L1 } } },
                                          m_dir.path(), {});
    QVERIFY(limits.ok());
    QVERIFY(limits->adminFromAnywhere);
    QVERIFY(limits->inspectPayloads);
    QCOMPARE(limits->handshakeRatePerIpPerSecond, 7);
    QCOMPARE(limits->loginFreeFailures, 0);
    QCOMPARE(limits->loginMaximumDelay, std::chrono::seconds(60));
    QCOMPARE(limits->loginDeviceLifetime, std::chrono::seconds(86400));
    QCOMPARE(limits->allowedOrigins, QStringList { u"*"_s });
    const auto liveness = ConfigFile::apply(
        { { "ping_interval"_L1, 10 }, { "pong_timeout"_L1, 5 }, { "message_rate"_L1, 50 }, { "message_burst"_L1, 80 } },
        m_dir.path(), {});
    QVERIFY(liveness.ok());
    QCOMPARE(liveness->pingInterval.count(), 10);
    QCOMPARE(liveness->pongTimeout.count(), 5);
    QCOMPARE(liveness->messageRatePerSecond, 50);
    QCOMPARE(liveness->messageBurst, 80);
    QCOMPARE(config->tls.mode, ServerConfig::Tls::Mode::Off);
    const auto proxied = ConfigFile::apply({ { "trusted_proxies"_L1, QJsonArray { "127.0.0.1"_L1, "10.0.0.0/8"_L1 } } },
                                           m_dir.path(), {});
    QVERIFY(proxied.ok());
    QCOMPARE(proxied->trustedProxies, (QStringList { u"127.0.0.1"_s, u"10.0.0.0/8"_s }));
    const auto selfSigned = ConfigFile::apply({ { "tls"_L1, "self-signed"_L1 } }, m_dir.path(), {});
    QVERIFY(selfSigned.ok());
    QCOMPARE(selfSigned->tls.mode, ServerConfig::Tls::Mode::SelfSigned);
    const auto files = ConfigFile::apply(
        { { "tls"_L1, QJsonObject { { "certificate"_L1, "cert.pem"_L1 }, { "private_key"_L1, "/etc/key.pem"_L1 } } } },
        m_dir.path(), {});
    QVERIFY(files.ok());
    QCOMPARE(files->tls.mode, ServerConfig::Tls::Mode::Files);
    QCOMPARE(files->tls.certificateFile, u"cert.pem"_s);
    QCOMPARE(files->tls.privateKeyFile, u"/etc/key.pem"_s);
    QCOMPARE(config->trustedIssuers[3].keys.first().algorithm(), JwsAlgorithm::ES256);
    QVERIFY(!config->trustedIssuers[3].keys.first().hasPrivateKey());
    QCOMPARE(config->trustedIssuers[0].keys.size(), 2);
    QVERIFY(!config->trustedIssuers[0].keyWithoutId);
    QVERIFY(config->trustedIssuers[1].keyWithoutId);
    QCOMPARE(config->trustedIssuers[1].policy.type, u"JWT"_s);
    QCOMPARE(config->trustedIssuers[2].keys.first().keyId(), u"c-1"_s);
    QCOMPARE(config->trustedIssuers[2].keys.first().algorithm(), JwsAlgorithm::HS384);
}

void TestConfigFile::refusesBadConfig_data()
{
    QTest::addColumn<QJsonObject>("object");
    QTest::addColumn<QString>("mentions");
    const auto issuer = [](QJsonObject extra) {
        QJsonObject base { { "issuer"_L1, "https://x.example"_L1 }, { "audience"_L1, "rt"_L1 } };
        for (auto it = extra.begin(); it != extra.end(); ++it)
            base.insert(it.key(), it.value());
        return QJsonObject { { "trusted_issuers"_L1, QJsonArray { base } } };
    };

    QTest::newRow("tls as true refused") << QJsonObject { { "tls"_L1, true } } << u"tls"_s;
    QTest::newRow("trusted_proxies as a string refused")
        << QJsonObject { { "trusted_proxies"_L1, "127.0.0.1"_L1 } } << u"trusted_proxies"_s;
    QTest::newRow("trusted_proxies with a host name refused")
        << QJsonObject { { "trusted_proxies"_L1, QJsonArray { "proxy.local"_L1 } } } << u"proxy.local"_s;
    QTest::newRow("trusted_proxies with a number refused")
        << QJsonObject { { "trusted_proxies"_L1, QJsonArray { 10 } } } << u"trusted_proxies"_s;
    QTest::newRow("tls of an unknown kind refused") << QJsonObject { { "tls"_L1, "self-made"_L1 } } << u"tls"_s;
    QTest::newRow("tls without a key refused")
        << QJsonObject { { "tls"_L1, QJsonObject { { "certificate"_L1, "cert.pem"_L1 } } } } << u"private_key"_s;
    QTest::newRow("tls with an unknown member refused") << QJsonObject {
        { "tls"_L1,
          QJsonObject {
              { "certificate"_L1, "c.pem"_L1 }, { "private_key"_L1, "k.pem"_L1 }, { "password"_L1, "x"_L1 } } }
    } << u"tls"_s;
    QTest::newRow("tls with an empty path refused")
        << QJsonObject { { "tls"_L1, QJsonObject { { "certificate"_L1, ""_L1 }, { "private_key"_L1, "k.pem"_L1 } } } }
        << u"tls"_s;
    QTest::newRow("unknown member refused (a typo)")
        << QJsonObject { { "acces_token_ttl"_L1, 5 } } << u"acces_token_ttl"_s;
    QTest::newRow("negative lifetime refused")
        << QJsonObject { { "access_token_ttl"_L1, -1 } } << u"access_token_ttl"_s;
    QTest::newRow("fractional lifetime refused")
        << QJsonObject { { "access_token_ttl"_L1, 10.5 } } << u"access_token_ttl"_s;
    QTest::newRow("lifetime as a string refused")
        << QJsonObject { { "access_token_ttl"_L1, "900"_L1 } } << u"access_token_ttl"_s;
    QTest::newRow("lifetime over the maximum refused")
        << QJsonObject { { "access_token_ttl"_L1, 7200 }, { "max_access_token_ttl"_L1, 3600 } }
        << u"max_access_token_ttl"_s;
    QTest::newRow("clock skew of an hour refused") << QJsonObject { { "clock_skew"_L1, 3600 } } << u"clock_skew"_s;
    QTest::newRow("HS256 as our signing algorithm refused")
        << QJsonObject { { "signing_algorithm"_L1, "HS256"_L1 } } << u"signing_algorithm"_s;
    QTest::newRow("listen without port refused") << QJsonObject { { "listen"_L1, "127.0.0.1"_L1 } } << u"listen"_s;
    QTest::newRow("listen port out of range refused")
        << QJsonObject { { "listen"_L1, "127.0.0.1:70000"_L1 } } << u"listen"_s;
    QTest::newRow("empty issuer refused") << QJsonObject { { "issuer"_L1, ""_L1 } } << u"issuer"_s;
    QTest::newRow("inspect_payloads as a number refused")
        << QJsonObject { { "inspect_payloads"_L1, 1 } } << u"inspect_payloads"_s;
    QTest::newRow("admin_remote as a string refused")
        << QJsonObject { { "admin_remote"_L1, "yes"_L1 } } << u"admin_remote"_s;
    QTest::newRow("zero handshake rate refused")
        << QJsonObject { { "handshake_rate_per_ip"_L1, 0 } } << u"handshake_rate_per_ip"_s;
    QTest::newRow("a login back-off without a ceiling refused")
        << QJsonObject { { "login_max_delay"_L1, 0 } } << u"login_max_delay"_s;
    QTest::newRow("a device cookie beyond what browsers keep refused")
        << QJsonObject { { "login_device_ttl"_L1, 401 * 86400 } } << u"login_device_ttl"_s;
    QTest::newRow("allowed_origins not an array refused")
        << QJsonObject { { "allowed_origins"_L1, "*"_L1 } } << u"allowed_origins"_s;
    QTest::newRow("tiny message limit refused")
        << QJsonObject { { "max_message_size"_L1, 10 } } << u"max_message_size"_s;
    QTest::newRow("pings never sent refused") << QJsonObject { { "ping_interval"_L1, 0 } } << u"ping_interval"_s;
    QTest::newRow("pong timeout of an hour refused")
        << QJsonObject { { "pong_timeout"_L1, 3600 } } << u"pong_timeout: a whole number of seconds from 1 to 600"_s;
    QTest::newRow("message rate as a string refused")
        << QJsonObject { { "message_rate"_L1, "fast"_L1 } } << u"message_rate: a whole number of messages"_s;
    QTest::newRow("fractional burst refused") << QJsonObject { { "message_burst"_L1, 2.5 } } << u"message_burst"_s;
    QTest::newRow("unknown secret store refused")
        << QJsonObject { { "secret_store"_L1, "vault"_L1 } } << u"secret_store"_s;
    QTest::newRow("trusted issuers not an array refused")
        << QJsonObject { { "trusted_issuers"_L1, 1 } } << u"trusted_issuers"_s;
    QTest::newRow("trusted issuer without a key refused") << issuer({}) << u"exactly one"_s;
    QTest::newRow("trusted issuer with two key sources refused") << issuer({ { "jwks_file"_L1, "issuer.jwks.json"_L1 },
                                                                             { "shared_secret"_L1, QString(40, u's') },
                                                                             { "algorithm"_L1, "HS256"_L1 } })
                                                                 << u"exactly one"_s;
    QTest::newRow("trusted issuer without audience refused") << QJsonObject {
        { "trusted_issuers"_L1,
          QJsonArray { QJsonObject { { "issuer"_L1, "x"_L1 }, { "jwks_file"_L1, "issuer.jwks.json"_L1 } } } }
    } << u"audience"_s;
    QTest::newRow("shared secret under 32 bytes refused")
        << issuer({ { "shared_secret_file"_L1, "short-secret.txt"_L1 }, { "algorithm"_L1, "HS256"_L1 } })
        << u"at least 32 bytes"_s;
    QTest::newRow("shared secret without algorithm refused")
        << issuer({ { "shared_secret"_L1, QString(40, u's') } }) << u"algorithm"_s;
    QTest::newRow("shared secret declared as RS256 refused")
        << issuer({ { "shared_secret"_L1, QString(40, u's') }, { "algorithm"_L1, "RS256"_L1 } }) << u"wrong_key_type"_s;
    QTest::newRow("missing JWKS file refused")
        << issuer({ { "jwks_file"_L1, "nowhere.json"_L1 } }) << u"nowhere.json"_s;
    QTest::newRow("JWKS file that is not JSON refused")
        << issuer({ { "jwks_file"_L1, "not-json.json"_L1 } }) << u"not-json.json"_s;
    QTest::newRow("JWKS mixing a secret and a public key refused")
        << issuer({ { "jwks_file"_L1, "mixed.jwks.json"_L1 } }) << u"shared secrets"_s;
    QTest::newRow("private key given as the public key refused")
        << issuer({ { "public_key_file"_L1, "private.pem"_L1 }, { "algorithm"_L1, "ES256"_L1 } }) << u"private key"_s;
    QTest::newRow("JSON file given as a PEM refused")
        << issuer({ { "public_key_file"_L1, "issuer.jwks.json"_L1 }, { "algorithm"_L1, "ES256"_L1 } }) << u"bad_pem"_s;
}

void TestConfigFile::refusesBadConfig()
{
    QFETCH(QJsonObject, object);
    QFETCH(QString, mentions);
    const auto config = ConfigFile::apply(object, m_dir.path(), {});
    QVERIFY(!config.ok());
    QVERIFY2(config.error().contains(mentions), qPrintable(config.error()));
}

void TestConfigFile::parsesListenAddresses_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<bool>("valid");
    QTest::addColumn<QString>("address");
    QTest::addColumn<int>("port");
    QTest::newRow("IPv4 with port") << u"127.0.0.1:8080"_s << true << u"127.0.0.1"_s << 8080;
    QTest::newRow("port only means loopback") << u":0"_s << true << u"127.0.0.1"_s << 0;
    QTest::newRow("localhost means IPv4 loopback") << u"localhost:9"_s << true << u"127.0.0.1"_s << 9;
    QTest::newRow("bracketed IPv6") << u"[::1]:8443"_s << true << u"::1"_s << 8443;
    QTest::newRow("host name refused") << u"example.com:80"_s << false << QString() << 0;
    QTest::newRow("no colon refused") << u"8080"_s << false << QString() << 0;
    QTest::newRow("port with letters refused") << u"127.0.0.1:80a"_s << false << QString() << 0;
    QTest::newRow("negative port refused") << u"127.0.0.1:-1"_s << false << QString() << 0;
}

void TestConfigFile::parsesListenAddresses()
{
    QFETCH(QString, text);
    QFETCH(bool, valid);
    QFETCH(QString, address);
    QFETCH(int, port);
    QHostAddress parsedAddress;
    quint16 parsedPort = 1;
    QCOMPARE(ConfigFile::parseListen(text, parsedAddress, parsedPort), valid);
    if (valid) {
        QCOMPARE(parsedAddress, QHostAddress(address));
        QCOMPARE(int(parsedPort), port);
    }
}

void TestConfigFile::flagsOverrideTheFile()
{
    const QString dataDir = m_dir.filePath(u"instance"_s);
    QVERIFY(QDir().mkpath(dataDir));
    QVERIFY(writeFile(dataDir + u"/gatehouse.json"_s, R"({"listen": "127.0.0.1:9100", "secret_store": "file"})"));
    const auto fromFile = ConfigFile::resolve(SessionServerOptions { dataDir, {}, {}, {} });
    QVERIFY(fromFile.ok());
    QCOMPARE(fromFile->listenPort, 9100);
    QCOMPARE(fromFile->secretBackend, SecretBackendMode::File);
    const auto overridden
        = ConfigFile::resolve(SessionServerOptions { dataDir, {}, u"127.0.0.1:9200"_s, u"keychain"_s });
    QCOMPARE(overridden->listenPort, 9200);
    QCOMPARE(overridden->secretBackend, SecretBackendMode::Keychain);
    QVERIFY(!ConfigFile::resolve(SessionServerOptions { dataDir, {}, u"nonsense"_s, {} }).ok());
    QVERIFY(!ConfigFile::resolve(SessionServerOptions { dataDir, {}, {}, u"cloud"_s }).ok());
    const auto lab = ConfigFile::resolve(SessionServerOptions {
        dataDir, {}, {}, {}, { { u"access_token_ttl"_s, 30 }, { u"session_idle_ttl"_s, 600 } } });
    QVERIFY(lab.ok());
    QCOMPARE(lab->accessTokenLifetime.count(), 30);
    QCOMPARE(lab->sessionPolicy.sessionIdleTtl.count(), 600);
    const auto badFlag
        = ConfigFile::resolve(SessionServerOptions { dataDir, {}, {}, {}, { { u"session_idle_ttl"_s, 1 } } });
    QVERIFY(!badFlag.ok());
    QVERIFY2(badFlag.error().startsWith(u"--session-idle-ttl"_s), qPrintable(badFlag.error()));
    QVERIFY(!ConfigFile::resolve(SessionServerOptions { dataDir, {}, {}, {}, { { u"access_token_ttl"_s, 1 } } }).ok());
    const auto lifetimesFromFile = ConfigFile::apply(
        { { "refresh_token_max_ttl"_L1, 7200 }, { "refresh_token_idle_ttl"_L1, 3600 } }, dataDir, {});
    QCOMPARE(lifetimesFromFile->sessionPolicy.refreshTokenMaxTtl.count(), 7200);
    const auto browserLifetimes = ConfigFile::apply(
        { { "session_cookie_ttl"_L1, 5 }, { "id_token_ttl"_L1, 600 }, { "sli_cookie_ttl"_L1, 1800 } }, dataDir, {});
    QVERIFY2(browserLifetimes.ok(), qPrintable(browserLifetimes ? QString() : browserLifetimes.error()));
    QCOMPARE(browserLifetimes->sessionPolicy.sessionCookieTtl.count(), 5);
    QCOMPARE(browserLifetimes->sessionPolicy.idTokenTtl.count(), 600);
    QCOMPARE(browserLifetimes->sessionPolicy.sliCookieTtl.count(), 1800);
    QVERIFY(!ConfigFile::apply({ { "sli_cookie_ttl"_L1, u"long"_s } }, dataDir, {}).ok());
    QVERIFY(
        !ConfigFile::apply({ { "refresh_token_idle_ttl"_L1, 7200 }, { "refresh_token_max_ttl"_L1, 3600 } }, dataDir, {})
             .ok());
    const auto duplicate = dataDir + u"/dup.json"_s;
    QVERIFY(writeFile(duplicate, R"({"listen": "127.0.0.1:1", "listen": "0.0.0.0:2"})"));
    QVERIFY(!ConfigFile::resolve(SessionServerOptions { dataDir, duplicate, {}, {} }).ok());
}

void TestConfigFile::unreadableOrHugeFileIsAClearError()
{
    const auto missing = ConfigFile::load(m_dir.filePath(u"missing.json"_s), {});
    QVERIFY(!missing.ok());
    QVERIFY(missing.error().contains(u"missing.json"_s));
    const QString huge = m_dir.filePath(u"huge.json"_s);
    QVERIFY(writeFile(huge, "{\"issuer\":\"" + QByteArray(2 * 1024 * 1024, 'x') + "\"}"));
    const auto tooLarge = ConfigFile::load(huge, {});
    QVERIFY(!tooLarge.ok());
    QVERIFY2(tooLarge.error().contains(u"1 MiB"_s), qPrintable(tooLarge.error()));
}

QTEST_APPLESS_MAIN(TestConfigFile)
#include "tst_configfile.moc"
