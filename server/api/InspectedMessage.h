#pragma once

#include <QByteArray>
#include <QList>
#include <QMetaType>
#include <QString>

/// One message of an inspected connection as it passed (ServerFacade::inspectConnection):
/// what the inspector shows. The payload is there only when the server allows it
/// (`inspect_payloads`), and only its first maximumPayload bytes.
struct InspectedMessage {
    static constexpr qsizetype maximumPayload = 4096;
    /// A "type" is a short word; a client's longer one is cut here (it is the client's text,
    /// shown even when payloads are not).
    static constexpr qsizetype maximumType = 32;

    qint64 atMs = 0; ///< when it passed (ms since the epoch)
    bool outgoing = false; ///< from the server to the client
    QString type; ///< its "type" member ("sync", "welcome", …); empty when it has none
    qint64 size = 0; ///< bytes of its text
    QByteArray payload; ///< its text (UTF-8), cut to maximumPayload; empty when not allowed
    bool truncated = false; ///< the payload was cut
};
Q_DECLARE_METATYPE(InspectedMessage)

/// What an inspected connection passed since the last batch (at most every 100 ms), or its end.
struct InspectionBatch {
    quint64 connectionId = 0;
    QList<InspectedMessage> messages; ///< oldest first
    /// Messages that passed but are not in `messages`: more than an inspector can be shown
    /// (InspectionBatch::maximumMessages a batch).
    qint64 dropped = 0;
    bool payloads = false; ///< whether the server shows payloads (inspect_payloads)
    /// The inspection is over: the connection closed (`closeCode` set), or it was stopped.
    bool ended = false;
    int closeCode = 0;
    QString reason; ///< why it ended, in words

    static constexpr qsizetype maximumMessages = 200;
    /// Payload bytes a batch carries at most; the messages past it come without theirs
    /// (`truncated`), so that a flood of large messages cannot swamp the watcher's feed.
    static constexpr qsizetype maximumPayloadBytes = 256 * 1024;
};
Q_DECLARE_METATYPE(InspectionBatch)
