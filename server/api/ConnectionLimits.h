#pragma once

#include "Result.h"

#include <QJsonObject>
#include <QMetaType>

/// The limits on live connections, set in the config file and changeable while running
/// (admin API, console). A change applies to handshakes from then on; open connections keep
/// the message size and message rate they were accepted with, and none is closed for a lower
/// maximum. The ping interval and pong timeout apply to every connection at its next sweep.
struct ConnectionLimits {
    qint64 maximumConnections = 20000; ///< max_connections
    qint64 maximumConnectionsPerUser = 100; ///< max_connections_per_user
    qint64 maximumMessageSize = 64 * 1024; ///< max_message_size, bytes
    qint64 handshakeTimeoutSeconds = 10; ///< handshake_timeout: for the request head to arrive
    qint64 pingIntervalSeconds = 25; ///< ping_interval: silence before the server pings
    qint64 pongTimeoutSeconds = 20; ///< pong_timeout: after the ping, then the close (4008)
    qint64 messageRatePerSecond = 100; ///< message_rate: a connection's messages and pings
    qint64 messageBurst = 200; ///< message_burst: taken at once; past it, the close (1008)

    QJsonObject toJson() const;
    /// Applies the members present in `object` onto `base`; unknown members, wrong types and
    /// out-of-range values are refused with a sentence. The ranges are the config file's.
    static Result<ConnectionLimits, QString> fromJson(const QJsonObject &object, const ConnectionLimits &base);

    friend bool operator==(const ConnectionLimits &, const ConnectionLimits &) = default;
};
Q_DECLARE_METATYPE(ConnectionLimits)
