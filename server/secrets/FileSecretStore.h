#pragma once

#include "secrets/SecretStore.h"

/// Secrets as files readable by the owner only (0600 in a 0700 folder): the fallback for a
/// headless machine with no Secret Service. Weaker than a keychain, so it is chosen
/// explicitly or with a warning, never silently.
class FileSecretStore final : public SecretStore {
public:
    explicit FileSecretStore(QString directory);

    QString backendName() const override;
    QString location() const override { return m_directory; }
    void read(const QString &name, QObject *context, ReadDone done) override;
    void write(const QString &name, const QByteArray &secret, QObject *context, WriteDone done) override;
    void remove(const QString &name, QObject *context, WriteDone done) override;

    /// The file a secret name maps to, or empty for a name that is not allowed.
    QString pathFor(const QString &name) const;

private:
    QString m_directory;
};
