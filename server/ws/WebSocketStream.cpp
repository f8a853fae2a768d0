#include "ws/WebSocketStream.h"

#include <QLoggingCategory>

#include <cerrno>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace Qt::StringLiterals;
using namespace std::chrono_literals;
using WebSocketFrame::Opcode;

Q_LOGGING_CATEGORY(lcStream, "gatehouse.ws.stream")

namespace {
constexpr qsizetype readChunk = 16 * 1024;
constexpr qsizetype readsPerWakeUp = 4; ///< then the thread's other sockets get a turn
constexpr auto lingerTime = 2s;
constexpr int abnormalClosure = 1006;

qint64 steadyMilliseconds()
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}
} // namespace

WebSocketStream::WebSocketStream(StreamTransport transport, Limits limits, const QByteArray &initialOutput,
                                 const QByteArray &received, QObject *parent)
    : QObject(parent)
    , m_transport(std::move(transport))
    , m_limits(limits)
    , m_readNotifier(m_transport.descriptor(), QSocketNotifier::Read, this)
    , m_rate(limits.messageRate, limits.messageBurst, steadyMilliseconds())
{
    connect(&m_readNotifier, &QSocketNotifier::activated, this, &WebSocketStream::readAvailable);
    // Messages are small and meant to arrive now: no Nagle delay.
    const int one = 1;
    ::setsockopt(m_transport.descriptor(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    m_output = initialOutput;
    m_corked = true;
    // Bytes read before (with the upgrade request), or held decrypted by TLS, announce
    // themselves by no readiness of the descriptor: they are handled once the caller is done.
    m_input = received;
    if (!m_input.isEmpty() || m_transport.hasBufferedInput())
        QMetaObject::invokeMethod(this, &WebSocketStream::readReceived, Qt::QueuedConnection);
}

void WebSocketStream::uncork()
{
    if (!std::exchange(m_corked, false) || m_state == State::Done)
        return;
    flush();
}

WebSocketStream::~WebSocketStream()
{
    m_readNotifier.setEnabled(false);
    waitUntilWritable(false);
    m_transport.close();
}

qint64 WebSocketStream::sendText(QByteArrayView utf8)
{
    return send(Opcode::Text, utf8);
}

qint64 WebSocketStream::sendBinary(QByteArrayView bytes)
{
    return send(Opcode::Binary, bytes);
}

void WebSocketStream::ping()
{
    send(Opcode::Ping, {});
}

qint64 WebSocketStream::send(Opcode opcode, QByteArrayView payload)
{
    if (m_state != State::Open)
        return 0;
    const QByteArray frame = WebSocketFrame::encode(opcode, payload);
    return write(frame) ? frame.size() : 0;
}

void WebSocketStream::notePeerTookOutput()
{
    if (m_state == State::Open)
        m_liveness.heard();
}

void WebSocketStream::setPingSweep(PingSweep &sweep)
{
    if (m_state == State::Open)
        sweep.watch(m_liveness, this);
}

bool WebSocketStream::write(const QByteArray &bytes)
{
    if (!m_output.isEmpty() || m_corked) { // keep the order: behind what waits already
        if (m_output.size() + bytes.size() > m_limits.maximumQueued) {
            qCInfo(lcStream) << "dropping a client that does not read";
            endForApplication(abnormalClosure);
            m_transport.reset(); // megabytes it will not take are not kept behind a FIN
            finish();
            return false;
        }
        m_output += bytes;
        return true;
    }
    const auto io = m_transport.write(bytes.constData(), bytes.size());
    if (io.status == StreamTransport::Status::Transferred && io.size == bytes.size())
        return true;
    if (io.status == StreamTransport::Status::Ended) {
        endForApplication(abnormalClosure);
        finish();
        return false;
    }
    // TLS keeps a record it could not send whole and wants the same bytes again: all of them wait.
    m_output = io.status == StreamTransport::Status::Transferred ? bytes.sliced(io.size) : bytes;
    m_outputWaitsWritable = io.status != StreamTransport::Status::WaitReadable;
    m_writeWaitsReadable = io.status == StreamTransport::Status::WaitReadable;
    updateWriteNotifier();
    return true;
}

void WebSocketStream::flush()
{
    while (!m_output.isEmpty()) {
        const auto io = m_transport.write(m_output.constData(), m_output.size());
        if (io.status == StreamTransport::Status::Transferred) {
            m_output.remove(0, io.size);
            // The peer made room for what waited: it is reading, so it is there. A ping queued
            // behind a long output reaches it late; it is not dropped for that.
            if (io.size > 0 && m_state == State::Open)
                m_liveness.heard();
            continue;
        }
        if (io.status == StreamTransport::Status::Ended) {
            endForApplication(abnormalClosure);
            return finish();
        }
        m_outputWaitsWritable = io.status == StreamTransport::Status::WaitWritable;
        m_writeWaitsReadable = io.status == StreamTransport::Status::WaitReadable;
        return updateWriteNotifier();
    }
    m_output = QByteArray(); // no capacity kept while idle
    m_outputWaitsWritable = false;
    m_writeWaitsReadable = false;
    updateWriteNotifier();
    if (m_state == State::Lingering)
        m_transport.shutdownWrite(); // the close frame is out: now close_notify and the FIN
}

void WebSocketStream::handleWritable()
{
    if (std::exchange(m_readWaitsWritable, false))
        readAvailable();
    if (m_state != State::Done)
        flush();
}

void WebSocketStream::updateWriteNotifier()
{
    waitUntilWritable(m_outputWaitsWritable || m_readWaitsWritable);
}

void WebSocketStream::waitUntilWritable(bool waiting)
{
    if (!m_writeNotifier) {
        if (!waiting || !m_transport.isOpen())
            return;
        m_writeNotifier = new QSocketNotifier(m_transport.descriptor(), QSocketNotifier::Write, this);
        connect(m_writeNotifier, &QSocketNotifier::activated, this, &WebSocketStream::handleWritable);
        return;
    }
    if (m_writeNotifier->isEnabled() != waiting)
        m_writeNotifier->setEnabled(waiting);
}

void WebSocketStream::readReceived()
{
    if (m_state == State::Done)
        return;
    if (m_state == State::Open && !m_input.isEmpty() && !handleInput())
        return;
    readAvailable();
}

void WebSocketStream::readAvailable()
{
    if (std::exchange(m_writeWaitsReadable, false)) {
        flush(); // a TLS write that waited for this
        if (m_state == State::Done)
            return;
    }
    char buffer[readChunk];
    for (qsizetype round = 0; round < readsPerWakeUp; ++round) {
        const auto io = m_transport.read(buffer, sizeof buffer);
        if (io.status == StreamTransport::Status::Ended) {
            // The end of the stream: after our close frame, what we were waiting for.
            endForApplication(abnormalClosure);
            return finish();
        }
        if (io.status != StreamTransport::Status::Transferred) {
            m_readWaitsWritable = io.status == StreamTransport::Status::WaitWritable;
            updateWriteNotifier();
            break;
        }
        if (m_state != State::Open)
            continue; // lingering: what the client still sends is of no interest
        m_input.append(buffer, io.size);
        if (!handleInput())
            return;
        if (io.size < qsizetype(sizeof buffer) && !m_transport.hasBufferedInput())
            break;
    }
    // Decrypted bytes left in OpenSSL's hands make the descriptor no more readable: come back.
    if (m_state != State::Done && m_transport.hasBufferedInput())
        QMetaObject::invokeMethod(this, &WebSocketStream::readAvailable, Qt::QueuedConnection);
}

bool WebSocketStream::handleInput()
{
    qsizetype offset = 0;
    while (m_state == State::Open) {
        auto parsed
            = WebSocketFrame::parseClientFrame(QByteArrayView(m_input).sliced(offset), m_limits.maximumMessageSize);
        if (parsed.status == WebSocketFrame::ParseResult::Status::NeedMore)
            break;
        if (parsed.status == WebSocketFrame::ParseResult::Status::Error) {
            fail(parsed.error, parsed.reason);
            break;
        }
        offset += parsed.consumed;
        handleFrame(parsed.frame);
    }
    if (m_state != State::Open)
        return false;
    // A whole frame answers a ping, not any byte: a client that dribbles a frame it never
    // finishes, a byte every few seconds, is closed like a silent one.
    if (offset > 0)
        m_liveness.heard();
    m_input.remove(0, offset);
    if (m_input.isEmpty())
        m_input = QByteArray(); // no capacity kept while idle
    return true;
}

void WebSocketStream::handleFrame(WebSocketFrame::Frame &frame)
{
    switch (frame.opcode) {
    case Opcode::Ping:
        if (withinRate()) // a pong costs the server a write: pings count as messages
            write(WebSocketFrame::encode(Opcode::Pong, frame.payload));
        return;
    case Opcode::Pong:
        return;
    case Opcode::Close: {
        int code = 1005; // no status received
        if (frame.payload.size() == 1)
            return fail(WebSocketClose { 1002 }, u"a close frame of one byte"_s);
        if (frame.payload.size() >= 2) {
            code = (quint8(frame.payload[0]) << 8) | quint8(frame.payload[1]);
            if (!WebSocketFrame::isValidReceivedCloseCode(code))
                return fail(WebSocketClose { 1002 }, u"invalid close code"_s);
            if (!WebSocketFrame::isValidUtf8(QByteArrayView(frame.payload).sliced(2)))
                return fail(WebSocketClose { 1007 }, u"close reason is not UTF-8"_s);
        }
        // Echo the code (RFC 6455 §5.5.1), then the application learns the connection is over.
        write(WebSocketFrame::encode(Opcode::Close,
                                     code == 1005 ? QByteArray()
                                                  : WebSocketFrame::closePayload(WebSocketClose(quint16(code)), {})));
        endForApplication(code);
        return linger();
    }
    case Opcode::Continuation:
        if (m_messageOpcode == Opcode::Continuation)
            return fail(WebSocketClose { 1002 }, u"continuation without a message"_s);
        if (m_message.size() + frame.payload.size() > m_limits.maximumMessageSize)
            return fail(WebSocketClose { 1009 }, u"message too big"_s);
        m_message += frame.payload;
        if (!frame.final)
            return;
        frame.opcode = std::exchange(m_messageOpcode, Opcode::Continuation);
        frame.payload = std::exchange(m_message, QByteArray());
        break;
    case Opcode::Text:
    case Opcode::Binary:
        if (m_messageOpcode != Opcode::Continuation)
            return fail(WebSocketClose { 1002 }, u"a new message inside a fragmented one"_s);
        if (frame.opcode == Opcode::Binary && !m_limits.binaryMessages)
            return fail(CloseCode::policyViolation, u"binary messages are not accepted"_s);
        if (!frame.final) {
            m_messageOpcode = frame.opcode;
            m_message = std::move(frame.payload);
            return;
        }
        break;
    }
    deliver(frame);
}

void WebSocketStream::deliver(const WebSocketFrame::Frame &message)
{
    if (message.opcode == Opcode::Text && !WebSocketFrame::isValidUtf8(message.payload))
        return fail(WebSocketClose { 1007 }, u"text is not UTF-8"_s);
    if (!withinRate())
        return;
    if (message.opcode == Opcode::Binary)
        Q_EMIT binaryReceived(message.payload);
    else
        Q_EMIT textReceived(message.payload);
}

bool WebSocketStream::withinRate()
{
    if (!m_rate.isLimited() || m_rate.take(steadyMilliseconds()))
        return true;
    fail(CloseCode::policyViolation, u"more than %1 messages a second"_s.arg(m_rate.perSecond()));
    return false;
}

void WebSocketStream::fail(WebSocketClose code, const QString &reason)
{
    qCDebug(lcStream).noquote() << "protocol error:" << reason;
    close(code, reason);
}

void WebSocketStream::close(WebSocketClose code, const QString &reason)
{
    if (m_state != State::Open)
        return;
    write(WebSocketFrame::encode(Opcode::Close, WebSocketFrame::closePayload(code, reason)));
    endForApplication(int(code));
    linger();
    uncork();
}

void WebSocketStream::endForApplication(int closeCode)
{
    if (m_closeCode != 0)
        return;
    m_closeCode = closeCode;
    m_liveness.leave();
    m_message = QByteArray();
    m_input = QByteArray();
    Q_EMIT disconnected();
}

void WebSocketStream::linger()
{
    if (m_state != State::Open)
        return;
    m_state = State::Lingering;
    if (m_output.isEmpty())
        m_transport.shutdownWrite();
    // Reading goes on (and is discarded) until the client closes too, or time is up: closing
    // with unread bytes would send a reset that can overtake the close frame.
    m_lingerTimer = new QTimer(this);
    m_lingerTimer->setSingleShot(true);
    connect(m_lingerTimer, &QTimer::timeout, this, &WebSocketStream::finish);
    m_lingerTimer->start(lingerTime);
}

void WebSocketStream::finish()
{
    if (m_state == State::Done)
        return;
    m_state = State::Done;
    m_readNotifier.setEnabled(false);
    waitUntilWritable(false);
    m_transport.close();
    deleteLater();
}
