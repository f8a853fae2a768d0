#include "admin/AdminFeedConnection.h"

#include "admin/AdminFeed.h"
#include "auth/StrictJson.h"
#include "ws/WebSocketStream.h"

#include <QDeadlineTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QSet>
#include <QTimer>

#include <cmath>

using namespace Qt::StringLiterals;

std::optional<AdminCommand> adminFeedCommandOf(const QJsonObject &action);

namespace {
constexpr qsizetype maximumMemberLength = 256;
/// A backup goes out in parts of this many bytes (a third more in base64), a part whenever
/// less than backupQueueTarget waits unsent, looked at every backupPartInterval.
constexpr qsizetype backupPartSize = 192 * 1024;
constexpr qint64 backupQueueTarget = 1024 * 1024;
constexpr auto backupPartInterval = std::chrono::milliseconds(2);
constexpr int backupPartsPerWake = 2;
/// A backup whose peer takes nothing for this long is abandoned, and its feed closed.
constexpr auto backupStallLimit = std::chrono::seconds(60);

/// The scope each action needs; nothing for an action there is not.
std::optional<AdminScope> scopeOf(const QString &action)
{
    static const QSet<QString> operatorActions {
        u"disconnect_connection"_s, u"disconnect_device"_s, u"disconnect_user"_s, u"revoke_session"_s,
        u"revoke_user"_s,           u"revoke_before"_s,     u"broadcast"_s
    };
    static const QSet<QString> fullActions { u"set_policy"_s, u"set_limits"_s,         u"reload_tls"_s,
                                             u"add_user"_s,   u"set_user_enabled"_s,   u"set_password"_s,
                                             u"set_roles"_s,  u"rotate_signing_key"_s, u"backup"_s };
    static const QSet<QString> viewerActions { u"inspect"_s, u"stop_inspecting"_s, u"verify_audit"_s };
    if (viewerActions.contains(action))
        return AdminScope::Viewer;
    if (operatorActions.contains(action))
        return AdminScope::Operator;
    if (fullActions.contains(action))
        return AdminScope::Full;
    return std::nullopt;
}

/// The members each action takes, and which of them it needs.
struct Members {
    QStringList required;
    QStringList optional;
};

const QHash<QString, Members> &membersOf()
{
    static const QHash<QString, Members> members {
        { u"disconnect_connection"_s, { { u"connection"_s }, {} } },
        { u"disconnect_device"_s, { { u"user"_s, u"device"_s }, { u"issuer"_s } } },
        { u"disconnect_user"_s, { { u"user"_s }, { u"issuer"_s } } },
        { u"revoke_session"_s, { { u"session"_s }, {} } },
        { u"revoke_user"_s, { { u"user"_s }, {} } },
        { u"revoke_before"_s, { { u"user"_s }, { u"issuer"_s } } },
        { u"broadcast"_s, { { u"payload"_s }, { u"user"_s, u"issuer"_s } } },
        { u"set_policy"_s, { { u"policy"_s }, {} } },
        { u"set_limits"_s, { { u"limits"_s }, {} } },
        { u"reload_tls"_s, { {}, {} } },
        { u"inspect"_s, { { u"connection"_s }, {} } },
        { u"stop_inspecting"_s, { { u"connection"_s }, {} } },
        { u"add_user"_s, { { u"username"_s, u"password"_s }, { u"display_name"_s, u"roles"_s } } },
        { u"set_user_enabled"_s, { { u"username"_s, u"enabled"_s }, {} } },
        { u"set_password"_s, { { u"username"_s, u"password"_s }, {} } },
        { u"set_roles"_s, { { u"username"_s, u"roles"_s }, {} } },
        { u"rotate_signing_key"_s, { {}, {} } },
        { u"verify_audit"_s, { {}, {} } },
        { u"backup"_s, { { u"passphrase"_s }, {} } },
    };
    return members;
}

/// What is wrong with a member whose type is not the common one (a short string); empty
/// when it is right, or not one of them. The directory checks the values themselves.
QString typeProblemOf(const QString &key, const QJsonValue &value)
{
    constexpr qsizetype maximumPassword = 1024;
    constexpr qsizetype maximumRoles = 64;
    if (key == "enabled"_L1)
        return value.isBool() ? QString() : u"\"enabled\" is true or false"_s;
    if (key == "password"_L1 || key == "passphrase"_L1)
        return value.isString() && !value.toString().isEmpty() && value.toString().size() <= maximumPassword
            ? QString()
            : u"\"%1\" is a string of 1 to %2 characters"_s.arg(key).arg(maximumPassword);
    if (key == "roles"_L1) {
        const QJsonArray roles = value.toArray();
        const bool fine = value.isArray() && roles.size() <= maximumRoles
            && std::all_of(roles.begin(), roles.end(), [](const QJsonValue &role) {
                              return role.isString() && !role.toString().isEmpty()
                                  && role.toString().size() <= maximumMemberLength;
                          });
        return fine ? QString()
                    : u"\"roles\" is a list of up to %1 strings of 1 to %2 characters"_s.arg(maximumRoles)
                          .arg(maximumMemberLength);
    }
    return {};
}
} // namespace

AdminFeedConnection::AdminFeedConnection(quint64 id, WebSocketStream *stream, AdminIdentity identity, QString remote,
                                         QByteArray tokenHash, std::shared_ptr<std::atomic<bool>> alive,
                                         AdminFeed &feed, QObject *parent)
    : QObject(parent)
    , m_id(id)
    , m_stream(stream)
    , m_identity(std::move(identity))
    , m_remote(std::move(remote))
    , m_tokenHash(std::move(tokenHash))
    , m_alive(std::move(alive))
    , m_feed(feed)
{
    connect(stream, &WebSocketStream::textReceived, this, &AdminFeedConnection::handleText);
    connect(stream, &WebSocketStream::disconnected, this, &QObject::deleteLater);
}

AdminFeedConnection::~AdminFeedConnection()
{
    *m_alive = false;
    if (m_stream && m_stream->isOpen())
        m_stream->close(CloseCode::goingAway, u"server shutting down"_s);
    QMetaObject::invokeMethod(
        &m_feed, [feed = &m_feed, id = m_id] { feed->unsubscribe(id); }, Qt::QueuedConnection);
    m_feed.release();
}

void AdminFeedConnection::deliver(const QByteArray &utf8)
{
    if (m_stream)
        m_stream->sendText(utf8);
}

void AdminFeedConnection::sendBackup(const QJsonValue &id, const QByteArray &backup, const QByteArray &answer,
                                     std::shared_ptr<const void> inFlight)
{
    if (backup.isEmpty())
        return deliver(answer); // refused, or failed: the outcome says why
    m_backup = { id, backup, 0, answer, std::move(inFlight), 0, QDeadlineTimer(backupStallLimit) };
    if (!m_backupPacer) {
        m_backupPacer = new QTimer(this);
        m_backupPacer->setInterval(backupPartInterval);
        connect(m_backupPacer, &QTimer::timeout, this, &AdminFeedConnection::sendBackupParts);
    }
    m_backupPacer->start();
    sendBackupParts();
}

void AdminFeedConnection::sendBackupParts()
{
    if (!m_stream || !m_stream->isOpen() || m_backup.bytes.isEmpty()) {
        m_backup = {};
        m_backupPacer->stop();
        return;
    }
    // Checked before every part: a token revoked meanwhile gets no more of it.
    if (!m_feed.tokenInForce(m_tokenHash)) {
        m_backup = {};
        m_backupPacer->stop();
        return close(CloseCode::sessionRevoked, u"the admin token was revoked"_s);
    }
    // A few parts at a time, and back to the event loop: the other feeds of this thread, the
    // peer's own frames, a revocation, are served between them. No more than about
    // backupQueueTarget waits unsent, so a peer that does not read holds only that.
    const qint64 queuedBefore = m_stream->queuedBytes();
    bool progressed = queuedBefore < m_backup.queuedAfterLast;
    for (int sent = 0; sent < backupPartsPerWake && m_backup.offset < m_backup.bytes.size()
         && m_stream->queuedBytes() < backupQueueTarget;
         ++sent) {
        const qint64 queued = m_stream->queuedBytes();
        const QByteArray part = m_backup.bytes.mid(m_backup.offset, backupPartSize);
        const QJsonObject message { { "type"_L1, "backup_part"_L1 },
                                    { "id"_L1, m_backup.id },
                                    { "offset"_L1, m_backup.offset },
                                    { "data"_L1, QString::fromLatin1(part.toBase64()) } };
        const qint64 framed = m_stream->sendText(QJsonDocument(message).toJson(QJsonDocument::Compact));
        m_backup.offset += part.size();
        progressed = progressed || m_stream->queuedBytes() < queued + framed; // the kernel took some
    }
    m_backup.queuedAfterLast = m_stream->queuedBytes();
    if (progressed) {
        m_stream->notePeerTookOutput();
        m_backup.stalled.setRemainingTime(backupStallLimit);
    } else if (m_backup.stalled.hasExpired()) {
        // Taking nothing for so long, it holds a copy of the store for nothing.
        m_backup = {};
        m_backupPacer->stop();
        return close(CloseCode::policyViolation, u"the backup was not taken"_s);
    }
    if (m_backup.offset < m_backup.bytes.size())
        return;
    m_backupPacer->stop();
    deliver(std::exchange(m_backup, {}).answer);
}

void AdminFeedConnection::close(WebSocketClose code, const QString &reason)
{
    if (m_stream)
        m_stream->close(code, reason);
}

void AdminFeedConnection::sendError(const QJsonValue &id, const QString &error, const QString &description)
{
    QJsonObject message { { "type"_L1, "error"_L1 }, { "error"_L1, error }, { "error_description"_L1, description } };
    if (!id.isUndefined() && !id.isNull())
        message.insert("id"_L1, id);
    deliver(QJsonDocument(message).toJson(QJsonDocument::Compact));
}

void AdminFeedConnection::handleText(const QByteArray &utf8)
{
    // The token is checked again before anything is done: revoked since the handshake, the
    // feed ends here, whatever the control thread has got round to.
    if (!m_feed.tokenInForce(m_tokenHash))
        return close(CloseCode::sessionRevoked, u"the admin token was revoked"_s);
    const auto parsed = StrictJson::parseObject(utf8);
    if (!parsed)
        return sendError({}, u"bad_message"_s,
                         u"a message is one JSON object: %1"_s.arg(StrictJson::errorString(parsed.error())));
    const QJsonObject &action = *parsed;
    const QJsonValue id = action.value("id"_L1);
    if (action.value("type"_L1) != "action"_L1)
        return sendError(id, u"bad_message"_s, u"the feed takes {\"type\":\"action\", \"id\", \"action\", …}"_s);
    const double number = id.toDouble();
    const bool wholeNumber = id.isDouble() && std::abs(number) < 9007199254740992.0 && number == std::floor(number);
    if (!(id.isString() && id.toString().size() <= 64) && !wholeNumber)
        return sendError({}, u"bad_message"_s,
                         u"an action's \"id\" is a string of up to 64 characters or a whole number"_s);
    const QString name = action.value("action"_L1).toString();
    const auto needed = scopeOf(name);
    if (!needed)
        return sendError(id, u"unknown_action"_s, u"no action \"%1\""_s.arg(name.left(maximumMemberLength)));
    if (!m_identity.allows(*needed))
        return sendError(id, u"insufficient_scope"_s, AdminScopes::refusal(m_identity.scope, *needed));
    const Members &members = membersOf().value(name);
    for (auto it = action.constBegin(); it != action.constEnd(); ++it) {
        const QString &key = it.key();
        if (key == "type"_L1 || key == "id"_L1 || key == "action"_L1)
            continue;
        if (!members.required.contains(key) && !members.optional.contains(key))
            return sendError(id, u"bad_message"_s,
                             u"\"%1\" takes no \"%2\""_s.arg(name, key.left(maximumMemberLength)));
        const bool object = key == "policy"_L1 || key == "limits"_L1;
        if (key == "payload"_L1)
            continue; // any JSON, as the admin API's broadcast
        if (const QString wrong = typeProblemOf(key, it.value()); !wrong.isEmpty())
            return sendError(id, u"bad_message"_s, wrong);
        if (key == "enabled"_L1 || key == "roles"_L1 || key == "password"_L1 || key == "passphrase"_L1)
            continue;
        if (object ? !it.value().isObject()
                   : (!it.value().isString() || it.value().toString().isEmpty()
                      || it.value().toString().size() > maximumMemberLength))
            return sendError(id, u"bad_message"_s,
                             object ? u"\"%1\" is an object"_s.arg(key)
                                    : u"\"%1\" is a string of 1 to %2 characters"_s.arg(key).arg(maximumMemberLength));
    }
    for (const auto &key : members.required) {
        if (!action.contains(key))
            return sendError(id, u"bad_message"_s, u"\"%1\" needs \"%2\""_s.arg(name, key));
    }
    if (action.contains("connection"_L1)) {
        // Digits only, as the feed writes ids: no sign, space, leading zero or anything after.
        static const QRegularExpression digits(u"^[1-9][0-9]{0,19}$"_s);
        const QString connection = action.value("connection"_L1).toString();
        bool ok = false;
        connection.toULongLong(&ok);
        if (!ok || !digits.match(connection).hasMatch())
            return sendError(id, u"bad_message"_s, u"a connection id is a number in a string, as the feed writes it"_s);
    }
    // Disconnections and revocations take effect here, now; the control thread finishes them.
    std::shared_ptr<const AdminEffect> effect;
    if (const auto command = adminFeedCommandOf(action))
        effect = m_feed.takeEffect(*command);
    QMetaObject::invokeMethod(
        &m_feed,
        [feed = &m_feed, id = m_id, actor = AdminActor { m_identity.actor(), m_remote }, action, effect] {
            feed->perform(id, actor, action, effect);
        },
        Qt::QueuedConnection);
}
