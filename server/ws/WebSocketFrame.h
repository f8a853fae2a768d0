#pragma once

#include "ws/CloseCode.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QString>

/// The server's side of RFC 6455 framing, without sockets: parsing what clients send and
/// encoding what the server sends. Pure functions, so that every hostile frame can be tested.
namespace WebSocketFrame {
enum class Opcode : quint8 {
    Continuation = 0x0,
    Text = 0x1,
    Binary = 0x2,
    Close = 0x8,
    Ping = 0x9,
    Pong = 0xA,
};

struct Frame {
    bool final = true;
    Opcode opcode = Opcode::Text;
    QByteArray payload; ///< unmasked
};

struct ParseResult {
    enum class Status { NeedMore, Frame, Error } status = Status::NeedMore;
    Frame frame;
    qsizetype consumed = 0; ///< bytes of the input the frame took
    WebSocketClose error = WebSocketClose { 1002 }; ///< with Error: the close code to answer with
    QString reason;
};

/// One client frame from the front of `input` (RFC 6455 §5.2): it must be masked (§5.1), use
/// no reserved bits (no extension is negotiated), carry a known opcode, and a control frame
/// must be final and at most 125 bytes (§5.5). A payload over `maximumPayload` is refused with
/// 1009 before it is buffered.
ParseResult parseClientFrame(QByteArrayView input, qint64 maximumPayload);

/// A final, unmasked server frame.
QByteArray encode(Opcode opcode, QByteArrayView payload);
/// A close frame's payload: the code, then the reason cut to fit 123 bytes on a UTF-8 boundary.
QByteArray closePayload(WebSocketClose code, const QString &reason);

/// RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF.
bool isValidUtf8(QByteArrayView bytes);
/// Codes a peer may send in a close frame (RFC 6455 §7.4.1, §7.4.2).
bool isValidReceivedCloseCode(int code);
/// Sec-WebSocket-Accept for a Sec-WebSocket-Key (RFC 6455 §4.2.2); empty when the key is not
/// the base64 of 16 bytes.
QByteArray acceptKey(QByteArrayView key);
} // namespace WebSocketFrame
