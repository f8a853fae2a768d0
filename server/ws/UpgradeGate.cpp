#include "ws/UpgradeGate.h"

#include "auth/BearerChallenge.h"
#include "http/WebCookies.h"
#include "policy/RateLimiter.h"
#include "ws/CloseCode.h"
#include "ws/ConnectionCensus.h"
#include "ws/ConnectionRegistry.h"
#include "ws/HttpHeadParser.h"
#include "ws/LiveLimits.h"
#include "ws/WebSocketFrame.h"
#include "ws/WebSocketStream.h"

#include <QDateTime>
#include <QDeadlineTimer>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QTcpSocket>
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

QByteArray reasonPhrase(int status)
{
    switch (status) {
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 503:
        return "Service Unavailable";
    default:
        return "Error";
    }
}

/// The access token, from the places a client may put it: the Authorization header, the
/// session cookie, or the `access_token` query parameter (for simple clients).
struct PresentedToken {
    QByteArray token;
    bool viaCookie = false;
    bool repeated = false; ///< a parameter or cookie given twice: which one is meant?
};

PresentedToken tokenFrom(const HttpHead &head)
{
    // RFC 6750 §3.1: a repeated parameter is an invalid request, not first-wins (a cookie
    // tossed in by a sibling host would otherwise shadow the real one).
    if (head.queryCount("access_token") > 1 || WebCookies::count(head.value("cookie"), WebCookies::sessionName) > 1)
        return { {}, false, true };
    const QByteArray authorization = head.value("authorization").trimmed();
    if (authorization.size() > 7 && authorization.first(7).toLower() == "bearer ")
        return { authorization.sliced(7).trimmed() };
    if (QByteArray cookie = WebCookies::find(head.value("cookie"), WebCookies::sessionName); !cookie.isEmpty())
        return { cookie, true };
    return { head.queryValue("access_token") };
}

constexpr int acceptBatch = 64; ///< then the other threads get a turn
constexpr auto acceptPause = std::chrono::milliseconds(100); ///< after EMFILE, before trying again
constexpr auto firstRetry = std::chrono::milliseconds(2);
constexpr auto lastRetry = std::chrono::milliseconds(256);
constexpr auto refusalLinger = std::chrono::seconds(5);
constexpr auto headSweepInterval = std::chrono::milliseconds(100);
} // namespace

/// One accepted socket until its request head is complete. The head is only peeked at: a
/// level-triggered notifier would fire again at once for bytes left in the buffer, so after
/// an incomplete head it sleeps and peeks again later, backing off, until the deadline.
class UpgradeGate::PendingHead final : public QSocketNotifier {
public:
    PendingHead(qintptr descriptor, QString peer, std::chrono::milliseconds timeout, UpgradeGate *gate)
        : QSocketNotifier(descriptor, QSocketNotifier::Read, gate)
        , socket(descriptor)
        , remote(std::move(peer))
        , deadline(timeout)
        , m_gate(gate)
    {
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
        if (socket >= 0)
            ::close(static_cast<int>(socket));
    }

    /// The descriptor leaves with the caller; this object is deleted.
    qintptr release()
    {
        setEnabled(false);
        const qintptr taken = std::exchange(socket, -1);
        deleteLater();
        return taken;
    }
    void retryLater()
    {
        QTimer::singleShot(m_delay, this, [this] { m_gate->examine(this); });
        m_delay = std::min(m_delay * 2, lastRetry);
    }

    qintptr socket;
    const QString remote;
    /// A client that never finishes its request head (slowloris) loses the socket then.
    const QDeadlineTimer deadline;

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
    Q_ASSERT(m_shared.census && m_shared.handshakesPerIp && m_shared.handshakesPerUser && m_shared.handOffHttp);
    m_headSweep = new QTimer(this);
    m_headSweep->setInterval(headSweepInterval);
    connect(m_headSweep, &QTimer::timeout, this, &UpgradeGate::sweepPendingHeads);
}

UpgradeGate::~UpgradeGate()
{
    // Before the members go: each head takes itself out of m_pendingHeads as it is deleted.
    qDeleteAll(m_pendingHeads.values());
    delete m_acceptNotifier;
    if (m_listeningSocket >= 0)
        ::close(static_cast<int>(m_listeningSocket));
}

void UpgradeGate::sweepPendingHeads()
{
    // One timer for all heads still arriving, not one each: a handshake costs no timer.
    const QList<PendingHead *> pending = m_pendingHeads.values();
    for (auto *head : pending) {
        if (head->deadline.hasExpired())
            delete head;
    }
    if (m_pendingHeads.isEmpty())
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
        // Most clients send their request with the connection: look at once, and only a socket
        // whose head is not all there yet gets a notifier and a deadline.
        const QString remote = QHostAddress(reinterpret_cast<const sockaddr *>(&address)).toString();
        switch (inspect(socket, remote)) {
        case Outcome::Taken:
            break;
        case Outcome::Gone:
            ::close(socket);
            break;
        case Outcome::Incomplete:
            new PendingHead(socket, remote, m_shared.limits ? m_shared.limits->headTimeout() : m_options.headTimeout,
                            this);
            if (!m_headSweep->isActive())
                m_headSweep->start();
            break;
        }
    }
}

void UpgradeGate::examine(PendingHead *pending)
{
    switch (inspect(pending->socket, pending->remote)) {
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

UpgradeGate::Outcome UpgradeGate::inspect(qintptr socket, const QString &remote)
{
    const auto received = ::recv(static_cast<int>(socket), m_peekBuffer.data(), m_peekBuffer.size(), MSG_PEEK);
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
             { Decision::Kind::Deny, 431, u"head_too_large"_s, u"the request head exceeds 16 KiB"_s, {} });
        return Outcome::Taken;
    case HttpHeadParser::Status::Complete:
        break;
    }
    const Decision decision = decide(parsed.head, remote);
    switch (decision.kind) {
    case Decision::Kind::Http:
        m_shared.handOffHttp(socket);
        break;
    case Decision::Kind::Deny:
        deny(socket, remote, received, decision);
        break;
    case Decision::Kind::Accept:
        acceptUpgrade(socket, remote, parsed.head, decision);
        break;
    }
    return Outcome::Taken;
}

UpgradeGate::Decision UpgradeGate::decide(const HttpHead &head, const QString &remoteAddress)
{
    const double now = double(QDateTime::currentMSecsSinceEpoch()) / 1000.0;
    const bool wantsUpgrade = head.hasToken("connection", "upgrade") || !head.value("upgrade").isEmpty();
    if (head.path() != "/ws")
        return {}; // the HTTP API answers, and refuses upgrades itself
    if (!wantsUpgrade || head.method != "GET" || !head.hasToken("upgrade", "websocket")
        || WebSocketFrame::acceptKey(head.value("sec-websocket-key")).isEmpty()
        || head.value("sec-websocket-version") != "13")
        return { Decision::Kind::Deny, 400, u"bad_request"_s, u"/ws takes a WebSocket upgrade (RFC 6455 §4.1)"_s, {} };
    // Limits first: the cheapest check, and the one that protects the others.
    if (m_shared.census->full())
        return { Decision::Kind::Deny, 503, u"overloaded"_s, u"too many connections; try again later"_s, {} };
    // Controlled reconnection: a reconnect storm from one address is slowed before any crypto.
    if (const auto wait = m_shared.handshakesPerIp->take(remoteAddress, now))
        return { Decision::Kind::Deny, 429, u"rate_limited"_s, u"too many handshakes from this address"_s, {}, *wait };
    const QByteArray origin = head.value("origin");
    if (!origin.isEmpty() && !originAllowed(origin))
        return { Decision::Kind::Deny, 403, u"origin_rejected"_s, u"origin not allowed"_s, {} };
    const PresentedToken presented = tokenFrom(head);
    if (presented.repeated)
        return { Decision::Kind::Deny, 400, u"invalid_request"_s, u"the access token is given more than once"_s, {} };
    const QByteArray &token = presented.token;
    if (token.isEmpty())
        return { Decision::Kind::Deny, 401, u"token_missing"_s, u"send an access token"_s, {} };
    auto claims = m_authenticator(token);
    if (!claims)
        return { Decision::Kind::Deny, 401, u"invalid_token"_s, claims.error(), {} };
    if (const auto wait = m_shared.handshakesPerUser->take(claims->subject, now))
        return { Decision::Kind::Deny, 429, u"rate_limited"_s, u"too many handshakes for this user"_s, {}, *wait };
    // The place is taken here, before the upgrade, so two threads cannot both take the last.
    if (const auto refused = m_shared.census->reserve(claims->subject)) {
        if (*refused == ConnectionCensus::Refusal::TooMany)
            return { Decision::Kind::Deny, 503, u"overloaded"_s, u"too many connections; try again later"_s, {} };
        return { Decision::Kind::Deny, 429, u"too_many_connections"_s, u"this user has too many connections"_s, {} };
    }
    Decision accept { Decision::Kind::Accept, 101, {}, {}, std::move(claims).value() };
    accept.viaCookie = presented.viaCookie;
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

void UpgradeGate::deny(qintptr descriptor, const QString &remote, qsizetype received, const Decision &decision)
{
    // Consume what was peeked at: closing a socket with unread bytes sends a reset, and the
    // client could lose the answer.
    [[maybe_unused]] const auto consumed
        = ::recv(static_cast<int>(descriptor), m_peekBuffer.data(), static_cast<size_t>(received), 0);
    auto *socket = new QTcpSocket(this);
    if (!socket->setSocketDescriptor(descriptor)) {
        delete socket;
        ::close(static_cast<int>(descriptor));
        return;
    }
    connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
    // A client that never reads its refusal does not keep the socket.
    QTimer::singleShot(refusalLinger, socket, &QTcpSocket::abort);
    qCInfo(lcGate).noquote() << "refused" << decision.status << decision.error << decision.description << "from"
                             << remote;
    // A refused token is counted by its precise reason ("token_expired"), the rest by error code.
    Q_EMIT handshakeRefused(decision.error == "invalid_token"_L1 ? decision.description : decision.error, remote);
    const QByteArray body = QJsonDocument(QJsonObject { { "error"_L1, decision.error },
                                                        { "error_description"_L1, decision.description } })
                                .toJson(QJsonDocument::Compact);
    QByteArray response = "HTTP/1.1 " + QByteArray::number(decision.status) + ' ' + reasonPhrase(decision.status)
        + "\r\nContent-Type: application/json\r\nContent-Length: " + QByteArray::number(body.size())
        + "\r\nConnection: close\r\nCache-Control: no-store\r\n";
    if (decision.status == 401) // RFC 6750 §3.1: no token, no error code
        response += "WWW-Authenticate: "
            + BearerChallenge::header(decision.error == "token_missing"_L1 ? QByteArrayView() : "invalid_token")
            + "\r\n";
    if (decision.status == 429 || decision.status == 503)
        response += "Retry-After: "
            + QByteArray::number(decision.retryAfter > 0 ? decision.retryAfter : retryAfterSeconds) + "\r\n";
    socket->write(response + "\r\n" + body);
    socket->disconnectFromHost();
}

void UpgradeGate::acceptUpgrade(qintptr socket, const QString &remote, const HttpHead &head, const Decision &decision)
{
    const AccessClaims &claims = decision.claims;
    // The head was only peeked at: take exactly it, so that any frame the client sent right
    // behind it stays for the stream.
    const auto consumed = ::recv(static_cast<int>(socket), m_peekBuffer.data(), size_t(head.size), 0);
    const LiveConnection::Peer peer { remote, QString::fromUtf8(head.value("user-agent")), decision.viaCookie };
    if (consumed != head.size) {
        m_shared.census->release(claims.subject);
        ::close(static_cast<int>(socket));
        return;
    }
    const QByteArray response = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                "Sec-WebSocket-Accept: "
        + WebSocketFrame::acceptKey(head.value("sec-websocket-key")) + "\r\n\r\n";
    const qint64 maximumMessageSize
        = m_shared.limits ? m_shared.limits->maximumMessageSize() : m_options.maximumMessageSize;
    auto *stream = new WebSocketStream(socket, { maximumMessageSize }, response, &m_registry);
    m_registry.add(stream, claims, peer); // the registry gives the census place back at the close
    stream->uncork(); // the 101 and the greeting, in one packet
}
