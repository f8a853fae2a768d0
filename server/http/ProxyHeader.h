#pragma once

#include <QByteArrayView>
#include <QHostAddress>

#include <optional>

/// The PROXY protocol header (HAProxy's proxy-protocol.txt, versions 1 and 2) that a trusted
/// TCP proxy (HAProxy `send-proxy`, nginx `stream` with `proxy_protocol on`) sends before
/// anything else on a connection: who the client is. A pure parser, for any thread.
namespace ProxyHeader {
enum class Status { NeedMore, Invalid, Complete };

struct Parsed {
    Status status = Status::NeedMore;
    qsizetype size = 0; ///< the header's bytes, when Complete
    /// The client, when the proxy names one (not for v1 UNKNOWN or a v2 LOCAL command, such as
    /// a health check: the peer itself is then the client).
    std::optional<QHostAddress> source;
};

/// Reads the header at the start of `bytes` (what has arrived so far).
Parsed parse(QByteArrayView bytes);

/// The longest a header this server reads can be: v1's 107 bytes, or v2's 16 plus its
/// addresses and extensions, at most 536 here (more is Invalid).
constexpr qsizetype maximumSize = 536;
} // namespace ProxyHeader
