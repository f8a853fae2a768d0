#pragma once

// A WebSocket client on a raw socket, for what a library would not do: keep silent when
// pinged (a vanished laptop), flood, or answer pings by hand.
#include <QTcpSocket>
#include <QTest>
#include <QtEndian>

struct RawWebSocket {
    struct Frame {
        int opcode = -1; ///< -1: the stream ended (or nothing came in time)
        QByteArray payload;

        int closeCode() const { return payload.size() >= 2 ? (quint8(payload[0]) << 8 | quint8(payload[1])) : 1005; }
        QByteArray closeReason() const { return payload.mid(2); }
    };

    QTcpSocket socket;
    QByteArray input;
    bool answerPings = false; ///< answer each ping with a pong, as browsers and libraries do
    int pingsSeen = 0;

    /// The status line and headers of the answer to an upgrade with `token` in the query.
    QByteArray upgrade(quint16 port, const QByteArray &token)
    {
        socket.connectToHost(QHostAddress::LocalHost, port);
        if (!socket.waitForConnected(5000))
            return {};
        socket.write("GET /ws?access_token=" + token
                     + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                       "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
        [[maybe_unused]] const bool done = QTest::qWaitFor(
            [&] {
                input += socket.readAll();
                return input.contains("\r\n\r\n") || socket.state() != QAbstractSocket::ConnectedState;
            },
            5000);
        const qsizetype end = input.indexOf("\r\n\r\n");
        const QByteArray head = input.first(end < 0 ? 0 : end + 4);
        input.remove(0, head.size());
        return head;
    }

    /// A masked frame (RFC 6455 §5.3) with a short payload and `first` as its first byte
    /// (FIN, RSV and opcode as given: a fragment, or a frame a library would never send).
    QByteArray frameWithFirstByte(quint8 first, const QByteArray &payload) const
    {
        QByteArray bytes(1, char(first));
        bytes.append(char(0x80 | payload.size()));
        const char key[4] = { 0x0f, 0x1e, 0x2d, 0x3c };
        bytes.append(key, 4);
        for (qsizetype i = 0; i < payload.size(); ++i)
            bytes.append(char(payload[i] ^ key[i & 3]));
        return bytes;
    }
    /// A masked final frame.
    QByteArray frame(quint8 opcode, const QByteArray &payload) const
    {
        return frameWithFirstByte(0x80 | opcode, payload);
    }
    void send(quint8 opcode, const QByteArray &payload) { sendWithFirstByte(0x80 | opcode, payload); }
    void sendWithFirstByte(quint8 first, const QByteArray &payload)
    {
        socket.write(frameWithFirstByte(first, payload));
        socket.flush();
    }

    /// The next frame the server sends within `timeoutMs`, pings answered on the way when
    /// answerPings (and then skipped).
    Frame next(int timeoutMs = 5000)
    {
        Frame frame;
        [[maybe_unused]] const bool done = QTest::qWaitFor(
            [&] {
                input += socket.readAll();
                while (input.size() >= 2) {
                    qsizetype length = quint8(input[1]) & 0x7f, header = 2;
                    if (length == 126) {
                        if (input.size() < 4)
                            return false;
                        length = qFromBigEndian<quint16>(input.constData() + 2);
                        header = 4;
                    }
                    if (input.size() < header + length)
                        return false;
                    frame = { quint8(input[0]) & 0x0f, input.sliced(header, length) };
                    input.remove(0, header + length);
                    if (frame.opcode != 0x9)
                        return true;
                    ++pingsSeen;
                    if (!answerPings)
                        return true;
                    send(0xA, frame.payload);
                }
                return socket.state() != QAbstractSocket::ConnectedState;
            },
            timeoutMs);
        if (!done || (frame.opcode == 0x9 && answerPings))
            return {};
        return frame;
    }
};
