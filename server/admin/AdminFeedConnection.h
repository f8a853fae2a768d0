#pragma once

#include "admin/AdminTokens.h"
#include "ws/CloseCode.h"

#include <QByteArray>
#include <QDeadlineTimer>
#include <QJsonValue>
#include <QObject>
#include <QPointer>

#include <atomic>
#include <memory>

class AdminFeed;
class QTimer;
class WebSocketStream;

/// One admin's feed on the I/O thread that accepted it: writes what the AdminFeed posts, reads
/// the admin's actions (JSON, strictly), refuses what the token's scope does not allow, and
/// puts disconnections and revocations in effect here at once before the control thread
/// finishes them. A bad message is answered with an error and the feed goes on.
class AdminFeedConnection final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(AdminFeedConnection)

public:
    AdminFeedConnection(quint64 id, WebSocketStream *stream, AdminIdentity identity, QString remote,
                        QByteArray tokenHash, std::shared_ptr<std::atomic<bool>> alive, AdminFeed &feed,
                        QObject *parent = nullptr);
    ~AdminFeedConnection() override;

    void deliver(const QByteArray &utf8);
    /// A backup for the admin: `backup_part` messages as the peer takes them, then `answer`.
    /// `inFlight` is held until the last part is out (or the feed closes).
    void sendBackup(const QJsonValue &id, const QByteArray &backup, const QByteArray &answer,
                    std::shared_ptr<const void> inFlight);
    void close(WebSocketClose code, const QString &reason);

private:
    void handleText(const QByteArray &utf8);
    void sendError(const QJsonValue &id, const QString &error, const QString &description);
    void sendBackupParts();

    struct OutgoingBackup {
        QJsonValue id;
        QByteArray bytes;
        qint64 offset = 0;
        QByteArray answer; ///< the outcome, sent after the last part
        std::shared_ptr<const void> inFlight;
        qint64 queuedAfterLast = 0; ///< the stream's queue when the last parts were sent
        QDeadlineTimer stalled; ///< reset whenever the peer takes some
    };

    quint64 m_id;
    QPointer<WebSocketStream> m_stream;
    AdminIdentity m_identity;
    QString m_remote;
    QByteArray m_tokenHash;
    std::shared_ptr<std::atomic<bool>> m_alive;
    AdminFeed &m_feed;
    OutgoingBackup m_backup;
    QTimer *m_backupPacer = nullptr; ///< made with the first backup
};
