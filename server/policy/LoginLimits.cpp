#include "policy/LoginLimits.h"

#include <QHostAddress>

#include <algorithm>

using namespace Qt::StringLiterals;

namespace {
/// Existing accounts and their devices can outnumber one table of strangers' keys.
constexpr qsizetype accountTableFactor = 10;
} // namespace

LoginLimits::LoginLimits(Settings settings)
    : m_settings(settings)
    , m_accounts(settings.freeFailures, settings.maximumDelay, settings.maximumKeys * accountTableFactor)
    , m_others(settings.freeFailures, settings.maximumDelay, settings.maximumKeys)
{
}

QString LoginLimits::networkOf(const QString &address)
{
    const QHostAddress host(address);
    if (host.isNull())
        return address;
    bool isIpv4 = false;
    const quint32 ipv4 = host.toIPv4Address(&isIpv4); // IPv4-mapped IPv6 too
    if (isIpv4)
        return QHostAddress(ipv4).toString();
    // One subscriber usually gets a whole /64: its 2^64 addresses are one address here.
    Q_IPV6ADDR ipv6 = host.toIPv6Address();
    std::fill(std::begin(ipv6.c) + 8, std::end(ipv6.c), quint8(0));
    return QHostAddress(ipv6).toString() + u"/64"_s;
}

LoginLimits::Path LoginLimits::pathOf(const LoginAttempt &attempt, double nowSeconds) const
{
    if (!attempt.device.isEmpty())
        return Path::KnownDevice;
    const QString network = networkOf(attempt.address);
    const auto known = m_knownAddresses.constFind(attempt.account);
    if (known != m_knownAddresses.cend()) {
        for (const KnownAddress &entry : *known) {
            if (entry.network == network && nowSeconds - entry.lastSuccess < m_settings.knownAddressLifetime)
                return Path::KnownAddress;
        }
    }
    return Path::Stranger;
}

QList<std::pair<LoginBackoff *, QString>> LoginLimits::countsOf(const LoginAttempt &attempt, Path path)
{
    // The kinds of key have their own prefixes. Networks and device ids hold no newline, nor
    // does an existing account's name; a typed unknown name may, but then its keys have more
    // lines than any account's and can only meet other unknown names' keys.
    const QString pair = u"pair\n"_s + attempt.account + u'\n' + networkOf(attempt.address);
    switch (path) {
    case Path::KnownDevice:
        return { { &m_accounts, u"device\n"_s + attempt.account + u'\n' + attempt.device } };
    case Path::KnownAddress:
        return { { &m_others, pair } };
    case Path::Stranger:
        // Unknown names get the same back-off as real accounts (no hint of which exist), but in
        // the table strangers can fill: they can multiply names, not accounts. The address's
        // own count holds back one address trying many accounts (password spraying).
        return { { &m_others, pair },
                 { attempt.accountExists ? &m_accounts : &m_others, u"account\n"_s + attempt.account },
                 { &m_others, u"address\n"_s + networkOf(attempt.address) } };
    }
    return {};
}

std::optional<int> LoginLimits::admit(const LoginAttempt &attempt, double nowSeconds)
{
    const auto counts = countsOf(attempt, pathOf(attempt, nowSeconds));
    std::optional<int> wait;
    for (const auto &[backoff, key] : counts)
        wait = std::max(wait, backoff->retryAfter(key, nowSeconds));
    if (wait)
        return wait;
    for (const auto &[backoff, key] : counts)
        backoff->recordFailure(key, nowSeconds);
    return std::nullopt;
}

void LoginLimits::recordSuccess(const LoginAttempt &attempt, double nowSeconds)
{
    for (const auto &[backoff, key] : countsOf(attempt, pathOf(attempt, nowSeconds)))
        backoff->recordSuccess(key);
    if (attempt.accountExists)
        rememberAddress(attempt.account, networkOf(attempt.address), nowSeconds);
}

void LoginLimits::rememberAddress(const QString &account, const QString &network, double nowSeconds)
{
    const auto expired = [this, nowSeconds](const KnownAddress &entry) {
        return nowSeconds - entry.lastSuccess >= m_settings.knownAddressLifetime;
    };
    if (!m_knownAddresses.contains(account) && m_knownAddresses.size() >= m_settings.maximumKeys) {
        for (auto it = m_knownAddresses.begin(); it != m_knownAddresses.end();) {
            it->removeIf(expired);
            it = it->isEmpty() ? m_knownAddresses.erase(it) : std::next(it);
        }
        if (m_knownAddresses.size() >= m_settings.maximumKeys)
            return;
    }
    QList<KnownAddress> &addresses = m_knownAddresses[account];
    addresses.removeIf([&](const KnownAddress &entry) { return entry.network == network || expired(entry); });
    addresses.prepend({ network, nowSeconds });
    while (addresses.size() > m_settings.knownAddressesPerAccount)
        addresses.removeLast();
}
