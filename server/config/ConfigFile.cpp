#include "config/ConfigFile.h"

#include "WholeNumber.h"
#include "auth/JsonWebKeySet.h"
#include "auth/StrictJson.h"
#include "config/DataDirectory.h"
#include "http/TrustedProxies.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSet>
#include <QUrl>

using namespace Qt::StringLiterals;

namespace {
constexpr qint64 maximumFileSize = 1024 * 1024;
constexpr qint64 maximumClockSkew = 300;
constexpr qint64 minimumTokenLifetime = 5;
constexpr qint64 maximumTokenLifetime = 30 * 24 * 3600;

using ConfigResult = Result<ServerConfig, QString>;

Result<QByteArray, QString> readSmallFile(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return fail(u"cannot read %1: %2"_s.arg(path, file.errorString()));
    // The size is not trusted: a device or a pipe says 0 and never ends.
    QByteArray bytes = file.read(maximumFileSize + 1);
    if (bytes.size() > maximumFileSize)
        return fail(u"%1 is larger than 1 MiB"_s.arg(path));
    return bytes;
}

QString resolvePath(const QString &baseDirectory, const QString &path)
{
    return QDir(baseDirectory).absoluteFilePath(path);
}

std::optional<QString> unknownMember(const QJsonObject &object, const QSet<QString> &known)
{
    for (auto it = object.begin(); it != object.end(); ++it) {
        if (!known.contains(it.key()))
            return it.key();
    }
    return std::nullopt;
}

Result<qint64, QString> seconds(const QJsonObject &object, const QString &name, qint64 minimum, qint64 maximum,
                                qint64 fallback)
{
    const auto value = object.value(name);
    if (value.isUndefined())
        return fallback;
    const auto number = wholeNumberIn(value, minimum, maximum);
    if (!number)
        return fail(u"%1: a whole number of seconds from %2 to %3"_s.arg(name).arg(minimum).arg(maximum));
    return *number;
}

Result<QString, QString> text(const QJsonObject &object, const QString &name, const QString &fallback)
{
    const auto value = object.value(name);
    if (value.isUndefined())
        return fallback;
    if (!value.isString() || value.toString().trimmed().isEmpty())
        return fail(u"%1: a non-empty string"_s.arg(name));
    return value.toString();
}

Result<QList<JsonWebKey>, QString> keysFromJwks(const QString &path)
{
    const auto bytes = readSmallFile(path);
    if (!bytes)
        return fail(bytes.error());
    const auto document = StrictJson::parseObject(*bytes);
    if (!document)
        return fail(u"%1 must be one JSON object: %2"_s.arg(path, StrictJson::errorString(document.error())));
    auto keys = JsonWebKeySet::parse(*document, JsonWebKeySet::Symmetric::Refused);
    if (!keys)
        return fail(path + u": "_s + keys.error());
    return keys;
}

Result<TrustedIssuer, QString> trustedIssuer(const QJsonObject &object, const QString &baseDirectory)
{
    static const QSet<QString> known { u"issuer"_s,        u"audience"_s,        u"typ"_s,
                                       u"jwks_file"_s,     u"public_key_file"_s, u"shared_secret_file"_s,
                                       u"shared_secret"_s, u"algorithm"_s,       u"kid"_s };
    if (const auto unknown = unknownMember(object, known))
        return fail(u"unknown member \"%1\""_s.arg(*unknown));
    TrustedIssuer trusted;
    const auto issuer = text(object, u"issuer"_s, {});
    const auto audience = text(object, u"audience"_s, {});
    const auto type = text(object, u"typ"_s, u"at+jwt"_s);
    if (!issuer || issuer->isEmpty())
        return fail(u"issuer: required, a non-empty string"_s);
    if (!audience || audience->isEmpty())
        return fail(u"audience: required, a non-empty string"_s);
    if (!type)
        return fail(type.error());
    trusted.policy = IssuerPolicy { *issuer, *audience, *type, false };

    const QStringList sources { u"jwks_file"_s, u"public_key_file"_s, u"shared_secret_file"_s, u"shared_secret"_s };
    const auto present
        = std::count_if(sources.begin(), sources.end(), [&](const QString &s) { return object.contains(s); });
    if (present != 1)
        return fail(u"name exactly one of jwks_file, public_key_file, shared_secret_file, shared_secret"_s);

    if (object.contains("jwks_file"_L1)) {
        auto keys = keysFromJwks(resolvePath(baseDirectory, object.value("jwks_file"_L1).toString()));
        if (!keys)
            return fail(keys.error());
        trusted.keys = *keys;
        return trusted;
    }

    const auto algorithm = Jwa::fromName(object.value("algorithm"_L1).toString());
    if (!algorithm)
        return fail(u"algorithm: required with a single key, one of HS256 ES256 RS256 EdDSA …"_s);
    const QString keyId = object.value("kid"_L1).toString();
    trusted.keyWithoutId = keyId.isEmpty();
    const QString internalId = trusted.keyWithoutId ? u"(no kid) "_s + *issuer : keyId;

    Result<JsonWebKey, KeyError> key = fail(KeyError::InvalidKeyMaterial);
    if (object.contains("public_key_file"_L1)) {
        const auto pem = readSmallFile(resolvePath(baseDirectory, object.value("public_key_file"_L1).toString()));
        if (!pem)
            return fail(pem.error());
        key = JsonWebKey::fromPem(*pem, *algorithm, internalId);
    } else {
        QByteArray secret;
        if (object.contains("shared_secret_file"_L1)) {
            const auto bytes
                = readSmallFile(resolvePath(baseDirectory, object.value("shared_secret_file"_L1).toString()));
            if (!bytes)
                return fail(bytes.error());
            secret = bytes->trimmed();
        } else {
            secret = object.value("shared_secret"_L1).toString().toUtf8();
        }
        key = JsonWebKey::fromSecret(secret, *algorithm, internalId);
    }
    if (!key && key.error() == KeyError::KeyTooSmall && Jwa::family(*algorithm) == KeyFamily::Hmac)
        return fail(u"key_too_small: a %1 shared secret needs at least %2 bytes"_s.arg(Jwa::name(*algorithm))
                        .arg(Jwa::digestSize(*algorithm)));
    if (!key)
        return fail(u"key: "_s + keyErrorName(key.error()));
    if (key->hasPrivateKey() && !key->isSymmetric())
        return fail(u"public_key_file holds a private key; give the public key only"_s);
    trusted.keys.append(*key);
    return trusted;
}
} // namespace

bool ConfigFile::parseListen(const QString &text, QHostAddress &address, quint16 &port)
{
    const qsizetype colon = text.lastIndexOf(u':');
    if (colon < 0)
        return false;
    QString host = text.first(colon);
    if (host.startsWith(u'[') && host.endsWith(u']'))
        host = host.sliced(1, host.size() - 2);
    bool ok = false;
    const uint number = text.sliced(colon + 1).toUInt(&ok);
    if (!ok || number > 65535)
        return false;
    QHostAddress parsed = host.isEmpty() ? QHostAddress(QHostAddress::LocalHost) : QHostAddress(host);
    if (host == "localhost"_L1)
        parsed = QHostAddress(QHostAddress::LocalHost);
    if (parsed.isNull())
        return false;
    address = parsed;
    port = static_cast<quint16>(number);
    return true;
}

Result<ServerConfig, QString> ConfigFile::apply(const QJsonObject &object, const QString &baseDirectory,
                                                ServerConfig config)
{
    static const QSet<QString> known { u"listen"_s,
                                       u"public_url"_s,
                                       u"issuer"_s,
                                       u"audience"_s,
                                       u"clock_skew"_s,
                                       u"signing_algorithm"_s,
                                       u"access_token_ttl"_s,
                                       u"max_access_token_ttl"_s,
                                       u"secret_store"_s,
                                       u"trusted_issuers"_s,
                                       u"allowed_origins"_s,
                                       u"max_connections"_s,
                                       u"max_connections_per_user"_s,
                                       u"admin_remote"_s,
                                       u"inspect_payloads"_s,
                                       u"login_rate_per_ip"_s,
                                       u"login_free_failures"_s,
                                       u"login_max_delay"_s,
                                       u"login_device_ttl"_s,
                                       u"handshake_rate_per_ip"_s,
                                       u"handshake_rate_per_user"_s,
                                       u"refresh_token_idle_ttl"_s,
                                       u"refresh_token_max_ttl"_s,
                                       u"session_idle_ttl"_s,
                                       u"session_cookie_ttl"_s,
                                       u"id_token_ttl"_s,
                                       u"sli_cookie_ttl"_s,
                                       u"sweep_interval"_s,
                                       u"max_message_size"_s,
                                       u"handshake_timeout"_s,
                                       u"ping_interval"_s,
                                       u"pong_timeout"_s,
                                       u"message_rate"_s,
                                       u"message_burst"_s,
                                       u"max_request_body"_s,
                                       u"http_keepalive_timeout"_s,
                                       u"http_max_requests"_s,
                                       u"max_http_connections"_s,
                                       u"max_http_connections_per_address"_s,
                                       u"io_threads"_s,
                                       u"tls"_s,
                                       u"trusted_proxies"_s,
                                       u"proxy_protocol"_s };
    if (const auto unknown = unknownMember(object, known))
        return fail(u"unknown member \"%1\""_s.arg(*unknown));

    if (object.contains("listen"_L1)
        && !parseListen(object.value("listen"_L1).toString(), config.listenAddress, config.listenPort))
        return fail(u"listen: HOST:PORT, e.g. 127.0.0.1:8080"_s);
    if (object.contains("public_url"_L1)) {
        const QJsonValue value = object.value("public_url"_L1);
        QString url = value.toString();
        while (url.endsWith(u'/'))
            url.chop(1);
        const QUrl parsed(url, QUrl::StrictMode);
        if (!value.isString() || !parsed.isValid() || (parsed.scheme() != "http"_L1 && parsed.scheme() != "https"_L1)
            || parsed.host().isEmpty() || parsed.hasQuery() || parsed.hasFragment() || !parsed.userInfo().isEmpty())
            return fail(u"public_url: an http or https URL without query or fragment, e.g. https://gate.example"_s);
        config.publicUrl = url;
    }
    const auto issuer = text(object, u"issuer"_s, config.issuer);
    const auto audience = text(object, u"audience"_s, config.audience);
    const auto skew = seconds(object, u"clock_skew"_s, 0, maximumClockSkew, config.clockSkew.count());
    const auto maximumLifetime = seconds(object, u"max_access_token_ttl"_s, minimumTokenLifetime, maximumTokenLifetime,
                                         config.maximumAccessTokenLifetime.count());
    const auto lifetime = seconds(object, u"access_token_ttl"_s, minimumTokenLifetime, maximumTokenLifetime,
                                  config.accessTokenLifetime.count());
    for (const auto *error : { issuer.ok() ? nullptr : &issuer.error(), audience.ok() ? nullptr : &audience.error() }) {
        if (error)
            return fail(*error);
    }
    for (const auto *number : { &skew, &maximumLifetime, &lifetime }) {
        if (!*number)
            return fail(number->error());
    }
    if (*lifetime > *maximumLifetime)
        return fail(u"access_token_ttl: longer than max_access_token_ttl"_s);
    config.issuer = *issuer;
    config.audience = *audience;
    config.clockSkew = std::chrono::seconds(*skew);
    config.accessTokenLifetime = std::chrono::seconds(*lifetime);
    config.maximumAccessTokenLifetime = std::chrono::seconds(*maximumLifetime);

    if (object.contains("signing_algorithm"_L1)) {
        const auto algorithm = Jwa::fromName(object.value("signing_algorithm"_L1).toString());
        if (!algorithm
            || (*algorithm != JwsAlgorithm::EdDSA && *algorithm != JwsAlgorithm::ES256
                && *algorithm != JwsAlgorithm::RS256))
            return fail(u"signing_algorithm: one of EdDSA, ES256, RS256"_s);
        config.signingAlgorithm = *algorithm;
    }
    if (object.contains("secret_store"_L1)) {
        const auto mode = SecretBackend::modeFromName(object.value("secret_store"_L1).toString());
        if (!mode)
            return fail(u"secret_store: one of auto, keychain, file"_s);
        config.secretBackend = *mode;
    }
    const auto connections = seconds(object, u"max_connections"_s, 1, 1'000'000, config.maximumConnections);
    const auto perUser = seconds(object, u"max_connections_per_user"_s, 1, 1'000'000, config.maximumConnectionsPerUser);
    const auto messageSize = seconds(object, u"max_message_size"_s, 1024, 16 * 1024 * 1024, config.maximumMessageSize);
    const auto handshake = seconds(object, u"handshake_timeout"_s, 1, 120, config.handshakeTimeout.count() / 1000);
    for (const auto *number : { &connections, &perUser, &messageSize, &handshake }) {
        if (!*number)
            return fail(QString(number->error()).replace(u"seconds"_s, u"units"_s));
    }
    config.maximumConnections = *connections;
    config.maximumConnectionsPerUser = *perUser;
    config.maximumMessageSize = *messageSize;
    config.handshakeTimeout = std::chrono::seconds(*handshake);
    const auto pingInterval = seconds(object, u"ping_interval"_s, 1, 3600, config.pingInterval.count());
    const auto pongTimeout = seconds(object, u"pong_timeout"_s, 1, 600, config.pongTimeout.count());
    const auto messageRate = seconds(object, u"message_rate"_s, 1, 100'000, config.messageRatePerSecond);
    const auto messageBurst = seconds(object, u"message_burst"_s, 1, 1'000'000, config.messageBurst);
    for (const auto *number : { &pingInterval, &pongTimeout, &messageRate, &messageBurst }) {
        if (!*number)
            return fail(number == &pingInterval || number == &pongTimeout
                            ? number->error()
                            : QString(number->error()).replace(u"seconds"_s, u"messages"_s));
    }
    config.pingInterval = std::chrono::seconds(*pingInterval);
    config.pongTimeout = std::chrono::seconds(*pongTimeout);
    config.messageRatePerSecond = *messageRate;
    config.messageBurst = *messageBurst;
    const auto body = seconds(object, u"max_request_body"_s, 1024, 16 * 1024 * 1024, config.maximumRequestBodySize);
    const auto keepAlive
        = seconds(object, u"http_keepalive_timeout"_s, 1, 3600, config.httpKeepAliveTimeout.count() / 1000);
    const auto requests = seconds(object, u"http_max_requests"_s, 1, 1'000'000, config.maximumRequestsPerConnection);
    const auto httpSockets = seconds(object, u"max_http_connections"_s, 1, 1'000'000, config.maximumHttpConnections);
    const auto httpPerAddress
        = seconds(object, u"max_http_connections_per_address"_s, 1, 1'000'000, config.maximumHttpConnectionsPerAddress);
    for (const auto *number : { &body, &keepAlive, &requests, &httpSockets, &httpPerAddress }) {
        if (!*number)
            return fail(number == &keepAlive ? number->error()
                                             : QString(number->error()).replace(u"seconds"_s, u"units"_s));
    }
    config.maximumRequestBodySize = *body;
    config.httpKeepAliveTimeout = std::chrono::seconds(*keepAlive);
    config.maximumRequestsPerConnection = int(*requests);
    config.maximumHttpConnections = *httpSockets;
    config.maximumHttpConnectionsPerAddress = *httpPerAddress;
    const auto loginRate = seconds(object, u"login_rate_per_ip"_s, 1, 100000, config.loginRatePerIpPerMinute);
    const auto freeFailures = seconds(object, u"login_free_failures"_s, 0, 1000, config.loginFreeFailures);
    const auto ipRate = seconds(object, u"handshake_rate_per_ip"_s, 1, 1000000, config.handshakeRatePerIpPerSecond);
    const auto userRate
        = seconds(object, u"handshake_rate_per_user"_s, 1, 1000000, config.handshakeRatePerUserPerSecond);
    for (const auto *number : { &loginRate, &freeFailures, &ipRate, &userRate }) {
        if (!*number)
            return fail(QString(number->error()).replace(u"seconds"_s, u"units"_s));
    }
    config.loginRatePerIpPerMinute = int(*loginRate);
    config.loginFreeFailures = int(*freeFailures);
    // Browsers keep a cookie at most 400 days (RFC 6265bis, the Max-Age attribute).
    const auto loginDelay = seconds(object, u"login_max_delay"_s, 1, 86400, config.loginMaximumDelay.count());
    const auto deviceLifetime
        = seconds(object, u"login_device_ttl"_s, 3600, 400 * 86400, config.loginDeviceLifetime.count());
    for (const auto *number : { &loginDelay, &deviceLifetime }) {
        if (!*number)
            return fail(number->error());
    }
    config.loginMaximumDelay = std::chrono::seconds(*loginDelay);
    config.loginDeviceLifetime = std::chrono::seconds(*deviceLifetime);
    config.handshakeRatePerIpPerSecond = int(*ipRate);
    config.handshakeRatePerUserPerSecond = int(*userRate);
    const auto sweep = seconds(object, u"sweep_interval"_s, 1, 3600, config.sweepInterval.count());
    if (!sweep)
        return fail(sweep.error());
    config.sweepInterval = std::chrono::seconds(*sweep);
    const auto ioThreads = seconds(object, u"io_threads"_s, 0, 64, config.ioThreads);
    if (!ioThreads)
        return fail(QString(ioThreads.error()).replace(u"seconds"_s, u"threads"_s));
    config.ioThreads = int(*ioThreads);
    QJsonObject lifetimes;
    for (const auto name : { "refresh_token_idle_ttl"_L1, "refresh_token_max_ttl"_L1, "session_idle_ttl"_L1,
                             "session_cookie_ttl"_L1, "id_token_ttl"_L1, "sli_cookie_ttl"_L1 }) {
        if (object.contains(name))
            lifetimes.insert(name, object.value(name));
    }
    const auto policy = SessionPolicy::fromJson(lifetimes, config.sessionPolicy);
    if (!policy)
        return fail(policy.error());
    config.sessionPolicy = *policy;
    if (object.contains("trusted_proxies"_L1)) {
        const QJsonValue value = object.value("trusted_proxies"_L1);
        QStringList entries;
        for (const auto &entry : value.toArray()) {
            if (!entry.isString())
                return fail(
                    u"trusted_proxies: a list of addresses and CIDR ranges, e.g. [\"127.0.0.1\", \"10.0.0.0/8\"]"_s);
            entries.append(entry.toString());
        }
        if (!value.isArray())
            return fail(
                u"trusted_proxies: a list of addresses and CIDR ranges, e.g. [\"127.0.0.1\", \"10.0.0.0/8\"]"_s);
        if (const auto checked = TrustedProxies::parse(entries); !checked)
            return fail(checked.error());
        config.trustedProxies = entries;
    }
    if (object.contains("proxy_protocol"_L1)) {
        if (!object.value("proxy_protocol"_L1).isBool())
            return fail(u"proxy_protocol: true or false"_s);
        config.proxyProtocol = object.value("proxy_protocol"_L1).toBool();
        if (config.proxyProtocol && config.trustedProxies.isEmpty())
            return fail(u"proxy_protocol: list the proxies that send it in trusted_proxies"_s);
    }
    if (object.contains("tls"_L1)) {
        const QJsonValue tls = object.value("tls"_L1);
        static const auto sentence = u"tls: \"self-signed\", or {\"certificate\": FILE, \"private_key\": FILE}"_s;
        if (tls.isString() && tls.toString() == "self-signed"_L1) {
            config.tls = { ServerConfig::Tls::Mode::SelfSigned, {}, {} };
        } else if (tls.isObject()) {
            const QJsonObject files = tls.toObject();
            if (unknownMember(files, { u"certificate"_s, u"private_key"_s })
                || !files.value("certificate"_L1).isString() || !files.value("private_key"_L1).isString()
                || files.value("certificate"_L1).toString().isEmpty()
                || files.value("private_key"_L1).toString().isEmpty())
                return fail(sentence);
            config.tls = { ServerConfig::Tls::Mode::Files, files.value("certificate"_L1).toString(),
                           files.value("private_key"_L1).toString() };
        } else {
            return fail(sentence);
        }
    }
    if (object.contains("admin_remote"_L1)) {
        if (!object.value("admin_remote"_L1).isBool())
            return fail(u"admin_remote: true or false"_s);
        config.adminFromAnywhere = object.value("admin_remote"_L1).toBool();
    }
    if (object.contains("inspect_payloads"_L1)) {
        if (!object.value("inspect_payloads"_L1).isBool())
            return fail(u"inspect_payloads: true or false"_s);
        config.inspectPayloads = object.value("inspect_payloads"_L1).toBool();
    }
    if (object.contains("allowed_origins"_L1)) {
        const auto origins = object.value("allowed_origins"_L1);
        if (!origins.isArray())
            return fail(u"allowed_origins: an array of origins such as \"https://app.example\", or \"*\""_s);
        for (const auto &origin : origins.toArray()) {
            if (!origin.isString() || origin.toString().isEmpty())
                return fail(u"allowed_origins: every entry is a non-empty string"_s);
            config.allowedOrigins.append(origin.toString());
        }
    }
    if (object.contains("trusted_issuers"_L1)) {
        if (!object.value("trusted_issuers"_L1).isArray())
            return fail(u"trusted_issuers: an array of objects"_s);
        const auto array = object.value("trusted_issuers"_L1).toArray();
        for (qsizetype i = 0; i < array.size(); ++i) {
            auto trusted = trustedIssuer(array.at(i).toObject(), baseDirectory);
            if (!trusted)
                return fail(u"trusted_issuers[%1]: %2"_s.arg(i).arg(trusted.error()));
            config.trustedIssuers.append(*trusted);
        }
    }
    return config;
}

Result<ServerConfig, QString> ConfigFile::load(const QString &path, ServerConfig defaults)
{
    const auto bytes = readSmallFile(path);
    if (!bytes)
        return fail(bytes.error());
    const auto object = StrictJson::parseObject(*bytes);
    if (!object)
        return fail(u"%1 must be one JSON object: %2"_s.arg(path, StrictJson::errorString(object.error())));
    auto config = apply(*object, QFileInfo(path).absolutePath(), std::move(defaults));
    if (!config)
        return fail(QFileInfo(path).fileName() + u": "_s + config.error());
    return config;
}

Result<ServerConfig, QString> ConfigFile::resolve(const SessionServerOptions &options)
{
    ServerConfig config;
    config.dataDirectory = DataDirectory::resolve(options.dataDirectory);
    QString configPath = options.configFile;
    if (configPath.isEmpty() && QFileInfo::exists(config.dataDirectory + u"/gatehouse.json"_s))
        configPath = config.dataDirectory + u"/gatehouse.json"_s;
    if (!configPath.isEmpty()) {
        auto loaded = load(configPath, config);
        if (!loaded)
            return loaded;
        config = std::move(loaded).value();
    }
    if (!options.listen.isEmpty() && !parseListen(options.listen, config.listenAddress, config.listenPort))
        return fail(u"--listen: expected HOST:PORT (e.g. 127.0.0.1:8080), got \"%1\""_s.arg(options.listen));
    if (!options.lifetimes.isEmpty()) {
        QJsonObject lifetimes;
        for (const auto &[name, value] : options.lifetimes) {
            if (name == "access_token_ttl"_L1)
                config.accessTokenLifetime = std::chrono::seconds(value);
            else
                lifetimes.insert(name, value);
        }
        const auto policy = SessionPolicy::fromJson(lifetimes, config.sessionPolicy);
        if (!policy)
            return fail(u"--"_s + QString(policy.error()).replace(u'_', u'-'));
        if (config.accessTokenLifetime.count() < 5 || config.accessTokenLifetime > config.maximumAccessTokenLifetime)
            return fail(u"--access-token-ttl: from 5 to %1 seconds"_s.arg(config.maximumAccessTokenLifetime.count()));
        config.sessionPolicy = *policy;
    }
    if (!options.tls.isEmpty()) {
        if (options.tls != "self-signed"_L1)
            return fail(u"--tls: self-signed (or give your own files with --tls-cert and --tls-key)"_s);
        if (!options.tlsCertificate.isEmpty() || !options.tlsKey.isEmpty())
            return fail(u"--tls self-signed or --tls-cert and --tls-key, not both"_s);
        config.tls = { ServerConfig::Tls::Mode::SelfSigned, {}, {} };
    }
    if (!options.tlsCertificate.isEmpty() || !options.tlsKey.isEmpty()) {
        if (options.tlsCertificate.isEmpty() || options.tlsKey.isEmpty())
            return fail(u"--tls-cert and --tls-key go together"_s);
        // Relative to where the command runs, as a shell user expects of a file argument.
        config.tls = { ServerConfig::Tls::Mode::Files, QFileInfo(options.tlsCertificate).absoluteFilePath(),
                       QFileInfo(options.tlsKey).absoluteFilePath() };
    }
    if (!options.secretStore.isEmpty()) {
        const auto mode = SecretBackend::modeFromName(options.secretStore);
        if (!mode)
            return fail(u"--secret-store: one of auto, keychain, file"_s);
        config.secretBackend = *mode;
    }
    return config;
}
