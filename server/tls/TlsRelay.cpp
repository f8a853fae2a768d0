#include "tls/TlsRelay.h"

#include <QLoggingCategory>
#include <QSocketNotifier>
#include <QTimer>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <cerrno>
#include <sys/socket.h>
#include <unistd.h>

using namespace Qt::StringLiterals;

Q_LOGGING_CATEGORY(lcTls, "gatehouse.tls")

namespace {
/// What the relay holds for the pair before it stops reading the client (and the reverse):
/// past this, TCP's window and the kernel's buffers hold a fast sender back.
constexpr qsizetype maximumBuffered = 64 * 1024;
constexpr int chunk = 16 * 1024; ///< one TLS record's worth
/// After our close_notify, how long what the client still sends is read (and dropped).
constexpr auto lingerTime = std::chrono::seconds(2);
} // namespace

TlsRelay::TlsRelay(Setup setup, QObject *parent)
    : QObject(parent)
    , m_setup(std::move(setup))
    , m_deadline(m_setup.handshakeTimeout)
{
}

TlsRelay::~TlsRelay()
{
    if (m_ssl)
        SSL_free(m_ssl);
    if (m_setup.socket >= 0)
        ::close(int(m_setup.socket));
    if (m_inner >= 0)
        ::close(int(m_inner));
}

QByteArray TlsRelay::plainRequestRefusal()
{
    static const QByteArray body
        = R"({"error":"bad_request","error_description":"this port speaks TLS: use https:// or wss://"})";
    return "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: "
        + QByteArray::number(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
}

bool TlsRelay::handshakeExpired() const
{
    return m_stage == Stage::Handshake && m_deadline.hasExpired();
}

void TlsRelay::abort()
{
    finish();
}

void TlsRelay::start()
{
    m_outerRead = new QSocketNotifier(m_setup.socket, QSocketNotifier::Read, this);
    m_outerWrite = new QSocketNotifier(m_setup.socket, QSocketNotifier::Write, this);
    m_outerWrite->setEnabled(false);
    connect(m_outerRead, &QSocketNotifier::activated, this, &TlsRelay::handleOuterReadable);
    connect(m_outerWrite, &QSocketNotifier::activated, this, &TlsRelay::handleOuterWritable);
    handleOuterReadable();
}

void TlsRelay::handleOuterReadable()
{
    if (m_stage == Stage::Handshake)
        return handshake();
    if (m_stage != Stage::Relaying)
        return;
    pumpFromClient();
    if (!m_toOuter.isEmpty())
        pumpToClient(); // an SSL_write that waited to read
}

void TlsRelay::handleOuterWritable()
{
    if (m_stage == Stage::Handshake)
        return handshake();
    m_writeBlocked = false;
    pumpToClient();
    pumpFromClient(); // an SSL_read that waited to write (a key update) goes on too
}

void TlsRelay::handshake()
{
    if (!m_ssl) {
        // A TLS connection opens with a handshake record (0x16); a plain request with a method.
        char first = 0;
        const auto peeked = ::recv(int(m_setup.socket), &first, 1, MSG_PEEK);
        if (peeked < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return; // nothing yet: the notifier says when
        if (peeked <= 0)
            return finish();
        if (first != 0x16) {
            if (first >= 'A' && first <= 'Z') {
                // Read what the client sent (so the close sends no reset over the answer), then answer.
                char discard[4096];
                while (::recv(int(m_setup.socket), discard, sizeof discard, 0) > 0) { }
                const QByteArray refusal = plainRequestRefusal();
                [[maybe_unused]] const auto sent
                    = ::send(int(m_setup.socket), refusal.constData(), size_t(refusal.size()), MSG_NOSIGNAL);
                ::shutdown(int(m_setup.socket), SHUT_WR);
            }
            qCDebug(lcTls).noquote() << "not a TLS client:" << m_setup.remote;
            return finish();
        }
        m_ssl = SSL_new(m_setup.context->handle());
        if (!m_ssl || SSL_set_fd(m_ssl, int(m_setup.socket)) != 1)
            return finish();
        SSL_set_accept_state(m_ssl);
    }
    ERR_clear_error();
    const int answer = SSL_do_handshake(m_ssl);
    if (answer != 1) {
        const int error = SSL_get_error(m_ssl, answer);
        if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) {
            m_outerWrite->setEnabled(error == SSL_ERROR_WANT_WRITE);
            return;
        }
        const unsigned long code = ERR_peek_last_error();
        char text[256] = {};
        ERR_error_string_n(code, text, sizeof text);
        qCDebug(lcTls).noquote() << "TLS handshake failed from" << m_setup.remote << "-" << text;
        ERR_clear_error();
        return finish();
    }
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair) != 0) {
        qCWarning(lcTls) << "cannot create a socket pair:" << qt_error_string(errno);
        return finish();
    }
    m_inner = pair[0];
    m_stage = Stage::Relaying;
    m_outerWrite->setEnabled(false);
    m_innerRead = new QSocketNotifier(m_inner, QSocketNotifier::Read, this);
    m_innerWrite = new QSocketNotifier(m_inner, QSocketNotifier::Write, this);
    m_innerWrite->setEnabled(false);
    connect(m_innerRead, &QSocketNotifier::activated, this, &TlsRelay::handleInnerReadable);
    connect(m_innerWrite, &QSocketNotifier::activated, this, &TlsRelay::handleInnerWritable);
    m_setup.established(this, pair[1]);
    pumpFromClient(); // the request may have come with the client's Finished
}

void TlsRelay::pumpFromClient()
{
    if (m_clientEnded || !m_ssl)
        return;
    char buffer[chunk];
    while (m_toInner.size() < maximumBuffered) {
        ERR_clear_error();
        const int read = SSL_read(m_ssl, buffer, chunk);
        if (read > 0) {
            m_toInner.append(buffer, read);
            continue;
        }
        const int error = SSL_get_error(m_ssl, read);
        if (error == SSL_ERROR_WANT_READ)
            break;
        if (error == SSL_ERROR_WANT_WRITE) {
            m_outerWrite->setEnabled(true);
            break;
        }
        // close_notify, a FIN, or a broken record: no more from the client.
        ERR_clear_error();
        clientEnded();
        break;
    }
    flushToInner();
    updateNotifiers();
}

bool TlsRelay::flushToInner()
{
    while (!m_toInner.isEmpty() && m_inner >= 0) {
        const auto sent = ::send(int(m_inner), m_toInner.constData(), size_t(m_toInner.size()), MSG_NOSIGNAL);
        if (sent < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                break;
            finish(); // the gate's end is gone
            return false;
        }
        m_toInner.remove(0, sent);
    }
    if (m_toInner.isEmpty() && m_clientEnded && m_inner >= 0)
        ::shutdown(int(m_inner), SHUT_WR); // the gate reads the end of the stream
    return m_toInner.isEmpty();
}

void TlsRelay::handleInnerWritable()
{
    if (flushToInner())
        pumpFromClient(); // it stopped reading while the pair was full: what SSL holds comes now
    updateNotifiers();
}

void TlsRelay::handleInnerReadable()
{
    pumpToClient();
}

void TlsRelay::pumpToClient()
{
    if (m_stage == Stage::Done)
        return;
    char buffer[chunk];
    while (flushToOuter() && !m_innerEnded && m_inner >= 0) {
        const auto received = ::recv(int(m_inner), buffer, sizeof buffer, 0);
        if (received > 0) {
            m_toOuter.append(buffer, received);
            continue;
        }
        if (received < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            break;
        m_innerEnded = true; // the gate closed its end, or shut its writing
    }
    if (m_stage == Stage::Done)
        return;
    if (m_innerEnded && m_toOuter.isEmpty() && !m_shutdownSent) {
        // All of the gate's answer is out: close_notify and a FIN. What the client still sends
        // goes on to the gate (which reads and drops it, a lingering close) until the client
        // ends too or the linger time is up, so that no reset destroys the answer.
        SSL_shutdown(m_ssl);
        ::shutdown(int(m_setup.socket), SHUT_WR);
        m_shutdownSent = true;
        if (m_clientEnded)
            return finish();
        QTimer::singleShot(lingerTime, this, &TlsRelay::finish);
    }
    updateNotifiers();
}

bool TlsRelay::flushToOuter()
{
    while (!m_toOuter.isEmpty()) {
        if (m_writeBlocked)
            return false;
        ERR_clear_error();
        const int written = SSL_write(m_ssl, m_toOuter.constData(), int(std::min<qsizetype>(m_toOuter.size(), chunk)));
        if (written > 0) {
            m_toOuter.remove(0, written);
            continue;
        }
        const int error = SSL_get_error(m_ssl, written);
        if (error == SSL_ERROR_WANT_WRITE || error == SSL_ERROR_WANT_READ) {
            m_writeBlocked = error == SSL_ERROR_WANT_WRITE;
            return false;
        }
        ERR_clear_error();
        finish(); // the client is gone: nothing more can reach it
        return false;
    }
    return true;
}

void TlsRelay::clientEnded()
{
    m_clientEnded = true;
    if (m_shutdownSent) // both sides are done
        QMetaObject::invokeMethod(this, &TlsRelay::finish, Qt::QueuedConnection);
}

void TlsRelay::updateNotifiers()
{
    if (m_stage != Stage::Relaying)
        return;
    m_outerRead->setEnabled(!m_clientEnded && m_toInner.size() < maximumBuffered);
    m_outerWrite->setEnabled(m_writeBlocked);
    if (m_innerRead)
        m_innerRead->setEnabled(!m_innerEnded && m_toOuter.isEmpty());
    if (m_innerWrite)
        m_innerWrite->setEnabled(!m_toInner.isEmpty());
}

void TlsRelay::finish()
{
    if (m_stage == Stage::Done)
        return;
    m_stage = Stage::Done;
    for (auto *notifier : { m_outerRead, m_outerWrite, m_innerRead, m_innerWrite }) {
        if (notifier)
            notifier->setEnabled(false);
    }
    if (m_setup.closed)
        m_setup.closed(this);
    deleteLater();
}
