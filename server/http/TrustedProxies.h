#pragma once

#include "Result.h"
#include "ws/HttpHead.h"

#include <QHostAddress>
#include <QList>
#include <QPair>
#include <QString>
#include <QStringList>

#include <optional>

/// The reverse proxies whose word about the client is taken (`trusted_proxies`: addresses and
/// CIDR ranges). Only a request whose peer is one of them has its `Forwarded` (RFC 7239) or
/// else `X-Forwarded-For`/`X-Forwarded-Proto` read; from anyone else those headers are ignored.
/// The chain is read from the right, as each proxy appends the address it saw: the first
/// address that is not a trusted proxy is the client. Immutable once made: any thread.
class TrustedProxies {
public:
    TrustedProxies() = default;
    /// "127.0.0.1", "::1", "10.0.0.0/8", "fd00::/8"; a sentence naming the entry otherwise.
    static Result<TrustedProxies, QString> parse(const QStringList &entries);

    bool isEmpty() const { return m_ranges.isEmpty(); }
    bool contains(const QHostAddress &address) const;

    /// Who a request is from, and whether it reached the proxy over HTTPS.
    struct Client {
        QHostAddress address;
        std::optional<bool> https; ///< what the trusted proxy said, if it said
    };
    /// The client of a request that arrived from `peer`.
    Client clientOf(const QHostAddress &peer, const HttpHead &head) const;

private:
    QList<QPair<QHostAddress, int>> m_ranges;
};
