#pragma once

#include "admin/AdminTokens.h"
#include "auth/AccessClaims.h"
#include "http/HttpExchange.h"
#include "ws/HttpHead.h"
#include "ws/LiveConnection.h"
#include "ws/RefusalTally.h"
#include "ws/StreamTransport.h"

#include <QObject>
#include <QPointer>
#include <QSet>
#include <QSocketNotifier>
#include <QStringList>
#include <QTimer>

#include <chrono>
#include <functional>

class AdminFeed;
class ConnectionCensus;
class ConnectionRegistry;
class HttpCensus;
class HttpDispatcher;
class LiveLimits;
class RateLimiter;
class TlsContext;
class TrustedProxies;
class TlsRelay;
class WebSocketStream;

/// The door of the port, one per I/O thread. Every gate accepts from the same listening
/// socket (whichever thread is free takes the next connection) and reads every request head
/// of a connection, the first and each one after it, by peeking at the kernel's buffer, with
/// the same size limit, strict syntax and deadline.
/// A WebSocket upgrade to /ws runs the checks in order: limits → origin → token; a refusal
/// is written here as 400/401/403/429/503 and no WebSocket is ever created. An accepted
/// upgrade is answered here too (101, RFC 6455 §4.2.2) and becomes a WebSocketStream and a
/// LiveConnection on this thread. Any other request has its framing checked (RFC 9112 §6)
/// and becomes an HttpExchange, which reads the body and brings the answer of the HTTP API;
/// a kept-alive connection then comes back here for its next head.
class UpgradeGate final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(UpgradeGate)

public:
    struct Options {
        QStringList allowedOrigins; ///< exact origins, or "*"; loopback origins are always allowed
        qint64 maximumMessageSize = 64 * 1024;
        std::chrono::milliseconds headTimeout { 10000 };
        qint64 maximumBodySize = 64 * 1024; ///< of an HTTP request, declared or chunked
        std::chrono::milliseconds keepAliveTimeout { 75000 }; ///< idle between two requests
        int maximumRequestsPerConnection = 1000;
        /// For the conformance harness's echo (tests/tools): binary messages pass, more output
        /// may wait, and `upgraded` takes the stream instead of the registry (and gives its
        /// census place back at the close).
        bool binaryMessages = false;
        qint64 maximumQueued = 4 * 1024 * 1024;
        std::function<void(WebSocketStream *stream, const AccessClaims &claims)> upgraded;
    };

    /// What every gate shares with the others; each part is safe to use from any thread.
    struct Shared {
        ConnectionCensus *census = nullptr;
        RateLimiter *handshakesPerIp = nullptr;
        RateLimiter *handshakesPerUser = nullptr;
        /// Carries HTTP requests to the HTTP API and back.
        HttpDispatcher *http = nullptr;
        /// Places for the sockets that are not WebSockets.
        HttpCensus *httpSockets = nullptr;
        /// Message size and rate, head deadline and pings as they are now; when null, the
        /// Options' message size and deadline, no message rate and the default pings.
        const LiveLimits *limits = nullptr;
        /// The TLS context new connections start with (a reload swaps it), or null: plain. Each
        /// TLS connection is a TlsRelay until its handshake is done, then the gate serves the
        /// plain end of its socket pair like any socket; a WebSocket upgrade as its first
        /// request takes the connection out of the relay and speaks TLS directly.
        std::function<std::shared_ptr<const TlsContext>()> tls = {};
        /// Reverse proxies whose Forwarded / X-Forwarded-* headers name the client; null or
        /// empty: none, every peer is the client.
        const TrustedProxies *proxies = nullptr;
        /// Connections from a trusted proxy begin with a PROXY protocol header (v1 or v2)
        /// naming the client; one without a valid header is closed.
        bool proxyProtocol = false;
        /// The admin feed (/admin/ws) and the tokens it takes; without them it is refused.
        AdminFeed *adminFeed = nullptr;
        const AdminTokenHolder *adminTokens = nullptr;
        bool adminFromAnywhere = false; ///< otherwise the feed answers loopback peers only
    };

    /// What the gate decided for one request head.
    struct Decision {
        enum class Kind { Http, Accept, Deny } kind = Kind::Http;
        int status = 0;
        QString error;
        QString description;
        AccessClaims claims;
        int retryAfter = 0; ///< seconds, for 429 and 503
        bool viaCookie = false; ///< the token came in the session cookie (a browser)
        /// An admin's feed (/admin/ws): whose token, and its hash (checked again when tokens change).
        std::optional<AdminIdentity> admin = std::nullopt;
        QByteArray adminTokenHash = {};
    };

    UpgradeGate(ConnectionRegistry &registry, LiveConnection::Authenticator authenticator, Shared shared,
                Options options, QObject *parent = nullptr);
    ~UpgradeGate() override;

    /// Starts accepting from a listening socket; the gate owns (and closes) this descriptor.
    void acceptFrom(qintptr listeningSocket);

    /// `client`: who the request is from; `secure`: it came over TLS (or HTTPS to a proxy).
    Decision decide(const HttpHead &head, const QString &client, bool secure = false);

Q_SIGNALS:
    /// Refused requests, counted by reason and address: the first refusal after a quiet
    /// second at once, then at most one batch a second however many there are.
    void requestsRefused(const QList<RefusalCount> &refusals);

private:
    class PendingHead;

    /// A socket the gate waits on for a request head.
    struct Waiting {
        qintptr socket = -1;
        QString remote; ///< the peer: the connection's place in the census
        int served = 0; ///< requests answered on this connection before
        QString client = {}; ///< who a PROXY header named; empty: the peer
        bool proxyHeader = false; ///< a PROXY header comes first
        /// The TLS connection whose plain end this is, until its first request: an upgrade
        /// then takes the connection out of the relay (TLS straight into the WebSocketStream).
        QPointer<TlsRelay> relay = {};
    };

    /// What became of a socket whose head was looked at.
    enum class Outcome {
        Taken, ///< answered, refused, or handed on: the descriptor is no longer the caller's
        Incomplete, ///< no complete head yet: look again later
        Gone, ///< the peer left or the socket failed: the caller closes it
    };

    std::chrono::milliseconds headTimeout() const;
    void acceptPending();
    void sweepPendingHeads();
    void examine(PendingHead *pending);
    /// Looks at what arrived on `waiting`, and moves it on (a PROXY header read).
    Outcome inspect(Waiting &waiting);
    /// The PROXY header first: the client it names goes into `waiting`.
    Outcome readProxyHeader(Waiting &waiting);
    /// Waits for a head on `waiting.socket`; `idle` for a kept-alive connection between requests.
    void await(const Waiting &waiting, bool idle);
    /// A TLS connection: its handshake first, under the head deadline; then its plain end.
    void startRelay(qintptr socket, const QString &remote, std::shared_ptr<const TlsContext> context,
                    const QString &client = {});
    /// A socket whose first head is looked at now (a new connection, or a TLS one's plain end).
    void serve(const Waiting &waiting);
    /// Who a request on this socket is from, and whether it is secure (TrustedProxies).
    std::pair<QString, bool> clientOf(const Waiting &waiting, const HttpHead &head) const;
    void beginExchange(const Waiting &waiting, const HttpHead &head, const HttpFraming::Body &body,
                       const QString &client, bool secure);
    void startExchange(HttpExchange::Setup setup);
    /// A place in the HTTP census for a new socket; sheds an idle kept-alive connection of
    /// this gate when that makes room. A refusal is answered in plain HTTP, or (`tls`) closed.
    bool admit(qintptr socket, const QString &remote, bool tls);
    void closeSocket(qintptr socket, const QString &remote);
    /// Writes the refusal and closes; `closeAtOnce` when the client will send nothing more
    /// (a bodiless request, all of it taken), else the rest is read and dropped for a while.
    void deny(qintptr socket, const QString &remote, qsizetype received, const Decision &decision,
              bool closeAtOnce = false, const QString &client = {});
    /// The refusal on the wire (status line to body, `Connection: close`), built once.
    const QByteArray &refusalBytes(const Decision &decision);
    void countRefusal(const QString &reason, const QString &remote);
    void flushRefusals();
    void acceptUpgrade(const Waiting &waiting, const HttpHead &head, const Decision &decision, const QString &client);
    /// The transport of an accepted upgrade on `waiting` (its head consumed): the socket itself,
    /// or for TLS the connection out of its relay, with the bytes read past the head.
    StreamTransport transportOf(const Waiting &waiting, QByteArray &received);
    bool originAllowed(const QByteArray &origin) const;
    /// /admin/ws: the admin token (Authorization only), from loopback unless allowed, a place.
    Decision decideAdminFeed(const HttpHead &head, const QString &client);

    ConnectionRegistry &m_registry;
    LiveConnection::Authenticator m_authenticator;
    Shared m_shared;
    Options m_options;
    qintptr m_listeningSocket = -1;
    QSocketNotifier *m_acceptNotifier = nullptr; ///< a child
    QTimer *m_headSweep = nullptr; ///< a child
    QSet<PendingHead *> m_pendingHeads; ///< children still reading their head
    QSet<HttpExchange *> m_exchanges; ///< children serving an HTTP request
    QSet<TlsRelay *> m_tlsHandshakes; ///< children whose TLS handshake is under way
    QByteArray m_peekBuffer;
    qint64 m_lastPeeked = 0; ///< what the last peek returned
    RefusalTally m_refusals;
    QHash<QString, QByteArray> m_refusalCache;
    QTimer *m_refusalFlush = nullptr; ///< a child; running while a batch is held back
};
