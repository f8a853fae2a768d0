#pragma once

#include "ws/WebSocketStream.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QList>
#include <QPointer>

#include <optional>

/// A real WebSocketStream on one end of a non-blocking socketpair, with the fuzz target as its
/// client on the other: what the client sends is read by the stream's own notifier in the event
/// loop, exactly as on a TCP connection, and what the server writes can be read back. Makes the
/// QCoreApplication the notifiers need on first use.
class StreamHarness final {
    Q_DISABLE_COPY_MOVE(StreamHarness)

public:
    explicit StreamHarness(WebSocketStream::Limits limits);
    ~StreamHarness();

    /// Null once the stream has deleted itself (after the end of the stream).
    WebSocketStream *stream() const { return m_stream; }
    /// Writes `bytes` as the client, then runs the event loop until the stream has read all of
    /// them or stopped reading (closed).
    void sendFromClient(QByteArrayView bytes);
    /// Everything the server wrote since the last call.
    QByteArray receiveAtClient();

private:
    void runUntilRead();

    int m_client = -1;
    int m_server = -1;
    QPointer<WebSocketStream> m_stream;
};

/// One frame the server sent (RFC 6455 §5.2).
struct ServerFrame {
    bool final = true;
    WebSocketFrame::Opcode opcode = WebSocketFrame::Opcode::Text;
    QByteArray payload;
};

/// The server's output cut into frames; nullopt when it is not a whole number of unmasked frames.
std::optional<QList<ServerFrame>> parseServerFrames(QByteArrayView bytes);
