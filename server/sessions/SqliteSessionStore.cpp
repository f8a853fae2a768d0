#include "sessions/SqliteSessionStore.h"

#include "store/Database.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QLoggingCategory>
#include <QSqlError>
#include <QSqlQuery>

using namespace Qt::StringLiterals;

namespace {
const auto sessionColumns
    = u"id, username, device_id, user_agent, remote_address, created_at, last_refresh_at, absolute_expires_at, "
      "revoked_at, revoke_reason, access_expires_at, (SELECT MAX(expires_at) FROM refresh_tokens AS r "
      "WHERE r.session_id = sessions.id AND r.used_at IS NULL), login_id, client_id"_s;

SessionRecord sessionFromQuery(const QSqlQuery &query)
{
    SessionRecord session;
    session.id = query.value(0).toString();
    session.username = query.value(1).toString();
    session.deviceId = query.value(2).toString();
    session.userAgent = query.value(3).toString();
    session.remoteAddress = query.value(4).toString();
    session.createdAt = query.value(5).toLongLong();
    session.lastRefreshAt = query.value(6).toLongLong();
    session.absoluteExpiresAt = query.value(7).toLongLong();
    session.revokedAt = query.value(8).toLongLong();
    session.revokeReason = query.value(9).toString();
    session.accessExpiresAt = query.value(10).toLongLong();
    session.refreshExpiresAt = query.value(11).toLongLong();
    session.loginId = query.value(12).toString();
    session.clientId = query.value(13).toString();
    return session;
}

bool insertRefreshToken(const QSqlDatabase &db, const RefreshTokenRecord &token)
{
    QSqlQuery insert(db);
    insert.prepare(u"INSERT INTO refresh_tokens(token_hash, session_id, generation, issued_at, expires_at) "
                   "VALUES(?, ?, ?, ?, ?)"_s);
    return Database::execute(insert,
                             { token.tokenHash, token.sessionId, token.generation, token.issuedAt, token.expiresAt });
}
} // namespace

SqliteSessionStore::SqliteSessionStore(Database &database)
    : m_database(database)
{
}

Result<bool, StoreError> SqliteSessionStore::createSession(const SessionRecord &session,
                                                           const RefreshTokenRecord &firstToken)
{
    auto db = m_database.connection();
    if (QSqlError error; !Database::beginWrite(db, &error))
        return failed(error);
    QSqlQuery insert(db);
    insert.prepare(u"INSERT INTO sessions(id, username, device_id, user_agent, remote_address, created_at, "
                   "last_refresh_at, absolute_expires_at, access_expires_at, login_id, client_id) "
                   "VALUES(?, ?, ?, COALESCE(?, ''), COALESCE(?, ''), ?, ?, ?, ?, COALESCE(?, ''), COALESCE(?, ''))"_s);
    const bool inserted
        = Database::execute(insert,
                            { session.id, session.username, session.deviceId, session.userAgent, session.remoteAddress,
                              session.createdAt, session.lastRefreshAt, session.absoluteExpiresAt,
                              session.accessExpiresAt, session.loginId, session.clientId });
    if (!inserted || !insertRefreshToken(db, firstToken) || !db.commit()) {
        const QSqlError error = db.lastError();
        db.rollback();
        return failed(error);
    }
    return true;
}

std::optional<SessionRecord> SqliteSessionStore::findSession(const QString &sessionId) const
{
    QSqlQuery query(m_database.connection());
    query.prepare(u"SELECT "_s + sessionColumns + u" FROM sessions WHERE id = ?"_s);
    if (!Database::execute(query, { sessionId }) || !query.next())
        return std::nullopt;
    return sessionFromQuery(query);
}

QList<SessionRecord> SqliteSessionStore::findSessions(const QStringList &sessionIds) const
{
    // The ids travel as one JSON array: binding hundreds of parameters one by one costs Qt's
    // driver far more than the query (20 ms for 400 ids, on the thread that serves revocations).
    QList<SessionRecord> sessions;
    if (sessionIds.isEmpty())
        return sessions;
    QSqlQuery query(m_database.connection());
    query.prepare(u"SELECT "_s + sessionColumns + u" FROM sessions WHERE id IN (SELECT value FROM json_each(?))"_s);
    const QByteArray ids = QJsonDocument(QJsonArray::fromStringList(sessionIds)).toJson(QJsonDocument::Compact);
    if (!Database::execute(query, { QString::fromUtf8(ids) }))
        return sessions;
    while (query.next())
        sessions.append(sessionFromQuery(query));
    return sessions;
}

QList<SessionRecord> SqliteSessionStore::listSessions(const QString &username, bool includeRevoked) const
{
    QSqlQuery query(m_database.connection());
    // One user's sessions come through the index: revocation lists them before it closes anything.
    QString sql = u"SELECT "_s + sessionColumns + u" FROM sessions WHERE "_s
        + (username.isEmpty() ? u"1"_s : u"username = ?"_s);
    if (!includeRevoked)
        sql += u" AND revoked_at IS NULL"_s;
    query.prepare(sql + u" ORDER BY created_at DESC, id"_s);
    QList<SessionRecord> sessions;
    if (!Database::execute(query, username.isEmpty() ? QVariantList {} : QVariantList { username }))
        return sessions;
    while (query.next())
        sessions.append(sessionFromQuery(query));
    return sessions;
}

std::optional<RefreshTokenRecord> SqliteSessionStore::findRefreshToken(const QString &tokenHash) const
{
    QSqlQuery query(m_database.connection());
    query.prepare(u"SELECT token_hash, session_id, generation, issued_at, expires_at, used_at FROM refresh_tokens "
                  "WHERE token_hash = ?"_s);
    if (!Database::execute(query, { tokenHash }) || !query.next())
        return std::nullopt;
    return RefreshTokenRecord { query.value(0).toString(),   query.value(1).toString(),   query.value(2).toInt(),
                                query.value(3).toLongLong(), query.value(4).toLongLong(), query.value(5).toLongLong() };
}

Result<bool, StoreError> SqliteSessionStore::rotateRefreshToken(const QString &usedHash, qint64 now,
                                                                const RefreshTokenRecord &next, qint64 accessExpiresAt)
{
    auto db = m_database.connection();
    if (QSqlError error; !m_database.beginWrite(&error))
        return failed(error);
    // The `used_at IS NULL` condition makes the rotation a compare-and-set: of two requests
    // racing with the same token, exactly one rotates and the other is reuse.
    QSqlQuery markUsed(db);
    markUsed.prepare(u"UPDATE refresh_tokens SET used_at = ? WHERE token_hash = ? AND used_at IS NULL"_s);
    QSqlQuery touch(db);
    touch.prepare(u"UPDATE sessions SET last_refresh_at = ?, access_expires_at = ? WHERE id = ?"_s);
    if (!Database::execute(markUsed, { now, usedHash })) {
        m_database.rollbackWrite();
        return fail(StoreError::Failed);
    }
    if (markUsed.numRowsAffected() != 1) {
        m_database.rollbackWrite();
        return fail(StoreError::Conflict);
    }
    if (!insertRefreshToken(db, next) || !Database::execute(touch, { now, accessExpiresAt, next.sessionId })
        || !m_database.commitWrite()) {
        m_database.rollbackWrite();
        return fail(StoreError::Failed);
    }
    return true;
}

bool SqliteSessionStore::beginGroup(QString *why)
{
    m_group = std::make_unique<Database::WriteGroup>(m_database);
    if (m_group->isOpen())
        return true;
    if (why)
        *why = m_group->openError();
    m_group.reset();
    return false;
}

bool SqliteSessionStore::commitGroup(QString *why)
{
    if (!m_group)
        return false;
    QSqlError error;
    const bool committed = m_group->commit(&error);
    m_group.reset();
    if (!committed && why)
        *why = Database::describe(error);
    return committed;
}

Result<QStringList, StoreError> SqliteSessionStore::revokeWhere(const QString &condition, const QVariantList &values,
                                                                qint64 now, const QString &reason)
{
    auto db = m_database.connection();
    if (QSqlError error; !Database::beginWrite(db, &error))
        return failed(error);
    QSqlQuery select(db);
    select.prepare(u"SELECT id FROM sessions WHERE revoked_at IS NULL AND "_s + condition);
    QStringList ids;
    if (!Database::execute(select, values)) {
        const QSqlError error = select.lastError();
        db.rollback();
        return failed(error);
    }
    while (select.next())
        ids.append(select.value(0).toString());
    select.finish();
    QSqlQuery update(db);
    update.prepare(
        u"UPDATE sessions SET revoked_at = ?, revoke_reason = COALESCE(?, '') WHERE revoked_at IS NULL AND "_s
        + condition);
    QVariantList updateValues { now, reason };
    updateValues.append(values);
    if (!Database::execute(update, updateValues) || !db.commit()) {
        const QSqlError error = update.lastError().isValid() ? update.lastError() : db.lastError();
        db.rollback();
        return failed(error);
    }
    return ids;
}

Result<QStringList, StoreError> SqliteSessionStore::revokeSession(const QString &sessionId, qint64 now,
                                                                  const QString &reason)
{
    return revokeWhere(u"id = ?"_s, { sessionId }, now, reason);
}

Result<QStringList, StoreError> SqliteSessionStore::revokeUserSessions(const QString &username, const QString &deviceId,
                                                                       qint64 now, const QString &reason)
{
    if (deviceId.isEmpty())
        return revokeWhere(u"username = ?"_s, { username }, now, reason);
    return revokeWhere(u"username = ? AND device_id = ?"_s, { username, deviceId }, now, reason);
}

Result<bool, StoreError> SqliteSessionStore::revokeTokensIssuedBefore(const UserKey &user, qint64 at)
{
    // Our usernames ignore case, as the users table does; an external subject does not.
    QSqlQuery query(m_database.connection());
    if (user.isLocal()) {
        query.prepare(
            u"INSERT INTO tokens_revoked_before(username, revoked_before) VALUES(?, ?) "
            "ON CONFLICT(username) DO UPDATE SET revoked_before = max(revoked_before, excluded.revoked_before)"_s);
        if (!Database::execute(query, { user.subject, at }))
            return failed(query.lastError());
        return true;
    }
    query.prepare(u"INSERT INTO external_tokens_revoked_before(issuer, subject, revoked_before) VALUES(?, ?, ?) "
                  "ON CONFLICT(issuer, subject) DO UPDATE "
                  "SET revoked_before = max(revoked_before, excluded.revoked_before)"_s);
    if (!Database::execute(query, { user.issuer, user.subject, at }))
        return failed(query.lastError());
    return true;
}

qint64 SqliteSessionStore::tokensRevokedBefore(const UserKey &user) const
{
    QSqlQuery query(m_database.connection());
    if (user.isLocal()) {
        query.prepare(u"SELECT revoked_before FROM tokens_revoked_before WHERE username = ?"_s);
        if (!Database::execute(query, { user.subject }) || !query.next())
            return 0;
    } else {
        query.prepare(u"SELECT revoked_before FROM external_tokens_revoked_before WHERE issuer = ? AND subject = ?"_s);
        if (!Database::execute(query, { user.issuer, user.subject }) || !query.next())
            return 0;
    }
    return query.value(0).toLongLong();
}

Result<bool, StoreError> SqliteSessionStore::revokeAccessToken(const QString &jwtId, qint64 expiresAt)
{
    QSqlQuery query(m_database.connection());
    query.prepare(u"INSERT INTO revoked_access_tokens(jti, expires_at) VALUES(?, ?) ON CONFLICT(jti) DO NOTHING"_s);
    if (!Database::execute(query, { jwtId, expiresAt }))
        return failed(query.lastError());
    return true;
}

bool SqliteSessionStore::isAccessTokenRevoked(const QString &jwtId) const
{
    QSqlQuery query(m_database.connection());
    query.prepare(u"SELECT 1 FROM revoked_access_tokens WHERE jti = ?"_s);
    return Database::execute(query, { jwtId }) && query.next();
}

QHash<QString, qint64> SqliteSessionStore::revokedAccessTokens() const
{
    return pairs(u"SELECT jti, expires_at FROM revoked_access_tokens"_s);
}

QHash<UserKey, qint64> SqliteSessionStore::revocationCutoffs() const
{
    QHash<UserKey, qint64> cutoffs;
    const auto ours = pairs(u"SELECT username, revoked_before FROM tokens_revoked_before"_s);
    for (auto it = ours.cbegin(); it != ours.cend(); ++it)
        cutoffs.insert(UserKey::local(it.key()), it.value());
    QSqlQuery query(m_database.connection());
    query.setForwardOnly(true);
    if (query.exec(u"SELECT issuer, subject, revoked_before FROM external_tokens_revoked_before"_s)) {
        while (query.next())
            cutoffs.insert(UserKey { query.value(0).toString(), query.value(1).toString() },
                           query.value(2).toLongLong());
    }
    return cutoffs;
}

QHash<QString, qint64> SqliteSessionStore::pairs(const QString &sql) const
{
    QHash<QString, qint64> result;
    QSqlQuery query(m_database.connection());
    query.setForwardOnly(true);
    if (!query.exec(sql))
        return result;
    while (query.next())
        result.insert(query.value(0).toString(), query.value(1).toLongLong());
    return result;
}

void SqliteSessionStore::purgeExpired(qint64 now)
{
    auto db = m_database.connection();
    QSqlQuery tokens(db);
    tokens.prepare(u"DELETE FROM refresh_tokens WHERE expires_at < ? AND used_at IS NULL"_s);
    Database::execute(tokens, { now });
    // Used tokens stay for reuse detection, but only as long as their session could live.
    QSqlQuery finished(db);
    finished.prepare(u"DELETE FROM refresh_tokens WHERE session_id IN "
                     "(SELECT id FROM sessions WHERE absolute_expires_at < ?)"_s);
    Database::execute(finished, { now });
    QSqlQuery revocations(db);
    revocations.prepare(u"DELETE FROM revoked_access_tokens WHERE expires_at < ?"_s);
    Database::execute(revocations, { now });
}

qint64 SqliteSessionStore::countActiveSessions(qint64 now) const
{
    QSqlQuery query(m_database.connection());
    query.prepare(u"SELECT COUNT(*) FROM sessions WHERE revoked_at IS NULL AND absolute_expires_at > ?"_s);
    if (!Database::execute(query, { now }) || !query.next())
        return 0;
    return query.value(0).toLongLong();
}

Result<QStringList, StoreError> SqliteSessionStore::expireSessions(qint64 now, qint64 idleSeconds)
{
    return revokeWhere(u"(absolute_expires_at <= ? OR last_refresh_at + ? <= ?)"_s, { now, idleSeconds, now }, now,
                       u"session_expired"_s);
}

Failure<StoreError> SqliteSessionStore::failed(const QSqlError &error) const
{
    m_errorString = Database::describe(error);
    return fail(StoreError::Failed);
}
