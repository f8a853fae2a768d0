#pragma once

#include "policy/LoginBackoff.h"

#include <QHash>
#include <QList>
#include <QString>

#include <optional>
#include <utility>

/// One password attempt, as the login limits see it.
struct LoginAttempt {
    QString account; ///< the canonical name (UserDirectory::canonicalName), never the spelling typed
    bool accountExists = false;
    QString address; ///< the peer's IP address
    QString device; ///< the id of a device cookie verified for `account`, else empty
};

/// The brute-force limits of every password form, after OWASP's device-cookie lockout. An
/// attempt takes one of three paths, each with its own back-off (LoginBackoff: free failures,
/// then 1, 2, 4 … s):
/// - from a *known device* (a valid device cookie for the account): that device's back-off;
/// - from a *known address* (one the account logged in from recently): the back-off of that
///   account and address;
/// - as a *stranger*: the back-off of that account and address, one back-off shared by all
///   strangers of the account, whatever their address or spelling, and one of the address
///   shared by all the accounts it tries as a stranger.
/// So strangers together get a bounded number of password checks per account, and however
/// long they keep failing, the owner still gets in from a device or address of theirs.
/// Every admitted attempt counts as a failure until it succeeds, so that attempts in flight
/// cannot outrun the count. Pure: the time comes in. Not thread-safe (the server thread's).
class LoginLimits final {
public:
    struct Settings {
        int freeFailures = 5;
        int maximumDelay = 300; ///< seconds
        int knownAddressesPerAccount = 8; ///< the most recent ones
        double knownAddressLifetime = 30 * 24 * 3600.0; ///< seconds after the last success from it
        qsizetype maximumKeys = 100000; ///< per table; what strangers can fill is bounded
    };
    enum class Path { KnownDevice, KnownAddress, Stranger };

    explicit LoginLimits(Settings settings);

    Path pathOf(const LoginAttempt &attempt, double nowSeconds) const;
    /// Seconds to wait before this attempt may check a password; nothing when it may go ahead,
    /// and then it is counted as a failure until recordSuccess().
    std::optional<int> admit(const LoginAttempt &attempt, double nowSeconds);
    /// Clears the counts that admitted the attempt and remembers its address for the account.
    void recordSuccess(const LoginAttempt &attempt, double nowSeconds);

    /// What an address counts as: an IPv4 address, or an IPv6 /64 (one subscriber's prefix).
    static QString networkOf(const QString &address);

private:
    struct KnownAddress {
        QString network;
        double lastSuccess = 0;
    };
    QList<std::pair<LoginBackoff *, QString>> countsOf(const LoginAttempt &attempt, Path path);
    void rememberAddress(const QString &account, const QString &network, double nowSeconds);

    Settings m_settings;
    /// Back-offs only a password holder can multiply: strangers per existing account, and
    /// devices (cookies come from successful logins). Bounded by the users, not by strangers.
    LoginBackoff m_accounts;
    /// Back-offs anyone can multiply: per account and address, per address, and strangers per
    /// unknown name.
    LoginBackoff m_others;
    QHash<QString, QList<KnownAddress>> m_knownAddresses; ///< by canonical account
};
