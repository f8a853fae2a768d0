#pragma once

#include "Result.h"

#include <QJsonObject>
#include <QMetaType>

/// The limits on live connections, set in the config file and changeable while running
/// (admin API, console). A change applies to handshakes from then on; open connections keep
/// the message size they were accepted with, and none is closed for a lower maximum.
struct ConnectionLimits {
    qint64 maximumConnections = 20000; ///< max_connections
    qint64 maximumConnectionsPerUser = 100; ///< max_connections_per_user
    qint64 maximumMessageSize = 64 * 1024; ///< max_message_size, bytes
    qint64 handshakeTimeoutSeconds = 10; ///< handshake_timeout: for the request head to arrive

    QJsonObject toJson() const;
    /// Applies the members present in `object` onto `base`; unknown members, wrong types and
    /// out-of-range values are refused with a sentence. The ranges are the config file's.
    static Result<ConnectionLimits, QString> fromJson(const QJsonObject &object, const ConnectionLimits &base);

    friend bool operator==(const ConnectionLimits &, const ConnectionLimits &) = default;
};
Q_DECLARE_METATYPE(ConnectionLimits)
