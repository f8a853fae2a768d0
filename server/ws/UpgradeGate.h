#pragma once

#include "auth/AccessClaims.h"
#include "ws/HttpHead.h"
#include "ws/LiveConnection.h"

#include <QObject>
#include <QSet>
#include <QSocketNotifier>
#include <QStringList>
#include <QTimer>

#include <chrono>
#include <functional>

class ConnectionCensus;
class ConnectionRegistry;
class LiveLimits;
class RateLimiter;

/// The door of the port, one per I/O thread. Every gate accepts from the same listening
/// socket (whichever thread is free takes the next connection) and reads each request head
/// by peeking at the kernel's buffer (with a size limit and a deadline, which Qt 6.4's HTTP
/// server lacks), so nothing is consumed and the socket can go to any thread whole.
/// A WebSocket upgrade to /ws runs the checks in order: limits → origin → token; a refusal
/// is written here as 400/401/403/429/503 and no WebSocket is ever created. An accepted
/// upgrade is answered here too (101, RFC 6455 §4.2.2) and becomes a WebSocketStream and a
/// LiveConnection on this thread. Everything else is handed, untouched, to the HTTP API's
/// thread.
class UpgradeGate final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(UpgradeGate)

public:
    struct Options {
        QStringList allowedOrigins; ///< exact origins, or "*"; loopback origins are always allowed
        qint64 maximumMessageSize = 64 * 1024;
        std::chrono::milliseconds headTimeout { 10000 };
    };

    /// What every gate shares with the others; each part is safe to use from any thread.
    struct Shared {
        ConnectionCensus *census = nullptr;
        RateLimiter *handshakesPerIp = nullptr;
        RateLimiter *handshakesPerUser = nullptr;
        /// Takes ownership of a connected socket whose bytes are all still unread.
        std::function<void(qintptr socket)> handOffHttp;
        /// Message size and head deadline as they are now; when null, the Options' fixed ones.
        const LiveLimits *limits = nullptr;
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
    };

    UpgradeGate(ConnectionRegistry &registry, LiveConnection::Authenticator authenticator, Shared shared,
                Options options, QObject *parent = nullptr);
    ~UpgradeGate() override;

    /// Starts accepting from a listening socket; the gate owns (and closes) this descriptor.
    void acceptFrom(qintptr listeningSocket);

    Decision decide(const HttpHead &head, const QString &remoteAddress);

Q_SIGNALS:
    /// `reason` is a stable code: "token_missing", "origin_rejected", "token_expired", …
    void handshakeRefused(const QString &reason, const QString &remoteAddress);

private:
    class PendingHead;

    /// What became of a socket whose head was looked at.
    enum class Outcome {
        Taken, ///< answered, refused, or handed on: the descriptor is no longer the caller's
        Incomplete, ///< no complete head yet: look again later
        Gone, ///< the peer left or the socket failed: the caller closes it
    };

    void acceptPending();
    void sweepPendingHeads();
    void examine(PendingHead *pending);
    Outcome inspect(qintptr socket, const QString &remote);
    void deny(qintptr socket, const QString &remote, qsizetype received, const Decision &decision);
    void acceptUpgrade(qintptr socket, const QString &remote, const HttpHead &head, const Decision &decision);
    bool originAllowed(const QByteArray &origin) const;

    ConnectionRegistry &m_registry;
    LiveConnection::Authenticator m_authenticator;
    Shared m_shared;
    Options m_options;
    qintptr m_listeningSocket = -1;
    QSocketNotifier *m_acceptNotifier = nullptr; ///< a child
    QTimer *m_headSweep = nullptr; ///< a child
    QSet<PendingHead *> m_pendingHeads; ///< children still reading their head
    QByteArray m_peekBuffer;
};
