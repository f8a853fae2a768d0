#pragma once

#include "AuditEvent.h"
#include "ConnectionLimits.h"
#include "ServerStatistics.h"
#include "SessionPolicy.h"
#include "SessionRecord.h"
#include "SigningKeyInfo.h"
#include "User.h"

#include <QJsonObject>
#include <QList>
#include <QMetaType>

/// Everything the console shows apart from live connections, as of one moment: the base that
/// the coalesced change signals then keep current.
struct ConsoleSnapshot {
    QList<User> users;
    QList<SessionRecord> sessions; ///< live ones and those revoked recently
    SessionPolicy policy;
    ConnectionLimits limits;
    QList<SigningKeyInfo> signingKeys;
    QJsonObject jwks;
    ServerStatistics statistics;
    QList<AuditEvent> recentAudit; ///< newest first
};
Q_DECLARE_METATYPE(ConsoleSnapshot)
