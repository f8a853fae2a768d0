#include "identity/UserDirectory.h"

#include "UserKey.h"
#include "core/Clock.h"
#include "identity/PasswordHasher.h"
#include "store/Database.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QSqlError>
#include <QSqlQuery>

using namespace Qt::StringLiterals;

namespace {
constexpr qsizetype maximumDisplayNameLength = 128;
constexpr qsizetype maximumRoles = 32;
const auto userColumns = u"id, username, display_name, roles, enabled, password_changed_at, created_at, updated_at"_s;

QStringList rolesFromJson(const QString &text)
{
    QStringList roles;
    for (const auto &role : QJsonDocument::fromJson(text.toUtf8()).array())
        roles.append(role.toString());
    return roles;
}

QString rolesToJson(QStringList roles)
{
    roles.sort();
    roles.removeDuplicates();
    return QString::fromUtf8(QJsonDocument(QJsonArray::fromStringList(roles)).toJson(QJsonDocument::Compact));
}

User userFromQuery(const QSqlQuery &query)
{
    User user;
    user.id = query.value(0).toLongLong();
    user.username = query.value(1).toString();
    user.displayName = query.value(2).toString();
    user.roles = rolesFromJson(query.value(3).toString());
    user.enabled = query.value(4).toBool();
    user.passwordChangedAt = query.value(5).toLongLong();
    user.createdAt = query.value(6).toLongLong();
    user.updatedAt = query.value(7).toLongLong();
    return user;
}

std::optional<UserError> checkPassword(QByteArrayView password)
{
    if (password.size() > UserDirectory::maximumPasswordLength)
        return UserError::PasswordTooLong;
    if (QString::fromUtf8(password).size() < UserDirectory::minimumPasswordLength)
        return UserError::WeakPassword;
    return std::nullopt;
}

std::optional<UserError> checkRoles(const QStringList &roles)
{
    if (roles.size() > maximumRoles)
        return UserError::InvalidRole;
    for (const auto &role : roles) {
        if (!UserDirectory::isValidRole(role))
            return UserError::InvalidRole;
    }
    return std::nullopt;
}

/// A hash to verify against when the user does not exist, so that timing does not tell
/// which usernames are real.
const QByteArray &decoyHash()
{
    static const QByteArray hash = PasswordHasher::hash("gatehouse-decoy-password");
    return hash;
}
} // namespace

QLatin1StringView userErrorCode(UserError error)
{
    switch (error) {
    case UserError::InvalidUsername:
    case UserError::ReservedUsername:
        return "invalid_username"_L1;
    case UserError::InvalidDisplayName:
        return "invalid_display_name"_L1;
    case UserError::InvalidRole:
        return "invalid_role"_L1;
    case UserError::WeakPassword:
        return "weak_password"_L1;
    case UserError::PasswordTooLong:
        return "password_too_long"_L1;
    case UserError::AlreadyExists:
        return "user_exists"_L1;
    case UserError::NotFound:
        return "user_not_found"_L1;
    case UserError::Disabled:
        return "user_disabled"_L1;
    case UserError::BadCredentials:
        return "invalid_credentials"_L1;
    case UserError::StorageFailed:
        return "storage_failed"_L1;
    }
    return "unknown"_L1;
}

QString userErrorMessage(UserError error)
{
    switch (error) {
    case UserError::InvalidUsername:
        return u"a username is 1 to 64 characters from A-Z a-z 0-9 . _ @ -, starting with a letter or digit"_s;
    case UserError::ReservedUsername:
        return u"\"system\" is the audit log's name for the server itself: choose another username"_s;
    case UserError::InvalidDisplayName:
        return u"a display name is at most 128 characters with no control characters"_s;
    case UserError::InvalidRole:
        return u"roles are at most 32, each 1 to 32 characters from a-z 0-9 _ - : ."_s;
    case UserError::WeakPassword:
        return u"a password needs at least %1 characters"_s.arg(UserDirectory::minimumPasswordLength);
    case UserError::PasswordTooLong:
        return u"a password may be at most %1 bytes"_s.arg(UserDirectory::maximumPasswordLength);
    case UserError::AlreadyExists:
        return u"a user with that name exists already"_s;
    case UserError::NotFound:
        return u"no such user"_s;
    case UserError::Disabled:
        return u"the user is disabled"_s;
    case UserError::BadCredentials:
        return u"wrong username or password"_s;
    case UserError::StorageFailed:
        return u"the database refused the change"_s;
    }
    return {};
}

UserDirectory::UserDirectory(Database &database, const Clock &clock, QObject *parent)
    : QObject(parent)
    , m_database(database)
    , m_clock(clock)
{
}

bool UserDirectory::isValidUsername(const QString &username)
{
    // ASCII only: look-alike letters from other scripts must not make a second "admin".
    static const QRegularExpression pattern(u"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$"_s);
    return pattern.match(username).hasMatch();
}

bool UserDirectory::isValidRole(const QString &role)
{
    static const QRegularExpression pattern(u"^[a-z0-9_:.-]{1,32}$"_s);
    return pattern.match(role).hasMatch();
}

Result<User, UserError> UserDirectory::add(const QString &username, const QString &displayName, QByteArrayView password,
                                           const QStringList &roles)
{
    if (!isValidUsername(username))
        return fail(UserError::InvalidUsername);
    // The audit log names the server "system": a user of that name would read as the server.
    if (username.compare(u"system"_s, Qt::CaseInsensitive) == 0)
        return fail(UserError::ReservedUsername);
    const QString name = displayName.isEmpty() ? username : displayName;
    const bool hasControl
        = std::any_of(name.begin(), name.end(), [](QChar c) { return c.category() == QChar::Other_Control; });
    if (name.size() > maximumDisplayNameLength || hasControl)
        return fail(UserError::InvalidDisplayName);
    if (const auto error = checkPassword(password))
        return fail(*error);
    if (const auto error = checkRoles(roles))
        return fail(*error);
    if (find(username))
        return fail(UserError::AlreadyExists);

    const QByteArray hash = PasswordHasher::hash(password);
    if (hash.isEmpty())
        return fail(UserError::StorageFailed);
    const qint64 now = m_clock.nowSeconds();
    QSqlQuery query(m_database.connection());
    query.prepare(u"INSERT INTO users(username, display_name, roles, enabled, password_hash, "
                  "password_changed_at, created_at, updated_at) VALUES(?, ?, ?, 1, ?, ?, ?, ?)"_s);
    for (const QVariant &value : { QVariant(username), QVariant(name), QVariant(rolesToJson(roles)),
                                   QVariant(QString::fromLatin1(hash)), QVariant(now), QVariant(now), QVariant(now) })
        query.addBindValue(value);
    if (!query.exec())
        return fail(query.lastError().nativeErrorCode() == "2067"_L1 ? UserError::AlreadyExists
                                                                     : UserError::StorageFailed);
    Q_EMIT userChanged(username);
    return *find(username);
}

std::optional<User> UserDirectory::find(const QString &username) const
{
    QSqlQuery query(m_database.connection());
    query.prepare(u"SELECT "_s + userColumns + u" FROM users WHERE username = ?"_s);
    query.addBindValue(username);
    if (!query.exec() || !query.next())
        return std::nullopt;
    return userFromQuery(query);
}

QList<User> UserDirectory::list() const
{
    QList<User> users;
    QSqlQuery query(m_database.connection());
    if (!query.exec(u"SELECT "_s + userColumns + u" FROM users ORDER BY username"_s))
        return users;
    while (query.next())
        users.append(userFromQuery(query));
    return users;
}

Result<User, UserError> UserDirectory::update(const QString &username, const QString &assignments,
                                              const QVariantList &values)
{
    const auto existing = find(username);
    if (!existing)
        return fail(UserError::NotFound);
    QSqlQuery query(m_database.connection());
    query.prepare(u"UPDATE users SET "_s + assignments + u", updated_at = ? WHERE id = ?"_s);
    for (const auto &value : values)
        query.addBindValue(value);
    query.addBindValue(m_clock.nowSeconds());
    query.addBindValue(existing->id);
    if (!query.exec())
        return fail(UserError::StorageFailed);
    Q_EMIT userChanged(existing->username);
    return *find(username);
}

Result<User, UserError> UserDirectory::setEnabled(const QString &username, bool enabled)
{
    return update(username, u"enabled = ?"_s, { enabled ? 1 : 0 });
}

Result<User, UserError> UserDirectory::setPassword(const QString &username, QByteArrayView password)
{
    if (const auto error = checkPassword(password))
        return fail(*error);
    if (!find(username))
        return fail(UserError::NotFound);
    const QByteArray hash = PasswordHasher::hash(password);
    if (hash.isEmpty())
        return fail(UserError::StorageFailed);
    auto changed = update(username, u"password_hash = ?, password_changed_at = ?"_s,
                          { QString::fromLatin1(hash), m_clock.nowSeconds() });
    if (changed)
        Q_EMIT passwordChanged(changed->username);
    return changed;
}

Result<User, UserError> UserDirectory::setRoles(const QString &username, const QStringList &roles)
{
    if (const auto error = checkRoles(roles))
        return fail(*error);
    return update(username, u"roles = ?"_s, { rolesToJson(roles) });
}

UserDirectory::PasswordRecord UserDirectory::passwordRecord(const QString &username) const
{
    QSqlQuery query(m_database.connection());
    query.prepare(u"SELECT "_s + userColumns + u", password_hash FROM users WHERE username = ?"_s);
    query.addBindValue(username);
    if (!query.exec() || !query.next())
        return PasswordRecord { std::nullopt, decoyHash() };
    return PasswordRecord { userFromQuery(query), query.value(8).toString().toLatin1() };
}

Result<User, UserError> UserDirectory::authenticate(const QString &username, QByteArrayView password) const
{
    if (password.size() > maximumPasswordLength)
        return fail(UserError::BadCredentials);
    QSqlQuery query(m_database.connection());
    query.prepare(u"SELECT "_s + userColumns + u", password_hash FROM users WHERE username = ?"_s);
    query.addBindValue(username);
    if (!query.exec() || !query.next()) {
        PasswordHasher::verify(password, decoyHash());
        return fail(UserError::BadCredentials);
    }
    const User user = userFromQuery(query);
    if (!PasswordHasher::verify(password, query.value(8).toString().toLatin1()))
        return fail(UserError::BadCredentials);
    if (!user.enabled)
        return fail(UserError::Disabled);
    return user;
}

UserDirectory::CanonicalName UserDirectory::canonicalName(const QString &username) const
{
    if (const auto user = find(username))
        return { user->username, true };
    return { foldedUsername(username), false };
}

QString UserDirectory::foldedUsername(const QString &username)
{
    return UserKey::foldedUsername(username);
}

void UserDirectory::announce(const QString &username, bool passwordChanged)
{
    Q_EMIT userChanged(username);
    if (passwordChanged)
        Q_EMIT this->passwordChanged(username);
}
