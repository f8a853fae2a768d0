#pragma once

#include <QByteArray>
#include <QByteArrayView>

#include <utility>

/// Decodes a chunked request body (RFC 9112 §7.1) as it arrives, without touching a socket.
/// Strict: hexadecimal sizes only (no sign, no "0x", at most 15 digits), CRLF line endings
/// only, chunk extensions and trailer fields in their grammar and bounded, and the decoded
/// body bounded by `maximumSize` as it grows. Every byte it is given up to the end of the
/// message is consumed (partial lines are kept inside), so a caller reading from a socket
/// takes exactly `consumed` bytes and leaves a pipelined next request where it was.
class ChunkedBodyDecoder final {
public:
    enum class Status { NeedMore, Complete, Invalid, TooLarge };

    explicit ChunkedBodyDecoder(qint64 maximumSize);

    /// Feeds the next bytes; `consumed` says how many belonged to this body.
    Status feed(QByteArrayView data, qsizetype &consumed);
    Status status() const { return m_status; }
    const QByteArray &body() const { return m_body; }
    QByteArray takeBody() { return std::exchange(m_body, {}); }

private:
    enum class State { Size, Data, DataEnd, Trailer, Done };

    Status line(QByteArrayView text);

    qint64 m_maximumSize;
    State m_state = State::Size;
    Status m_status = Status::NeedMore;
    QByteArray m_line; ///< the current size or trailer line, without its CRLF
    qint64 m_remaining = 0; ///< of the current chunk's data
    qsizetype m_framingBytes = 0; ///< size lines, extensions and trailers together
    QByteArray m_body;
};
