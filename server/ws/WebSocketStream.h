#pragma once

#include "ws/CloseCode.h"
#include "ws/MessageRate.h"
#include "ws/PingSweep.h"
#include "ws/StreamTransport.h"
#include "ws/WebSocketFrame.h"

#include <QByteArray>
#include <QObject>
#include <QSocketNotifier>
#include <QTimer>

/// One upgraded WebSocket on a non-blocking descriptor, server side (RFC 6455 §5–7): reads and
/// checks client frames, reassembles messages, answers pings and close frames, writes what the
/// kernel takes and queues the rest. It owns its transport: the descriptor, plain or with TLS. Deliberately small: an
/// idle connection costs this object, two notifiers and nothing else, which is what lets a thread hold tens of
/// thousands of them. Its thread's PingSweep, when given, pings it when it falls silent and closes it when its peer is
/// gone.
///
/// `disconnected` is emitted once, when the connection is over for the application: at once
/// when the server closes (its close frame is out), or when the client's close frame, an error
/// or the end of the stream arrives. The object then lingers on its own, long enough for the
/// client to see the close frame before the socket goes, and deletes itself.
class WebSocketStream final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(WebSocketStream)

public:
    struct Limits {
        qint64 maximumMessageSize = 64 * 1024; ///< a frame or a reassembled message; beyond: 1009
        qint64 maximumQueued = 4 * 1024 * 1024; ///< unsent output; beyond, the client is not reading: drop it
        qint64 messageRate = 0; ///< messages and pings a second (0: no limit); beyond the burst: 1008
        qint64 messageBurst = 0;
        /// Binary messages reach binaryReceived; without, a binary frame is closed with 1008 at
        /// once (the session protocol is JSON text; the conformance harness echoes both).
        bool binaryMessages = false;
    };

    /// `initialOutput` (the 101 response) is written first, together with whatever is sent
    /// before uncork(): the handshake's answer and the greeting leave in one packet.
    /// `received`: bytes of the stream already read from the transport (frames the client sent
    /// right behind its upgrade request); they are handled first, once the event loop runs.
    WebSocketStream(StreamTransport transport, Limits limits, const QByteArray &initialOutput,
                    const QByteArray &received = {}, QObject *parent = nullptr);
    ~WebSocketStream() override;

    bool isOpen() const { return m_state == State::Open; }
    void uncork();
    /// Sends a text message; returns the bytes it put on the wire (or queued), 0 once closed.
    qint64 sendText(QByteArrayView utf8);
    /// Output queued behind what the kernel took: a sender of much paces itself by it.
    qint64 queuedBytes() const { return m_output.size(); }
    /// The peer took output a sender had queued: it is there, as if it had sent a frame. A
    /// long transfer to a slow reader queues the ping behind it; the reader is not dropped.
    void notePeerTookOutput();
    /// Sends a binary message, as sendText().
    qint64 sendBinary(QByteArrayView bytes);
    /// Sends a ping with no payload (RFC 6455 §5.5.2); whatever the client sends next answers it.
    void ping();
    /// From now on `sweep` watches this stream for silence, until the stream ends.
    void setPingSweep(PingSweep &sweep);
    /// Sends a close frame, ends the stream for the application, and lingers (see above).
    void close(WebSocketClose code, const QString &reason);
    /// The close code the connection ended with (received, sent, or 1006 when it just broke).
    int closeCode() const { return m_closeCode; }

Q_SIGNALS:
    void textReceived(const QByteArray &utf8);
    /// Only with Limits::binaryMessages.
    void binaryReceived(const QByteArray &bytes);
    void disconnected();

private:
    enum class State { Open, Lingering, Done };

    void readAvailable();
    /// What came before the stream was made, then what the transport has.
    void readReceived();
    /// Parses and handles the complete frames in m_input; false once the stream is not open.
    bool handleInput();
    void handleWritable();
    void handleFrame(WebSocketFrame::Frame &frame);
    void deliver(const WebSocketFrame::Frame &message);
    bool withinRate();
    qint64 send(WebSocketFrame::Opcode opcode, QByteArrayView payload);
    void flush();
    void waitUntilWritable(bool waiting);
    void updateWriteNotifier();
    bool write(const QByteArray &bytes);
    void fail(WebSocketClose code, const QString &reason);
    void endForApplication(int closeCode);
    void linger();
    void finish();

    StreamTransport m_transport;
    Limits m_limits;
    QSocketNotifier m_readNotifier;
    QSocketNotifier *m_writeNotifier = nullptr; ///< made when output first has to wait
    QByteArray m_input;
    QByteArray m_output;
    QByteArray m_message; ///< a fragmented message so far
    WebSocketFrame::Opcode m_messageOpcode = WebSocketFrame::Opcode::Continuation; ///< Continuation: none
    State m_state = State::Open;
    int m_closeCode = 0;
    bool m_corked = false;
    bool m_outputWaitsWritable = false; ///< the last write would have blocked
    bool m_readWaitsWritable = false; ///< TLS: a read needs the socket writable first
    bool m_writeWaitsReadable = false; ///< TLS: a write needs the socket readable first
    QTimer *m_lingerTimer = nullptr;
    MessageRate m_rate;
    PingSweep::Entry m_liveness;
};
