#pragma once

#include "InspectedMessage.h"

#include <QObject>

#include <functional>
#include <vector>

/// The inspectors' view of one connection (LiveConnection::tap): made when the first inspector
/// opens and gone when the last closes, so that a connection no one inspects records nothing
/// and pays one null test per message. Lives on the connection's I/O thread. What passes is
/// gathered and handed to each watcher's sink at most every 100 ms, at most
/// InspectionBatch::maximumMessages at a time (the rest is counted as dropped).
class MessageTap final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(MessageTap)

public:
    /// On the tap's thread; the sink posts the batch where it is wanted.
    using Sink = std::function<void(const InspectionBatch &batch)>;
    struct Watcher {
        quint64 inspection = 0;
        bool payloads = false; ///< whether its batches carry the payloads
        Sink sink;
    };

    explicit MessageTap(quint64 connectionId, QObject *parent = nullptr);
    ~MessageTap() override;

    void add(Watcher watcher);
    /// The watcher's last batch is sent, marked ended with `reason`; false when it was not here.
    bool remove(quint64 inspection, const QString &reason);
    bool isEmpty() const { return m_watchers.empty(); }

    /// A message passed. `type` is the incoming message's, already read; for an outgoing one
    /// it is read here.
    void record(bool outgoing, QByteArrayView utf8, QStringView type = {});
    /// The connection closed: what is gathered goes, then each watcher's inspection ends.
    void end(int closeCode, const QString &reason);

private:
    void timerEvent(QTimerEvent *event) override;
    void flush();
    void deliver(const Watcher &watcher, InspectionBatch batch) const;

    quint64 m_connectionId;
    std::vector<Watcher> m_watchers;
    QList<InspectedMessage> m_pending;
    qint64 m_dropped = 0;
    qsizetype m_pendingPayloadBytes = 0; ///< of m_pending, against InspectionBatch::maximumPayloadBytes
    bool m_payloads = false; ///< some watcher wants them
    int m_timer = 0;
};
