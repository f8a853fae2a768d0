#include "cli/BackupCommand.h"

#include "audit/AuditLog.h"
#include "cli/PasswordInput.h"
#include "config/DataDirectory.h"
#include "secrets/SecretBackend.h"
#include "secrets/SecretStore.h"
#include "store/Migrations.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QRegularExpression>
#include <QSaveFile>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTimer>
#include <QUuid>

#include <cstdio>

#include <unistd.h>

using namespace Qt::StringLiterals;

namespace {
constexpr auto ownerOnly = QFileDevice::ReadOwner | QFileDevice::WriteOwner;
const auto adminTokenSecret = u"admin-token"_s;
const auto cookieKeySecret = u"cookie-key"_s;
const auto signingKeyPrefix = u"signing-key/"_s;
/// A secret store that neither answers nor fails (a prompt left open) ends the command.
constexpr auto secretStoreTimeout = std::chrono::seconds(30);

/// One connection of our own to an SQLite file, removed when it goes.
class ScratchConnection final {
public:
    ScratchConnection(const QString &path, const QString &options)
        : m_name(u"backup-"_s + QUuid::createUuid().toString(QUuid::WithoutBraces))
    {
        auto db = QSqlDatabase::addDatabase(u"QSQLITE"_s, m_name);
        db.setDatabaseName(path);
        db.setConnectOptions(options);
        db.open();
    }
    ~ScratchConnection()
    {
        {
            auto db = QSqlDatabase::database(m_name, false);
            db.close();
        }
        QSqlDatabase::removeDatabase(m_name);
    }
    Q_DISABLE_COPY_MOVE(ScratchConnection)
    QSqlDatabase db() const { return QSqlDatabase::database(m_name, false); }

private:
    QString m_name;
};

/// Whether another process has the database open. In WAL mode every open connection holds a
/// shared lock on the database file for as long as it is open, so an exclusive lock taken
/// without waiting is refused exactly while a server (or another command) uses it.
Result<bool, QString> checkNotInUse(const QString &databasePath, const QString &directory)
{
    const ScratchConnection probe(databasePath, u"QSQLITE_BUSY_TIMEOUT=0"_s);
    auto db = probe.db();
    if (!db.isOpen())
        return fail(u"cannot open %1: %2"_s.arg(databasePath, db.lastError().text()));
    QSqlQuery query(db);
    if (query.exec(u"PRAGMA locking_mode = EXCLUSIVE"_s) && query.exec(u"BEGIN EXCLUSIVE"_s)) {
        query.exec(u"ROLLBACK"_s);
        return true;
    }
    const QString code = query.lastError().nativeErrorCode();
    if (code == "5"_L1 || code == "6"_L1) // SQLITE_BUSY, SQLITE_LOCKED
        return fail(u"the database in %1 is in use (a running gatehoused serve, or another command): "
                    "stop the server before restoring into its data directory"_s.arg(directory));
    return fail(u"cannot check whether the database in %1 is in use: %2"_s.arg(directory, query.lastError().text()));
}

struct Snapshot {
    QByteArray bytes;
    QString signingKeyId; ///< the key signing at the moment of the snapshot; empty if none yet
};

/// A consistent copy of the live database: VACUUM INTO reads one snapshot (a read transaction
/// in WAL mode, so a running server's writers go on) and writes a compact new file.
Result<Snapshot, QString> takeSnapshot(QSqlDatabase db, const QString &scratchDirectory)
{
    const QString path = QDir(scratchDirectory).filePath(u"snapshot.sqlite"_s);
    QSqlQuery vacuum(db);
    if (!vacuum.exec(u"VACUUM INTO '%1'"_s.arg(QString(path).replace(u'\'', u"''"_s))))
        return fail(u"cannot copy the database: "_s + vacuum.lastError().text());
    Snapshot snapshot;
    {
        const ScratchConnection copy(path, u"QSQLITE_OPEN_READONLY"_s);
        QSqlQuery query(copy.db());
        if (!query.exec(u"PRAGMA quick_check"_s) || !query.next() || query.value(0).toString() != "ok"_L1)
            return fail(u"the copy of the database does not check out: "_s + query.value(0).toString());
        if (!query.exec(u"SELECT kid FROM signing_keys WHERE retired_at IS NULL"_s))
            return fail(u"cannot read the signing keys of the copy: "_s + query.lastError().text());
        if (query.next())
            snapshot.signingKeyId = query.value(0).toString();
    }
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return fail(u"cannot read the copy of the database: "_s + file.errorString());
    snapshot.bytes = file.readAll();
    return snapshot;
}

Result<bool, QString> writeOwnerOnly(const QString &path, const QByteArray &bytes)
{
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || !file.setPermissions(ownerOnly) || file.write(bytes) != bytes.size()
        || !file.commit())
        return fail(u"cannot write %1: %2"_s.arg(path, file.errorString()));
    return true;
}

/// The secrets a backup may carry, and nothing else: a file cannot make restore write
/// arbitrary names into the secret store.
bool isKnownSecret(const QString &name)
{
    static const QRegularExpression signingKey(u"^signing-key/[A-Za-z0-9_-]{1,128}$"_s);
    return name == adminTokenSecret || name == cookieKeySecret || signingKey.match(name).hasMatch();
}
} // namespace

BackupCommand::BackupCommand(DaemonCommand command, ServerConfig config, QString actor, QObject *parent)
    : QObject(parent)
    , m_command(std::move(command))
    , m_config(std::move(config))
    , m_actor(std::move(actor))
{
}

Result<QByteArray, QString> BackupCommand::readBackupFile(const QString &path)
{
    const QFileInfo info(path);
    if (!info.exists())
        return fail(u"there is no file %1"_s.arg(path));
    if (!info.isFile())
        return fail(u"%1 is not a regular file"_s.arg(path));
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return fail(u"cannot read %1: %2"_s.arg(path, file.errorString()));
    if (file.size() > largestBackupFile)
        return fail(u"%1 is larger than any backup this gatehoused writes"_s.arg(path));
    return file.readAll();
}

Result<bool, QString> BackupCommand::checkRestorable(const QJsonObject &about)
{
    if (about.value("format"_L1).toString() != "gatehouse-backup"_L1)
        return fail(u"it does not say it is a Gatehouse backup"_s);
    const int schema = about.value("schema_version"_L1).toInt(-1);
    const int known = int(Migrations::steps().size());
    if (schema < 1)
        return fail(u"it does not say which schema its database has"_s);
    if (schema > known)
        return fail(u"its database is of a newer Gatehouse (schema %1; this one knows up to %2): restore it "
                    "with that version or a later one"_s.arg(schema)
                        .arg(known));
    return true;
}

BackupCommand::~BackupCommand()
{
    m_passphrase.fill('\0');
    m_givenPassphrase.fill('\0');
}

void BackupCommand::setPassphrase(QByteArray passphrase)
{
    m_givenPassphrase = passphrase.isNull() ? QByteArray("") : std::move(passphrase);
}

void BackupCommand::keepInMemory(const QString &destination)
{
    m_memoryDestination = destination;
}

void BackupCommand::run()
{
    if (m_command.kind == DaemonCommand::Kind::Backup)
        backup();
    else
        restore();
}

void BackupCommand::succeed(const QString &text)
{
    if (!std::exchange(m_finished, true))
        Q_EMIT finished(0, text);
}

void BackupCommand::failWith(const QString &sentence)
{
    if (!std::exchange(m_finished, true))
        Q_EMIT finished(1, sentence);
}

Result<QByteArray, QString> BackupCommand::passphrase(bool twice) const
{
    if (!m_givenPassphrase.isNull()) {
        if (m_givenPassphrase.isEmpty())
            return fail(u"the passphrase is empty: it protects the signing keys in the backup, so it cannot be"_s);
        return m_givenPassphrase;
    }
    const bool fromStdin = m_command.passphraseFromStdin;
    if (!fromStdin && !::isatty(STDIN_FILENO))
        return fail(u"standard input is not a terminal: pass the passphrase with --passphrase-stdin"_s);
    const QString prompt = u"Passphrase of the backup: "_s;
    auto read = twice ? PasswordInput::read(fromStdin, prompt) : PasswordInput::readExisting(fromStdin, prompt);
    if (!read)
        return fail(fromStdin ? u"no passphrase on standard input (or a line over 4096 bytes)"_s : read.error());
    if (read->isEmpty())
        return fail(u"the passphrase is empty: it protects the signing keys in the backup, so it cannot be"_s);
    return read;
}

void BackupCommand::backup()
{
    const QString databasePath = m_config.databasePath();
    if (!QFileInfo::exists(databasePath))
        return failWith(u"there is no database in %1: nothing to back up"_s.arg(m_config.dataDirectory));
    const QFileInfo target(m_command.backupFile);
    const bool toFile = m_memoryDestination.isEmpty();
    if (toFile && target.isDir())
        return failWith(u"%1 is a folder: --to names the backup file"_s.arg(m_command.backupFile));
    if (toFile && target.isSymLink())
        return failWith(u"%1 is a symbolic link: name the file itself"_s.arg(m_command.backupFile));
    if (toFile && !target.absoluteDir().exists())
        return failWith(u"the folder of %1 does not exist"_s.arg(m_command.backupFile));
    const QString dataDirectory = QFileInfo(m_config.dataDirectory).canonicalFilePath();
    const QString targetFolder = target.absoluteDir().canonicalPath();
    if (toFile && (targetFolder == dataDirectory || targetFolder.startsWith(dataDirectory + u'/')))
        return failWith(u"%1 is inside the data directory %2: a backup belongs elsewhere (another disk, "
                        "another machine)"_s.arg(m_command.backupFile, m_config.dataDirectory));
    auto phrase = passphrase(true);
    if (!phrase)
        return failWith(phrase.error());
    m_passphrase = std::move(phrase).value();
    if (!m_database.open(databasePath))
        return failWith(m_database.errorString());

    // A backup killed before it could clean up left its plain copy: gone now, unless it may
    // still be another backup's under way (none takes hours).
    const QDir data(m_config.dataDirectory);
    for (const auto &stale : data.entryInfoList({ u".backup-*"_s }, QDir::Dirs | QDir::Hidden | QDir::NoDotAndDotDot)) {
        if (stale.lastModified().secsTo(QDateTime::currentDateTime()) > 6 * 3600)
            QDir(stale.absoluteFilePath()).removeRecursively();
    }
    // The plain copy of the database is made in the data directory (owner-only, never a synced
    // folder the backup may be going to), in a folder of its own that goes with it.
    const QTemporaryDir scratch(m_config.dataDirectory + u"/.backup-XXXXXX"_s);
    if (!scratch.isValid())
        return failWith(u"cannot make a scratch folder in %1: %2"_s.arg(m_config.dataDirectory, scratch.errorString()));
    auto snapshot = takeSnapshot(m_database.connection(), scratch.path());
    if (!snapshot)
        return failWith(snapshot.error());
    m_snapshot = std::move(snapshot->bytes);
    const QString keyId = snapshot->signingKeyId;

    SecretBackend::open(m_database, m_config.dataDirectory, m_config.secretBackend, this,
                        [this, keyId](Result<std::shared_ptr<SecretStore>, QString> opened) {
                            if (!opened)
                                return failWith(opened.error());
                            m_secrets = std::move(opened).value();
                            QStringList names { adminTokenSecret, cookieKeySecret };
                            if (!keyId.isEmpty())
                                names.append(signingKeyPrefix + keyId);
                            readSecrets(names, [this, keyId] { finishBackup(keyId); });
                        });
}

void BackupCommand::giveUpAfterTimeout(const QString &secretName)
{
    const int step = ++m_secretSteps;
    QTimer::singleShot(secretStoreTimeout, this, [this, step, secretName] {
        if (step == m_secretSteps)
            failWith(u"%1 did not answer for %2 within %3 s (a password prompt left open?)"_s
                         .arg(m_secrets->location(), secretName)
                         .arg(std::chrono::seconds(secretStoreTimeout).count()));
    });
}

void BackupCommand::readSecrets(QStringList names, std::function<void()> next)
{
    if (names.isEmpty())
        return next();
    const QString name = names.takeFirst();
    giveUpAfterTimeout(name);
    m_secrets->read(name, this, [this, name, names, next](Result<QByteArray, SecretFailure> secret) {
        if (m_finished)
            return; // given up on
        if (!secret && secret.error().error == SecretError::NotFound && !name.startsWith(signingKeyPrefix))
            return readSecrets(names, next); // made at the server's first start
        if (!secret && secret.error().error == SecretError::NotFound)
            return failWith(u"the signing key %1 is not in %2 (rotated during the backup? "
                            "run it again)"_s.arg(name.mid(signingKeyPrefix.size()), m_secrets->location()));
        if (!secret)
            return failWith(u"cannot read %1 from %2: %3"_s.arg(name, m_secrets->location(), secret.error().message));
        m_secretValues.insert(name, QString::fromLatin1(secret->toBase64()));
        readSecrets(names, next);
    });
}

void BackupCommand::finishBackup(const QString &keyId)
{
    const QJsonObject secrets { { "format"_L1, "gatehouse-backup"_L1 },
                                { "created_at"_L1, m_clock.nowSeconds() },
                                { "schema_version"_L1, m_database.schemaVersion() },
                                { "signing_key"_L1, keyId },
                                { "secret_backend"_L1, m_secrets->backendName() },
                                { "secrets"_L1, m_secretValues } };
    auto sealedFile = BackupFile::seal({ secrets, m_snapshot }, m_passphrase);
    if (!sealedFile)
        return failWith(sealedFile.error());
    const bool toFile = m_memoryDestination.isEmpty();
    if (toFile) {
        if (const auto written = writeOwnerOnly(m_command.backupFile, *sealedFile); !written)
            return failWith(written.error());
    }

    AuditEvent event;
    event.type = u"backup_made"_s;
    event.actor = m_actor;
    event.remoteAddress = m_remoteAddress;
    event.detail = { { "signing_key"_L1, keyId } };
    if (toFile)
        event.detail.insert("file"_L1, QFileInfo(m_command.backupFile).absoluteFilePath());
    else
        event.detail.insert("to"_L1, m_memoryDestination);
    QString unaudited;
    if (const auto appended = AuditLog(m_database, m_clock).append(event); !appended)
        unaudited = u" (but its audit event was not written: %1)"_s.arg(appended.error());
    const QString what
        = u"the database (%1 KiB) and the secrets %2%3"_s.arg((m_snapshot.size() + 1023) / 1024)
              .arg(m_secretValues.isEmpty() ? u"(none yet)"_s : m_secretValues.keys().join(u", "_s), unaudited);
    if (!toFile) {
        Q_EMIT sealed(*sealedFile);
        return succeed(u"backup made: "_s + what);
    }
    succeed(u"backup written to %1: %2\n"_s.arg(m_command.backupFile, what));
}

void BackupCommand::restore()
{
    const QString directory = m_config.dataDirectory;
    const QString databasePath = m_config.databasePath();
    if (QFileInfo::exists(databasePath)) {
        if (const auto free = checkNotInUse(databasePath, directory); !free)
            return failWith(free.error());
        if (!m_command.force)
            return failWith(
                u"%1 already has a database, which restore would replace: pass --force to replace it"_s.arg(directory));
    }
    auto bytes = readBackupFile(m_command.backupFile);
    if (!bytes)
        return failWith(bytes.error());
    auto phrase = passphrase(false);
    if (!phrase)
        return failWith(phrase.error());
    m_passphrase = std::move(phrase).value();
    auto contents = BackupFile::open(*bytes, m_passphrase);
    bytes->fill('\0');
    if (!contents)
        return failWith(u"%1: %2"_s.arg(m_command.backupFile, contents.error()));
    if (const auto restorable = checkRestorable(contents->secrets); !restorable)
        return failWith(u"%1: %2"_s.arg(m_command.backupFile, restorable.error()));
    const QJsonObject secrets = contents->secrets.value("secrets"_L1).toObject();
    for (auto it = secrets.begin(); it != secrets.end(); ++it) {
        if (!isKnownSecret(it.key()) || !it.value().isString())
            return failWith(u"%1 holds a secret named \"%2\", which gatehoused does not keep"_s.arg(
                m_command.backupFile, it.key().left(64)));
    }
    m_restored = std::move(contents).value();

    // Everything is checked: from here on the target is written.
    if (const auto prepared = DataDirectory::prepare(directory); !prepared)
        return failWith(prepared.error());
    // The secret store the replaced database chose stays chosen, unless --secret-store says
    // otherwise: an admin who chose files is not asked by the keyring now.
    SecretBackendMode secretMode = m_config.secretBackend;
    const QString previous = databasePath + u".before-restore"_s;
    if (QFileInfo::exists(databasePath)) {
        {
            Database replaced;
            if (replaced.open(databasePath) && secretMode == SecretBackendMode::Automatic)
                secretMode = SecretBackend::modeFromName(replaced.setting(u"secret_backend"_s)).value_or(secretMode);
        }
        // Kept, not deleted: the one way back from a restore of the wrong backup.
        QFile::remove(previous);
        if (!QFile::rename(databasePath, previous))
            return failWith(u"cannot keep the replaced database as %1"_s.arg(previous));
    }
    // A log left by the replaced database would be replayed into the restored one.
    for (const auto &suffix : { u"-wal"_s, u"-shm"_s })
        QFile::remove(databasePath + suffix);
    if (const auto written = writeOwnerOnly(databasePath, m_restored.database); !written)
        return failWith(written.error());
    if (!m_database.open(databasePath))
        return failWith(m_database.errorString());
    // A new instance: the keychain names secrets by it, and the original may still run on
    // this machine with its own. The secret store is chosen again.
    m_database.setSetting(u"instance_id"_s, QUuid::createUuid().toString(QUuid::WithoutBraces));
    m_database.setSetting(u"secret_backend"_s, QString());

    QList<std::pair<QString, QByteArray>> values;
    for (auto it = secrets.begin(); it != secrets.end(); ++it)
        values.append({ it.key(), QByteArray::fromBase64(it.value().toString().toLatin1()) });
    SecretBackend::open(m_database, directory, secretMode, this,
                        [this, values](Result<std::shared_ptr<SecretStore>, QString> opened) {
                            if (!opened)
                                return failWith(u"the database is restored, but not its secrets: "_s + opened.error());
                            m_secrets = std::move(opened).value();
                            writeSecrets(values, [this] { finishRestore(); });
                        });
}

void BackupCommand::writeSecrets(QList<std::pair<QString, QByteArray>> secrets, std::function<void()> next)
{
    if (secrets.isEmpty())
        return next();
    const auto [name, value] = secrets.takeFirst();
    giveUpAfterTimeout(name);
    m_secrets->write(name, value, this, [this, name, secrets, next](Result<bool, SecretFailure> written) {
        if (m_finished)
            return; // given up on
        if (!written)
            return failWith(u"the database is restored, but %1 could not be written to %2: %3"_s.arg(
                name, m_secrets->location(), written.error().message));
        writeSecrets(secrets, next);
    });
}

void BackupCommand::finishRestore()
{
    const QJsonObject &about = m_restored.secrets;
    AuditLog audit(m_database, m_clock);
    AuditEvent event;
    event.type = u"backup_restored"_s;
    event.actor = m_actor;
    event.detail = { { "file"_L1, QFileInfo(m_command.backupFile).absoluteFilePath() },
                     { "backup_created_at"_L1, about.value("created_at"_L1) },
                     { "signing_key"_L1, about.value("signing_key"_L1) } };
    if (const auto appended = audit.append(event); !appended)
        return failWith(u"restored, but the audit log was not written: "_s + appended.error());
    const auto verified = audit.verify();
    if (!verified)
        return failWith(u"restored, but the audit chain does not verify: "_s + verified.error().reason);
    succeed(
        u"restored %1 from %2 (made %3): %4 audit events, chain intact; secrets in %5\n"_s
            .arg(m_config.dataDirectory, m_command.backupFile,
                 QDateTime::fromSecsSinceEpoch(about.value("created_at"_L1).toInteger(), Qt::UTC).toString(Qt::ISODate))
            .arg(*verified)
            .arg(m_secrets->location()));
}
