#pragma once

#include "AuditEvent.h"
#include "ConnectionInfo.h"

#include <QList>

#include <optional>

/// The audit event for connections closed because their peer stopped answering pings (4008,
/// PingSweep): one per batch a registry reports, never a synced write per connection when a
/// whole network drops at once.
namespace SilentPeerAudit {
/// `connection_timed_out` for the 4008 closes among `closed`, or nothing if there are none. The
/// user, device, session and address are named when the batch shares them (a laptop's tabs);
/// `detail` has the count and up to 100 of the connections.
std::optional<AuditEvent> eventFor(const QList<ConnectionInfo> &closed);
} // namespace SilentPeerAudit
