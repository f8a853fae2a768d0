#pragma once

#include "ServerFacade.h"

#include <QHash>
#include <QNetworkAccessManager>
#include <QPointer>
#include <QSet>
#include <QSslConfiguration>
#include <QTimer>
#include <QWebSocket>

/// A session server elsewhere, as the console sees it: its admin feed (/admin/ws, docs/api.md)
/// over ws:// or wss://, with an admin token. The feed's snapshot and changes become the same
/// signals the embedded server emits, and the console's actions become the feed's actions,
/// each answered by its outcome. A lost feed is said so and retried with a growing pause
/// (1 s to 30 s); the views then recover from the new snapshot. The audit log is searched and
/// exported through the admin API's GET /admin/audit, with the same token; an export is written
/// on this computer.
class RemoteServer final : public ServerFacade {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RemoteServer)

public:
    /// `url`: http(s)://host:port of the server; `trusted`: certificates to trust for TLS
    /// (a lab's self-signed one) on top of the system's.
    RemoteServer(QUrl url, QByteArray adminToken, QList<QSslCertificate> trusted = {}, QObject *parent = nullptr);
    ~RemoteServer() override;

    void start() override;
    void stop() override;
    ServerState state() const override { return m_state; }
    QString errorString() const override { return m_errorString; }
    QString listenAddress() const override;
    QUrl url() const override { return m_url; }
    QByteArray certificateChain() const override { return m_certificateChain; }
    QString dataDirectory() const override { return {}; }
    bool isRemote() const override { return true; }
    bool mayOperate() const override { return m_scope != QStringLiteral("viewer"); }
    bool mayAdminister() const override { return m_scope == QStringLiteral("full"); }
    /// The token's scope, from the feed's hello: "viewer", "operator" or "full".
    QString scope() const { return m_scope; }
    /// What the feed has brought since this object was made: its text messages and their bytes
    /// (the UTF-8 payloads, without WebSocket framing). gatehouse-consolebench reports them.
    qint64 messagesReceived() const { return m_messagesReceived; }
    qint64 bytesReceived() const { return m_bytesReceived; }
    /// The server refused the admin token (401, or 4003 once revoked): it is not tried again.
    bool tokenRefused() const { return m_tokenRefused; }

    void requestConnections() override;
    void requestSnapshot() override;

    void disconnectConnection(quint64 connectionId, QObject *context, OutcomeHandler done) override;
    void disconnectDevice(const UserKey &user, const QString &deviceId, QObject *context, OutcomeHandler done) override;
    void disconnectUser(const UserKey &user, QObject *context, OutcomeHandler done) override;
    void revokeSession(const QString &sessionId, QObject *context, OutcomeHandler done) override;
    void revokeUser(const UserKey &user, QObject *context, OutcomeHandler done) override;
    void revokeIssuedBefore(const UserKey &user, QObject *context, OutcomeHandler done) override;
    void reloadTls(QObject *context, OutcomeHandler done) override;
    void broadcast(const UserKey &user, const QJsonValue &payload, QObject *context, OutcomeHandler done) override;

    void setPolicy(const SessionPolicy &policy, QObject *context, ErrorHandler done) override;
    void setLimits(const ConnectionLimits &limits, QObject *context, ErrorHandler done) override;
    void addUser(const QString &username, const QString &displayName, const QByteArray &password,
                 const QStringList &roles, QObject *context, ErrorHandler done) override;
    void setUserEnabled(const QString &username, bool enabled, QObject *context, ErrorHandler done) override;
    void setPassword(const QString &username, const QByteArray &password, QObject *context, ErrorHandler done) override;
    void setRoles(const QString &username, const QStringList &roles, QObject *context, ErrorHandler done) override;
    void rotateSigningKey(QObject *context, ErrorHandler done) override;

    void queryAudit(const AuditFilter &filter, QObject *context,
                    std::function<void(const QList<AuditEvent> &events)> done) override;
    void verifyAudit(QObject *context, std::function<void(const AuditVerification &result)> done) override;
    void exportAudit(const AuditFilter &filter, const QString &path, QObject *context,
                     std::function<void(qsizetype written, const QString &error)> done) override;

    void inspectConnection(quint64 connectionId, QObject *context, OutcomeHandler done) override;
    void stopInspecting(quint64 connectionId) override;

    /// With a full token: the server makes the backup and sends it over the feed, in parts,
    /// and it is written here. Restores are for the server's computer.
    QString backupUnavailableReason() const override;
    QString restoreUnavailableReason() const override;
    void backUp(const QString &path, const QByteArray &passphrase, QObject *context,
                std::function<void(const Result<QString, QString> &written)> done) override;
    void checkBackup(const QString &path, const QByteArray &passphrase, QObject *context,
                     std::function<void(const Result<BackupSummary, QString> &summary)> done) override;
    void restoreBackup(const QString &path, const QByteArray &passphrase, QObject *context,
                       std::function<void(const Result<QString, QString> &restored)> done) override;

    QString actor() const override { return m_actor; }

private:
    struct Pending {
        QPointer<QObject> context;
        std::function<void(const QJsonObject &outcome)> done;
    };

    void connectFeed();
    void handleMessage(const QString &text);
    void handleDisconnected();
    void setState(ServerState state, const QString &error = {});
    /// Sends an action; `done` gets its outcome (or a made-up one when the feed is lost first).
    /// Sends an action; `done` gets its outcome. Returns the action's id.
    QString act(QJsonObject action, QObject *context, std::function<void(const QJsonObject &outcome)> done);
    void actFor(QJsonObject action, QObject *context, OutcomeHandler done);
    void actForError(QJsonObject action, QObject *context, ErrorHandler done);
    static QJsonObject userMembers(const UserKey &user);
    /// GET /admin/audit with the feed's token: the events, or why not.
    void fetchAudit(const AuditFilter &filter, QObject *context,
                    std::function<void(const QList<AuditEvent> &events, const QString &error)> done);

    QUrl m_url;
    QByteArray m_adminToken;
    QSslConfiguration m_ssl;
    QByteArray m_certificateChain;
    QWebSocket m_socket;
    QNetworkAccessManager m_network;
    QTimer m_retry;
    int m_retryMs = 1000;
    bool m_stopping = false;
    bool m_hello = false;
    bool m_tokenRefused = false;
    ServerState m_state = ServerState::Stopped;
    QString m_errorString;
    QString m_actor;
    QString m_scope;
    quint64 m_nextAction = 1;
    QHash<QString, Pending> m_pending;
    /// A backup coming in parts, by its action's id; empty once a part was out of order.
    struct IncomingBackup {
        QByteArray bytes;
        bool broken = false;
    };
    QHash<QString, IncomingBackup> m_incomingBackups;
    QHash<quint64, ConnectionInfo> m_connections;
    QSet<quint64> m_inspecting; ///< the connections this feed inspects: they end with it
    std::optional<ConsoleSnapshot> m_snapshot;
    qint64 m_messagesReceived = 0;
    qint64 m_bytesReceived = 0;
};
