#pragma once

#include <QLatin1StringView>

enum class SessionError {
    BadCredentials,
    UserDisabled,
    InvalidDevice,
    InvalidGrant, ///< unknown, malformed or expired refresh token
    RefreshTokenReused, ///< RFC 9700 §4.14.2: the whole session was revoked
    SessionRevoked,
    SessionExpired,
    NoSigningKey,
    StorageFailed,
    Busy, ///< the password checks' queue is full: try again shortly
};

/// The stable code a client sees ("session_revoked", "invalid_grant", …).
QLatin1StringView sessionErrorCode(SessionError error);
