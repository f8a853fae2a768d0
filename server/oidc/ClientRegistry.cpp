#include "oidc/ClientRegistry.h"

#include "store/Database.h"

#include <QHostAddress>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QSqlError>
#include <QSqlQuery>
#include <QUrl>

using namespace Qt::StringLiterals;

namespace {
constexpr qsizetype maximumUriLength = 2000;
constexpr qsizetype maximumRedirectUris = 20;

OidcClient clientFrom(const QSqlQuery &query)
{
    OidcClient client;
    client.id = query.value(0).toString();
    for (const auto value : QJsonDocument::fromJson(query.value(1).toString().toUtf8()).array())
        client.redirectUris.append(value.toString());
    client.backchannelLogoutUri = query.value(2).toString();
    client.frontchannelLogoutUri = query.value(3).toString();
    client.createdAt = query.value(4).toLongLong();
    return client;
}

bool isLoopback(const QString &host)
{
    const QHostAddress address(host);
    return host == "localhost"_L1 || (!address.isNull() && address.isLoopback());
}
} // namespace

ClientRegistry::ClientRegistry(Database &database)
    : m_database(database)
{
}

std::optional<QString> ClientRegistry::uriProblem(const QString &uri)
{
    if (uri.isEmpty() || uri.size() > maximumUriLength)
        return u"a URI of 1 to %1 characters"_s.arg(maximumUriLength);
    const QUrl url(uri, QUrl::StrictMode);
    if (!url.isValid() || url.isRelative() || url.host().isEmpty())
        return u"\"%1\" is not an absolute URI"_s.arg(uri);
    if (url.scheme() != "https"_L1 && !(url.scheme() == "http"_L1 && isLoopback(url.host())))
        return u"\"%1\": https only (http for localhost and loopback addresses)"_s.arg(uri);
    if (url.hasFragment())
        return u"\"%1\" has a fragment"_s.arg(uri);
    if (!url.userInfo().isEmpty())
        return u"\"%1\" has user info"_s.arg(uri);
    return std::nullopt;
}

Result<OidcClient, QString> ClientRegistry::add(OidcClient client, qint64 now)
{
    static const QRegularExpression idPattern(u"^[A-Za-z0-9._-]{1,64}$"_s);
    if (!idPattern.match(client.id).hasMatch())
        return fail(u"client id: 1 to 64 letters, digits, '.', '_' or '-'"_s);
    if (client.redirectUris.isEmpty())
        return fail(u"a client needs at least one --redirect-uri"_s);
    if (client.redirectUris.size() > maximumRedirectUris)
        return fail(u"at most %1 redirect URIs"_s.arg(maximumRedirectUris));
    client.redirectUris.removeDuplicates();
    for (const auto &uri : std::as_const(client.redirectUris)) {
        if (const auto problem = uriProblem(uri))
            return fail(u"redirect URI: "_s + *problem);
    }
    for (const auto &uri : { client.backchannelLogoutUri, client.frontchannelLogoutUri }) {
        if (!uri.isEmpty()) {
            if (const auto problem = uriProblem(uri))
                return fail(u"logout URI: "_s + *problem);
        }
    }
    client.createdAt = now;
    QSqlQuery query(m_database.connection());
    query.prepare(u"INSERT INTO oidc_clients (id, redirect_uris, backchannel_logout_uri, frontchannel_logout_uri, "
                  "created_at) VALUES (?, ?, ?, ?, ?)"_s);
    query.addBindValue(client.id);
    query.addBindValue(QString::fromUtf8(
        QJsonDocument(QJsonArray::fromStringList(client.redirectUris)).toJson(QJsonDocument::Compact)));
    // An empty QString can be a null one, which SQLite would store as NULL.
    query.addBindValue(client.backchannelLogoutUri.isNull() ? u""_s : client.backchannelLogoutUri);
    query.addBindValue(client.frontchannelLogoutUri.isNull() ? u""_s : client.frontchannelLogoutUri);
    query.addBindValue(client.createdAt);
    if (!query.exec()) {
        if (find(client.id))
            return fail(u"client %1 already exists"_s.arg(client.id));
        return fail(query.lastError().text());
    }
    return client;
}

Result<bool, QString> ClientRegistry::remove(const QString &id)
{
    QSqlQuery query(m_database.connection());
    query.prepare(u"DELETE FROM oidc_clients WHERE id = ?"_s);
    query.addBindValue(id);
    if (!query.exec())
        return fail(query.lastError().text());
    return query.numRowsAffected() > 0;
}

std::optional<OidcClient> ClientRegistry::find(const QString &id) const
{
    QSqlQuery query(m_database.connection());
    query.prepare(u"SELECT id, redirect_uris, backchannel_logout_uri, frontchannel_logout_uri, created_at "
                  "FROM oidc_clients WHERE id = ?"_s);
    query.addBindValue(id);
    if (!query.exec() || !query.next())
        return std::nullopt;
    return clientFrom(query);
}

QList<OidcClient> ClientRegistry::list() const
{
    QSqlQuery query(m_database.connection());
    QList<OidcClient> clients;
    if (!query.exec(u"SELECT id, redirect_uris, backchannel_logout_uri, frontchannel_logout_uri, created_at "
                    "FROM oidc_clients ORDER BY id"_s))
        return clients;
    while (query.next())
        clients.append(clientFrom(query));
    return clients;
}
