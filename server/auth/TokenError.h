#pragma once

#include <QLatin1StringView>

/// Why a token was refused, precise enough to log and count; never shown with the token itself.
enum class TokenError {
    TooLarge,
    Malformed,
    BadEncoding,
    BadHeader,
    DuplicateMember,
    AlgorithmNone,
    UnsupportedAlgorithm,
    UnsupportedCritical,
    UnknownKey,
    AlgorithmMismatch,
    BadSignature,
    BadClaims,
    MissingClaim,
    InvalidClaim,
    WrongType,
    WrongIssuer,
    WrongAudience,
    Expired,
    NotYetValid,
    IssuedInFuture,
    LifetimeTooLong,
};

/// A stable snake_case code ("token_expired") for logs, metrics and API errors.
QLatin1StringView tokenErrorCode(TokenError error);
