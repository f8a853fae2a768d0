#include "oidc/SqliteSingleLoginStore.h"

#include "store/Database.h"

#include <QSqlQuery>

using namespace Qt::StringLiterals;

namespace {
const auto loginColumns
    = u"id, username, device_id, authenticated_at, expires_at, access_expires_at, COALESCE(ended_at, 0)"_s;

/// Ends the open logins that match `condition`, in one statement, and returns their ids.
Result<QStringList, StoreError> endWhere(const QSqlDatabase &db, const QString &condition, const QVariantList &values,
                                         qint64 now)
{
    QSqlQuery update(db);
    update.prepare(u"UPDATE single_logins SET ended_at = ? WHERE ended_at IS NULL AND "_s + condition
                   + u" RETURNING id"_s);
    QVariantList bound { now };
    bound.append(values);
    if (!Database::execute(update, bound))
        return fail(StoreError::Failed);
    QStringList ids;
    while (update.next())
        ids.append(update.value(0).toString());
    return ids;
}

Result<AuthorizationCode, StoreError> selectCode(const QSqlDatabase &db, const QString &codeHash)
{
    QSqlQuery select(db);
    select.prepare(u"SELECT client_id, redirect_uri, code_challenge, nonce, login_id, expires_at, "
                   "COALESCE(used_at, 0), session_id FROM authorization_codes WHERE code_hash = ?"_s);
    if (!Database::execute(select, { codeHash }))
        return fail(StoreError::Failed);
    if (!select.next())
        return fail(StoreError::NotFound);
    return AuthorizationCode { select.value(0).toString(),   select.value(1).toString(), select.value(2).toString(),
                               select.value(3).toString(),   select.value(4).toString(), select.value(5).toLongLong(),
                               select.value(6).toLongLong(), select.value(7).toString() };
}
} // namespace

SqliteSingleLoginStore::SqliteSingleLoginStore(Database &database)
    : m_database(database)
{
}

Result<bool, StoreError> SqliteSingleLoginStore::createLogin(const SingleLogin &login, const QString &cookieHash)
{
    QSqlQuery insert(m_database.connection());
    insert.prepare(u"INSERT INTO single_logins(id, cookie_hash, username, device_id, authenticated_at, expires_at, "
                   "access_expires_at) VALUES(?, ?, ?, ?, ?, ?, ?)"_s);
    if (!Database::execute(insert,
                           { login.id, cookieHash, login.username, login.deviceId, login.authenticatedAt,
                             login.expiresAt, login.accessExpiresAt }))
        return fail(StoreError::Failed);
    return true;
}

std::optional<SingleLogin> SqliteSingleLoginStore::findWhere(const QString &column, const QString &value) const
{
    QSqlQuery query(m_database.connection());
    query.prepare(u"SELECT %1 FROM single_logins WHERE %2 = ?"_s.arg(loginColumns, column));
    if (!Database::execute(query, { value }) || !query.next())
        return std::nullopt;
    return SingleLogin { query.value(0).toString(),   query.value(1).toString(),   query.value(2).toString(),
                         query.value(3).toLongLong(), query.value(4).toLongLong(), query.value(5).toLongLong(),
                         query.value(6).toLongLong() };
}

std::optional<SingleLogin> SqliteSingleLoginStore::findLoginByCookie(const QString &cookieHash) const
{
    return findWhere(u"cookie_hash"_s, cookieHash);
}

std::optional<SingleLogin> SqliteSingleLoginStore::findLogin(const QString &loginId) const
{
    return findWhere(u"id"_s, loginId);
}

Result<bool, StoreError> SqliteSingleLoginStore::extendLogin(const QString &loginId, qint64 expiresAt)
{
    QSqlQuery update(m_database.connection());
    update.prepare(u"UPDATE single_logins SET expires_at = max(expires_at, ?) WHERE id = ? AND ended_at IS NULL"_s);
    if (!Database::execute(update, { expiresAt, loginId }))
        return fail(StoreError::Failed);
    if (update.numRowsAffected() == 0)
        return fail(StoreError::NotFound);
    return true;
}

void SqliteSingleLoginStore::recordAccessToken(const QString &loginId, qint64 accessExpiresAt)
{
    QSqlQuery update(m_database.connection());
    update.prepare(u"UPDATE single_logins SET access_expires_at = max(access_expires_at, ?) "
                   "WHERE id = ? AND ended_at IS NULL"_s);
    Database::execute(update, { accessExpiresAt, loginId });
}

Result<QStringList, StoreError> SqliteSingleLoginStore::endLogins(const QStringList &loginIds, qint64 now)
{
    QStringList ended;
    for (const auto &id : loginIds) {
        const auto one = endWhere(m_database.connection(), u"id = ?"_s, { id }, now);
        if (!one)
            return one;
        ended += *one;
    }
    return ended;
}

Result<QStringList, StoreError> SqliteSingleLoginStore::endUserLogins(const QString &username, qint64 now)
{
    return endWhere(m_database.connection(), u"username = ?"_s, { username }, now);
}

Result<bool, StoreError> SqliteSingleLoginStore::createCode(const QString &codeHash, const AuthorizationCode &code)
{
    QSqlQuery insert(m_database.connection());
    insert.prepare(u"INSERT INTO authorization_codes(code_hash, client_id, redirect_uri, code_challenge, nonce, "
                   "login_id, expires_at) VALUES(?, ?, ?, ?, COALESCE(?, ''), ?, ?)"_s);
    if (!Database::execute(insert,
                           { codeHash, code.clientId, code.redirectUri, code.codeChallenge, code.nonce, code.loginId,
                             code.expiresAt }))
        return fail(StoreError::Failed);
    return true;
}

std::optional<AuthorizationCode> SqliteSingleLoginStore::findCode(const QString &codeHash) const
{
    const auto found = selectCode(m_database.connection(), codeHash);
    return found ? std::optional(*found) : std::nullopt;
}

Result<AuthorizationCode, StoreError> SqliteSingleLoginStore::redeemCode(const QString &codeHash, qint64 now)
{
    auto db = m_database.connection();
    if (!db.transaction())
        return fail(StoreError::Failed);
    const auto found = selectCode(db, codeHash);
    if (!found) {
        db.rollback();
        return fail(found.error());
    }
    const AuthorizationCode code = *found;
    if (code.usedAt != 0) {
        db.rollback();
        return code;
    }
    QSqlQuery update(db);
    update.prepare(u"UPDATE authorization_codes SET used_at = ? WHERE code_hash = ? AND used_at IS NULL"_s);
    if (!Database::execute(update, { now, codeHash }) || !db.commit()) {
        db.rollback();
        return fail(StoreError::Failed);
    }
    return code;
}

void SqliteSingleLoginStore::attachSession(const QString &codeHash, const QString &sessionId)
{
    QSqlQuery update(m_database.connection());
    update.prepare(u"UPDATE authorization_codes SET session_id = ? WHERE code_hash = ?"_s);
    Database::execute(update, { sessionId, codeHash });
}

void SqliteSingleLoginStore::purgeExpired(qint64 now)
{
    // A used code is kept a little past its expiry so that a replay still finds it and
    // revokes what it produced; after that, a replay is just an unknown code.
    QSqlQuery codes(m_database.connection());
    codes.prepare(u"DELETE FROM authorization_codes WHERE expires_at < ?"_s);
    Database::execute(codes, { now - 3600 });
    QSqlQuery logins(m_database.connection());
    logins.prepare(u"DELETE FROM single_logins WHERE expires_at < ? OR ended_at < ?"_s);
    Database::execute(logins, { now - 24 * 3600, now - 24 * 3600 });
}
