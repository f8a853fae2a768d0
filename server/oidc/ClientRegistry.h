#pragma once

#include "Result.h"

#include <QList>
#include <QString>
#include <QStringList>

#include <optional>

class Database;

/// A relying party registered for the authorization code flow and single logout.
struct OidcClient {
    QString id;
    QStringList redirectUris; ///< matched exactly, character for character
    QString backchannelLogoutUri; ///< a logout token is POSTed here (OIDC Back-Channel Logout)
    QString frontchannelLogoutUri; ///< loaded in an iframe by the logout page
    qint64 createdAt = 0;

    bool allowsRedirect(const QString &uri) const { return redirectUris.contains(uri); }
};

/// The registered OIDC clients, in SQLite (`gatehoused client add|list|remove`). Client ids
/// and URIs are checked on the way in: ids of 1-64 letters, digits, '.', '_' or '-'; absolute
/// https URIs (http only for loopback hosts) without fragment or user info.
class ClientRegistry final {
public:
    explicit ClientRegistry(Database &database);

    Result<OidcClient, QString> add(OidcClient client, qint64 now);
    /// False when there was no such client.
    Result<bool, QString> remove(const QString &id);
    std::optional<OidcClient> find(const QString &id) const;
    QList<OidcClient> list() const;

    /// Why `uri` cannot be a redirect or logout URI, or nothing when it can.
    static std::optional<QString> uriProblem(const QString &uri);

private:
    Database &m_database;
};
