#include "http/TrustedProxies.h"

using namespace Qt::StringLiterals;

namespace {
/// An IPv4 client of a dual-stack socket is written ::ffff:a.b.c.d: the same client.
QHostAddress plain(const QHostAddress &address)
{
    bool isV4 = false;
    const quint32 v4 = address.toIPv4Address(&isV4);
    return isV4 ? QHostAddress(v4) : address;
}

/// One proxy's word: the address it saw (nothing when unknown, obfuscated or malformed) and
/// the scheme the request reached it with.
struct Hop {
    std::optional<QHostAddress> address;
    std::optional<bool> https;
};

/// Splits on `separator` outside double quotes.
QList<QByteArray> splitOutsideQuotes(const QByteArray &text, char separator)
{
    QList<QByteArray> parts;
    QByteArray current;
    bool quoted = false;
    for (qsizetype i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '"')
            quoted = !quoted;
        if (c == separator && !quoted) {
            parts.append(current.trimmed());
            current.clear();
        } else {
            current += c;
        }
    }
    parts.append(current.trimmed());
    return parts;
}

QByteArray unquoted(QByteArray value)
{
    if (value.size() >= 2 && value.startsWith('"') && value.endsWith('"'))
        value = value.mid(1, value.size() - 2);
    return value;
}

/// An address as a proxy writes it: "192.0.2.60", "192.0.2.60:4711", "[2001:db8::17]",
/// "[2001:db8::17]:4711", or a bare IPv6 address (X-Forwarded-For).
std::optional<QHostAddress> addressOf(QByteArray text)
{
    text = text.trimmed();
    if (text.startsWith('[')) {
        const qsizetype close = text.indexOf(']');
        if (close < 0)
            return std::nullopt;
        text = text.mid(1, close - 1);
    } else if (text.count(':') == 1) {
        text = text.first(text.indexOf(':')); // a port after an IPv4 address
    }
    QHostAddress address;
    // Four parts to an IPv4 address ("1.2.3" would be read as 1.2.0.3).
    if (text.isEmpty() || (!text.contains(':') && text.count('.') != 3)
        || !address.setAddress(QString::fromLatin1(text)))
        return std::nullopt;
    return plain(address);
}

std::optional<bool> schemeOf(const QByteArray &proto)
{
    const QByteArray scheme = unquoted(proto.trimmed()).toLower();
    if (scheme == "https")
        return true;
    if (scheme == "http")
        return false;
    return std::nullopt;
}

/// RFC 7239 §4: elements separated by commas, pairs by semicolons, values tokens or quoted.
QList<Hop> forwardedHops(const QByteArray &header)
{
    QList<Hop> hops;
    for (const QByteArray &element : splitOutsideQuotes(header, ',')) {
        Hop hop;
        for (const QByteArray &pair : splitOutsideQuotes(element, ';')) {
            const qsizetype equals = pair.indexOf('=');
            if (equals <= 0)
                continue;
            const QByteArray name = pair.first(equals).trimmed().toLower();
            const QByteArray value = unquoted(pair.sliced(equals + 1).trimmed());
            if (name == "for")
                hop.address = addressOf(value); // "unknown" and "_hidden" are no address
            else if (name == "proto")
                hop.https = schemeOf(value);
        }
        hops.append(hop);
    }
    return hops;
}

QList<Hop> xForwardedHops(const QByteArray &forwardedFor, const QByteArray &forwardedProto)
{
    QList<Hop> hops;
    for (const QByteArray &entry : forwardedFor.split(','))
        hops.append(Hop { addressOf(entry), std::nullopt });
    // The nearest proxy's scheme is the last one written.
    if (!hops.isEmpty() && !forwardedProto.isEmpty())
        hops.last().https = schemeOf(forwardedProto.split(',').last());
    return hops;
}
} // namespace

Result<TrustedProxies, QString> TrustedProxies::parse(const QStringList &entries)
{
    TrustedProxies proxies;
    for (const QString &entry : entries) {
        const QString text = entry.trimmed();
        const QString cidr = text.contains(u'/') ? text : text + (text.contains(u':') ? u"/128"_s : u"/32"_s);
        const auto range = QHostAddress::parseSubnet(cidr);
        // Four parts to an IPv4 address: "1.2.3" would be read as 1.2.0.3.
        const QString address = text.section(u'/', 0, 0);
        const bool dotted = address.contains(u':') || address.count(u'.') == 3;
        if (text.isEmpty() || !dotted || range.first.isNull() || range.second < 0)
            return fail(u"trusted_proxies: \"%1\" is not an address or a CIDR range (e.g. 10.0.0.0/8)"_s.arg(entry));
        proxies.m_ranges.append(range);
    }
    return proxies;
}

bool TrustedProxies::contains(const QHostAddress &address) const
{
    const QHostAddress candidate = plain(address);
    for (const auto &range : m_ranges) {
        if (candidate.isInSubnet(range))
            return true;
    }
    return false;
}

TrustedProxies::Client TrustedProxies::clientOf(const QHostAddress &peer, const HttpHead &head) const
{
    Client client { plain(peer), std::nullopt };
    if (!contains(peer))
        return client; // a stranger's headers say nothing
    const QByteArray forwarded = head.value("forwarded");
    const QByteArray forwardedFor = head.value("x-forwarded-for");
    const QList<Hop> hops = !forwarded.isEmpty()
        ? forwardedHops(forwarded)
        : (!forwardedFor.isEmpty() ? xForwardedHops(forwardedFor, head.value("x-forwarded-proto"))
                                   : QList<Hop> { Hop { std::nullopt, schemeOf(head.value("x-forwarded-proto")) } });
    // From the right: each trusted proxy vouches for the hop before it.
    for (auto hop = hops.crbegin(); hop != hops.crend() && contains(client.address); ++hop) {
        if (hop->https)
            client.https = hop->https;
        if (!hop->address)
            break; // the address before it is unknown: the proxy is all that is known
        client.address = *hop->address;
    }
    return client;
}
