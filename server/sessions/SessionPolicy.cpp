#include "sessions/SessionPolicy.h"

#include <QSet>

using namespace Qt::StringLiterals;

namespace {
constexpr qint64 minimumSeconds = 5;
constexpr qint64 maximumSeconds = 366LL * 24 * 3600;
} // namespace

QJsonObject SessionPolicy::toJson() const
{
    return QJsonObject { { "access_token_ttl"_L1, qint64(accessTokenTtl.count()) },
                         { "refresh_token_idle_ttl"_L1, qint64(refreshTokenIdleTtl.count()) },
                         { "refresh_token_max_ttl"_L1, qint64(refreshTokenMaxTtl.count()) },
                         { "session_idle_ttl"_L1, qint64(sessionIdleTtl.count()) } };
}

Result<SessionPolicy, QString> SessionPolicy::fromJson(const QJsonObject &object, const SessionPolicy &base)
{
    SessionPolicy policy = base;
    const std::pair<QLatin1StringView, std::chrono::seconds *> members[] = {
        { "access_token_ttl"_L1, &policy.accessTokenTtl },
        { "refresh_token_idle_ttl"_L1, &policy.refreshTokenIdleTtl },
        { "refresh_token_max_ttl"_L1, &policy.refreshTokenMaxTtl },
        { "session_idle_ttl"_L1, &policy.sessionIdleTtl },
    };
    QSet<QString> known;
    for (const auto &[name, target] : members) {
        known.insert(name);
        if (!object.contains(name))
            continue;
        const auto value = object.value(name);
        const double number = value.toDouble(-1);
        if (!value.isDouble() || number != static_cast<double>(static_cast<qint64>(number)) || number < minimumSeconds
            || number > maximumSeconds)
            return fail(
                u"%1: a whole number of seconds from %2 to %3"_s.arg(name).arg(minimumSeconds).arg(maximumSeconds));
        *target = std::chrono::seconds(static_cast<qint64>(number));
    }
    for (auto it = object.begin(); it != object.end(); ++it) {
        if (!known.contains(it.key()))
            return fail(u"unknown member \"%1\""_s.arg(it.key()));
    }
    if (policy.refreshTokenIdleTtl > policy.refreshTokenMaxTtl)
        return fail(u"refresh_token_idle_ttl is longer than refresh_token_max_ttl"_s);
    if (policy.accessTokenTtl > policy.refreshTokenMaxTtl)
        return fail(u"access_token_ttl is longer than refresh_token_max_ttl"_s);
    return policy;
}
