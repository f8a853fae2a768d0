#include "ConnectionLimits.h"

#include "WholeNumber.h"

#include <QSet>

using namespace Qt::StringLiterals;

QJsonObject ConnectionLimits::toJson() const
{
    return QJsonObject {
        { "max_connections"_L1, maximumConnections },  { "max_connections_per_user"_L1, maximumConnectionsPerUser },
        { "max_message_size"_L1, maximumMessageSize }, { "handshake_timeout"_L1, handshakeTimeoutSeconds },
        { "ping_interval"_L1, pingIntervalSeconds },   { "pong_timeout"_L1, pongTimeoutSeconds },
        { "message_rate"_L1, messageRatePerSecond },   { "message_burst"_L1, messageBurst },
    };
}

Result<ConnectionLimits, QString> ConnectionLimits::fromJson(const QJsonObject &object, const ConnectionLimits &base)
{
    ConnectionLimits limits = base;
    const struct {
        QLatin1StringView name;
        qint64 ConnectionLimits::*value;
        qint64 minimum;
        qint64 maximum;
        QLatin1StringView unit;
    } members[] = {
        { "max_connections"_L1, &ConnectionLimits::maximumConnections, 1, 1'000'000, "connections"_L1 },
        { "max_connections_per_user"_L1, &ConnectionLimits::maximumConnectionsPerUser, 1, 1'000'000, "connections"_L1 },
        { "max_message_size"_L1, &ConnectionLimits::maximumMessageSize, 1024, 16 * 1024 * 1024, "bytes"_L1 },
        { "handshake_timeout"_L1, &ConnectionLimits::handshakeTimeoutSeconds, 1, 120, "seconds"_L1 },
        { "ping_interval"_L1, &ConnectionLimits::pingIntervalSeconds, 1, 3600, "seconds"_L1 },
        { "pong_timeout"_L1, &ConnectionLimits::pongTimeoutSeconds, 1, 600, "seconds"_L1 },
        { "message_rate"_L1, &ConnectionLimits::messageRatePerSecond, 1, 100'000, "messages a second"_L1 },
        { "message_burst"_L1, &ConnectionLimits::messageBurst, 1, 1'000'000, "messages"_L1 },
    };
    QSet<QString> known;
    for (const auto &member : members) {
        known.insert(member.name);
        const auto value = object.value(member.name);
        if (value.isUndefined())
            continue;
        const auto number = wholeNumberIn(value, member.minimum, member.maximum);
        if (!number)
            return fail(u"%1: a whole number of %2 from %3 to %4"_s.arg(member.name, member.unit)
                            .arg(member.minimum)
                            .arg(member.maximum));
        limits.*member.value = *number;
    }
    for (auto it = object.begin(); it != object.end(); ++it) {
        if (!known.contains(it.key()))
            return fail(u"unknown member \"%1\""_s.arg(it.key()));
    }
    if (limits.maximumConnectionsPerUser > limits.maximumConnections)
        return fail(u"max_connections_per_user is larger than max_connections"_s);
    return limits;
}
