#pragma once

#include "SigningKeyInfo.h"
#include "auth/JsonWebKey.h"

#include <QJsonObject>
#include <QList>
#include <QObject>

#include <chrono>
#include <optional>

class Clock;
class Database;
class SecretStore;

/// Our own signing keys. The current key signs; a rotated-out key keeps verifying until the
/// last token it can have signed has expired, then it is dropped. Public halves and dates
/// live in SQLite, the private half of the current key in the SecretStore.
///
/// load() and rotate() finish asynchronously with ready()/rotated() or failed().
class KeyStore final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(KeyStore)

public:
    struct Options {
        JwsAlgorithm algorithm = JwsAlgorithm::EdDSA;
        /// How long a retired key keeps verifying: the longest token lifetime plus clock skew.
        std::chrono::seconds verificationGrace { std::chrono::hours(24) + std::chrono::seconds(30) };
    };

    KeyStore(Database &database, SecretStore &secrets, const Clock &clock, Options options, QObject *parent = nullptr);

    void load();
    void rotate();
    /// Another process changed the keys (`gatehoused keys rotate`): reads them again, and
    /// emits rotated() with the signing key then in force, so that it signs and is published.
    void reload();

    bool isReady() const { return m_signingKey.has_value(); }
    std::optional<JsonWebKey> signingKey() const { return m_signingKey; }
    /// The public keys that verify: the signing key and the retired ones still in grace.
    QList<JsonWebKey> verificationKeys() const { return m_verificationKeys; }
    QList<SigningKeyInfo> keys() const;
    QJsonObject jwks() const;

Q_SIGNALS:
    void ready();
    void rotated(const QString &keyId);
    void failed(const QString &message);

private:
    static QString secretName(const QString &keyId);
    void pruneExpired();
    bool reloadPublicKeys();
    void useStoredKey(const QString &keyId, JwsAlgorithm algorithm);
    void storeNewKey(const JsonWebKey &key);
    bool commitRotation(const JsonWebKey &key);

    Database &m_database;
    SecretStore &m_secrets;
    const Clock &m_clock;
    Options m_options;
    std::optional<JsonWebKey> m_signingKey;
    QList<JsonWebKey> m_verificationKeys;
    bool m_busy = false;
};
