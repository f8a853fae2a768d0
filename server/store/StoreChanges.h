#pragma once

#include "Result.h"

#include <QList>
#include <QString>

class Database;

/// One change another process (the command line) made to the store that a running server
/// must act on: a user's rights or password, or the signing keys.
struct StoreChange {
    enum class Kind { User, Keys };
    qint64 seq = 0;
    Kind kind = Kind::User;
    QString subject; ///< the username, for a user
    bool password = false; ///< a new password: the user's sessions end
    QString actor; ///< "cli:<unix user>"
};

/// The outbox of such changes (table store_changes): the command line records each change in
/// it, the running server's StoreFollower reads what follows the last one it saw and acts as
/// its own console would. A server does not record its own changes: it acts on them already.
/// Rows older than a day are dropped when one is recorded.
namespace StoreChanges {
Result<bool, QString> record(Database &database, StoreChange::Kind kind, const QString &subject, bool password,
                             const QString &actor, qint64 now);
/// Every change after `seq`, oldest first.
Result<QList<StoreChange>, QString> since(Database &database, qint64 seq);
/// The last change's seq (0 when there is none).
qint64 latest(Database &database);
} // namespace StoreChanges
