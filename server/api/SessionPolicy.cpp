#include "SessionPolicy.h"

#include "WholeNumber.h"

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
                         { "session_idle_ttl"_L1, qint64(sessionIdleTtl.count()) },
                         { "session_cookie_ttl"_L1, qint64(sessionCookieTtl.count()) },
                         { "id_token_ttl"_L1, qint64(idTokenTtl.count()) },
                         { "sli_cookie_ttl"_L1, qint64(sliCookieTtl.count()) } };
}

Result<SessionPolicy, QString> SessionPolicy::fromJson(const QJsonObject &object, const SessionPolicy &base)
{
    SessionPolicy policy = base;
    const std::pair<QLatin1StringView, std::chrono::seconds *> members[] = {
        { "access_token_ttl"_L1, &policy.accessTokenTtl },
        { "refresh_token_idle_ttl"_L1, &policy.refreshTokenIdleTtl },
        { "refresh_token_max_ttl"_L1, &policy.refreshTokenMaxTtl },
        { "session_idle_ttl"_L1, &policy.sessionIdleTtl },
        { "session_cookie_ttl"_L1, &policy.sessionCookieTtl },
        { "id_token_ttl"_L1, &policy.idTokenTtl },
        { "sli_cookie_ttl"_L1, &policy.sliCookieTtl },
    };
    QSet<QString> known;
    for (const auto &[name, target] : members) {
        known.insert(name);
        if (!object.contains(name))
            continue;
        const auto value = object.value(name);
        const auto number = wholeNumberIn(value, minimumSeconds, maximumSeconds);
        if (!number)
            return fail(
                u"%1: a whole number of seconds from %2 to %3"_s.arg(name).arg(minimumSeconds).arg(maximumSeconds));
        *target = std::chrono::seconds(*number);
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

QList<PolicyFinding> SessionPolicy::review() const
{
    using Severity = PolicyFinding::Severity;
    const auto duration = [](std::chrono::seconds value) {
        const qint64 seconds = value.count();
        if (seconds % 86400 == 0)
            return u"%1 d"_s.arg(seconds / 86400);
        if (seconds % 3600 == 0)
            return u"%1 h"_s.arg(seconds / 3600);
        if (seconds % 60 == 0)
            return u"%1 min"_s.arg(seconds / 60);
        return u"%1 s"_s.arg(seconds);
    };
    QList<PolicyFinding> findings;
    // OAuthSD: silent re-authentication answers with a new code only while the access token
    // bound to the SLI is alive, so it must outlive the local session it is meant to renew.
    if (accessTokenTtl <= sessionCookieTtl)
        findings.append(
            { Severity::Problem, u"access_token_ttl"_s,
              u"The access token (%1) does not outlive the local session (%2): when the local session "
              "ends, silent re-authentication finds an expired access token and shows the login page."_s.arg(
                  duration(accessTokenTtl), duration(sessionCookieTtl)) });
    if (sliCookieTtl < 3 * sessionCookieTtl)
        findings.append({ Severity::Problem, u"sli_cookie_ttl"_s,
                          u"The SLI cookie (%1) should last several times the local session (%2, so at least %3): "
                          "otherwise it is gone before the session it is meant to renew."_s.arg(
                              duration(sliCookieTtl), duration(sessionCookieTtl), duration(3 * sessionCookieTtl)) });
    if (accessTokenTtl >= refreshTokenIdleTtl)
        findings.append({ Severity::Problem, u"refresh_token_idle_ttl"_s,
                          u"An unused refresh token (%1) dies before the access token it renews (%2): clients "
                          "cannot refresh and must log in again each time."_s.arg(duration(refreshTokenIdleTtl),
                                                                                  duration(accessTokenTtl)) });
    if (sessionIdleTtl < accessTokenTtl)
        findings.append({ Severity::Problem, u"session_idle_ttl"_s,
                          u"The session idle limit (%1) is shorter than the access token (%2): a client that "
                          "refreshes on time is still logged out as idle."_s.arg(duration(sessionIdleTtl),
                                                                                 duration(accessTokenTtl)) });
    if (sessionIdleTtl > refreshTokenMaxTtl)
        findings.append(
            { Severity::Advice, u"session_idle_ttl"_s,
              u"The session idle limit (%1) is longer than the absolute limit (%2), so it never applies."_s.arg(
                  duration(sessionIdleTtl), duration(refreshTokenMaxTtl)) });
    if (accessTokenTtl > std::chrono::hours(2))
        findings.append(
            { Severity::Advice, u"access_token_ttl"_s,
              u"Access tokens of %1 stay usable that long at services that only check signatures; "
              "short access tokens with refresh keep revocation effective."_s.arg(duration(accessTokenTtl)) });
    if (idTokenTtl > sliCookieTtl)
        findings.append(
            { Severity::Advice, u"id_token_ttl"_s,
              u"The ID token (%1) outlives the SLI cookie (%2)."_s.arg(duration(idTokenTtl), duration(sliCookieTtl)) });
    return findings;
}

SessionPolicy SessionPolicy::labSpeed()
{
    using namespace std::chrono_literals;
    SessionPolicy policy;
    policy.accessTokenTtl = 30s;
    policy.refreshTokenIdleTtl = 120s;
    policy.refreshTokenMaxTtl = 600s;
    policy.sessionIdleTtl = 90s;
    policy.sessionCookieTtl = 10s;
    policy.idTokenTtl = 30s;
    policy.sliCookieTtl = 60s;
    return policy;
}
