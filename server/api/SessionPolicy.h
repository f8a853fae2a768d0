#pragma once

#include "Result.h"

#include <QJsonObject>
#include <QList>
#include <QMetaType>
#include <QStringList>

#include <chrono>

/// One thing the policy review found, in words for the person editing the policy.
struct PolicyFinding {
    enum class Severity {
        Problem, ///< breaks a flow; the console asks before applying it
        Advice, ///< works, but is unusual
    };
    Severity severity = Severity::Advice;
    QString member; ///< the JSON name of the lifetime it is about
    QString text;
};

/// Token and session lifetimes, in seconds. A change applies to what is issued from then on.
struct SessionPolicy {
    std::chrono::seconds accessTokenTtl { 7200 }; ///< access_token_ttl
    /// refresh_token_idle_ttl: an unused refresh token dies
    std::chrono::seconds refreshTokenIdleTtl { 14 * 24 * 3600 };
    std::chrono::seconds refreshTokenMaxTtl { 30 * 24 * 3600 }; ///< refresh_token_max_ttl: a session's absolute limit
    std::chrono::seconds sessionIdleTtl { 7 * 24 * 3600 }; ///< session_idle_ttl: no refresh for this long ends it
    /// session_cookie_ttl: the browser's short-lived session cookie, the "local session"
    std::chrono::seconds sessionCookieTtl { 300 };
    std::chrono::seconds idTokenTtl { 7200 }; ///< id_token_ttl
    std::chrono::seconds sliCookieTtl { 3 * 7200 }; ///< sli_cookie_ttl: single login identification

    QJsonObject toJson() const;
    /// Applies the members present in `object` (names as above) onto `base`; unknown members,
    /// wrong types and impossible combinations are refused with a sentence.
    static Result<SessionPolicy, QString> fromJson(const QJsonObject &object, const SessionPolicy &base);
    /// Lifetimes that are allowed but do not fit together (OAuthSD's rules for silent
    /// re-authentication among them), each explained in a sentence.
    QList<PolicyFinding> review() const;
    /// Lifetimes of seconds, so that expiry, refresh and revocation can be watched live.
    static SessionPolicy labSpeed();

    friend bool operator==(const SessionPolicy &, const SessionPolicy &) = default;
};
Q_DECLARE_METATYPE(SessionPolicy)
