#pragma once

#include "Result.h"

#include <QByteArray>
#include <QObject>
#include <QString>

#include <functional>

enum class SecretError {
    NotFound,
    BackendUnavailable,
    AccessDenied,
    Failed,
};

struct SecretFailure {
    SecretError error = SecretError::Failed;
    QString message;
};

/// Where private key material lives. Asynchronous because the Secret Service is a D-Bus
/// peer: each call answers once, through `done`, on `context`'s thread and never if
/// `context` is gone. Names are short ASCII words ("signing-key/<kid>").
class SecretStore {
public:
    using ReadDone = std::function<void(Result<QByteArray, SecretFailure>)>;
    using WriteDone = std::function<void(Result<bool, SecretFailure>)>;

    virtual ~SecretStore() = default;

    /// "keychain" or "file", as stored in the database and shown to people.
    virtual QString backendName() const = 0;
    /// Where the secrets are, for messages ("Secret Service", "/path/secrets").
    virtual QString location() const = 0;

    virtual void read(const QString &name, QObject *context, ReadDone done) = 0;
    virtual void write(const QString &name, const QByteArray &secret, QObject *context, WriteDone done) = 0;
    virtual void remove(const QString &name, QObject *context, WriteDone done) = 0;
};
