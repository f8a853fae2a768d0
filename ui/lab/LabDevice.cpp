#include "lab/LabDevice.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QRandomGenerator>
#include <QUrlQuery>

using namespace Qt::StringLiterals;

namespace {
constexpr int maximumBackoffMs = 30'000;
}

LabDevice::LabDevice(QNetworkAccessManager &network, const QUrl &server, const QSslConfiguration &ssl,
                     const QString &username, const QString &password, const QString &deviceId, QObject *parent)
    : QObject(parent)
    , m_network(network)
    , m_server(server)
    , m_ssl(ssl)
    , m_username(username)
    , m_password(password)
    , m_deviceId(deviceId)
    , m_socket(QString(), QWebSocketProtocol::VersionLatest, this) // not a browser: no Origin
{
    // QWebSocket takes its own TLS configuration, not the request's.
    m_socket.setSslConfiguration(m_ssl);
    m_retry.setSingleShot(true);
    connect(&m_retry, &QTimer::timeout, this, [this] { m_accessToken.isEmpty() ? login() : connectSocket(); });
    connect(&m_chatter, &QTimer::timeout, this, &LabDevice::sendChatter);
    connect(&m_socket, &QWebSocket::textMessageReceived, this, &LabDevice::handleText);
    connect(&m_socket, &QWebSocket::disconnected, this, &LabDevice::handleDisconnected);
    connect(&m_socket, &QWebSocket::connected, this, [this] {
        m_backoffMs = 1000;
        setState(State::Connected);
        m_chatter.start(QRandomGenerator::global()->bounded(4000, 12000));
    });
}

void LabDevice::start()
{
    login();
}

void LabDevice::stop()
{
    setState(State::Stopped);
    m_retry.stop();
    m_chatter.stop();
    if (m_socket.state() != QAbstractSocket::UnconnectedState)
        m_socket.close(QWebSocketProtocol::CloseCodeNormal, u"lab stopped"_s);
}

QNetworkReply *LabDevice::post(const QString &path, const QByteArray &contentType, const QByteArray &body)
{
    QUrl url = m_server;
    url.setPath(path);
    QNetworkRequest request(url);
    request.setSslConfiguration(m_ssl);
    request.setHeader(QNetworkRequest::ContentTypeHeader, contentType);
    request.setHeader(QNetworkRequest::UserAgentHeader, u"GatehouseLab/1 (%1)"_s.arg(m_deviceId));
    return m_network.post(request, body);
}

void LabDevice::login()
{
    setState(State::LoggingIn);
    const QJsonObject body { { "username"_L1, m_username },
                             { "password"_L1, m_password },
                             { "device"_L1, m_deviceId } };
    auto *reply = post(u"/auth/login"_s, "application/json", QJsonDocument(body).toJson(QJsonDocument::Compact));
    connect(reply, &QNetworkReply::finished, this, [this, reply] {
        reply->deleteLater();
        if (m_state == State::Stopped)
            return;
        const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        const auto answer = QJsonDocument::fromJson(reply->readAll()).object();
        if (status == 200) {
            m_accessToken = answer.value("access_token"_L1).toString().toLatin1();
            m_refreshToken = answer.value("refresh_token"_L1).toString().toLatin1();
            connectSocket();
            return;
        }
        // 429: the server's login rate limit says when to come back.
        const int retryAfter = reply->rawHeader("Retry-After").toInt();
        retryLater(retryAfter > 0 ? retryAfter * 1000 : m_backoffMs);
    });
}

void LabDevice::connectSocket()
{
    if (m_state == State::Stopped)
        return;
    setState(State::Connecting);
    QUrl url = m_server;
    url.setScheme(m_server.scheme() == "https"_L1 ? u"wss"_s : u"ws"_s);
    url.setPath(u"/ws"_s);
    QNetworkRequest request(url);
    request.setSslConfiguration(m_ssl);
    request.setRawHeader("Authorization", "Bearer " + m_accessToken);
    request.setHeader(QNetworkRequest::UserAgentHeader, u"GatehouseLab/1 (%1)"_s.arg(m_deviceId));
    m_socket.open(request);
}

void LabDevice::refresh(bool thenReconnect)
{
    QUrlQuery form;
    form.addQueryItem(u"grant_type"_s, u"refresh_token"_s);
    form.addQueryItem(u"refresh_token"_s, QString::fromLatin1(m_refreshToken));
    auto *reply
        = post(u"/oauth/token"_s, "application/x-www-form-urlencoded", form.toString(QUrl::FullyEncoded).toLatin1());
    connect(reply, &QNetworkReply::finished, this, [this, reply, thenReconnect] {
        reply->deleteLater();
        if (m_state == State::Stopped)
            return;
        const auto answer = QJsonDocument::fromJson(reply->readAll()).object();
        if (reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt() != 200) {
            // invalid_grant: the session is over (revoked, expired); a person would log in again.
            m_accessToken.clear();
            setState(State::Revoked);
            m_socket.close(QWebSocketProtocol::CloseCodeNormal, u"session ended"_s);
            return;
        }
        ++m_counters.refreshes;
        m_accessToken = answer.value("access_token"_L1).toString().toLatin1();
        m_refreshToken = answer.value("refresh_token"_L1).toString().toLatin1();
        if (thenReconnect)
            connectSocket();
        else
            m_socket.sendTextMessage(QString::fromUtf8(
                QJsonDocument(QJsonObject { { "type"_L1, "refresh"_L1 },
                                            { "access_token"_L1, QString::fromLatin1(m_accessToken) } })
                    .toJson(QJsonDocument::Compact)));
    });
}

void LabDevice::handleText(const QString &text)
{
    const auto message = QJsonDocument::fromJson(text.toUtf8()).object();
    const QString type = message.value("type"_L1).toString();
    if (type == "expiring"_L1)
        refresh(false);
    else if (type == "sync"_L1 || type == "broadcast"_L1)
        ++m_counters.messagesReceived;
}

void LabDevice::sendChatter()
{
    if (m_socket.state() != QAbstractSocket::ConnectedState)
        return;
    ++m_counters.messagesSent;
    m_socket.sendTextMessage(QString::fromUtf8(
        QJsonDocument(QJsonObject { { "type"_L1, "sync"_L1 },
                                    { "payload"_L1,
                                      QJsonObject { { "from"_L1, m_deviceId },
                                                    { "text"_L1, u"hello from %1"_s.arg(m_deviceId) } } } })
            .toJson(QJsonDocument::Compact)));
}

void LabDevice::handleDisconnected()
{
    m_chatter.stop();
    m_lastCloseCode = int(m_socket.closeCode());
    if (m_state == State::Stopped || m_state == State::Revoked)
        return;
    if (m_lastCloseCode == 4003) {
        // Revoked: reconnecting cannot help; a person must log in again.
        m_accessToken.clear();
        setState(State::Revoked);
        return;
    }
    ++m_counters.reconnects;
    if (m_lastCloseCode == 4001) {
        refresh(true);
        return;
    }
    retryLater(m_backoffMs);
}

void LabDevice::retryLater(int afterMs)
{
    // Full jitter around the back-off, so that a crowd disconnected together does not return together.
    const int jittered = afterMs / 2 + int(QRandomGenerator::global()->bounded(afterMs / 2 + 1));
    m_backoffMs = std::min(maximumBackoffMs, m_backoffMs * 2);
    setState(State::Waiting);
    m_retry.start(jittered);
}

void LabDevice::setState(State state)
{
    if (m_state == state)
        return;
    m_state = state;
    Q_EMIT stateChanged(state);
}
