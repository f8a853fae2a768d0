#include "ws/LiveConnection.h"

#include "auth/StrictJson.h"
#include "ws/CloseCode.h"
#include "ws/WebSocketStream.h"

#include <QDateTime>
#include <QJsonDocument>
#include <QLoggingCategory>
#include <QTimerEvent>

using namespace Qt::StringLiterals;
using namespace std::chrono_literals;

Q_LOGGING_CATEGORY(lcConnection, "gatehouse.ws.connection")

namespace {
constexpr auto maximumWarning = 60s;

qint64 nowSeconds()
{
    return QDateTime::currentSecsSinceEpoch();
}
} // namespace

LiveConnection::LiveConnection(quint64 id, WebSocketStream *stream, const AccessClaims &claims, const Peer &peer,
                               const Authenticator &authenticator, QObject *parent)
    : QObject(parent)
    , m_stream(stream)
    , m_authenticator(authenticator)
{
    m_info.id = id;
    m_info.user = claims.user();
    m_info.deviceId = claims.deviceId;
    m_info.sessionId = claims.sessionId;
    m_info.remoteAddress = peer.remoteAddress;
    m_info.userAgent = peer.userAgent.left(256);
    m_info.connectedAtMs = QDateTime::currentMSecsSinceEpoch();
    m_info.lastActivityAtMs = m_info.connectedAtMs;
    m_info.accessExpiresAt = claims.expiresAt;
    m_info.viaCookie = peer.viaCookie;

    connect(stream, &WebSocketStream::textReceived, this, &LiveConnection::handleText);
    connect(stream, &WebSocketStream::disconnected, this, &LiveConnection::handleDisconnected);
    scheduleExpiry();

    QJsonObject welcome { { "type"_L1, "welcome"_L1 },
                          { "session_id"_L1, m_info.sessionId },
                          { "user"_L1, m_info.user.subject },
                          { "device"_L1, m_info.deviceId },
                          { "expires_in"_L1, std::max<qint64>(0, m_info.accessExpiresAt - nowSeconds()) } };
    if (!m_info.user.isLocal())
        welcome.insert("issuer"_L1, m_info.user.issuer);
    send(welcome);
}

LiveConnection::~LiveConnection() = default;

void LiveConnection::scheduleExpiry()
{
    const qint64 remaining = std::max<qint64>(0, m_info.accessExpiresAt - nowSeconds());
    // Warn a quarter of the lifetime ahead, at most a minute, so the client can refresh in band.
    const qint64 warning = std::min<qint64>(maximumWarning.count(), remaining / 4);
    m_warned = warning == 0;
    startTimerIn(remaining - warning);
}

void LiveConnection::startTimerIn(qint64 seconds)
{
    if (m_timer != 0)
        killTimer(m_timer);
    // One timer of the object itself, not a QTimer: thousands of connections, one object each.
    // Qt counts timers in int milliseconds: a longer wait is taken in steps.
    m_timer = startTimer(std::chrono::seconds(std::min<qint64>(seconds, 7 * 24 * 3600)), Qt::CoarseTimer);
}

void LiveConnection::timerEvent(QTimerEvent *event)
{
    if (event->timerId() != m_timer)
        return QObject::timerEvent(event);
    killTimer(std::exchange(m_timer, 0));
    const qint64 remaining = m_info.accessExpiresAt - nowSeconds();
    if (!m_warned && remaining > 0) {
        m_warned = true;
        send({ { "type"_L1, "expiring"_L1 }, { "expires_in"_L1, remaining } });
        return startTimerIn(remaining);
    }
    if (remaining > 0) // a coarse timer may fire a little early
        return startTimerIn(remaining);
    close(CloseCode::tokenExpired, u"access token expired: refresh, then reconnect"_s);
}

void LiveConnection::send(const QJsonObject &message)
{
    if (m_closing)
        return;
    sendText(QJsonDocument(message).toJson(QJsonDocument::Compact));
}

void LiveConnection::sendText(const QByteArray &utf8)
{
    if (m_closing || !m_stream)
        return;
    m_info.bytesOut += static_cast<quint64>(m_stream->sendText(utf8));
    ++m_info.messagesOut;
    if (m_tap) [[unlikely]]
        m_tap->record(true, utf8);
}

void LiveConnection::inspect(MessageTap::Watcher watcher)
{
    if (!m_tap)
        m_tap = new MessageTap(m_info.id, this);
    m_tap->add(std::move(watcher));
}

bool LiveConnection::stopInspecting(quint64 inspection, const QString &reason)
{
    if (!m_tap || !m_tap->remove(inspection, reason))
        return false;
    if (m_tap->isEmpty())
        delete std::exchange(m_tap, nullptr);
    return true;
}

void LiveConnection::sendError(const QString &error, const QString &description)
{
    send({ { "type"_L1, "error"_L1 }, { "error"_L1, error }, { "error_description"_L1, description } });
}

void LiveConnection::close(WebSocketClose code, const QString &reason)
{
    if (std::exchange(m_closing, true))
        return;
    if (m_timer != 0)
        killTimer(std::exchange(m_timer, 0));
    // A close frame's reason must fit in 123 bytes (RFC 6455 §5.5).
    if (m_stream)
        m_stream->close(code, reason); // the stream cuts the reason to fit a close frame (RFC 6455 §5.5)
}

void LiveConnection::handleText(const QByteArray &utf8)
{
    m_info.lastActivityAtMs = QDateTime::currentMSecsSinceEpoch();
    ++m_info.messagesIn;
    m_info.bytesIn += static_cast<quint64>(utf8.size());
    const auto message = StrictJson::parseObject(utf8);
    if (m_tap) [[unlikely]]
        m_tap->record(false, utf8, message ? message->value("type"_L1).toString() : QString());
    if (!message)
        return sendError(
            u"bad_message"_s,
            u"a message is one JSON object with a \"type\": %1"_s.arg(StrictJson::errorString(message.error())));
    const QString type = message->value("type"_L1).toString();
    if (type == "refresh"_L1)
        return handleRefresh(*message);
    if (type == "sync"_L1) {
        // The payload's own bytes, checked above: through a QJsonValue, 12345678901234567890
        // would leave as the nearest double.
        Q_EMIT syncRequested(m_info.id, StrictJson::memberText(utf8, u"payload").toByteArray());
        return;
    }
    if (type == "ping"_L1)
        return send({ { "type"_L1, "pong"_L1 } });
    sendError(u"unknown_type"_s, u"known types: refresh, sync, ping"_s);
}

void LiveConnection::handleRefresh(const QJsonObject &message)
{
    const QByteArray token = message.value("access_token"_L1).toString().toLatin1();
    if (token.isEmpty())
        return sendError(u"invalid_request"_s, u"refresh needs \"access_token\""_s);
    const auto claims = m_authenticator(token);
    if (!claims)
        return sendError(u"invalid_token"_s, claims.error());
    // The same session and the same user: for an external token that is the same issuer too.
    if (claims->sessionId != m_info.sessionId || claims->user() != m_info.user)
        return sendError(u"invalid_token"_s, u"the token belongs to another session"_s);
    m_info.accessExpiresAt = claims->expiresAt;
    scheduleExpiry();
    send({ { "type"_L1, "refreshed"_L1 }, { "expires_in"_L1, std::max<qint64>(0, claims->expiresAt - nowSeconds()) } });
}

void LiveConnection::extendTo(qint64 accessExpiresAt)
{
    if (m_closing || accessExpiresAt < m_info.accessExpiresAt)
        return;
    m_info.accessExpiresAt = accessExpiresAt;
    scheduleExpiry();
    send({ { "type"_L1, "refreshed"_L1 }, { "expires_in"_L1, std::max<qint64>(0, accessExpiresAt - nowSeconds()) } });
}

void LiveConnection::handleDisconnected()
{
    m_closing = true;
    if (m_timer != 0)
        killTimer(std::exchange(m_timer, 0));
    m_info.closeCode = m_stream && m_stream->closeCode() != 0 ? m_stream->closeCode() : 1006;
    m_info.closedAtMs = QDateTime::currentMSecsSinceEpoch();
    if (m_tap) {
        m_tap->end(m_info.closeCode, u"the connection closed (%1)"_s.arg(m_info.closeCode));
        delete std::exchange(m_tap, nullptr);
    }
    Q_EMIT closed(m_info.id);
}
