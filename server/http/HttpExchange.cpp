#include "http/HttpExchange.h"

#include "http/HttpDispatcher.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QSocketNotifier>

#include <cerrno>
#include <sys/socket.h>
#include <unistd.h>

using namespace Qt::StringLiterals;

Q_DECLARE_LOGGING_CATEGORY(lcHttp)

namespace {
constexpr qsizetype readChunk = 64 * 1024;
constexpr auto lingerTime = std::chrono::seconds(5);

bool wouldBlock()
{
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
}
} // namespace

HttpExchange::HttpExchange(Setup setup, QObject *parent)
    : QObject(parent)
    , m_setup(std::move(setup))
{
    m_deadline.setSingleShot(true);
    connect(&m_deadline, &QTimer::timeout, this, &HttpExchange::handleDeadline);
}

void HttpExchange::start()
{
    if (!m_setup.refusal.isEmpty()) {
        QByteArray peeked(m_setup.consume, Qt::Uninitialized);
        [[maybe_unused]] const auto taken = ::recv(int(m_setup.socket), peeked.data(), size_t(peeked.size()), 0);
        return writeAndClose(m_setup.refusal);
    }
    // The gate only peeked at the head: take exactly it, and not a byte of what follows.
    QByteArray head(m_setup.head.size, Qt::Uninitialized);
    const auto taken = ::recv(int(m_setup.socket), head.data(), size_t(head.size()), 0);
    if (taken != m_setup.head.size) {
        closeSocket();
        return;
    }
    if (m_setup.body.kind == HttpFraming::Body::Kind::None)
        return dispatch();
    if (m_setup.body.kind == HttpFraming::Body::Kind::Chunked)
        m_chunks.emplace(m_setup.maximumBodySize);
    if (m_setup.body.expectsContinue) {
        // RFC 9110 §10.1.1: the client waits for this before it sends the body.
        static constexpr char proceed[] = "HTTP/1.1 100 Continue\r\n\r\n";
        [[maybe_unused]] const auto sent = ::send(int(m_setup.socket), proceed, sizeof proceed - 1, MSG_NOSIGNAL);
    }
    m_reader = new QSocketNotifier(m_setup.socket, QSocketNotifier::Read, this);
    connect(m_reader, &QSocketNotifier::activated, this, &HttpExchange::handleReadable);
    // A total time for the body, not a rate: a body is at most a few KiB here.
    m_deadline.start(m_setup.timeout);
}

HttpExchange::~HttpExchange()
{
    // The end of the I/O thread, with the exchange still under way.
    delete m_reader;
    delete m_writer;
    if (m_setup.socket >= 0) {
        ::close(int(m_setup.socket));
        if (m_setup.closed)
            m_setup.closed(this);
    }
}

void HttpExchange::handleReadable()
{
    switch (m_stage) {
    case Stage::Body:
        return m_chunks ? readChunkedBody() : readLengthBody();
    case Stage::Lingering: {
        // Read and drop what the client still sends until it closes, so that our answer is not
        // destroyed by a reset (RFC 9112 §9.6).
        char discard[16 * 1024];
        for (int round = 0; round < 16; ++round) {
            const auto received = ::recv(int(m_setup.socket), discard, sizeof discard, 0);
            if (received == 0 || (received < 0 && !wouldBlock()))
                return finish();
            if (received < 0)
                return;
        }
        return;
    }
    case Stage::Dispatched:
    case Stage::Writing:
    case Stage::Done:
        m_reader->setEnabled(false);
        return;
    }
}

void HttpExchange::readLengthBody()
{
    const qint64 wanted = std::min<qint64>(m_setup.body.length - m_body.size(), readChunk);
    const qsizetype before = m_body.size();
    m_body.resize(before + wanted);
    const auto received = ::recv(int(m_setup.socket), m_body.data() + before, size_t(wanted), 0);
    m_body.resize(before + std::max<qsizetype>(0, received));
    if (received == 0 || (received < 0 && !wouldBlock()))
        return closeSocket(); // the client left without its body: nobody to answer
    if (m_body.size() == m_setup.body.length)
        dispatch();
}

void HttpExchange::readChunkedBody()
{
    QByteArray peeked(readChunk, Qt::Uninitialized);
    const auto received = ::recv(int(m_setup.socket), peeked.data(), size_t(peeked.size()), MSG_PEEK);
    if (received == 0 || (received < 0 && !wouldBlock()))
        return closeSocket();
    if (received < 0)
        return;
    qsizetype consumed = 0;
    const auto status = m_chunks->feed(QByteArrayView(peeked.constData(), received), consumed);
    // Take exactly what belonged to the body; the decoder keeps partial lines itself.
    [[maybe_unused]] const auto taken = ::recv(int(m_setup.socket), peeked.data(), size_t(consumed), 0);
    switch (status) {
    case ChunkedBodyDecoder::Status::NeedMore:
        return;
    case ChunkedBodyDecoder::Status::Invalid:
        return refuse(400, u"bad_request"_s, u"malformed chunked body (RFC 9112 §7.1)"_s);
    case ChunkedBodyDecoder::Status::TooLarge:
        return refuse(413, u"body_too_large"_s, u"the body may not exceed %1 bytes"_s.arg(m_setup.maximumBodySize));
    case ChunkedBodyDecoder::Status::Complete:
        m_body = m_chunks->takeBody();
        return dispatch();
    }
}

void HttpExchange::handleDeadline()
{
    switch (m_stage) {
    case Stage::Body:
        qCInfo(lcHttp).noquote() << "a request body from" << m_setup.remote << "did not arrive in time";
        return refuse(408, u"request_timeout"_s, u"the body did not arrive in time"_s);
    case Stage::Writing:
    case Stage::Lingering:
        return closeSocket(); // a client that does not read its answer loses it
    case Stage::Dispatched:
    case Stage::Done:
        return;
    }
}

void HttpExchange::dispatch()
{
    m_stage = Stage::Dispatched;
    m_deadline.stop();
    if (m_reader)
        m_reader->setEnabled(false);
    HttpRequest request(m_setup.head, std::exchange(m_body, {}),
                        QHostAddress(m_setup.client.isEmpty() ? m_setup.remote : m_setup.client), m_setup.secure);
    // This object waits for its answer: nothing deletes it before, but the end of its thread.
    m_setup.dispatcher->dispatch(std::move(request), this, [this](const HttpResponse &response) {
        respond(response, m_setup.lastOnConnection || !HttpFraming::keepsAlive(m_setup.head));
    });
}

void HttpExchange::refuse(int status, const QString &error, const QString &description)
{
    HttpResponse response;
    response.status = status;
    response.headers = { { "Content-Type", "application/json" }, { "Cache-Control", "no-store" } };
    response.body = QJsonDocument(QJsonObject { { "error"_L1, error }, { "error_description"_L1, description } })
                        .toJson(QJsonDocument::Compact);
    respond(response, true);
}

void HttpExchange::respond(const HttpResponse &response, bool close)
{
    m_closeAfter = close;
    write(response.serialized(close, m_setup.head.method != "HEAD"));
}

void HttpExchange::writeAndClose(const QByteArray &bytes)
{
    m_closeAfter = true;
    write(bytes);
}

void HttpExchange::write(const QByteArray &bytes)
{
    m_stage = Stage::Writing;
    m_output = bytes;
    m_deadline.start(m_setup.timeout);
    writePending();
}

void HttpExchange::handleWritable()
{
    writePending();
}

void HttpExchange::writePending()
{
    while (!m_output.isEmpty()) {
        const auto sent = ::send(int(m_setup.socket), m_output.constData(), size_t(m_output.size()), MSG_NOSIGNAL);
        if (sent < 0 && wouldBlock()) {
            if (!m_writer) {
                m_writer = new QSocketNotifier(m_setup.socket, QSocketNotifier::Write, this);
                connect(m_writer, &QSocketNotifier::activated, this, &HttpExchange::handleWritable);
            }
            m_writer->setEnabled(true);
            return;
        }
        if (sent <= 0)
            return closeSocket();
        m_output.remove(0, sent);
    }
    if (m_writer)
        m_writer->setEnabled(false);
    if (!m_closeAfter)
        return finish();
    m_stage = Stage::Lingering;
    ::shutdown(int(m_setup.socket), SHUT_WR);
    if (!m_reader) {
        m_reader = new QSocketNotifier(m_setup.socket, QSocketNotifier::Read, this);
        connect(m_reader, &QSocketNotifier::activated, this, &HttpExchange::handleReadable);
    }
    m_reader->setEnabled(true);
    m_deadline.start(lingerTime);
}

void HttpExchange::finish()
{
    if (m_stage == Stage::Lingering)
        return closeSocket();
    // The connection stays: the gate reads the next request head, with its own deadlines.
    stopWatching();
    const qintptr socket = std::exchange(m_setup.socket, -1);
    deleteLater();
    m_setup.keptAlive(this, socket);
}

void HttpExchange::stopWatching()
{
    m_stage = Stage::Done;
    m_deadline.stop();
    delete m_reader;
    m_reader = nullptr;
    delete m_writer;
    m_writer = nullptr;
}

void HttpExchange::closeSocket()
{
    stopWatching();
    if (m_setup.socket >= 0) {
        ::close(int(std::exchange(m_setup.socket, -1)));
        if (m_setup.closed)
            m_setup.closed(this);
    }
    deleteLater();
}
