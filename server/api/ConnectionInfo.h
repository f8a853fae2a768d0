#pragma once

#include "UserKey.h"

#include <QMetaType>
#include <QString>

/// What is known of one live WebSocket connection; a value, safe to hand to other threads, and
/// what the console sees through SessionServer.
struct ConnectionInfo {
    quint64 id = 0;
    UserKey user; ///< our user, or a user of a trusted external issuer
    QString deviceId;
    QString sessionId;
    QString remoteAddress;
    QString userAgent;
    qint64 connectedAtMs = 0;
    qint64 lastActivityAtMs = 0;
    qint64 accessExpiresAt = 0; ///< the current access token's `exp` (seconds)
    bool viaCookie = false; ///< authenticated by the browser's session cookie (2-Cookie Handoff)
    quint64 messagesIn = 0;
    quint64 messagesOut = 0;
    quint64 bytesIn = 0;
    quint64 bytesOut = 0;
    /// Once closed: the close code it ended with (sent, received, or 1006 when it just broke).
    int closeCode = 0;
    qint64 closedAtMs = 0;
};
Q_DECLARE_METATYPE(ConnectionInfo)
