#pragma once

#include <QMetaType>
#include <QString>

/// Who a user is: the issuer that vouches for them and the subject it names. Our own users
/// have no issuer here and are named by their username; the "alice" of a trusted external
/// issuer is someone else than our alice, so everything that belongs to a user (connections,
/// sync, limits, revocation, admin actions) is keyed by the pair.
struct UserKey {
    QString issuer; ///< empty for our own users, else the external issuer's `iss`
    QString subject; ///< our username, or the external issuer's `sub`

    static UserKey local(const QString &username) { return UserKey { {}, username }; }
    bool isLocal() const { return issuer.isEmpty(); }
    bool isEmpty() const { return subject.isEmpty(); }

    /// One string per user, for hash keys, rate limits, the audit log and the console: our
    /// username itself, or "<issuer>#<subject>" with '%' and '#' in the issuer
    /// percent-encoded. A username never holds '#', so the two kinds cannot meet.
    QString toString() const;
    /// The inverse of toString().
    static UserKey fromString(const QString &text);
    /// A local username folded exactly as the user directory compares names (SQLite's NOCASE:
    /// A-Z only; U+212A KELVIN SIGN or U+0130 stay apart, which QString::toLower() would fold).
    static QString foldedUsername(const QString &username);
    /// For people: "alice", or "alice @ https://idp.example".
    QString displayName() const;

    friend bool operator==(const UserKey &, const UserKey &) = default;
};
Q_DECLARE_METATYPE(UserKey)

size_t qHash(const UserKey &key, size_t seed = 0) noexcept;
