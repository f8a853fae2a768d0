#pragma once

#include <QList>
#include <QPair>
#include <QString>

/// How a server is launched, as given on the command line; empty means "the default".
struct SessionServerOptions {
    QString dataDirectory; ///< --data-dir, else $GATEHOUSE_DATA_DIR, else ~/.local/share/gatehouse
    QString configFile; ///< --config, else <data-dir>/gatehouse.json when it exists
    QString listen; ///< --listen HOST:PORT, overriding the config file
    QString secretStore; ///< --secret-store auto|keychain|file
    /// --access-token-ttl and friends, as "name" → seconds (the names of docs/configuration.md).
    QList<QPair<QString, qint64>> lifetimes = {};
    QString tls = {}; ///< --tls self-signed
    QString tlsCertificate = {}; ///< --tls-cert FILE (with --tls-key)
    QString tlsKey = {}; ///< --tls-key FILE
};
