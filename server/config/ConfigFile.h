#pragma once

#include "SessionServerOptions.h"
#include "config/ServerConfig.h"
#include "Result.h"

#include <QJsonObject>

/// Reads the JSON config file onto a ServerConfig. Every problem comes back as one sentence
/// naming the file and the member ("gatehouse.json: trusted_issuers[1].audience: …").
/// Paths inside it are relative to the file's folder. See docs/configuration.md.
namespace ConfigFile {
Result<ServerConfig, QString> load(const QString &path, ServerConfig defaults);
Result<ServerConfig, QString> apply(const QJsonObject &object, const QString &baseDirectory, ServerConfig config);
/// The config a launch ends up with: defaults, then the config file, then the flags.
Result<ServerConfig, QString> resolve(const SessionServerOptions &options);
/// "HOST:PORT", "[v6]:PORT" or ":PORT"; false on anything else.
bool parseListen(const QString &text, QHostAddress &address, quint16 &port);
} // namespace ConfigFile
