#include "ws/UpgradeGate.h"

#include "admin/AdminFeed.h"
#include "auth/BearerChallenge.h"
#include "http/HttpCensus.h"
#include "http/HttpExchange.h"
#include "http/HttpResponder.h"
#include "http/ProxyHeader.h"
#include "http/TrustedProxies.h"
#include "http/WebCookies.h"
#include "policy/RateLimiter.h"
#include "secrets/AdminToken.h"
#include "tls/TlsRelay.h"
#include "ws/CloseCode.h"
#include "ws/ConnectionCensus.h"
#include "ws/ConnectionRegistry.h"
#include "ws/HttpHeadParser.h"
#include "ws/LiveLimits.h"
#include "ws/WebSocketFrame.h"
#include "ws/WebSocketStream.h"

#include <QDateTime>
#include <QDeadlineTimer>
#include <QElapsedTimer>
#include <QHostAddress>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QTimer>
#include <QUrl>

#include <cerrno>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace Qt::StringLiterals;

Q_LOGGING_CATEGORY(lcGate, "gatehouse.ws.gate")

namespace {
constexpr int retryAfterSeconds = 5;

/// The access token, from the places a client may put it: the Authorization header, the
/// session cookie, or the `access_token` query parameter (for simple clients).
struct PresentedToken {
    QByteArray token;
    bool viaCookie = false;
    bool repeated = false; ///< a parameter or cookie given twice: which one is meant?
};

PresentedToken tokenFrom(const HttpHead &head, bool secure)
{
    // RFC 6750 §3.1: a repeated parameter is an invalid request, not first-wins (a cookie
    // tossed in by a sibling host would otherwise shadow the real one).
    if (head.queryCount("access_token") > 1
        || WebCookies::count(head.value("cookie"), WebCookies::sessionName, secure) > 1)
        return { {}, false, true };
    const QByteArray authorization = head.value("authorization").trimmed();
    if (authorization.size() > 7 && authorization.first(7).toLower() == "bearer ")
        return { authorization.sliced(7).trimmed() };
    if (QByteArray cookie = WebCookies::find(head.value("cookie"), WebCookies::sessionName, secure); !cookie.isEmpty())
        return { cookie, true };
    return { head.queryValue("access_token") };
}

constexpr int acceptBatch = 64; ///< then the other threads get a turn
constexpr auto acceptPause = std::chrono::milliseconds(100); ///< after EMFILE, before trying again
constexpr auto firstRetry = std::chrono::milliseconds(2);
constexpr auto lastRetry = std::chrono::milliseconds(256);
constexpr auto headSweepInterval = std::chrono::milliseconds(100);
constexpr auto refusalFlushInterval = std::chrono::seconds(1);
/// A head still without its first byte this long after the connection may be shed when full.
constexpr qsizetype maximumCachedRefusals = 256;
constexpr auto silentAfter = std::chrono::milliseconds(1000);
/// A feed's output may wait up to this (a snapshot of many thousand sessions is megabytes);
/// past it, its console does not read and is dropped. 64 feeds at most: 512 MiB at worst.
constexpr qint64 adminFeedQueue = 8 * 1024 * 1024;
} // namespace

/// One socket until its next request head is complete. The head is only peeked at: a
/// level-triggered notifier would fire again at once for bytes left in the buffer, so after
/// an incomplete head it sleeps and peeks again later, backing off, until the deadline.
/// A kept-alive connection waits idle (keep-alive timeout) until its next request begins;
/// from its first byte, the head has the head timeout like any other.
class UpgradeGate::PendingHead final : public QSocketNotifier {
public:
    PendingHead(Waiting socket, std::chrono::milliseconds timeout, bool betweenRequests, UpgradeGate *gate)
        : QSocketNotifier(socket.socket, QSocketNotifier::Read, gate)
        , waiting(std::move(socket))
        , deadline(timeout)
        , idle(betweenRequests)
        , m_gate(gate)
    {
        since.start();
        gate->m_pendingHeads.insert(this);
        connect(this, &QSocketNotifier::activated, gate, [gate, this] {
            setEnabled(false);
            gate->examine(this);
        });
    }
    ~PendingHead() override
    {
        m_gate->m_pendingHeads.remove(this);
        setEnabled(false);
        if (waiting.socket >= 0)
            m_gate->closeSocket(waiting.socket, waiting.remote);
    }

    /// The descriptor leaves with the caller; this object is deleted.
    qintptr release()
    {
        setEnabled(false);
        const qintptr taken = std::exchange(waiting.socket, -1);
        deleteLater();
        return taken;
    }
    void retryLater()
    {
        QTimer::singleShot(m_delay, this, [this] { m_gate->examine(this); });
        m_delay = std::min(m_delay * 2, lastRetry);
    }
    /// The next request has begun: from now on its head has the head timeout.
    void beginHead(std::chrono::milliseconds timeout)
    {
        idle = false;
        deadline.setRemainingTime(timeout);
    }

    Waiting waiting;
    /// A client that never finishes its request head (slowloris), or stays idle too long
    /// between two requests, loses the socket then.
    QDeadlineTimer deadline;
    bool idle;
    bool heardFrom = false; ///< a byte of this head has arrived
    QElapsedTimer since; ///< this head has been awaited

private:
    UpgradeGate *m_gate;
    std::chrono::milliseconds m_delay = firstRetry;
};

UpgradeGate::UpgradeGate(ConnectionRegistry &registry, LiveConnection::Authenticator authenticator, Shared shared,
                         Options options, QObject *parent)
    : QObject(parent)
    , m_registry(registry)
    , m_authenticator(std::move(authenticator))
    , m_shared(std::move(shared))
    , m_options(std::move(options))
    , m_peekBuffer(HttpHeadParser::defaultMaximumSize + 1, Qt::Uninitialized)
{
    Q_ASSERT(m_shared.census && m_shared.handshakesPerIp && m_shared.handshakesPerUser && m_shared.http
             && m_shared.httpSockets);
    m_headSweep = new QTimer(this);
    m_headSweep->setInterval(headSweepInterval);
    connect(m_headSweep, &QTimer::timeout, this, &UpgradeGate::sweepPendingHeads);
    m_refusalFlush = new QTimer(this);
    m_refusalFlush->setInterval(refusalFlushInterval);
    connect(m_refusalFlush, &QTimer::timeout, this, &UpgradeGate::flushRefusals);
}

void UpgradeGate::countRefusal(const QString &reason, const QString &remote)
{
    m_refusals.count(reason, remote);
    // The first refusal after a quiet interval goes at once; a storm waits for the timer.
    if (!m_refusalFlush->isActive())
        flushRefusals();
}

void UpgradeGate::flushRefusals()
{
    if (m_refusals.isEmpty()) {
        m_refusalFlush->stop();
        return;
    }
    Q_EMIT requestsRefused(m_refusals.take());
    m_refusalFlush->start();
}

UpgradeGate::~UpgradeGate()
{
    // Before the members go: each head and exchange takes itself out of its set as it is
    // deleted, and gives its place in the census back.
    qDeleteAll(m_pendingHeads.values());
    qDeleteAll(m_exchanges.values());
    delete m_acceptNotifier;
    if (m_listeningSocket >= 0)
        ::close(static_cast<int>(m_listeningSocket));
}

std::chrono::milliseconds UpgradeGate::headTimeout() const
{
    return m_shared.limits ? m_shared.limits->headTimeout() : m_options.headTimeout;
}

void UpgradeGate::sweepPendingHeads()
{
    // One timer for all heads still arriving, not one each: a handshake costs no timer.
    const QList<PendingHead *> pending = m_pendingHeads.values();
    for (auto *head : pending) {
        if (head->deadline.hasExpired())
            delete head;
    }
    // A TLS handshake has the head's deadline: stalling there is stalling before the head.
    const QList<TlsRelay *> handshakes = m_tlsHandshakes.values();
    for (auto *relay : handshakes) {
        if (relay->handshakeExpired())
            relay->abort();
    }
    if (m_pendingHeads.isEmpty() && m_tlsHandshakes.isEmpty())
        m_headSweep->stop();
}

void UpgradeGate::acceptFrom(qintptr listeningSocket)
{
    Q_ASSERT(m_listeningSocket < 0);
    m_listeningSocket = listeningSocket;
    m_acceptNotifier = new QSocketNotifier(listeningSocket, QSocketNotifier::Read, this);
    connect(m_acceptNotifier, &QSocketNotifier::activated, this, &UpgradeGate::acceptPending);
}

void UpgradeGate::acceptPending()
{
    // Every I/O thread watches the same socket; the ones that lose the race get EAGAIN.
    for (int accepted = 0; accepted < acceptBatch; ++accepted) {
        sockaddr_storage address {};
        socklen_t length = sizeof address;
        const int socket = ::accept4(static_cast<int>(m_listeningSocket), reinterpret_cast<sockaddr *>(&address),
                                     &length, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (socket < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                qCWarning(lcGate) << "cannot accept:" << qt_error_string(errno) << "- pausing";
                m_acceptNotifier->setEnabled(false);
                QTimer::singleShot(acceptPause, this, [this] { m_acceptNotifier->setEnabled(true); });
            }
            return; // EAGAIN, or a connection that died in the backlog
        }
        const QString remote = QHostAddress(reinterpret_cast<const sockaddr *>(&address)).toString();
        auto context = m_shared.tls ? m_shared.tls() : nullptr;
        if (!admit(socket, remote, context != nullptr))
            continue;
        // A trusted proxy speaking the PROXY protocol names the client first, before TLS too.
        if (m_shared.proxyProtocol && m_shared.proxies && m_shared.proxies->contains(QHostAddress(remote)))
            serve(Waiting { socket, remote, 0, {}, true });
        else if (context)
            startRelay(socket, remote, std::move(context));
        else
            serve(Waiting { socket, remote, 0 });
    }
}

void UpgradeGate::serve(const Waiting &arrived)
{
    // Most clients send their request with the connection: look at once, and only a socket
    // whose head is not all there yet gets a notifier and a deadline.
    Waiting waiting = arrived;
    switch (inspect(waiting)) {
    case Outcome::Taken:
        break;
    case Outcome::Gone:
        closeSocket(waiting.socket, waiting.remote);
        break;
    case Outcome::Incomplete:
        await(waiting, false);
        break;
    }
}

void UpgradeGate::startRelay(qintptr socket, const QString &remote, std::shared_ptr<const TlsContext> context,
                             const QString &client)
{
    TlsRelay::Setup setup;
    setup.socket = socket;
    setup.remote = remote;
    setup.context = std::move(context);
    setup.handshakeTimeout = headTimeout();
    // The connection's place in the HTTP census goes to its plain end, which gives it back
    // when it closes (or becomes a WebSocket); a relay that never got that far gives it back.
    setup.established = [this, remote, client](TlsRelay *relay, qintptr inner) {
        m_tlsHandshakes.remove(relay);
        serve(Waiting { inner, remote, 0, client, false, relay });
    };
    setup.closed = [this, remote](TlsRelay *relay) {
        m_tlsHandshakes.remove(relay);
        if (!relay->established())
            m_shared.httpSockets->release(remote);
    };
    auto *relay = new TlsRelay(std::move(setup), this);
    m_tlsHandshakes.insert(relay);
    if (!m_headSweep->isActive())
        m_headSweep->start();
    relay->start();
}

bool UpgradeGate::admit(qintptr socket, const QString &remote, bool tls)
{
    const bool proxy
        = m_shared.proxies && !m_shared.proxies->isEmpty() && m_shared.proxies->contains(QHostAddress(remote));
    auto refused = m_shared.httpSockets->admit(remote, !proxy);
    if (refused == HttpCensus::Refusal::Full) {
        // Like nginx out of connections: an idle kept-alive connection is the cheapest to
        // lose (its client reconnects at its next request, RFC 9112 §9.3.1).
        PendingHead *oldest = nullptr;
        for (auto *pending : std::as_const(m_pendingHeads)) {
            if (pending->idle && (!oldest || pending->deadline.deadline() < oldest->deadline.deadline()))
                oldest = pending;
        }
        // Then a socket that has not said a word since it connected a while ago: real clients
        // send their request with the connection, slowloris does not.
        PendingHead *silent = nullptr;
        for (auto *pending : std::as_const(m_pendingHeads)) {
            if (!pending->idle && !pending->heardFrom && pending->since.hasExpired(silentAfter.count())
                && (!silent || pending->since.msecsSinceReference() < silent->since.msecsSinceReference()))
                silent = pending;
        }
        if (PendingHead *shed = oldest ? oldest : silent) {
            delete shed;
            refused = m_shared.httpSockets->admit(remote, !proxy);
        } else if (const auto mute = std::find_if(m_tlsHandshakes.cbegin(), m_tlsHandshakes.cend(),
                                                  [](const TlsRelay *relay) { return relay->silentFor(silentAfter); });
                   mute != m_tlsHandshakes.cend()) {
            // The same for TLS: a connection that has not begun its handshake.
            (*mute)->abort();
            refused = m_shared.httpSockets->admit(remote, !proxy);
        }
    }
    if (!refused)
        return true;
    // Refused at once and cheaply, without waiting for the head: the answer may be lost if
    // the client has already sent its request, but the descriptor is free again at once. A TLS
    // client cannot read a plain answer, and a handshake is what this refusal saves: it is
    // closed without one.
    if (tls) {
        ::close(int(socket));
        countRefusal(*refused == HttpCensus::Refusal::Full ? u"http_connections_full"_s
                                                           : u"http_connections_per_address"_s,
                     remote);
        return false;
    }
    const QByteArray answer = *refused == HttpCensus::Refusal::Full
        ? QByteArray("HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\nContent-Length: 0\r\n"
                     "Connection: close\r\n\r\n")
        : QByteArray("HTTP/1.1 429 Too Many Requests\r\nRetry-After: 5\r\nContent-Length: 0\r\n"
                     "Connection: close\r\n\r\n");
    [[maybe_unused]] const auto sent = ::send(int(socket), answer.constData(), size_t(answer.size()), MSG_NOSIGNAL);
    ::close(int(socket));
    countRefusal(*refused == HttpCensus::Refusal::Full ? u"http_connections_full"_s : u"http_connections_per_address"_s,
                 remote);
    return false;
}

void UpgradeGate::closeSocket(qintptr socket, const QString &remote)
{
    ::close(int(socket));
    m_shared.httpSockets->release(remote);
}

void UpgradeGate::await(const Waiting &waiting, bool idle)
{
    auto *pending = new PendingHead(waiting, idle ? m_options.keepAliveTimeout : headTimeout(), idle, this);
    pending->heardFrom = !idle && m_lastPeeked > 0; // part of the head came with the connection
    if (!m_headSweep->isActive())
        m_headSweep->start();
}

void UpgradeGate::examine(PendingHead *pending)
{
    if (pending->idle)
        pending->beginHead(headTimeout()); // woken by the first byte of the next request, or its end
    const Outcome outcome = inspect(pending->waiting);
    pending->heardFrom = pending->heardFrom || m_lastPeeked > 0;
    switch (outcome) {
    case Outcome::Taken:
        pending->release();
        return;
    case Outcome::Incomplete:
        return pending->retryLater();
    case Outcome::Gone:
        delete pending; // gone before it said anything
        return;
    }
}

UpgradeGate::Outcome UpgradeGate::readProxyHeader(Waiting &waiting)
{
    const int socket = int(waiting.socket);
    const auto received = ::recv(socket, m_peekBuffer.data(), size_t(ProxyHeader::maximumSize), MSG_PEEK);
    m_lastPeeked = received;
    if (received == 0 || (received < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
        return Outcome::Gone;
    if (received < 0)
        return Outcome::Incomplete;
    const auto header = ProxyHeader::parse(QByteArrayView(m_peekBuffer.constData(), received));
    if (header.status == ProxyHeader::Status::NeedMore)
        return Outcome::Incomplete;
    // A malformed header from the proxy: nothing on this connection can be trusted to be
    // whom it says. It is closed, and counted.
    if (header.status == ProxyHeader::Status::Invalid
        || ::recv(socket, m_peekBuffer.data(), size_t(header.size), 0) != header.size) {
        countRefusal(u"bad_proxy_header"_s, waiting.remote);
        return Outcome::Gone;
    }
    waiting.proxyHeader = false;
    waiting.client = header.source ? header.source->toString() : QString();
    if (auto context = m_shared.tls ? m_shared.tls() : nullptr) {
        startRelay(waiting.socket, waiting.remote, std::move(context), waiting.client);
        return Outcome::Taken;
    }
    return inspect(waiting); // the request may have come with it
}

UpgradeGate::Outcome UpgradeGate::inspect(Waiting &waiting)
{
    if (waiting.proxyHeader)
        return readProxyHeader(waiting);
    const qintptr socket = waiting.socket;
    const QString &remote = waiting.remote;
    const auto received = ::recv(static_cast<int>(socket), m_peekBuffer.data(), m_peekBuffer.size(), MSG_PEEK);
    m_lastPeeked = received;
    if (received == 0 || (received < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
        return Outcome::Gone;
    if (received < 0)
        return Outcome::Incomplete;
    const auto parsed = HttpHeadParser::parse(QByteArrayView(m_peekBuffer.constData(), received));
    switch (parsed.status) {
    case HttpHeadParser::Status::NeedMore:
        return Outcome::Incomplete;
    case HttpHeadParser::Status::Invalid:
        deny(socket, remote, received,
             { Decision::Kind::Deny, 400, u"bad_request"_s, u"malformed request head"_s, {} });
        return Outcome::Taken;
    case HttpHeadParser::Status::TooLarge:
        deny(socket, remote, received,
             { Decision::Kind::Deny,
               431,
               u"head_too_large"_s,
               u"the request head exceeds %1 KiB"_s.arg(HttpHeadParser::defaultMaximumSize / 1024),
               {} });
        return Outcome::Taken;
    case HttpHeadParser::Status::TooManyFields:
        deny(socket, remote, received,
             { Decision::Kind::Deny,
               431,
               u"too_many_fields"_s,
               u"the request head has more than %1 header fields"_s.arg(HttpHeadParser::maximumFields),
               {} });
        return Outcome::Taken;
    case HttpHeadParser::Status::Complete:
        break;
    }
    const auto [client, secure] = clientOf(waiting, parsed.head);
    const Decision decision = decide(parsed.head, client, secure);
    switch (decision.kind) {
    case Decision::Kind::Http: {
        const auto body = HttpFraming::of(parsed.head, m_options.maximumBodySize);
        if (!body) {
            deny(socket, remote, received,
                 { Decision::Kind::Deny, body.error().status, body.error().error, body.error().description, {} }, false,
                 client);
            break;
        }
        beginExchange(waiting, parsed.head, *body, client, secure);
        break;
    }
    case Decision::Kind::Deny:
        // A head that declares no body is all the client sends before our answer.
        deny(socket, remote, received, decision,
             parsed.head.value("content-length").isEmpty() && parsed.head.value("transfer-encoding").isEmpty(), client);
        break;
    case Decision::Kind::Accept:
        acceptUpgrade(waiting, parsed.head, decision, client);
        break;
    }
    return Outcome::Taken;
}

std::pair<QString, bool> UpgradeGate::clientOf(const Waiting &waiting, const HttpHead &head) const
{
    const bool tls = m_shared.tls != nullptr;
    // The peer, or the client its PROXY header named (whose own headers are then read only if
    // it is a trusted proxy itself).
    const QString &from = waiting.client.isEmpty() ? waiting.remote : waiting.client;
    if (!m_shared.proxies || m_shared.proxies->isEmpty())
        return { from, tls };
    const auto client = m_shared.proxies->clientOf(QHostAddress(from), head);
    // A trusted proxy's word on the scheme wins: it is what the browser used.
    return { client.address.toString(), client.https.value_or(tls) };
}

void UpgradeGate::beginExchange(const Waiting &waiting, const HttpHead &head, const HttpFraming::Body &body,
                                const QString &client, bool secure)
{
    HttpExchange::Setup setup;
    setup.socket = waiting.socket;
    setup.remote = waiting.remote;
    setup.client = client;
    setup.secure = secure;
    setup.head = head;
    setup.body = body;
    setup.maximumBodySize = m_options.maximumBodySize;
    setup.timeout = headTimeout();
    setup.lastOnConnection = waiting.served + 1 >= m_options.maximumRequestsPerConnection;
    setup.dispatcher = m_shared.http;
    setup.keptAlive = [this, waiting](HttpExchange *exchange, qintptr socket) {
        m_exchanges.remove(exchange);
        await(Waiting { socket, waiting.remote, waiting.served + 1, waiting.client }, true);
    };
    startExchange(std::move(setup));
}

void UpgradeGate::startExchange(HttpExchange::Setup setup)
{
    setup.closed = [this, remote = setup.remote](HttpExchange *exchange) {
        m_exchanges.remove(exchange);
        m_shared.httpSockets->release(remote);
    };
    auto *exchange = new HttpExchange(std::move(setup), this);
    m_exchanges.insert(exchange);
    exchange->start();
}

UpgradeGate::Decision UpgradeGate::decide(const HttpHead &head, const QString &remoteAddress, bool secure)
{
    const double now = double(QDateTime::currentMSecsSinceEpoch()) / 1000.0;
    const bool wantsUpgrade = head.hasToken("connection", "upgrade") || !head.value("upgrade").isEmpty();
    const bool adminFeed = head.path() == "/admin/ws";
    if (head.path() != "/ws" && !adminFeed)
        return {}; // the HTTP API answers, and refuses upgrades itself
    // RFC 6455 §4.1: an HTTP/1.1 GET, framed like any request (one Host) and without a body,
    // which would otherwise be read as the first WebSocket frames.
    const auto framing = HttpFraming::of(head, 0);
    if (head.version != "HTTP/1.1" || !framing || framing->kind != HttpFraming::Body::Kind::None)
        return { Decision::Kind::Deny,
                 400,
                 u"bad_request"_s,
                 u"a WebSocket upgrade is an HTTP/1.1 GET with one Host and no body"_s,
                 {} };
    if (!wantsUpgrade || head.method != "GET" || !head.hasToken("upgrade", "websocket")
        || WebSocketFrame::acceptKey(head.value("sec-websocket-key")).isEmpty()
        || head.value("sec-websocket-version") != "13")
        return { Decision::Kind::Deny, 400, u"bad_request"_s, u"/ws takes a WebSocket upgrade (RFC 6455 §4.1)"_s, {} };
    if (adminFeed)
        return decideAdminFeed(head, remoteAddress);
    // Limits first: the cheapest check, and the one that protects the others.
    if (m_shared.census->full())
        return { Decision::Kind::Deny, 503, u"overloaded"_s, u"too many connections; try again later"_s, {} };
    // Controlled reconnection: a reconnect storm from one address is slowed before any crypto.
    if (const auto wait = m_shared.handshakesPerIp->take(remoteAddress, now))
        return { Decision::Kind::Deny, 429, u"rate_limited"_s, u"too many handshakes from this address"_s, {}, *wait };
    const QByteArray origin = head.value("origin");
    if (!origin.isEmpty() && !originAllowed(origin))
        return { Decision::Kind::Deny, 403, u"origin_rejected"_s, u"origin not allowed"_s, {} };
    const PresentedToken presented = tokenFrom(head, secure);
    if (presented.repeated)
        return { Decision::Kind::Deny, 400, u"invalid_request"_s, u"the access token is given more than once"_s, {} };
    const QByteArray &token = presented.token;
    if (token.isEmpty())
        return { Decision::Kind::Deny, 401, u"token_missing"_s, u"send an access token"_s, {} };
    auto claims = m_authenticator(token);
    if (!claims)
        return { Decision::Kind::Deny, 401, u"invalid_token"_s, claims.error(), {} };
    if (const auto wait = m_shared.handshakesPerUser->take(claims->user().toString(), now))
        return { Decision::Kind::Deny, 429, u"rate_limited"_s, u"too many handshakes for this user"_s, {}, *wait };
    // The place is taken here, before the upgrade, so two threads cannot both take the last.
    if (const auto refused = m_shared.census->reserve(claims->user())) {
        if (*refused == ConnectionCensus::Refusal::TooMany)
            return { Decision::Kind::Deny, 503, u"overloaded"_s, u"too many connections; try again later"_s, {} };
        return { Decision::Kind::Deny, 429, u"too_many_connections"_s, u"this user has too many connections"_s, {} };
    }
    Decision accept { Decision::Kind::Accept, 101, {}, {}, std::move(claims).value() };
    accept.viaCookie = presented.viaCookie;
    return accept;
}

UpgradeGate::Decision UpgradeGate::decideAdminFeed(const HttpHead &head, const QString &client)
{
    const auto tokens = m_shared.adminTokens ? m_shared.adminTokens->current() : nullptr;
    if (!m_shared.adminFeed || !tokens || tokens->isEmpty())
        return { Decision::Kind::Deny, 503, u"unavailable"_s, u"the admin feed is not available"_s, {} };
    if (!m_shared.adminFromAnywhere && !QHostAddress(client).isLoopback())
        return { Decision::Kind::Deny, 403, u"forbidden"_s, u"the admin feed answers loopback clients only"_s, {} };
    // Each feed costs the control thread a snapshot: opening them in a loop is slowed like any
    // reconnect storm, before the token is looked at.
    if (const auto wait = m_shared.handshakesPerIp->take(client, double(QDateTime::currentMSecsSinceEpoch()) / 1000.0))
        return { Decision::Kind::Deny, 429, u"rate_limited"_s, u"too many handshakes from this address"_s, {}, *wait };
    // A page in a browser has no business here (and cannot set Authorization on a WebSocket).
    const QByteArray origin = head.value("origin");
    if (!origin.isEmpty() && !originAllowed(origin))
        return { Decision::Kind::Deny, 403, u"origin_rejected"_s, u"origin not allowed"_s, {} };
    // The token in the Authorization header only: a URL's query ends up in logs.
    const QByteArray authorization = head.value("authorization").trimmed();
    const bool bearer = authorization.size() > 7 && authorization.first(7).toLower() == "bearer ";
    const QByteArray token = bearer ? authorization.sliced(7).trimmed() : QByteArray();
    const auto identity = tokens->identify(token);
    if (!identity)
        return { Decision::Kind::Deny, 401, u"invalid_token"_s, u"an admin token is required"_s, {} };
    if (!m_shared.adminFeed->reserve())
        return { Decision::Kind::Deny, 503, u"overloaded"_s, u"too many admin feeds; try again later"_s, {} };
    Decision accept { Decision::Kind::Accept, 101, {}, {}, {} };
    accept.admin = identity;
    accept.adminTokenHash = AdminToken::hash(token);
    return accept;
}

bool UpgradeGate::originAllowed(const QByteArray &origin) const
{
    if (m_options.allowedOrigins.contains(u"*"_s) || m_options.allowedOrigins.contains(QString::fromLatin1(origin)))
        return true;
    // Pages served from this machine may always connect; anything else must be listed. The
    // comparison is on the parsed host, so "http://127.0.0.1.evil.example" does not pass.
    const QUrl url(QString::fromLatin1(origin), QUrl::StrictMode);
    const QString host = url.host();
    return url.isValid() && (url.scheme() == "http"_L1 || url.scheme() == "https"_L1)
        && (host == "127.0.0.1"_L1 || host == "localhost"_L1 || host == "::1"_L1);
}

const QByteArray &UpgradeGate::refusalBytes(const Decision &decision)
{
    // The same few refusals come again and again in a storm: each is built once.
    const QString key = QString::number(decision.status) + u'|' + decision.error + u'|' + decision.description + u'|'
        + QString::number(decision.retryAfter);
    if (const auto found = m_refusalCache.constFind(key); found != m_refusalCache.cend())
        return *found;
    if (m_refusalCache.size() >= maximumCachedRefusals)
        m_refusalCache.clear();
    HttpResponse response;
    response.status = decision.status;
    response.headers = { { "Content-Type", "application/json" }, { "Cache-Control", "no-store" } };
    if (decision.status == 401) // RFC 6750 §3.1: no token, no error code
        response.headers.append(std::pair<QByteArray, QByteArray>(
            "WWW-Authenticate",
            BearerChallenge::header(decision.error == "token_missing"_L1 ? QByteArrayView() : "invalid_token")));
    if (decision.status == 429 || decision.status == 503)
        response.headers.append(std::pair<QByteArray, QByteArray>(
            "Retry-After", QByteArray::number(decision.retryAfter > 0 ? decision.retryAfter : retryAfterSeconds)));
    response.body = QJsonDocument(QJsonObject { { "error"_L1, decision.error },
                                                { "error_description"_L1, decision.description } })
                        .toJson(QJsonDocument::Compact);
    return *m_refusalCache.insert(key, response.serialized(true));
}

void UpgradeGate::deny(qintptr descriptor, const QString &remote, qsizetype received, const Decision &decision,
                       bool closeAtOnce, const QString &client)
{
    const QString &from = client.isEmpty() ? remote : client;
    // Counted and audited in aggregate; a line per refusal would be a cost strangers choose.
    qCDebug(lcGate).noquote() << "refused" << decision.status << decision.error << decision.description << "from"
                              << from;
    // A refused token is counted by its precise reason ("token_expired"), the rest by error code.
    countRefusal(decision.error == "invalid_token"_L1 ? decision.description : decision.error, from);
    const QByteArray &bytes = refusalBytes(decision);
    // Most refusals end here: what was peeked at is all the client sent, the answer fits in the
    // socket's empty buffer, and with nothing unread the close sends no reset that could
    // destroy the answer. Otherwise (a body behind the head, say) an exchange writes it and
    // reads and drops the rest until the client stops or time runs out (lingering close).
    // One read takes what was peeked at and tells whether anything followed it (one byte more
    // asked for, none given); the byte, if any, is dropped like the rest of a lingering close.
    const int socket = int(descriptor);
    const bool roomForOneMore = received < m_peekBuffer.size();
    const auto taken = ::recv(socket, m_peekBuffer.data(), size_t(received + (roomForOneMore ? 1 : 0)), 0);
    bool drained = roomForOneMore && taken == received;
    if (!roomForOneMore && taken == received) {
        char next = 0;
        drained = ::recv(socket, &next, 1, MSG_PEEK) < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    }
    if (drained && closeAtOnce) {
        [[maybe_unused]] const auto sent = ::send(socket, bytes.constData(), size_t(bytes.size()), MSG_NOSIGNAL);
        closeSocket(descriptor, remote);
        return;
    }
    HttpExchange::Setup setup;
    setup.socket = descriptor;
    setup.remote = remote;
    setup.timeout = headTimeout();
    setup.refusal = bytes;
    setup.consume = 0; // taken above
    startExchange(std::move(setup));
}

void UpgradeGate::acceptUpgrade(const Waiting &waiting, const HttpHead &head, const Decision &decision,
                                const QString &client)
{
    const qintptr socket = waiting.socket;
    const AccessClaims &claims = decision.claims;
    // The head was only peeked at: take exactly it, so that any frame the client sent right
    // behind it stays for the stream.
    const auto consumed = ::recv(static_cast<int>(socket), m_peekBuffer.data(), size_t(head.size), 0);
    const LiveConnection::Peer peer { client, QString::fromUtf8(head.value("user-agent")), decision.viaCookie };
    // From here on the socket is a WebSocket, counted by the connection census.
    m_shared.httpSockets->release(waiting.remote);
    if (consumed != head.size) {
        if (decision.admin)
            m_shared.adminFeed->release();
        else
            m_shared.census->release(claims.user());
        ::close(static_cast<int>(socket));
        return;
    }
    QByteArray received;
    StreamTransport transport = transportOf(waiting, received);
    const QByteArray response = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                "Sec-WebSocket-Accept: "
        + WebSocketFrame::acceptKey(head.value("sec-websocket-key")) + "\r\n\r\n";
    WebSocketStream::Limits limits;
    limits.maximumMessageSize = m_shared.limits ? m_shared.limits->maximumMessageSize() : m_options.maximumMessageSize;
    limits.maximumQueued = m_options.maximumQueued;
    limits.messageRate = m_shared.limits ? m_shared.limits->messageRate() : 0;
    limits.messageBurst = m_shared.limits ? m_shared.limits->messageBurst() : 0;
    limits.binaryMessages = m_options.binaryMessages;
    if (decision.admin) // a snapshot of thousands of sessions is megabytes
        limits.maximumQueued = std::max<qint64>(limits.maximumQueued, adminFeedQueue);
    auto *stream = new WebSocketStream(std::move(transport), limits, response, received, &m_registry);
    if (decision.admin) {
        // Not a user's connection: no place in the census, no session, its own feed; pinged
        // like the others, so that a vanished console is noticed.
        stream->setPingSweep(m_registry.pings());
        m_shared.adminFeed->open(stream, *decision.admin, decision.adminTokenHash, client, &m_registry);
        stream->uncork();
        return;
    }
    if (m_options.upgraded)
        m_options.upgraded(stream, claims); // it gives the census place back at the close
    else
        m_registry.add(stream, claims, peer); // the registry gives the census place back at the close
    stream->uncork(); // the 101 and the greeting, in one packet
}

StreamTransport UpgradeGate::transportOf(const Waiting &waiting, QByteArray &received)
{
    const int inner = int(waiting.socket);
    // Only the first request: after an answer, bytes of it may still be on their way through
    // the relay. Then the relay serves the WebSocket like any request.
    if (!waiting.relay || waiting.served > 0)
        return StreamTransport(inner);
    // What the client sent behind its request is in the pair (older), then in the relay's
    // buffer; what OpenSSL still holds, the stream reads itself.
    char buffer[16 * 1024];
    qsizetype got = 0;
    while ((got = ::recv(inner, buffer, sizeof buffer, 0)) > 0)
        received.append(buffer, got);
    auto handover = waiting.relay->handOver();
    if (!handover) // the client ended already: the relay delivers that end in order
        return StreamTransport(inner); // with what was read from it in `received`
    ::close(inner);
    received += handover->received;
    return StreamTransport(int(handover->socket), handover->ssl);
}
