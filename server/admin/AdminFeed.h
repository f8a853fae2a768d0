#pragma once

#include "admin/AdminService.h"
#include "admin/AdminTokens.h"

#include <QHash>
#include <QObject>
#include <QPointer>

#include <atomic>
#include <functional>
#include <memory>

class AdminFeedConnection;
class WebSocketStream;

/// The live admin feed (/admin/ws), on the control thread: what the embedded console receives
/// (a snapshot, then the coalesced changes), encoded once and posted to every admin's
/// connection on its I/O thread; and the admins' actions, each checked against the token's
/// scope, in effect on the I/O thread that read it (as the admin API's) and answered with its
/// outcome. The protocol is in docs/api.md ("Admin feed").
class AdminFeed final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(AdminFeed)

public:
    static constexpr int maximumFeeds = 64;
    using EffectTaker = std::function<std::shared_ptr<const AdminEffect>(const AdminCommand &)>;

    /// `takeEffect`: AdminService::takeEffect while the server runs (any thread).
    explicit AdminFeed(EffectTaker takeEffect, QObject *parent = nullptr);
    ~AdminFeed() override;

    /// The service the actions and snapshots come from, once it exists (control thread).
    void setAdmin(AdminService *admin);
    /// Feeds close (1001) and no more are taken; before the I/O threads end.
    void stop();

    /// Any thread: whether another feed may open (a place is taken; release() gives it back).
    bool reserve();
    void release();

    /// On an I/O thread: `stream` (upgraded, corked) becomes a feed of `identity`'s, with
    /// `context` an object of that thread that outlives its connections (its registry).
    void open(WebSocketStream *stream, const AdminIdentity &identity, const QByteArray &tokenHash,
              const QString &remote, QObject *context);

    /// The tokens in force changed: feeds whose token is gone close at once (4003).
    void tokensChanged(const std::shared_ptr<const AdminTokenSet> &tokens);
    /// The tokens in force (any thread), against which feeds check theirs again before they act.
    void setTokens(const AdminTokenHolder *tokens) { m_tokens = tokens; }
    /// Any thread: whether the token with this hash is still in force.
    bool tokenInForce(const QByteArray &tokenHash) const;

    // The console's feed, from the runtime's signals (control thread).
    void publishConnectionsChanged(const QList<ConnectionInfo> &opened, const QList<ConnectionInfo> &closed);
    void publishConnections(const QList<ConnectionInfo> &connections);
    void publishUsers(const QList<User> &users);
    void publishSessions(const QList<SessionRecord> &sessions);
    void publishAudit(const QList<AuditEvent> &events);
    void publishPolicy(const SessionPolicy &policy);
    void publishLimits(const ConnectionLimits &limits);
    void publishSigningKeys(const QList<SigningKeyInfo> &keys, const QJsonObject &jwks);
    void publishStatistics(const ServerStatistics &statistics);

Q_SIGNALS:
    /// A new feed wants the live connections (the runtime gathers them from the I/O threads).
    void connectionsWanted();

private:
    friend class AdminFeedConnection;

    struct Subscriber {
        QPointer<AdminFeedConnection> connection; ///< only dereferenced on its thread
        /// False once the connection is gone (any thread): a feed that closed before it was
        /// subscribed costs no snapshot.
        std::shared_ptr<std::atomic<bool>> alive;
        bool wantsConnections = true; ///< the gathered connections go to it once
        QObject *context = nullptr; ///< of its thread
        QByteArray tokenHash;
        AdminIdentity identity;
        QString remote;
    };

    /// Control thread: a feed's first messages, then it is published to.
    void subscribe(quint64 id, Subscriber subscriber);
    void unsubscribe(quint64 id);
    void publish(const QByteArray &message);
    void post(const Subscriber &subscriber, std::function<void(AdminFeedConnection &)> call) const;
    /// Control thread: carries out what a feed asked, and posts the outcome back to it.
    /// What took effect is finished even when the feed closed meanwhile.
    void perform(quint64 id, const AdminActor &actor, const QJsonObject &action,
                 std::shared_ptr<const AdminEffect> effect);
    /// The `backup` action: made off the control thread, then carried to the feed in parts
    /// (AdminFeedConnection::sendBackup) and answered.
    void backUp(quint64 id, const AdminActor &actor, const QJsonObject &action);
    std::shared_ptr<const AdminEffect> takeEffect(const AdminCommand &command) const { return m_takeEffect(command); }

    EffectTaker m_takeEffect;
    /// Held by the feed a backup is being sent to, until it is out: one at a time.
    std::weak_ptr<const void> m_backupInFlight;
    const AdminTokenHolder *m_tokens = nullptr;
    /// The hello-less snapshot message as of the last change, shared by feeds that open
    /// meanwhile; any change published empties it.
    QByteArray m_snapshotMessage;
    bool m_connectionsAsked = false; ///< a gathering of the connections is under way
    AdminService *m_admin = nullptr;
    QHash<quint64, Subscriber> m_subscribers;
    std::atomic<int> m_open { 0 };
    std::atomic<quint64> m_nextId { 1 };
    std::atomic<bool> m_stopped { false };
};
