#pragma once

#include "ConnectionInfo.h"
#include "Result.h"
#include "auth/AccessClaims.h"
#include "ws/CloseCode.h"
#include "ws/MessageTap.h"

#include <QJsonObject>
#include <QObject>
#include <QPointer>

#include <functional>
#include <memory>

class WebSocketStream;

/// One authenticated WebSocket. Greets the client, warns it before its access token expires,
/// takes an in-band refresh for the same session, closes with 4001 at expiry, and passes the
/// application's messages on to the registry. Bad input gets an error message, or a close.
class LiveConnection final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(LiveConnection)

public:
    /// Verifies a token and checks that its session is alive; the refusal's code otherwise.
    using Authenticator = std::function<Result<AccessClaims, QString>(const QByteArray &token)>;

    /// Where the connection came from, as the gate saw it.
    struct Peer {
        QString remoteAddress;
        QString userAgent;
        bool viaCookie = false; ///< authenticated by the browser's session cookie
    };

    /// The authenticator is the registry's, and outlives the connection. The stream is not
    /// owned: it ends its own life once its close has lingered.
    LiveConnection(quint64 id, WebSocketStream *stream, const AccessClaims &claims, const Peer &peer,
                   const Authenticator &authenticator, QObject *parent = nullptr);
    ~LiveConnection() override;

    const ConnectionInfo &info() const { return m_info; }
    void send(const QJsonObject &message);
    void sendText(const QByteArray &utf8);
    void close(WebSocketClose code, const QString &reason);
    /// The session was refreshed over HTTP (a cookie-authenticated connection cannot be sent
    /// the new token in band): the connection lives to `accessExpiresAt` and is told so.
    void extendTo(qint64 accessExpiresAt);

    /// An inspector watches its messages from now on (MessageTap), until stopInspecting() or
    /// the close. Without one, nothing is recorded.
    void inspect(MessageTap::Watcher watcher);
    /// False when that inspection was not watching here.
    bool stopInspecting(quint64 inspection, const QString &reason);

Q_SIGNALS:
    /// {"type":"sync","payload":…} from the client, for the user's other connections: the
    /// payload's JSON text as the client wrote it (strictly checked), empty without one.
    void syncRequested(quint64 connectionId, const QByteArray &payload);
    void closed(quint64 connectionId);

private:
    void handleText(const QByteArray &utf8);
    void handleRefresh(const QJsonObject &message);
    void handleDisconnected();
    void scheduleExpiry();
    void timerEvent(QTimerEvent *event) override;
    void startTimerIn(qint64 seconds);
    void sendError(const QString &error, const QString &description);

    ConnectionInfo m_info;
    QPointer<WebSocketStream> m_stream;
    /// Only while an inspector watches; a child, so it goes with the connection.
    MessageTap *m_tap = nullptr;
    const Authenticator &m_authenticator;
    int m_timer = 0; ///< first the "expiring" warning, then the expiry itself
    bool m_warned = false;
    bool m_closing = false;
};
