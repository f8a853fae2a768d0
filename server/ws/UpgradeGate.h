#pragma once

#include "auth/AccessClaims.h"
#include "policy/RateLimiter.h"
#include "ws/HttpHead.h"
#include "ws/LiveConnection.h"

#include <QHash>
#include <QHostAddress>
#include <QObject>
#include <QPointer>
#include <QStringList>
#include <QTcpServer>
#include <QWebSocketServer>

#include <chrono>

class ConnectionRegistry;
class QAbstractHttpServer;

/// The one door of the port. Every connection's request head is read here (with a size limit
/// and a deadline, which Qt 6.4's HTTP server lacks), by peeking, so nothing is consumed.
/// A WebSocket upgrade to /ws runs the checks in order: limits → origin → token; a refusal
/// is written here as 401/403/429/503 and no WebSocket is ever created. Everything else goes,
/// untouched, to the HTTP API.
class UpgradeGate final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(UpgradeGate)

public:
    struct Options {
        QStringList allowedOrigins; ///< exact origins, or "*"; loopback origins are always allowed
        qsizetype maximumConnections = 20000;
        qsizetype maximumConnectionsPerUser = 100;
        qint64 maximumMessageSize = 64 * 1024;
        std::chrono::milliseconds headTimeout { 10000 };
        int handshakesPerIpPerSecond = 50;
        int handshakesPerUserPerSecond = 10;
    };

    /// What the gate decided for one request head.
    struct Decision {
        enum class Kind { Http, Accept, Deny } kind = Kind::Http;
        int status = 0;
        QString error;
        QString description;
        AccessClaims claims;
        int retryAfter = 0; ///< seconds, for 429 and 503
    };

    UpgradeGate(ConnectionRegistry &registry, LiveConnection::Authenticator authenticator, Options options,
                QObject *parent = nullptr);
    ~UpgradeGate() override;

    bool listen(const QHostAddress &address, quint16 port);
    QString errorString() const { return m_listener.errorString(); }
    quint16 port() const { return m_listener.serverPort(); }
    /// Plain HTTP requests arrive here; the HTTP API binds to it.
    void bindHttp(QAbstractHttpServer &http);

    Decision decide(const HttpHead &head, const QString &remoteAddress);

Q_SIGNALS:
    /// `reason` is a stable code: "token_missing", "origin_rejected", "token_expired", …
    void handshakeRefused(const QString &reason, const QString &remoteAddress);

private:
    class SocketHandoff;

    void handleNewConnection();
    void handleReadable(QTcpSocket *socket);
    void deny(QTcpSocket *socket, const Decision &decision);
    void acceptUpgrade(QTcpSocket *socket, const AccessClaims &claims);
    void handleWebSocket();
    void release(QTcpSocket *socket);
    bool originAllowed(const QByteArray &origin) const;

    ConnectionRegistry &m_registry;
    LiveConnection::Authenticator m_authenticator;
    Options m_options;
    QTcpServer m_listener;
    QPointer<SocketHandoff> m_http; ///< owned by the HTTP server once bound
    QWebSocketServer m_webSockets;
    RateLimiter m_perIp;
    RateLimiter m_perUser;
    QHash<QPair<QString, quint16>, AccessClaims> m_acceptedClaims; ///< by peer, until the socket is upgraded
};
