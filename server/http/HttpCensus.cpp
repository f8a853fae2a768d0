#include "http/HttpCensus.h"

HttpCensus::HttpCensus(qsizetype maximum, qsizetype maximumPerAddress)
    : m_maximum(maximum)
    , m_maximumPerAddress(maximumPerAddress)
{
}

std::optional<HttpCensus::Refusal> HttpCensus::admit(const QString &address)
{
    const std::lock_guard lock(m_mutex);
    if (m_count >= m_maximum)
        return Refusal::Full;
    qsizetype &fromAddress = m_perAddress[address];
    if (fromAddress >= m_maximumPerAddress) {
        return Refusal::AddressFull;
    }
    ++fromAddress;
    ++m_count;
    return std::nullopt;
}

void HttpCensus::release(const QString &address)
{
    const std::lock_guard lock(m_mutex);
    const auto found = m_perAddress.find(address);
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
