#include "http/ProxyHeader.h"

#include <QByteArray>
#include <QList>
#include <QtEndian>

namespace ProxyHeader {
namespace {
constexpr char v2Signature[] = "\r\n\r\n\0\r\nQUIT\n";
constexpr qsizetype v2SignatureSize = 12;
constexpr qsizetype v1MaximumSize = 107; ///< "PROXY TCP6 " + two addresses + two ports + CRLF

Parsed invalid()
{
    return { Status::Invalid, 0, std::nullopt };
}

/// A decimal port, 0-65535, without sign or leading zeros beyond "0".
bool isPort(QByteArrayView text)
{
    if (text.isEmpty() || text.size() > 5 || (text.size() > 1 && text.front() == '0'))
        return false;
    for (const char c : text) {
        if (c < '0' || c > '9')
            return false;
    }
    return text.toInt() <= 65535;
}

std::optional<QHostAddress> addressOf(QByteArrayView text, QAbstractSocket::NetworkLayerProtocol protocol)
{
    QHostAddress address;
    // An IPv4 address has four parts ("1.2.3" would be read as 1.2.0.3).
    if (protocol == QAbstractSocket::IPv4Protocol && text.count('.') != 3)
        return std::nullopt;
    if (!address.setAddress(QString::fromLatin1(text)) || address.protocol() != protocol)
        return std::nullopt;
    return address;
}

Parsed parseV1(QByteArrayView bytes)
{
    const qsizetype end = bytes.indexOf("\r\n");
    if (end < 0)
        return bytes.size() >= v1MaximumSize ? invalid() : Parsed {};
    if (end + 2 > v1MaximumSize)
        return invalid();
    const QList<QByteArray> words = bytes.first(end).toByteArray().split(' ');
    if (words.size() >= 2 && words[1] == "UNKNOWN") // the proxy cannot tell: the peer is the client
        return { Status::Complete, end + 2, std::nullopt };
    if (words.size() != 6 || (words[1] != "TCP4" && words[1] != "TCP6"))
        return invalid();
    const auto protocol = words[1] == "TCP4" ? QAbstractSocket::IPv4Protocol : QAbstractSocket::IPv6Protocol;
    const auto source = addressOf(words[2], protocol);
    if (!source || !addressOf(words[3], protocol) || !isPort(words[4]) || !isPort(words[5]))
        return invalid();
    return { Status::Complete, end + 2, source };
}

Parsed parseV2(QByteArrayView bytes)
{
    if (bytes.size() < 16)
        return {};
    const auto versionCommand = quint8(bytes[12]);
    const auto family = quint8(bytes[13]);
    const qsizetype length = qFromBigEndian<quint16>(bytes.data() + 14);
    if ((versionCommand >> 4) != 2 || (versionCommand & 0x0f) > 1 || 16 + length > maximumSize)
        return invalid();
    if (bytes.size() < 16 + length)
        return {};
    const qsizetype size = 16 + length;
    if ((versionCommand & 0x0f) == 0) // LOCAL: the proxy's own connection (a health check)
        return { Status::Complete, size, std::nullopt };
    const auto *addresses = reinterpret_cast<const uchar *>(bytes.data() + 16);
    switch (family) {
    case 0x11: // TCP over IPv4: source, destination, source port, destination port
        if (length < 12)
            return invalid();
        return { Status::Complete, size, QHostAddress(qFromBigEndian<quint32>(addresses)) };
    case 0x21: // TCP over IPv6
        if (length < 36)
            return invalid();
        return { Status::Complete, size, QHostAddress(addresses) };
    case 0x00: // UNSPEC: the proxy cannot tell
        return { Status::Complete, size, std::nullopt };
    default: // UDP, Unix sockets: not what reaches this port
        return invalid();
    }
}
} // namespace

Parsed parse(QByteArrayView bytes)
{
    if (bytes.isEmpty())
        return {};
    const QByteArrayView signature(v2Signature, v2SignatureSize);
    const QByteArrayView v1Start("PROXY ");
    if (signature.startsWith(bytes.first(std::min(bytes.size(), v2SignatureSize))))
        return bytes.size() < v2SignatureSize ? Parsed {} : parseV2(bytes);
    if (v1Start.startsWith(bytes.first(std::min(bytes.size(), v1Start.size()))))
        return bytes.size() < v1Start.size() ? Parsed {} : parseV1(bytes);
    return invalid();
}
} // namespace ProxyHeader
