#pragma once

#include "tls/TlsContext.h"

#include <QByteArray>
#include <QDeadlineTimer>
#include <QElapsedTimer>
#include <QObject>
#include <QString>
#include <QTimer>

#include <functional>
#include <memory>
#include <optional>

class QSocketNotifier;
typedef struct ssl_st SSL;

/// One TLS connection of the port, on its I/O thread: OpenSSL directly on the non-blocking
/// descriptor (no QSslSocket), then the decrypted bytes relayed both ways over a Unix socket
/// pair. The gate is given the pair's other end as if it were the client's socket, so every
/// line of the HTTP and WebSocket code (heads, bodies, refusals, deadlines, frames, keep-alive)
/// serves TLS as it serves plain TCP.
///
/// Before the handshake it looks at the first bytes: a plain HTTP request gets a short `400`
/// ("this port speaks TLS") and the connection closes; anything else is a ClientHello or a
/// failed handshake. The handshake must finish by the deadline the gate gives (its head
/// timeout): a client that stalls mid-handshake is cut like one that stalls mid-head.
///
/// Output waiting for a slow peer is bounded on both sides: the relay stops reading one side
/// while the other cannot take more, so the kernel's buffers and TCP's window hold it back.
/// Either side ending ends the other: the client's close_notify or FIN shuts the pair's write
/// side; the gate closing its end sends close_notify and closes the connection.
class TlsRelay final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TlsRelay)

public:
    struct Setup {
        qintptr socket = -1; ///< the client's TCP connection; the relay owns and closes it
        QString remote;
        std::shared_ptr<const TlsContext> context; ///< kept for the connection's life
        std::chrono::milliseconds handshakeTimeout { 10000 };
        /// The handshake succeeded: the gate takes `inner`, the pair's end that speaks plain.
        std::function<void(TlsRelay *, qintptr inner)> established;
        /// The connection is over (refused, failed, timed out, or ended by either side); the
        /// relay deletes itself after this.
        std::function<void(TlsRelay *)> closed;
    };

    explicit TlsRelay(Setup setup, QObject *parent = nullptr);
    ~TlsRelay() override;

    /// Looks at what has arrived already (most clients send their ClientHello with the
    /// connection), and waits for the rest.
    void start();
    /// Whether the handshake is still under way and past its deadline (the gate's sweep).
    bool handshakeExpired() const;
    bool inHandshake() const { return m_stage == Stage::Handshake; }
    /// Whether the gate was given the pair's end (and with it the connection's place).
    bool established() const { return m_established; }
    /// Not a byte from the client yet, this long after it connected (shed first when full).
    bool silentFor(std::chrono::milliseconds time) const { return !m_ssl && m_since.hasExpired(time.count()); }
    /// Ends the connection at once (the gate's sweep, a shutdown).
    void abort();

    /// The connection, taken out of the relay for a WebSocket to speak TLS on it directly.
    struct Handover {
        SSL *ssl = nullptr; ///< handshake done, its BIO on `socket`; the taker frees it
        qintptr socket = -1; ///< the client's TCP connection; the taker closes it
        QByteArray received; ///< decrypted, not yet relayed to the pair: comes after what the pair holds
    };
    /// Gives up the connection, and ends: possible while nothing flows to the client (the
    /// upgrade, the connection's first request, is not answered yet) and the client has not
    /// ended. The pair's end the gate holds is then the gate's to close.
    std::optional<Handover> handOver();

    /// The answer a plain HTTP request to the TLS port gets.
    static QByteArray plainRequestRefusal();

private:
    enum class Stage { Handshake, Relaying, Done };

    void handshake();
    void handleOuterReadable();
    void handleOuterWritable();
    void handleInnerReadable();
    void handleInnerWritable();
    /// Decrypts what the client sent into m_toInner, while the pair can take it.
    void pumpFromClient();
    /// Encrypts what the gate wrote into m_toOuter and sends it.
    void pumpToClient();
    /// Sends what the client sent on to the pair; `now` skips the gathering of small pieces.
    bool flushToInner(bool now = false);
    /// The gate has not yet read all that the pair holds.
    bool innerUnread() const;
    bool flushToOuter();
    void updateNotifiers();
    void finish();
    /// Being destroyed with the gate (the server stops): what the gate wrote last, such as a
    /// WebSocket's 1001, goes out as far as the socket takes it now, then close_notify.
    void drainNow();
    /// TLS is over (close_notify or an error): the gate's side hears the end of the stream.
    void clientEnded();

    Setup m_setup;
    Stage m_stage = Stage::Handshake;
    SSL *m_ssl = nullptr;
    qintptr m_inner = -1; ///< our end of the pair
    QSocketNotifier *m_outerRead = nullptr;
    QSocketNotifier *m_outerWrite = nullptr;
    QSocketNotifier *m_innerRead = nullptr;
    QSocketNotifier *m_innerWrite = nullptr;
    QDeadlineTimer m_deadline;
    QElapsedTimer m_since;
    QTimer m_stalled; ///< runs while output waits for a client that takes nothing
    QTimer m_gather; ///< runs while small pieces for the pair wait to go together
    bool m_gathering = false; ///< small pieces wait: the gate has not read what the pair holds
    QByteArray m_toInner; ///< decrypted, not yet taken by the pair
    QByteArray m_toOuter; ///< plain from the gate, not yet taken by SSL_write
    bool m_clientEnded = false; ///< no more bytes will come from the client
    bool m_innerEnded = false; ///< the gate closed its end or shut its writing
    bool m_writeBlocked = false; ///< SSL_write waits for the socket to take more
    bool m_shutdownSent = false; ///< close_notify and our FIN are out
    bool m_drainDeadlineSet = false; ///< the gate's end is done: the rest has a deadline
    bool m_established = false; ///< the gate was given the pair's end
};
