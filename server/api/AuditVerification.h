#pragma once

#include <QMetaType>
#include <QString>

/// The result of walking the audit hash chain from the first event to the kept head.
struct AuditVerification {
    bool intact = false;
    qint64 events = 0; ///< events checked when intact
    qint64 brokenAt = 0; ///< the first event that does not check out (0: the head or the table)
    QString reason;
};
Q_DECLARE_METATYPE(AuditVerification)
