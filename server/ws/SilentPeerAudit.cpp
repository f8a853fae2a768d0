#include "ws/SilentPeerAudit.h"

#include "ws/CloseCode.h"

#include <QJsonArray>

#include <algorithm>

using namespace Qt::StringLiterals;

namespace {
constexpr qsizetype listedAtMost = 100;
} // namespace

namespace SilentPeerAudit {

std::optional<AuditEvent> eventFor(const QList<ConnectionInfo> &closed)
{
    QList<const ConnectionInfo *> timedOut;
    for (const ConnectionInfo &info : closed) {
        if (info.closeCode == int(CloseCode::pingTimeout))
            timedOut.append(&info);
    }
    if (timedOut.isEmpty())
        return std::nullopt;
    const auto allShare = [&](auto member) {
        return std::all_of(timedOut.cbegin(), timedOut.cend(),
                           [&](const ConnectionInfo *info) { return info->*member == timedOut.first()->*member; });
    };
    AuditEvent event;
    event.type = u"connection_timed_out"_s;
    event.actor = u"system"_s;
    if (allShare(&ConnectionInfo::user)) {
        event.username = timedOut.first()->user.toString();
        if (allShare(&ConnectionInfo::deviceId))
            event.deviceId = timedOut.first()->deviceId;
        if (allShare(&ConnectionInfo::sessionId))
            event.sessionId = timedOut.first()->sessionId;
    }
    if (allShare(&ConnectionInfo::remoteAddress))
        event.remoteAddress = timedOut.first()->remoteAddress;
    QJsonArray listed;
    for (const ConnectionInfo *info : timedOut.first(std::min(timedOut.size(), listedAtMost)))
        listed.append(QJsonObject { { "connection"_L1, qint64(info->id) },
                                    { "user"_L1, info->user.toString() },
                                    { "device_id"_L1, info->deviceId },
                                    { "remote_address"_L1, info->remoteAddress } });
    event.detail = QJsonObject { { "close_code"_L1, int(CloseCode::pingTimeout) },
                                 { "count"_L1, qint64(timedOut.size()) },
                                 { "connections"_L1, listed } };
    return event;
}

} // namespace SilentPeerAudit
