#include "secrets/SecretBackend.h"

#include "secrets/FileSecretStore.h"
#include "secrets/KeychainSecretStore.h"
#include "store/Database.h"

#include <QLoggingCategory>
#include <QTimer>

using namespace Qt::StringLiterals;
using namespace std::chrono_literals;

Q_LOGGING_CATEGORY(lcSecrets, "gatehouse.secrets")

namespace {
constexpr auto probeTimeout = 5s;
const auto backendSetting = u"secret_backend"_s;
const auto probeName = u"probe"_s;

using OpenResult = Result<std::shared_ptr<SecretStore>, QString>;

std::shared_ptr<SecretStore> makeStore(const QString &backend, Database &database, const QString &dataDirectory)
{
    if (backend == "keychain"_L1)
        return std::make_shared<KeychainSecretStore>(database.setting(u"instance_id"_s));
    return std::make_shared<FileSecretStore>(dataDirectory + u"/secrets"_s);
}

/// Writes a probe secret and takes it away again. A read would not do: a locked keyring, or
/// one not made yet, answers reads, then asks for a password at the first write, and the
/// server would wait on that prompt for ever. A write meets the prompt here, within the
/// timeout: no answer (a prompt left open) or a refusal (a prompt cancelled) means files.
/// Returns what ends the probe at once with the given problem.
std::function<void(QString)> probeKeychain(std::shared_ptr<SecretStore> keychain, QObject *context,
                                           std::function<void(QString)> done)
{
    auto answered = std::make_shared<bool>(false);
    auto finish = [answered, done](QString problem) {
        if (!std::exchange(*answered, true))
            done(std::move(problem));
    };
    keychain->write(probeName, "probe", context, [finish, keychain, context](Result<bool, SecretFailure> written) {
        if (!written.ok())
            return finish(written.error().message);
        // Taken away again even when the answer came too late to count.
        keychain->remove(probeName, context, [finish](Result<bool, SecretFailure> removed) {
            finish(removed.ok() ? QString() : removed.error().message);
        });
    });
    QTimer::singleShot(probeTimeout, context, [finish] {
        finish(u"the Secret Service did not answer within 5 s (a password prompt left open?)"_s);
    });
    return finish;
}
/// The keychain if it answers; otherwise files (with a warning) in `Automatic` mode, or an
/// error in `Keychain` mode.
SecretBackend::StopWaiting chooseByProbe(std::shared_ptr<SecretStore> keychain, std::shared_ptr<SecretStore> files,
                                         SecretBackendMode mode, QObject *context, SecretBackend::Opened done)
{
    auto finish = probeKeychain(keychain, context, [mode, keychain, files, done](const QString &problem) {
        if (problem.isEmpty())
            return done(keychain);
        if (mode == SecretBackendMode::Keychain)
            return done(OpenResult::failure(u"no usable Secret Service: "_s + problem));
        qCWarning(lcSecrets).noquote() << u"no usable Secret Service ("_s + problem + u"); secrets will be kept in "_s
                + files->location() + u" with owner-only permissions"_s;
        done(files);
    });
    return [finish] { finish(u"owner-only files were chosen instead of waiting for the keyring"_s); };
}
} // namespace

std::optional<SecretBackendMode> SecretBackend::modeFromName(const QString &name)
{
    if (name == "auto"_L1)
        return SecretBackendMode::Automatic;
    if (name == "keychain"_L1)
        return SecretBackendMode::Keychain;
    if (name == "file"_L1)
        return SecretBackendMode::File;
    return std::nullopt;
}

SecretBackend::StopWaiting SecretBackend::open(Database &database, const QString &dataDirectory, SecretBackendMode mode,
                                               QObject *context, Opened done)
{
    const QString chosen = database.setting(backendSetting);
    if (!chosen.isEmpty()) {
        const bool conflicts = (mode == SecretBackendMode::File && chosen != "file"_L1)
            || (mode == SecretBackendMode::Keychain && chosen != "keychain"_L1);
        if (conflicts)
            done(OpenResult::failure(
                u"this data directory keeps its keys in the %1 backend; it cannot switch (start with --secret-store %1)"_s
                    .arg(chosen)));
        else
            done(makeStore(chosen, database, dataDirectory));
        return [] {};
    }
    if (mode == SecretBackendMode::File) {
        database.setSetting(backendSetting, u"file"_s);
        done(makeStore(u"file"_s, database, dataDirectory));
        return [] {};
    }
    auto keychain = makeStore(u"keychain"_s, database, dataDirectory);
    auto files = makeStore(u"file"_s, database, dataDirectory);
    return chooseByProbe(keychain, files, mode, context,
                         [&database, done](Result<std::shared_ptr<SecretStore>, QString> store) {
                             if (store.ok())
                                 database.setSetting(backendSetting, store.value()->backendName());
                             done(std::move(store));
                         });
}

void SecretBackend::openUnrecorded(const QString &keychainPrefix, const QString &filesDirectory, SecretBackendMode mode,
                                   QObject *context, Opened done)
{
    auto files = std::make_shared<FileSecretStore>(filesDirectory);
    if (mode == SecretBackendMode::File)
        return done(std::shared_ptr<SecretStore>(files));
    chooseByProbe(std::make_shared<KeychainSecretStore>(keychainPrefix), files, mode, context, std::move(done));
}
