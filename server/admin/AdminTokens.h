#pragma once

#include "Result.h"

#include <QByteArray>
#include <QHash>
#include <QList>
#include <QString>

#include <memory>
#include <mutex>
#include <optional>

class Database;

/// What an admin token allows. Each scope includes the ones before it.
enum class AdminScope {
    Viewer, ///< read only: users, sessions, connections, audit, policy, limits, metrics
    Operator, ///< also disconnect, revoke and broadcast
    Full, ///< everything: also users' passwords, policy, limits, certificates, admin tokens
};

namespace AdminScopes {
QString name(AdminScope scope);
std::optional<AdminScope> parse(const QString &name);
/// What a token of `held` is told when it asks for what only `needed` may do.
QString refusal(AdminScope held, AdminScope needed);
} // namespace AdminScopes

/// Who presented an admin token: its name and scope. The audit log names it "admin:<name>".
struct AdminIdentity {
    QString name;
    AdminScope scope = AdminScope::Viewer;

    QString actor() const { return QStringLiteral("admin:") + name; }
    bool allows(AdminScope needed) const { return int(scope) >= int(needed); }
};

struct AdminTokenInfo {
    QString name;
    AdminScope scope = AdminScope::Viewer;
    qint64 createdAt = 0;
};

/// Which admin token is whose, as of one moment: immutable, so any thread may ask it.
class AdminTokenSet final {
public:
    AdminTokenSet() = default;
    explicit AdminTokenSet(QHash<QByteArray, AdminIdentity> byHash);

    bool isEmpty() const { return m_byHash.isEmpty(); }
    bool operator==(const AdminTokenSet &other) const;
    /// The identity of a presented token; only SHA-256 hashes are held and compared.
    std::optional<AdminIdentity> identify(QByteArrayView presented) const;
    /// The identity of a token by its SHA-256 (a feed's, checked again when tokens change).
    std::optional<AdminIdentity> identifyHash(const QByteArray &tokenHash) const;

private:
    QHash<QByteArray, AdminIdentity> m_byHash;
};

/// The admin tokens in SQLite (`gatehoused admin-token add|list|revoke`), by name: the token
/// itself is shown once, when made, and only its SHA-256 is stored. The full token named
/// `admin` is the one in the secret store (`admin-token show|rotate`); syncAdmin() keeps its
/// hash here.
class AdminTokenRegistry final {
public:
    static constexpr auto builtInName = "admin";

    explicit AdminTokenRegistry(Database &database);

    /// A new token named `name` (1 to 64 letters, digits, '.', '_' or '-'): the token, once.
    Result<QByteArray, QString> add(const QString &name, AdminScope scope, qint64 now);
    /// False when there was no such token; the built-in one is rotated, not revoked.
    Result<bool, QString> revoke(const QString &name);
    QList<AdminTokenInfo> list() const;
    /// The built-in full token `admin` is the one whose hash this is (made or rotated).
    Result<bool, QString> syncAdmin(const QByteArray &tokenHash, qint64 now);
    /// Every token, for the server to recognise them.
    Result<std::shared_ptr<const AdminTokenSet>, QString> load() const;

private:
    Database &m_database;
};

/// The set in force, swapped whole when the tokens change; shared by the I/O threads.
class AdminTokenHolder final {
public:
    std::shared_ptr<const AdminTokenSet> current() const;
    void replace(std::shared_ptr<const AdminTokenSet> tokens);

private:
    mutable std::mutex m_mutex;
    std::shared_ptr<const AdminTokenSet> m_tokens = std::make_shared<const AdminTokenSet>();
};
