#include "ws/StreamTransport.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <sys/socket.h>
#include <unistd.h>

#include <utility>

namespace {
bool wouldBlock()
{
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
}

StreamTransport::Io tlsOutcome(SSL *ssl, int answer)
{
    if (answer > 0)
        return { StreamTransport::Status::Transferred, answer };
    switch (SSL_get_error(ssl, answer)) {
    case SSL_ERROR_WANT_READ:
        return { StreamTransport::Status::WaitReadable };
    case SSL_ERROR_WANT_WRITE:
        return { StreamTransport::Status::WaitWritable };
    default: // close_notify, a FIN (SSL_OP_IGNORE_UNEXPECTED_EOF), a bad record, a reset
        ERR_clear_error();
        return { StreamTransport::Status::Ended };
    }
}
} // namespace

StreamTransport::StreamTransport(int descriptor, SSL *ssl)
    : m_descriptor(descriptor)
    , m_ssl(ssl)
{
}

StreamTransport::StreamTransport(StreamTransport &&other) noexcept
    : m_descriptor(std::exchange(other.m_descriptor, -1))
    , m_ssl(std::exchange(other.m_ssl, nullptr))
{
}

StreamTransport::~StreamTransport()
{
    close();
}

StreamTransport::Io StreamTransport::read(char *into, qsizetype capacity)
{
    if (m_ssl) {
        ERR_clear_error();
        return tlsOutcome(m_ssl, SSL_read(m_ssl, into, int(std::min<qsizetype>(capacity, INT_MAX))));
    }
    const auto received = ::recv(m_descriptor, into, size_t(capacity), 0);
    if (received > 0)
        return { Status::Transferred, received };
    if (received < 0 && wouldBlock())
        return { Status::WaitReadable };
    return { Status::Ended };
}

StreamTransport::Io StreamTransport::write(const char *from, qsizetype size)
{
    if (m_ssl) {
        ERR_clear_error();
        return tlsOutcome(m_ssl, SSL_write(m_ssl, from, int(std::min<qsizetype>(size, INT_MAX))));
    }
    const auto sent = ::send(m_descriptor, from, size_t(size), MSG_NOSIGNAL);
    if (sent >= 0)
        return { Status::Transferred, sent };
    if (wouldBlock())
        return { Status::WaitWritable };
    return { Status::Ended };
}

bool StreamTransport::hasBufferedInput() const
{
    return m_ssl && SSL_pending(m_ssl) > 0;
}

void StreamTransport::shutdownWrite()
{
    if (m_descriptor < 0)
        return;
    if (m_ssl) {
        ERR_clear_error();
        SSL_shutdown(m_ssl); // our close_notify; the client's is not waited for
        ERR_clear_error();
    }
    ::shutdown(m_descriptor, SHUT_WR);
}

void StreamTransport::close()
{
    if (m_ssl)
        SSL_free(std::exchange(m_ssl, nullptr));
    if (m_descriptor >= 0)
        ::close(std::exchange(m_descriptor, -1));
}

void StreamTransport::reset()
{
    if (m_descriptor >= 0) {
        const linger now { 1, 0 };
        ::setsockopt(m_descriptor, SOL_SOCKET, SO_LINGER, &now, sizeof now);
    }
    close();
}
