#include "tls/TlsRelay.h"

#include <QLoggingCategory>
#include <QSocketNotifier>
#include <QTimer>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <cerrno>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace Qt::StringLiterals;

Q_LOGGING_CATEGORY(lcTls, "gatehouse.tls")

namespace {
/// What the relay holds for the pair before it stops reading the client (and the reverse):
/// past this, TCP's window and the kernel's buffers hold a fast sender back.
constexpr qsizetype maximumBuffered = 64 * 1024;
constexpr int chunk = 16 * 1024; ///< one TLS record's worth
/// Each send into the pair is a buffer of its own in the kernel, about 768 bytes with its
/// bookkeeping, and the pair holds about 208 KiB of them: a few hundred one-byte TLS records
/// would fill it before a head is whole, and the gate, which peeks until it is, would wait for
/// ever. So while the gate has not read what the pair holds, pieces smaller than this wait and
/// go together, at the latest after gatherTime (200 sends in a 10 s head deadline at most).
constexpr qsizetype gatherBelow = 1024;
constexpr auto gatherTime = std::chrono::milliseconds(50);
/// After our close_notify, how long what the client still sends is read (and dropped).
constexpr auto lingerTime = std::chrono::seconds(2);

/// OpenSSL's socket BIO writes with write(), which raises SIGPIPE when the client has gone: one
/// client could end the process. This one sends with MSG_NOSIGNAL, as every other send here.
int socketWrite(BIO *bio, const char *data, int size)
{
    const int fd = int(reinterpret_cast<intptr_t>(BIO_get_data(bio)));
    BIO_clear_retry_flags(bio);
    const auto sent = ::send(fd, data, size_t(size), MSG_NOSIGNAL);
    if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        BIO_set_retry_write(bio);
    return int(sent);
}

int socketRead(BIO *bio, char *data, int size)
{
    const int fd = int(reinterpret_cast<intptr_t>(BIO_get_data(bio)));
    BIO_clear_retry_flags(bio);
    const auto received = ::recv(fd, data, size_t(size), 0);
    if (received < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        BIO_set_retry_read(bio);
    return int(received);
}

long socketControl(BIO *, int command, long, void *)
{
    return command == BIO_CTRL_FLUSH ? 1 : 0; // sends are not buffered
}

int socketCreate(BIO *bio)
{
    BIO_set_init(bio, 1);
    return 1;
}

const BIO_METHOD *socketMethod()
{
    static BIO_METHOD *method = [] {
        BIO_METHOD *made
            = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK | BIO_TYPE_DESCRIPTOR, "gatehouse socket");
        BIO_meth_set_write(made, &socketWrite);
        BIO_meth_set_read(made, &socketRead);
        BIO_meth_set_ctrl(made, &socketControl);
        BIO_meth_set_create(made, &socketCreate);
        return made;
    }();
    return method;
}

/// A BIO on the descriptor (which stays the relay's to close).
BIO *socketBio(qintptr socket)
{
    BIO *bio = BIO_new(socketMethod());
    if (bio)
        BIO_set_data(bio, reinterpret_cast<void *>(intptr_t(socket)));
    return bio;
}
} // namespace

TlsRelay::TlsRelay(Setup setup, QObject *parent)
    : QObject(parent)
    , m_setup(std::move(setup))
    , m_deadline(m_setup.handshakeTimeout)
{
    m_since.start();
    // While output waits for the client, the relay reads nothing more from the gate, and so
    // cannot see the gate give up on it: a client that takes no byte this long is dropped
    // (three answer deadlines; a WebSocket peer is also pinged, and dropped past 4 MiB queued).
    m_stalled.setSingleShot(true);
    m_stalled.setInterval(3 * m_setup.handshakeTimeout);
    m_gather.setSingleShot(true);
    m_gather.setInterval(gatherTime);
    connect(&m_gather, &QTimer::timeout, this, [this] {
        if (flushToInner(true))
            pumpFromClient(); // it may have stopped reading while the pieces waited
        updateNotifiers();
    });
    connect(&m_stalled, &QTimer::timeout, this, [this] {
        // A reset, not a FIN that would wait behind megabytes the client will never take:
        // the kernel frees them at once.
        const linger reset { 1, 0 };
        ::setsockopt(int(m_setup.socket), SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
        finish();
    });
}

TlsRelay::~TlsRelay()
{
    if (m_stage == Stage::Relaying)
        drainNow();
    // The notifiers go before their descriptors (the dispatcher unwatches each as it goes).
    for (auto *notifier : { m_outerRead, m_outerWrite, m_innerRead, m_innerWrite })
        delete notifier;
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

std::optional<TlsRelay::Handover> TlsRelay::handOver()
{
    if (m_stage != Stage::Relaying || m_clientEnded || m_innerEnded || m_shutdownSent || !m_toOuter.isEmpty())
        return std::nullopt;
    // The notifiers go first: the taker watches the same descriptor.
    for (auto **notifier : { &m_outerRead, &m_outerWrite, &m_innerRead, &m_innerWrite })
        delete std::exchange(*notifier, nullptr);
    Handover handover { std::exchange(m_ssl, nullptr), std::exchange(m_setup.socket, -1),
                        std::exchange(m_toInner, {}) };
    ::close(int(std::exchange(m_inner, -1)));
    finish();
    return handover;
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
        BIO *bio = m_ssl ? socketBio(m_setup.socket) : nullptr;
        if (!bio)
            return finish();
        SSL_set_bio(m_ssl, bio, bio); // takes it
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
    m_established = true;
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

bool TlsRelay::innerUnread() const
{
    int queued = 0; // for a Unix socket: what the peer has not read yet, with its bookkeeping
    return m_inner >= 0 && ::ioctl(int(m_inner), SIOCOUTQ, &queued) == 0 && queued > 0;
}

bool TlsRelay::flushToInner(bool now)
{
    m_gathering = !now && !m_clientEnded && !m_toInner.isEmpty() && m_toInner.size() < gatherBelow && innerUnread();
    if (m_gathering) {
        if (!m_gather.isActive())
            m_gather.start();
        return false;
    }
    m_gather.stop();
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
    if (m_toInner.isEmpty()) {
        m_toInner = QByteArray(); // an idle connection keeps no buffer (removing keeps its capacity)
        if (m_clientEnded && m_inner >= 0)
            ::shutdown(int(m_inner), SHUT_WR); // the gate reads the end of the stream
    }
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
    if (m_innerEnded && !m_drainDeadlineSet) {
        // The gate is done with the connection; what it wrote must reach the client within
        // the time an answer has on the plain port, or the connection goes (a client that
        // stops reading would otherwise hold it, outside the census, for ever).
        m_drainDeadlineSet = true;
        QTimer::singleShot(m_setup.handshakeTimeout, this, &TlsRelay::finish);
    }
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
            if (m_toOuter.isEmpty())
                m_toOuter = QByteArray(); // an idle connection keeps no buffer
            m_stalled.stop(); // the client takes bytes: not stalled
            continue;
        }
        const int error = SSL_get_error(m_ssl, written);
        if (error == SSL_ERROR_WANT_WRITE || error == SSL_ERROR_WANT_READ) {
            m_writeBlocked = error == SSL_ERROR_WANT_WRITE;
            if (!m_stalled.isActive())
                m_stalled.start();
            return false;
        }
        ERR_clear_error();
        finish(); // the client is gone: nothing more can reach it
        return false;
    }
    return true;
}

void TlsRelay::drainNow()
{
    if (!m_ssl || m_shutdownSent)
        return;
    // What waits for SSL_write first: a record it holds half sent must be retried with it.
    QByteArray out = m_toOuter;
    char buffer[chunk];
    for (qsizetype received = 0; m_inner >= 0 && (received = ::recv(int(m_inner), buffer, sizeof buffer, 0)) > 0;)
        out.append(buffer, received);
    qsizetype sent = 0;
    while (sent < out.size()) {
        ERR_clear_error();
        const int written
            = SSL_write(m_ssl, out.constData() + sent, int(std::min<qsizetype>(out.size() - sent, chunk)));
        if (written <= 0)
            break;
        sent += written;
    }
    if (sent == out.size())
        SSL_shutdown(m_ssl);
    ERR_clear_error();
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
        m_innerWrite->setEnabled(!m_toInner.isEmpty() && !m_gathering);
}

void TlsRelay::finish()
{
    if (m_stage == Stage::Done)
        return;
    m_stage = Stage::Done;
    m_gather.stop();
    for (auto *notifier : { m_outerRead, m_outerWrite, m_innerRead, m_innerWrite }) {
        if (notifier)
            notifier->setEnabled(false);
    }
    if (m_setup.closed)
        m_setup.closed(this);
    deleteLater();
}
