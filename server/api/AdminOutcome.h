#pragma once

#include <QMetaType>
#include <QString>

/// What an administrative action did, as the admin API and the console report it: how many
/// things it touched, how many live connections it closed, and how long that took.
struct AdminOutcome {
    QString action; ///< the audit type, e.g. "admin_disconnected_user"
    int affected = 0; ///< connections closed, sessions revoked or messages delivered
    int closed = 0; ///< live connections closed by a revocation
    double elapsedMs = 0;
    QString error; ///< empty when the action was carried out
    /// A revocation in force that the store could not save yet (why); it is saved again until
    /// it is. Such an outcome is not acknowledged as done: error() says so too.
    QString unsaved;

    static AdminOutcome of(QString action, int affected, int closed = 0)
    {
        AdminOutcome outcome;
        outcome.action = std::move(action);
        outcome.affected = affected;
        outcome.closed = closed;
        return outcome;
    }
    bool ok() const { return error.isEmpty(); }
};
Q_DECLARE_METATYPE(AdminOutcome)
