#include "AuditEvent.h"

#include <QDateTime>

using namespace Qt::StringLiterals;

QJsonObject AuditEvent::toJson() const
{
    return QJsonObject { { "id"_L1, id },
                         { "at_ms"_L1, atMs },
                         { "time"_L1, QDateTime::fromMSecsSinceEpoch(atMs, Qt::UTC).toString(Qt::ISODateWithMs) },
                         { "type"_L1, type },
                         { "actor"_L1, actor },
                         { "username"_L1, username },
                         { "device_id"_L1, deviceId },
                         { "session_id"_L1, sessionId },
                         { "remote_address"_L1, remoteAddress },
                         { "detail"_L1, detail },
                         { "previous_hash"_L1, previousHash },
                         { "hash"_L1, hash } };
}
