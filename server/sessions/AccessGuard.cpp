#include "sessions/AccessGuard.h"

#include <mutex>

void AccessGuard::reset(QHash<QString, SessionState> sessions, QHash<QString, qint64> revokedTokens,
                        QHash<UserKey, qint64> cutoffs)
{
    const std::unique_lock lock(m_mutex);
    m_sessions = std::move(sessions);
    m_pending.clear();
    m_sessionsOfUser.clear();
    for (auto it = m_sessions.cbegin(); it != m_sessions.cend(); ++it) {
        if (!it->username.isEmpty())
            m_sessionsOfUser.insert(UserKey::foldedUsername(it->username), it.key());
    }
    m_revokedTokens = std::move(revokedTokens);
    m_cutoffs = std::move(cutoffs);
}

void AccessGuard::remember(const QString &sessionId, const SessionState &session) const
{
    m_sessions.insert(sessionId, session);
    if (!session.username.isEmpty())
        m_sessionsOfUser.insert(UserKey::foldedUsername(session.username), sessionId);
}

void AccessGuard::sessionOpened(const QString &sessionId, const SessionState &session)
{
    const std::unique_lock lock(m_mutex);
    remember(sessionId, session);
}

QStringList AccessGuard::liveSessionsOfLocked(const QString &username, const QString &deviceId) const
{
    QStringList live;
    const QString folded = UserKey::foldedUsername(username);
    for (auto it = m_sessionsOfUser.constFind(folded); it != m_sessionsOfUser.cend() && it.key() == folded; ++it) {
        const auto session = m_sessions.constFind(*it);
        if (session != m_sessions.cend() && !session->revoked && (deviceId.isEmpty() || session->deviceId == deviceId))
            live.append(*it);
    }
    return live;
}

QStringList AccessGuard::liveSessionsOf(const QString &username, const QString &deviceId) const
{
    const std::shared_lock lock(m_mutex);
    return liveSessionsOfLocked(username, deviceId);
}

QStringList AccessGuard::endSessionsOf(const QString &username, const QString &deviceId)
{
    const std::unique_lock lock(m_mutex);
    const QStringList live = liveSessionsOfLocked(username, deviceId);
    for (const auto &id : live) {
        m_sessions[id].revoked = true;
        m_pending.insert(id);
    }
    return live;
}

bool AccessGuard::endSession(const QString &sessionId)
{
    const std::unique_lock lock(m_mutex);
    const auto found = m_sessions.find(sessionId);
    if (found == m_sessions.end() || found->revoked)
        return false;
    found->revoked = true;
    m_pending.insert(sessionId);
    return true;
}

bool AccessGuard::isRevocationPending(const QString &sessionId) const
{
    const std::shared_lock lock(m_mutex);
    return m_pending.contains(sessionId);
}

QString AccessGuard::knownUsername(const QString &username) const
{
    const std::shared_lock lock(m_mutex);
    const QString folded = UserKey::foldedUsername(username);
    for (auto it = m_sessionsOfUser.constFind(folded); it != m_sessionsOfUser.cend() && it.key() == folded; ++it) {
        if (const auto session = m_sessions.constFind(*it); session != m_sessions.cend())
            return session->username;
    }
    return {};
}

void AccessGuard::sessionsEnded(const QStringList &sessionIds)
{
    const std::unique_lock lock(m_mutex);
    for (const auto &id : sessionIds) {
        m_sessions[id].revoked = true;
        m_pending.remove(id);
    }
}

void AccessGuard::accessTokenRevoked(const QString &jwtId, qint64 expiresAt)
{
    const std::unique_lock lock(m_mutex);
    m_revokedTokens.insert(jwtId, expiresAt);
}

void AccessGuard::revokedBefore(const UserKey &user, qint64 at)
{
    const std::unique_lock lock(m_mutex);
    qint64 &cutoff = m_cutoffs[user];
    cutoff = std::max(cutoff, at);
}

bool AccessGuard::isSessionEnded(const QString &sessionId) const
{
    const std::shared_lock lock(m_mutex);
    const auto found = m_sessions.constFind(sessionId);
    return found != m_sessions.cend() && found->revoked;
}

qint64 AccessGuard::cutoff(const UserKey &user) const
{
    const std::shared_lock lock(m_mutex);
    return m_cutoffs.value(user, 0);
}

void AccessGuard::purge(qint64 now)
{
    const std::unique_lock lock(m_mutex);
    m_revokedTokens.removeIf([now](const auto &entry) { return entry.value() < now; });
    // An ended session is kept as long as a token of it could still be presented.
    m_sessions.removeIf([now](const auto &entry) { return entry.value().absoluteExpiresAt < now; });
    m_sessionsOfUser.removeIf([this](const auto &entry) { return !m_sessions.contains(entry.value()); });
    m_pending.removeIf([this](const QString &id) { return !m_sessions.contains(id); });
}

std::optional<SessionError> AccessGuard::check(const AccessClaims &claims, qint64 now,
                                               const SessionLoader &loader) const
{
    std::optional<SessionState> session;
    {
        const std::shared_lock lock(m_mutex);
        // Only our own tokens are revoked one by one; another issuer's `jti` means nothing here.
        if (claims.local && !claims.jwtId.isEmpty() && m_revokedTokens.contains(claims.jwtId))
            return SessionError::SessionRevoked;
        // Tokens minted in the same second as the cut-off are refused too: whole seconds are
        // all `iat` carries. An external token without `iat` cannot show it came later.
        if (const auto cutoff = m_cutoffs.constFind(claims.user());
            cutoff != m_cutoffs.cend() && claims.issuedAt <= *cutoff)
            return SessionError::SessionRevoked;
        if (!claims.local)
            return std::nullopt; // an external issuer's token belongs to no session of ours
        if (const auto found = m_sessions.constFind(claims.sessionId); found != m_sessions.cend())
            session = *found;
    }
    if (!session && loader) {
        session = loader(claims.sessionId);
        if (session) {
            const std::unique_lock lock(m_mutex);
            // What was heard meanwhile (a revocation) is newer than what was read.
            if (const auto heard = m_sessions.constFind(claims.sessionId); heard != m_sessions.cend())
                session = *heard;
            else
                remember(claims.sessionId, *session);
        }
    }
    if (!session || session->revoked)
        return SessionError::SessionRevoked;
    if (now >= session->absoluteExpiresAt)
        return SessionError::SessionExpired;
    return std::nullopt;
}
