#pragma once

#include "Result.h"
#include "User.h"

#include <QList>
#include <QObject>

#include <optional>

class Clock;
class Database;

enum class UserError {
    InvalidUsername,
    ReservedUsername, ///< "system": the audit log's name for the server itself
    InvalidDisplayName,
    InvalidRole,
    WeakPassword,
    PasswordTooLong,
    AlreadyExists,
    NotFound,
    Disabled,
    BadCredentials,
    StorageFailed,
};

QLatin1StringView userErrorCode(UserError error);
/// A sentence for people (CLI and console).
QString userErrorMessage(UserError error);

/// The users of one Gatehouse instance, kept in SQLite. Emits userChanged() after every
/// committed change, so that sessions can be re-evaluated at once.
class UserDirectory final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(UserDirectory)

public:
    static constexpr qsizetype minimumPasswordLength = 8;
    static constexpr qsizetype maximumPasswordLength = 1024;

    UserDirectory(Database &database, const Clock &clock, QObject *parent = nullptr);

    Result<User, UserError> add(const QString &username, const QString &displayName, QByteArrayView password,
                                const QStringList &roles);
    std::optional<User> find(const QString &username) const;
    QList<User> list() const;
    Result<User, UserError> setEnabled(const QString &username, bool enabled);
    Result<User, UserError> setPassword(const QString &username, QByteArrayView password);
    Result<User, UserError> setRoles(const QString &username, const QStringList &roles);
    /// Checks a password; an unknown user costs as much time as a known one.
    Result<User, UserError> authenticate(const QString &username, QByteArrayView password) const;
    /// What a password check on another thread needs: the user, if there is one, and the hash
    /// to check against (a decoy for an unknown user, so that both cost the same).
    struct PasswordRecord {
        std::optional<User> user;
        QByteArray hash;
    };
    PasswordRecord passwordRecord(const QString &username) const;

    /// The name a login attempt is counted under, so that spellings of one name share one
    /// count: the stored spelling of the user that authenticate() would check, else the name
    /// folded as the lookup compares it.
    struct CanonicalName {
        QString name;
        bool exists = false;
    };
    CanonicalName canonicalName(const QString &username) const;
    /// ASCII case folded, exactly as the lookup (SQLite's NOCASE) compares names.
    static QString foldedUsername(const QString &username);

    /// Another process changed the user (the command line): tells this process's observers as
    /// if the change were made here (userChanged, and passwordChanged for a new password).
    void announce(const QString &username, bool passwordChanged);

    static bool isValidUsername(const QString &username);
    static bool isValidRole(const QString &role);

Q_SIGNALS:
    void userChanged(const QString &username);
    /// After userChanged when the password was set: timestamps of one-second resolution cannot
    /// tell two changes within a second apart, this can.
    void passwordChanged(const QString &username);

private:
    Result<User, UserError> update(const QString &username, const QString &assignments, const QVariantList &values);

    Database &m_database;
    const Clock &m_clock;
};
