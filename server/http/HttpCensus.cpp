#include "http/HttpCensus.h"

#include <QHostAddress>

namespace {
/// What one client is counted as: an IPv4 address, or an IPv6 /64 (RFC 7421: one host
/// commonly holds a whole /64, so counting single IPv6 addresses would limit nothing).
QString clientOf(const QString &address)
{
    if (!address.contains(u':'))
        return address;
    const QHostAddress parsed(address);
    if (parsed.protocol() != QAbstractSocket::IPv6Protocol)
        return address;
    bool isV4 = false;
    parsed.toIPv4Address(&isV4);
    if (isV4)
        return address;
    Q_IPV6ADDR bytes = parsed.toIPv6Address();
    std::fill(std::begin(bytes.c) + 8, std::end(bytes.c), quint8(0));
    return QHostAddress(bytes).toString() + QStringLiteral("/64");
}
} // namespace

HttpCensus::HttpCensus(qsizetype maximum, qsizetype maximumPerAddress)
    : m_maximum(maximum)
    , m_maximumPerAddress(maximumPerAddress)
{
}

std::optional<HttpCensus::Refusal> HttpCensus::admit(const QString &address, bool perAddressLimit)
{
    const std::lock_guard lock(m_mutex);
    if (m_count >= m_maximum)
        return Refusal::Full;
    qsizetype &fromAddress = m_perAddress[clientOf(address)];
    if (perAddressLimit && fromAddress >= m_maximumPerAddress) {
        return Refusal::AddressFull;
    }
    ++fromAddress;
    ++m_count;
    return std::nullopt;
}

void HttpCensus::release(const QString &address)
{
    const std::lock_guard lock(m_mutex);
    const auto found = m_perAddress.find(clientOf(address));
    if (found == m_perAddress.end())
        return;
    --m_count;
    if (--found.value() <= 0)
        m_perAddress.erase(found);
}

qsizetype HttpCensus::count() const
{
    const std::lock_guard lock(m_mutex);
    return m_count;
}
