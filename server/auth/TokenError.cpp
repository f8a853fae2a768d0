#include "auth/TokenError.h"

using namespace Qt::StringLiterals;

QLatin1StringView tokenErrorCode(TokenError error)
{
    switch (error) {
    case TokenError::TooLarge:
        return "token_too_large"_L1;
    case TokenError::Malformed:
        return "token_malformed"_L1;
    case TokenError::BadEncoding:
        return "bad_base64url"_L1;
    case TokenError::BadHeader:
        return "bad_header"_L1;
    case TokenError::DuplicateMember:
        return "duplicate_member"_L1;
    case TokenError::AlgorithmNone:
        return "alg_none"_L1;
    case TokenError::UnsupportedAlgorithm:
        return "unsupported_alg"_L1;
    case TokenError::UnsupportedCritical:
        return "unsupported_crit"_L1;
    case TokenError::UnknownKey:
        return "unknown_kid"_L1;
    case TokenError::AlgorithmMismatch:
        return "alg_mismatch"_L1;
    case TokenError::BadSignature:
        return "bad_signature"_L1;
    case TokenError::BadClaims:
        return "bad_claims"_L1;
    case TokenError::MissingClaim:
        return "missing_claim"_L1;
    case TokenError::InvalidClaim:
        return "invalid_claim"_L1;
    case TokenError::WrongType:
        return "wrong_typ"_L1;
    case TokenError::WrongIssuer:
        return "wrong_issuer"_L1;
    case TokenError::WrongAudience:
        return "wrong_audience"_L1;
    case TokenError::Expired:
        return "token_expired"_L1;
    case TokenError::NotYetValid:
        return "token_not_yet_valid"_L1;
    case TokenError::IssuedInFuture:
        return "issued_in_future"_L1;
    case TokenError::LifetimeTooLong:
        return "token_lifetime_too_long"_L1;
    }
    return "unknown"_L1;
}
