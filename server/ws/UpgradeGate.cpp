#include "ws/UpgradeGate.h"

#include "ws/CloseCode.h"
#include "ws/ConnectionRegistry.h"
#include "ws/HttpHeadParser.h"

#include <QAbstractHttpServer>
#include <QDateTime>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QTcpSocket>
#include <QTimer>
#include <QUrl>
#include <QWebSocket>

#include <mutex>

using namespace Qt::StringLiterals;

Q_LOGGING_CATEGORY(lcGate, "gatehouse.ws.gate")

namespace {
const auto sessionCookie = "gh_session";
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
QByteArray tokenFrom(const HttpHead &head)
{
    const QByteArray authorization = head.value("authorization").trimmed();
    if (authorization.size() > 7 && authorization.first(7).toLower() == "bearer ")
        return authorization.sliced(7).trimmed();
    for (const auto &cookie : head.value("cookie").split(';')) {
        const qsizetype equals = cookie.indexOf('=');
        if (equals > 0 && cookie.first(equals).trimmed() == sessionCookie)
            return cookie.sliced(equals + 1).trimmed();
    }
    return head.queryValue("access_token");
}

QString remoteOf(const QTcpSocket *socket)
{
    return socket->peerAddress().toString();
}
} // namespace

/// A QTcpServer that never listens: the gate hands it sockets for the HTTP API.
class UpgradeGate::SocketHandoff final : public QTcpServer {
public:
    using QTcpServer::QTcpServer;
    void handOver(QTcpSocket *socket) { addPendingConnection(socket); }
};

UpgradeGate::UpgradeGate(ConnectionRegistry &registry, LiveConnection::Authenticator authenticator, Options options,
                         QObject *parent)
    : QObject(parent)
    , m_registry(registry)
    , m_authenticator(std::move(authenticator))
    , m_options(std::move(options))
    , m_http(new SocketHandoff)
    , m_webSockets(u"gatehouse"_s, QWebSocketServer::NonSecureMode)
    , m_perIp(m_options.handshakesPerIpPerSecond, 2.0 * m_options.handshakesPerIpPerSecond)
    , m_perUser(m_options.handshakesPerUserPerSecond, 2.0 * m_options.handshakesPerUserPerSecond)
{
    connect(&m_listener, &QTcpServer::pendingConnectionAvailable, this, &UpgradeGate::handleNewConnection);
    connect(&m_webSockets, &QWebSocketServer::newConnection, this, &UpgradeGate::handleWebSocket);
    m_webSockets.setHandshakeTimeout(m_options.headTimeout);
}

UpgradeGate::~UpgradeGate()
{
    if (m_http && !m_http->parent()) // never bound: still ours
        delete m_http.data();
}

bool UpgradeGate::listen(const QHostAddress &address, quint16 port)
{
    return m_listener.listen(address, port);
}

void UpgradeGate::bindHttp(QAbstractHttpServer &http)
{
    // The hand-off never listens, by design, and Qt says so: once when the HTTP server binds
    // to it and at every nextPendingConnection(). Exactly those two messages are dropped.
    static std::once_flag installed;
    std::call_once(installed, [] {
        static const QtMessageHandler previous
            = qInstallMessageHandler([](QtMsgType type, const QMessageLogContext &context, const QString &message) {
                  const bool expected = message.contains(u"nextPendingConnection() called while not listening"_s)
                      || (message.contains(u"is not listening"_s) && message.contains(u"TCP server"_s));
                  if (!expected && previous)
                      previous(type, context, message);
              });
    });
    http.bind(m_http);
}

void UpgradeGate::handleNewConnection()
{
    while (QTcpSocket *socket = m_listener.nextPendingConnection()) {
        auto *deadline = new QTimer(socket);
        deadline->setObjectName(u"headDeadline"_s);
        deadline->setSingleShot(true);
        connect(deadline, &QTimer::timeout, socket, [socket] {
            // A client that never finishes its request head (slowloris) loses the socket.
            socket->abort();
        });
        deadline->start(m_options.headTimeout);
        connect(socket, &QTcpSocket::readyRead, this, [this, socket] { handleReadable(socket); });
        connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
        if (socket->bytesAvailable() > 0)
            handleReadable(socket);
    }
}

void UpgradeGate::release(QTcpSocket *socket)
{
    disconnect(socket, nullptr, this, nullptr);
    disconnect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
    delete socket->findChild<QTimer *>(u"headDeadline"_s, Qt::FindDirectChildrenOnly);
}

void UpgradeGate::handleReadable(QTcpSocket *socket)
{
    const QByteArray received = socket->peek(HttpHeadParser::defaultMaximumSize + 1);
    const auto parsed = HttpHeadParser::parse(received);
    switch (parsed.status) {
    case HttpHeadParser::Status::NeedMore:
        return;
    case HttpHeadParser::Status::Invalid:
        return deny(socket, { Decision::Kind::Deny, 400, u"bad_request"_s, u"malformed request head"_s, {} });
    case HttpHeadParser::Status::TooLarge:
        return deny(socket,
                    { Decision::Kind::Deny, 431, u"head_too_large"_s, u"the request head exceeds 16 KiB"_s, {} });
    case HttpHeadParser::Status::Complete:
        break;
    }
    const Decision decision = decide(parsed.head, remoteOf(socket));
    switch (decision.kind) {
    case Decision::Kind::Http:
        release(socket);
        socket->setParent(nullptr);
        m_http->handOver(socket);
        // The bytes were only peeked at, and readyRead has fired already: say it again.
        QMetaObject::invokeMethod(socket, &QTcpSocket::readyRead, Qt::QueuedConnection);
        return;
    case Decision::Kind::Deny:
        return deny(socket, decision);
    case Decision::Kind::Accept:
        return acceptUpgrade(socket, decision.claims);
    }
}

UpgradeGate::Decision UpgradeGate::decide(const HttpHead &head, const QString &remoteAddress)
{
    const double now = double(QDateTime::currentMSecsSinceEpoch()) / 1000.0;
    const bool wantsUpgrade = head.hasToken("connection", "upgrade") || !head.value("upgrade").isEmpty();
    if (head.path() != "/ws")
        return {}; // the HTTP API answers, and refuses upgrades itself
    if (!wantsUpgrade || head.method != "GET" || !head.hasToken("upgrade", "websocket")
        || head.value("sec-websocket-key").isEmpty() || head.value("sec-websocket-version") != "13")
        return { Decision::Kind::Deny, 400, u"bad_request"_s, u"/ws takes a WebSocket upgrade (RFC 6455 §4.1)"_s, {} };
    // Limits first: the cheapest check, and the one that protects the others.
    if (m_registry.count() >= m_options.maximumConnections)
        return { Decision::Kind::Deny, 503, u"overloaded"_s, u"too many connections; try again later"_s, {} };
    // Controlled reconnection: a reconnect storm from one address is slowed before any crypto.
    if (const auto wait = m_perIp.take(remoteAddress, now))
        return { Decision::Kind::Deny, 429, u"rate_limited"_s, u"too many handshakes from this address"_s, {}, *wait };
    const QByteArray origin = head.value("origin");
    if (!origin.isEmpty() && !originAllowed(origin))
        return { Decision::Kind::Deny, 403, u"origin_rejected"_s, u"origin not allowed"_s, {} };
    const QByteArray token = tokenFrom(head);
    if (token.isEmpty())
        return { Decision::Kind::Deny, 401, u"token_missing"_s, u"send an access token"_s, {} };
    auto claims = m_authenticator(token);
    if (!claims)
        return { Decision::Kind::Deny, 401, u"invalid_token"_s, claims.error(), {} };
    if (const auto wait = m_perUser.take(claims->subject, now))
        return { Decision::Kind::Deny, 429, u"rate_limited"_s, u"too many handshakes for this user"_s, {}, *wait };
    if (m_registry.countForUser(claims->subject) >= m_options.maximumConnectionsPerUser)
        return { Decision::Kind::Deny, 429, u"too_many_connections"_s, u"this user has too many connections"_s, {} };
    return { Decision::Kind::Accept, 101, {}, {}, std::move(claims).value() };
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

void UpgradeGate::deny(QTcpSocket *socket, const Decision &decision)
{
    release(socket);
    connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
    qCInfo(lcGate).noquote() << "refused" << decision.status << decision.error << decision.description << "from"
                             << remoteOf(socket);
    // A refused token is counted by its precise reason ("token_expired"), the rest by error code.
    Q_EMIT handshakeRefused(decision.error == "invalid_token"_L1 ? decision.description : decision.error,
                            remoteOf(socket));
    const QByteArray body = QJsonDocument(QJsonObject { { "error"_L1, decision.error },
                                                        { "error_description"_L1, decision.description } })
                                .toJson(QJsonDocument::Compact);
    QByteArray response = "HTTP/1.1 " + QByteArray::number(decision.status) + ' ' + reasonPhrase(decision.status)
        + "\r\nContent-Type: application/json\r\nContent-Length: " + QByteArray::number(body.size())
        + "\r\nConnection: close\r\nCache-Control: no-store\r\n";
    if (decision.status == 401)
        response += "WWW-Authenticate: Bearer realm=\"gatehouse\", error=\"invalid_token\"\r\n";
    if (decision.status == 429 || decision.status == 503)
        response += "Retry-After: "
            + QByteArray::number(decision.retryAfter > 0 ? decision.retryAfter : retryAfterSeconds) + "\r\n";
    socket->write(response + "\r\n" + body);
    socket->disconnectFromHost();
}

void UpgradeGate::acceptUpgrade(QTcpSocket *socket, const AccessClaims &claims)
{
    release(socket);
    m_acceptedClaims.insert({ socket->peerAddress().toString(), socket->peerPort() }, claims);
    m_webSockets.handleConnection(socket);
    QMetaObject::invokeMethod(socket, &QTcpSocket::readyRead, Qt::QueuedConnection);
}

void UpgradeGate::handleWebSocket()
{
    while (QWebSocket *socket = m_webSockets.nextPendingConnection()) {
        const auto key = QPair<QString, quint16> { socket->peerAddress().toString(), socket->peerPort() };
        const auto claims = m_acceptedClaims.take(key);
        if (claims.subject.isEmpty()) { // cannot happen: only accepted sockets are upgraded
            socket->close(CloseCode::policyViolation, u"not authenticated"_s);
            socket->deleteLater();
            continue;
        }
        socket->setMaxAllowedIncomingMessageSize(static_cast<quint64>(m_options.maximumMessageSize));
        socket->setMaxAllowedIncomingFrameSize(static_cast<quint64>(m_options.maximumMessageSize));
        m_registry.add(socket, claims, m_authenticator);
    }
}
