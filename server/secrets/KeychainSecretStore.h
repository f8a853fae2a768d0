#pragma once

#include "secrets/SecretStore.h"

/// Secrets in the desktop's Secret Service (gnome-keyring, KWallet) through QtKeychain.
/// Each data directory has its own namespace (`prefix`), so two instances never mix keys.
class KeychainSecretStore final : public SecretStore {
public:
    explicit KeychainSecretStore(QString prefix);

    QString backendName() const override;
    QString location() const override;
    void read(const QString &name, QObject *context, ReadDone done) override;
    void write(const QString &name, const QByteArray &secret, QObject *context, WriteDone done) override;
    void remove(const QString &name, QObject *context, WriteDone done) override;

private:
    QString m_prefix;
};
