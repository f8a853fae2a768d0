#pragma once

#include "core/Result.h"

#include <QJsonObject>
#include <QStringList>

#include <chrono>

/// Token and session lifetimes, in seconds. A change applies to what is issued from then on.
struct SessionPolicy {
    std::chrono::seconds accessTokenTtl { 900 }; ///< access_token_ttl
    std::chrono::seconds refreshTokenIdleTtl { 14 * 24
                                               * 3600 }; ///< refresh_token_idle_ttl: an unused refresh token dies
    std::chrono::seconds refreshTokenMaxTtl { 30 * 24 * 3600 }; ///< refresh_token_max_ttl: a session's absolute limit
    std::chrono::seconds sessionIdleTtl { 7 * 24 * 3600 }; ///< session_idle_ttl: no refresh for this long ends it

    QJsonObject toJson() const;
    /// Applies the members present in `object` (names as above) onto `base`; unknown members,
    /// wrong types and impossible combinations are refused with a sentence.
    static Result<SessionPolicy, QString> fromJson(const QJsonObject &object, const SessionPolicy &base);
};
