#pragma once

#include "AuditEvent.h"
#include "AuditVerification.h"
#include "ConnectionInfo.h"
#include "ConsoleSnapshot.h"
#include "InspectedMessage.h"
#include "Result.h"

#include <QJsonArray>
#include <QJsonObject>

/// The admin feed's values in JSON (docs/api.md, "Admin feed"), both ways: the server writes
/// them, a remote console reads them back into the same structs its views take from the
/// embedded server. Reading is strict about types: a member of the wrong type fails the whole
/// value with a sentence naming it; a missing member keeps the struct's default (older and
/// newer servers add and drop members), and unknown members are ignored.
namespace FeedCodec {
QJsonObject toJson(const User &user);
QJsonObject toJson(const SessionRecord &session);
QJsonObject toJson(const ConnectionInfo &connection);
QJsonObject toJson(const SigningKeyInfo &key);
QJsonObject toJson(const ServerStatistics &statistics);
QJsonObject toJson(const ConsoleSnapshot &snapshot);
/// A whole feed message: {"type":"inspected", …}, or {"type":"inspection_ended", …} at its end.
QJsonObject toJson(const InspectionBatch &batch);
QJsonObject toJson(const AuditVerification &verification);

Result<User, QString> userFrom(const QJsonObject &object);
Result<SessionRecord, QString> sessionFrom(const QJsonObject &object);
Result<ConnectionInfo, QString> connectionFrom(const QJsonObject &object);
Result<SigningKeyInfo, QString> signingKeyFrom(const QJsonObject &object);
Result<ServerStatistics, QString> statisticsFrom(const QJsonObject &object);
Result<AuditEvent, QString> auditEventFrom(const QJsonObject &object);
Result<ConsoleSnapshot, QString> snapshotFrom(const QJsonObject &object);
Result<InspectionBatch, QString> inspectionBatchFrom(const QJsonObject &object);
Result<AuditVerification, QString> verificationFrom(const QJsonObject &object);

template<typename T> QJsonArray arrayOf(const QList<T> &values)
{
    QJsonArray array;
    for (const auto &value : values)
        array.append(toJson(value));
    return array;
}
inline QJsonArray arrayOf(const QList<AuditEvent> &events)
{
    QJsonArray array;
    for (const auto &event : events)
        array.append(event.toJson());
    return array;
}
/// Each element read with `read`; the first that fails fails the list, saying where.
template<typename T>
Result<QList<T>, QString> listFrom(const QJsonValue &value, Result<T, QString> (*read)(const QJsonObject &))
{
    if (!value.isArray())
        return fail(QStringLiteral("not a list"));
    QList<T> values;
    const QJsonArray array = value.toArray();
    values.reserve(array.size());
    for (qsizetype i = 0; i < array.size(); ++i) {
        if (!array[i].isObject())
            return fail(QStringLiteral("item %1 is not an object").arg(i));
        auto read1 = read(array[i].toObject());
        if (!read1)
            return fail(QStringLiteral("item %1: %2").arg(i).arg(read1.error()));
        values.append(std::move(read1).value());
    }
    return values;
}
} // namespace FeedCodec
