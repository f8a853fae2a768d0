#include "StreamHarness.h"

#include <QCoreApplication>
#include <QtEndian>

#include <cerrno>
#include <cstdlib>

#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

namespace {
/// Far more rounds than any input needs; a stream that still has unread bytes after them is a
/// stream that stopped reading without closing, which is a bug worth a crash.
constexpr int maximumRounds = 100000;

void ensureApplication()
{
    static int argc = 1;
    static char name[] = "gatehouse-fuzz";
    static char *argv[] = { name, nullptr };
    static QCoreApplication application(argc, argv);
}

qsizetype unread(int descriptor)
{
    int bytes = 0;
    return ::ioctl(descriptor, FIONREAD, &bytes) == 0 ? bytes : 0;
}
} // namespace

StreamHarness::StreamHarness(WebSocketStream::Limits limits)
{
    ensureApplication();
    int descriptors[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, descriptors) != 0)
        std::abort();
    m_server = descriptors[0];
    m_client = descriptors[1];
    m_stream = new WebSocketStream(StreamTransport(m_server), limits, QByteArray());
}

StreamHarness::~StreamHarness()
{
    // A stream that finished has asked to be deleted; do it now rather than at some later input.
    QCoreApplication::sendPostedEvents(nullptr, QEvent::DeferredDelete);
    delete m_stream.data(); // closes the server's end
    ::close(m_client);
}

void StreamHarness::sendFromClient(QByteArrayView bytes)
{
    while (!bytes.isEmpty()) {
        const auto written = ::send(m_client, bytes.data(), size_t(bytes.size()), MSG_NOSIGNAL);
        if (written < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            return; // the server's end is closed: what is left would never be read
        if (written > 0)
            bytes = bytes.sliced(written);
        runUntilRead();
        if (!m_stream || !m_stream->isOpen())
            return;
    }
}

void StreamHarness::runUntilRead()
{
    for (int round = 0; m_stream && m_stream->isOpen() && unread(m_server) > 0; ++round) {
        if (round == maximumRounds)
            std::abort();
        QCoreApplication::processEvents();
    }
}

QByteArray StreamHarness::receiveAtClient()
{
    QByteArray received;
    char buffer[16 * 1024];
    while (true) {
        const auto size = ::recv(m_client, buffer, sizeof buffer, 0);
        if (size <= 0)
            return received;
        received.append(buffer, size);
    }
}

std::optional<QList<ServerFrame>> parseServerFrames(QByteArrayView bytes)
{
    QList<ServerFrame> frames;
    const auto *data = reinterpret_cast<const quint8 *>(bytes.data());
    qsizetype at = 0;
    while (at < bytes.size()) {
        if (bytes.size() - at < 2)
            return std::nullopt;
        ServerFrame frame;
        frame.final = data[at] & 0x80;
        frame.opcode = WebSocketFrame::Opcode(data[at] & 0x0f);
        quint64 length = data[at + 1] & 0x7f;
        qsizetype header = 2;
        if (length == 126) {
            if (bytes.size() - at < 4)
                return std::nullopt;
            length = qFromBigEndian<quint16>(data + at + 2);
            header = 4;
        } else if (length == 127) {
            if (bytes.size() - at < 10)
                return std::nullopt;
            length = qFromBigEndian<quint64>(data + at + 2);
            header = 10;
        }
        // RFC 6455 §5.1, §5.2: a server never masks, and no extension gives meaning to RSV1-3.
        if ((data[at] & 0x70) != 0 || (data[at + 1] & 0x80) != 0 || length > quint64(bytes.size() - at - header))
            return std::nullopt;
        frame.payload = bytes.sliced(at + header, qsizetype(length)).toByteArray();
        frames.append(frame);
        at += header + qsizetype(length);
    }
    return frames;
}
