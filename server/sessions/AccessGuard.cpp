#include "sessions/AccessGuard.h"

#include <mutex>

void AccessGuard::reset(QHash<QString, SessionState> sessions, QHash<QString, qint64> revokedTokens,
                        QHash<UserKey, qint64> cutoffs)
{
    const std::unique_lock lock(m_mutex);
    m_sessions = std::move(sessions);
    m_revokedTokens = std::move(revokedTokens);
    m_cutoffs = std::move(cutoffs);
}

void AccessGuard::sessionOpened(const QString &sessionId, qint64 absoluteExpiresAt)
{
    const std::unique_lock lock(m_mutex);
    m_sessions.insert(sessionId, { absoluteExpiresAt, false });
}

void AccessGuard::sessionsEnded(const QStringList &sessionIds)
{
    const std::unique_lock lock(m_mutex);
    for (const auto &id : sessionIds)
        m_sessions[id].revoked = true;
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
                m_sessions.insert(claims.sessionId, *session);
        }
    }
    if (!session || session->revoked)
        return SessionError::SessionRevoked;
    if (now >= session->absoluteExpiresAt)
        return SessionError::SessionExpired;
    return std::nullopt;
}
