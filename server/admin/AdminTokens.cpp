#include "admin/AdminTokens.h"

#include "core/RandomToken.h"
#include "secrets/AdminToken.h"
#include "store/Database.h"

#include <QRegularExpression>
#include <QSqlError>
#include <QSqlQuery>

using namespace Qt::StringLiterals;

QString AdminScopes::name(AdminScope scope)
{
    switch (scope) {
    case AdminScope::Viewer:
        return u"viewer"_s;
    case AdminScope::Operator:
        return u"operator"_s;
    case AdminScope::Full:
        return u"full"_s;
    }
    Q_UNREACHABLE();
    return {};
}

std::optional<AdminScope> AdminScopes::parse(const QString &name)
{
    for (const auto scope : { AdminScope::Viewer, AdminScope::Operator, AdminScope::Full }) {
        if (name == AdminScopes::name(scope))
            return scope;
    }
    return std::nullopt;
}

QString AdminScopes::refusal(AdminScope held, AdminScope needed)
{
    const QString what = held == AdminScope::Viewer ? u"read only"_s : u"disconnect, revoke and broadcast only"_s;
    return u"%1: %2; this needs %3 %4 token"_s.arg(name(held), what, needed == AdminScope::Operator ? u"an"_s : u"a"_s,
                                                   name(needed));
}

AdminTokenSet::AdminTokenSet(QHash<QByteArray, AdminIdentity> byHash)
    : m_byHash(std::move(byHash))
{
}

std::optional<AdminIdentity> AdminTokenSet::identify(QByteArrayView presented) const
{
    // Looked up by the SHA-256 of what was presented: what a lookup's timing could tell is
    // about that hash, which says nothing of a token's characters.
    if (presented.isEmpty() || m_byHash.isEmpty())
        return std::nullopt;
    const auto found = m_byHash.constFind(AdminToken::hash(presented));
    if (found == m_byHash.cend())
        return std::nullopt;
    return *found;
}

std::optional<AdminIdentity> AdminTokenSet::identifyHash(const QByteArray &tokenHash) const
{
    const auto found = m_byHash.constFind(tokenHash);
    if (found == m_byHash.cend())
        return std::nullopt;
    return *found;
}

AdminTokenRegistry::AdminTokenRegistry(Database &database)
    : m_database(database)
{
}

Result<QByteArray, QString> AdminTokenRegistry::add(const QString &name, AdminScope scope, qint64 now)
{
    static const QRegularExpression namePattern(u"^[A-Za-z0-9._-]{1,64}$"_s);
    if (!namePattern.match(name).hasMatch())
        return fail(u"an admin token's name: 1 to 64 letters, digits, '.', '_' or '-'"_s);
    // Not "Admin" either: the audit log's admin:Admin would pass for the built-in token.
    if (name.compare(QLatin1StringView(builtInName), Qt::CaseInsensitive) == 0)
        return fail(u"\"admin\" is the built-in full token: gatehoused admin-token show | rotate"_s);
    const QByteArray token = "gha_" + RandomToken::generate(32).toLatin1();
    QSqlQuery query(m_database.connection());
    query.prepare(u"INSERT INTO admin_tokens (name, scope, token_hash, created_at) VALUES (?, ?, ?, ?)"_s);
    if (!Database::execute(query, { name, AdminScopes::name(scope), AdminToken::hash(token), now })) {
        QSqlQuery exists(m_database.connection());
        exists.prepare(u"SELECT 1 FROM admin_tokens WHERE name = ?"_s);
        if (Database::execute(exists, { name }) && exists.next())
            return fail(u"an admin token named %1 exists already"_s.arg(name));
        return fail(Database::describe(query.lastError()));
    }
    return token;
}

Result<bool, QString> AdminTokenRegistry::revoke(const QString &name)
{
    if (name == QLatin1StringView(builtInName))
        return fail(
            u"\"admin\" is the built-in full token: it is rotated (gatehoused admin-token rotate), not revoked"_s);
    QSqlQuery query(m_database.connection());
    query.prepare(u"DELETE FROM admin_tokens WHERE name = ?"_s);
    if (!Database::execute(query, { name }))
        return fail(Database::describe(query.lastError()));
    return query.numRowsAffected() > 0;
}

QList<AdminTokenInfo> AdminTokenRegistry::list() const
{
    QList<AdminTokenInfo> tokens;
    QSqlQuery query(m_database.connection());
    if (!query.exec(u"SELECT name, scope, created_at FROM admin_tokens ORDER BY name"_s))
        return tokens;
    while (query.next()) {
        const auto scope = AdminScopes::parse(query.value(1).toString());
        if (scope)
            tokens.append({ query.value(0).toString(), *scope, query.value(2).toLongLong() });
    }
    return tokens;
}

Result<bool, QString> AdminTokenRegistry::syncAdmin(const QByteArray &tokenHash, qint64 now)
{
    QSqlQuery query(m_database.connection());
    query.prepare(u"INSERT INTO admin_tokens (name, scope, token_hash, created_at) VALUES (?, 'full', ?, ?) "
                  "ON CONFLICT (name) DO UPDATE SET token_hash = excluded.token_hash, scope = 'full' "
                  "WHERE token_hash != excluded.token_hash OR scope != 'full'"_s);
    if (!Database::execute(query, { QString::fromLatin1(builtInName), tokenHash, now }))
        return fail(Database::describe(query.lastError()));
    return query.numRowsAffected() > 0;
}

Result<std::shared_ptr<const AdminTokenSet>, QString> AdminTokenRegistry::load() const
{
    QSqlQuery query(m_database.connection());
    if (!query.exec(u"SELECT name, scope, token_hash FROM admin_tokens"_s))
        return fail(Database::describe(query.lastError()));
    QHash<QByteArray, AdminIdentity> byHash;
    while (query.next()) {
        // A row a newer version wrote with a scope this one does not know gives nothing.
        if (const auto scope = AdminScopes::parse(query.value(1).toString()))
            byHash.insert(query.value(2).toByteArray(), { query.value(0).toString(), *scope });
    }
    return std::make_shared<const AdminTokenSet>(std::move(byHash));
}

bool AdminTokenSet::operator==(const AdminTokenSet &other) const
{
    if (m_byHash.size() != other.m_byHash.size())
        return false;
    for (auto it = m_byHash.cbegin(); it != m_byHash.cend(); ++it) {
        const auto theirs = other.m_byHash.constFind(it.key());
        if (theirs == other.m_byHash.cend() || theirs->name != it->name || theirs->scope != it->scope)
            return false;
    }
    return true;
}

std::shared_ptr<const AdminTokenSet> AdminTokenHolder::current() const
{
    const std::lock_guard lock(m_mutex);
    return m_tokens;
}

void AdminTokenHolder::replace(std::shared_ptr<const AdminTokenSet> tokens)
{
    const std::lock_guard lock(m_mutex);
    m_tokens = std::move(tokens);
}
