#pragma once

#include <QObject>
#include <QSslConfiguration>
#include <QTimer>
#include <QUrl>
#include <QWebSocket>

class QNetworkAccessManager;
class QNetworkReply;

/// One simulated device of a lab user, behaving as a well-written client: it logs in over
/// HTTP, opens a WebSocket with its access token, refreshes in-band when told the token is
/// expiring, sends messages to its other devices now and then, and reconnects with jittered
/// back-off after a disconnect — but not after a revocation (4003), which means "log in again".
class LabDevice final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(LabDevice)

public:
    enum class State { LoggingIn, Connecting, Connected, Waiting, Revoked, Stopped };
    Q_ENUM(State)

    struct Counters {
        int refreshes = 0;
        int messagesSent = 0;
        int messagesReceived = 0;
        int reconnects = 0;
    };

    LabDevice(QNetworkAccessManager &network, const QUrl &server, const QSslConfiguration &ssl, const QString &username,
              const QString &password, const QString &deviceId, QObject *parent = nullptr);

    void start();
    void stop();
    State state() const { return m_state; }
    const Counters &counters() const { return m_counters; }
    int lastCloseCode() const { return m_lastCloseCode; }

Q_SIGNALS:
    void stateChanged(LabDevice::State state);

private:
    void login();
    void connectSocket();
    void refresh(bool thenReconnect);
    void handleText(const QString &text);
    void handleDisconnected();
    void retryLater(int afterMs);
    void sendChatter();
    void setState(State state);
    QNetworkReply *post(const QString &path, const QByteArray &contentType, const QByteArray &body);

    QNetworkAccessManager &m_network;
    QUrl m_server;
    QSslConfiguration m_ssl; ///< trusts the server's own certificate over TLS
    QString m_username;
    QString m_password;
    QString m_deviceId;
    QWebSocket m_socket;
    QTimer m_retry;
    QTimer m_chatter;
    QByteArray m_accessToken;
    QByteArray m_refreshToken;
    State m_state = State::Stopped;
    Counters m_counters;
    int m_backoffMs = 1000;
    int m_lastCloseCode = 0;
};
