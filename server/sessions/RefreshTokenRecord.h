#pragma once

#include <QString>

/// One refresh token of a family, kept only as its SHA-256 so a database leak yields none.
struct RefreshTokenRecord {
    QString tokenHash;
    QString sessionId;
    int generation = 0;
    qint64 issuedAt = 0;
    qint64 expiresAt = 0;
    qint64 usedAt = 0; ///< set when it was rotated; presenting it again is reuse
};
