#include "AuditEvent.h"

#include "audit/AuditLog.h"

#include <QDateTime>
#include <QFileInfo>
#include <QSaveFile>

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

Result<qsizetype, QString> writeAuditExport(const QList<AuditEvent> &events, const QString &path)
{
    const auto format = path.endsWith(u".csv"_s, Qt::CaseInsensitive) ? AuditLog::ExportFormat::Csv
                                                                      : AuditLog::ExportFormat::JsonLines;
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return fail(u"cannot write %1: %2"_s.arg(QFileInfo(path).absoluteFilePath(), file.errorString()));
    file.write(AuditLog::exportText(events, format).toUtf8());
    if (!file.commit())
        return fail(u"cannot write %1: %2"_s.arg(QFileInfo(path).absoluteFilePath(), file.errorString()));
    return events.size();
}
