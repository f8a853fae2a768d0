#pragma once

#include <QJsonObject>
#include <QMetaType>
#include <QString>

/// One thing that happened, as it is kept in the audit chain.
struct AuditEvent {
    qint64 id = 0; ///< assigned on append
    qint64 atMs = 0; ///< Unix milliseconds, assigned on append
    QString type; ///< "login_succeeded", "refresh_token_reused", "session_revoked", …
    QString actor; ///< who did it: a username, "admin:<name>", or "system"
    QString username; ///< whose identity it concerns
    QString deviceId;
    QString sessionId;
    QString remoteAddress;
    QJsonObject detail;
    QString previousHash;
    QString hash;

    /// As the admin API returns it and the JSON-lines export writes it.
    QJsonObject toJson() const;
};
Q_DECLARE_METATYPE(AuditEvent)

#include "Result.h"

#include <QList>

/// Writes `events` to `path` as an audit export: CSV when it ends in ".csv", else JSON lines,
/// with the chain hashes (AuditLog::exportText), replacing the file whole. The number written,
/// or why not, in words. The embedded server writes on its thread, an attached console here.
Result<qsizetype, QString> writeAuditExport(const QList<AuditEvent> &events, const QString &path);
