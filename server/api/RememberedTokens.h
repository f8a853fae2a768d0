#pragma once

#include "Result.h"

#include <QByteArray>
#include <QObject>
#include <QString>
#include <QUrl>

#include <functional>
#include <memory>
#include <optional>
#include <vector>

class SecretStore;

/// The admin tokens the console remembers, one per server (scheme, host and port), so that
/// `gatehouse --connect URL` need not ask again. They are kept where the console keeps its
/// secrets (`--secret-store`): the Secret Service, or owner-only files in `<data-dir>/secrets`;
/// `auto` asks the Secret Service at first use and falls back to files with a warning. Every
/// call answers once, later, on `context`'s thread, and never if `context` is gone. A token is
/// never logged, and errors never quote it.
class RememberedTokens final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RememberedTokens)

public:
    /// The remembered token, no value when none is, or a sentence saying why it cannot be used.
    using Found = std::function<void(Result<std::optional<QByteArray>, QString> token)>;
    /// Empty when done, otherwise what went wrong.
    using Done = std::function<void(const QString &error)>;

    /// `secretStore` is "auto" (or empty), "keychain" or "file"; `dataDirectory` is --data-dir
    /// (empty: $GATEHOUSE_DATA_DIR or the user's data folder).
    RememberedTokens(const QString &secretStore, const QString &dataDirectory, QObject *parent = nullptr);
    ~RememberedTokens() override;

    static bool isSecretStoreMode(const QString &name);
    /// "https://host:8443", the key a server's token is remembered under (the port made
    /// explicit, the host in ASCII), or why `server` is not a server's address.
    static Result<QString, QString> serverKey(const QUrl &server);

    /// Where the tokens are ("Secret Service …" or a folder); empty until the first answer.
    QString location() const;

    void find(const QUrl &server, QObject *context, Found done);
    /// Replaces the token remembered for the server, if any.
    void remember(const QUrl &server, const QByteArray &token, QObject *context, Done done);
    /// Done also when nothing was remembered.
    void forget(const QUrl &server, QObject *context, Done done);

private:
    using Store = Result<std::shared_ptr<SecretStore>, QString>;
    using StoreReady = std::function<void(const Store &store)>;

    /// Runs `use` with the store, once chosen (the first call chooses it).
    void withStore(StoreReady use);

    QString m_mode;
    QString m_dataDirectory;
    std::optional<Store> m_store;
    bool m_opening = false;
    std::vector<StoreReady> m_waiting;
};
