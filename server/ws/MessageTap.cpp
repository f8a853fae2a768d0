#include "ws/MessageTap.h"

#include <QDateTime>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTimerEvent>

using namespace Qt::StringLiterals;
using namespace std::chrono_literals;

namespace {
constexpr auto batchInterval = 100ms;

/// The first `maximum` bytes of `utf8`, not cutting a character in two.
QByteArray prefixOf(QByteArrayView utf8, qsizetype maximum)
{
    if (utf8.size() <= maximum)
        return utf8.toByteArray();
    qsizetype end = maximum;
    while (end > 0 && (static_cast<unsigned char>(utf8[end]) & 0xC0) == 0x80)
        --end;
    return utf8.first(end).toByteArray();
}
} // namespace

MessageTap::MessageTap(quint64 connectionId, QObject *parent)
    : QObject(parent)
    , m_connectionId(connectionId)
{
}

MessageTap::~MessageTap() = default;

void MessageTap::add(Watcher watcher)
{
    m_payloads = m_payloads || watcher.payloads;
    m_watchers.push_back(std::move(watcher));
}

bool MessageTap::remove(quint64 inspection, const QString &reason)
{
    const auto it = std::find_if(m_watchers.begin(), m_watchers.end(),
                                 [inspection](const Watcher &watcher) { return watcher.inspection == inspection; });
    if (it == m_watchers.end())
        return false;
    flush();
    const Watcher watcher = std::move(*it);
    m_watchers.erase(it);
    m_payloads = std::any_of(m_watchers.begin(), m_watchers.end(), [](const Watcher &w) { return w.payloads; });
    InspectionBatch last;
    last.ended = true;
    last.reason = reason;
    deliver(watcher, std::move(last));
    return true;
}

void MessageTap::record(bool outgoing, QByteArrayView utf8, QStringView type)
{
    if (m_pending.size() >= InspectionBatch::maximumMessages) {
        ++m_dropped;
        return;
    }
    InspectedMessage message;
    message.atMs = QDateTime::currentMSecsSinceEpoch();
    message.outgoing = outgoing;
    message.size = utf8.size();
    if (outgoing) // the server's own messages are objects with a "type"
        message.type = QJsonDocument::fromJson(utf8.toByteArray()).object().value("type"_L1).toString();
    else
        message.type = type.toString();
    // The client chose it, and it is shown even without payloads: a word, not a message.
    if (message.type.size() > InspectedMessage::maximumType)
        message.type = message.type.first(InspectedMessage::maximumType) + u'…';
    if (m_payloads) {
        const qsizetype budget = InspectionBatch::maximumPayloadBytes - m_pendingPayloadBytes;
        message.payload = prefixOf(utf8, std::clamp<qsizetype>(budget, 0, InspectedMessage::maximumPayload));
        message.truncated = message.payload.size() < utf8.size();
        m_pendingPayloadBytes += message.payload.size();
    }
    m_pending.append(std::move(message));
    if (m_timer == 0)
        m_timer = startTimer(batchInterval);
}

void MessageTap::timerEvent(QTimerEvent *event)
{
    if (event->timerId() != m_timer)
        return QObject::timerEvent(event);
    flush();
}

void MessageTap::flush()
{
    if (m_timer != 0)
        killTimer(std::exchange(m_timer, 0));
    if (m_pending.isEmpty() && m_dropped == 0)
        return;
    InspectionBatch batch;
    batch.messages = std::exchange(m_pending, {});
    batch.dropped = std::exchange(m_dropped, 0);
    m_pendingPayloadBytes = 0;
    for (const auto &watcher : m_watchers)
        deliver(watcher, batch);
}

void MessageTap::deliver(const Watcher &watcher, InspectionBatch batch) const
{
    batch.connectionId = m_connectionId;
    batch.payloads = watcher.payloads;
    if (!watcher.payloads) {
        for (auto &message : batch.messages) {
            message.payload.clear();
            message.truncated = false;
        }
    }
    watcher.sink(batch);
}

void MessageTap::end(int closeCode, const QString &reason)
{
    flush();
    for (const auto &watcher : std::exchange(m_watchers, {})) {
        InspectionBatch last;
        last.ended = true;
        last.closeCode = closeCode;
        last.reason = reason;
        deliver(watcher, std::move(last));
    }
}
