#pragma once

#include <QMetaType>
#include <QString>

/// Which audit events to read, newest first; empty members match everything.
struct AuditFilter {
    qint64 sinceMs = 0;
    QString actor;
    QString username;
    QString type;
    int limit = 1000;
    qint64 untilMs = 0; ///< 0: up to now
};
Q_DECLARE_METATYPE(AuditFilter)
