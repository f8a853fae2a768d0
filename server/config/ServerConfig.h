#pragma once

#include "SessionPolicy.h"
#include "auth/JwsAlgorithm.h"
#include "auth/TrustedIssuer.h"
#include "secrets/SecretBackend.h"

#include <QHostAddress>
#include <QList>
#include <QString>
#include <QStringList>

#include <chrono>

/// Everything a Gatehouse server is started with. Defaults here; the config file
/// (`<data-dir>/gatehouse.json` or `--config`) and then command-line flags override them.
struct ServerConfig {
    QString dataDirectory;
    QHostAddress listenAddress = QHostAddress::LocalHost;
    quint16 listenPort = 8080;
    QString issuer = QStringLiteral("gatehouse");
    QString audience = QStringLiteral("gatehouse");
    /// public_url: how browsers and relying parties reach this server (the OpenID issuer);
    /// empty means http:// and the listen address.
    QString publicUrl;
    std::chrono::seconds clockSkew { 30 };
    JwsAlgorithm signingAlgorithm = JwsAlgorithm::EdDSA;
    std::chrono::seconds accessTokenLifetime { 7200 }; ///< OAuthSD's default, as the ID token
    std::chrono::seconds maximumAccessTokenLifetime { 24 * 3600 };
    /// refresh_token_idle_ttl, refresh_token_max_ttl, session_idle_ttl (access_token_ttl above).
    SessionPolicy sessionPolicy;
    SecretBackendMode secretBackend = SecretBackendMode::Automatic;
    QList<TrustedIssuer> trustedIssuers;
    QStringList allowedOrigins; ///< WebSocket origins beyond loopback ones; "*" allows any
    qsizetype maximumConnections = 20000;
    qsizetype maximumConnectionsPerUser = 100;
    qint64 maximumMessageSize = 64 * 1024;
    std::chrono::milliseconds handshakeTimeout { 10000 }; ///< handshake_timeout: each request head, and its body
    std::chrono::seconds pingInterval { 25 }; ///< ping_interval: a silent WebSocket is pinged
    std::chrono::seconds pongTimeout { 20 }; ///< pong_timeout: then, without an answer, closed (4008)
    qint64 messageRatePerSecond = 100; ///< message_rate: a WebSocket's messages and pings a second
    qint64 messageBurst = 200; ///< message_burst: messages a WebSocket may send at once
    qint64 maximumRequestBodySize = 64 * 1024; ///< max_request_body: bytes of an HTTP request's body
    std::chrono::milliseconds httpKeepAliveTimeout { 75000 }; ///< http_keepalive_timeout: idle between requests
    int maximumRequestsPerConnection = 1000; ///< http_max_requests: then the connection closes
    qsizetype maximumHttpConnections = 4000; ///< max_http_connections: sockets that are not WebSockets
    qsizetype maximumHttpConnectionsPerAddress = 1000; ///< max_http_connections_per_address
    int loginRatePerIpPerMinute = 30; ///< login_rate_per_ip
    int loginFreeFailures = 5; ///< login_free_failures: then the back-off doubles
    std::chrono::seconds loginMaximumDelay { 300 }; ///< login_max_delay: where the doubling stops
    std::chrono::seconds loginDeviceLifetime { 90 * 86400 }; ///< login_device_ttl: a known device's cookie
    int handshakeRatePerIpPerSecond = 50; ///< handshake_rate_per_ip (burst: twice that)
    int handshakeRatePerUserPerSecond = 10; ///< handshake_rate_per_user (burst: twice that)
    std::chrono::seconds sweepInterval { 30 }; ///< sweep_interval: how often expired sessions are ended
    int ioThreads = 0; ///< io_threads: threads serving sockets; 0 means one per core
    bool adminFromAnywhere = false; ///< admin_remote: let non-loopback clients use /admin (with the token)
    bool inspectPayloads = false; ///< inspect_payloads: message inspectors show payloads, not only their size
    /// tls: what the port speaks. Plain HTTP and WS when off; HTTPS and WSS (only) otherwise,
    /// with a certificate made for a lab on first start, or the operator's files.
    /// trusted_proxies: the reverse proxies whose Forwarded / X-Forwarded-* headers name the
    /// client (addresses and CIDR ranges); checked when the config is read.
    QStringList trustedProxies;
    /// proxy_protocol: connections from those proxies begin with a PROXY protocol header (v1 or v2).
    bool proxyProtocol = false;
    struct Tls {
        enum class Mode { Off, SelfSigned, Files };
        Mode mode = Mode::Off;
        QString certificateFile; ///< absolute, or relative to the data directory
        QString privateKeyFile;
    } tls;

    QString databasePath() const { return dataDirectory + QStringLiteral("/gatehouse.sqlite"); }
    /// Where the self-signed certificate is kept (its key is kept like the signing keys).
    /// Written by a running server (pid, URL, certificate), for `gatehoused status`.
    QString runRecordPath() const { return dataDirectory + QStringLiteral("/gatehoused.run"); }
    QString selfSignedCertificatePath() const { return dataDirectory + QStringLiteral("/tls-self-signed.pem"); }
    /// A retired signing key verifies this long: the longest token plus clock skew.
    std::chrono::seconds verificationGrace() const { return maximumAccessTokenLifetime + clockSkew; }
};
