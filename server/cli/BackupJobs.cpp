#include "cli/BackupJobs.h"

#include "cli/BackupCommand.h"
#include "cli/DaemonCommandLine.h"
#include "config/ServerConfig.h"
#include "store/BackupFile.h"

#include <QFile>
#include <QFileInfo>
#include <QJsonObject>
#include <QPointer>
#include <QThread>

using namespace Qt::StringLiterals;

namespace {
/// Hands `value` to `done` on `receiver`'s thread, after the caller returns, if `context` lives.
template<typename Value>
void deliver(QObject *receiver, QObject *context, std::function<void(const Value &)> done, Value value)
{
    QMetaObject::invokeMethod(
        receiver,
        [guard = QPointer<QObject>(context), done = std::move(done), value = std::move(value)] {
            if (guard && done)
                done(value);
        },
        Qt::QueuedConnection);
}
} // namespace

BackupJobs::BackupJobs(QObject *parent)
    : QObject(parent)
{
}

BackupJobs::~BackupJobs()
{
    if (m_thread)
        m_thread->wait(); // the job quits its thread as it finishes
}

bool BackupJobs::busy() const
{
    return m_thread && !m_thread->isFinished();
}

template<typename Value>
bool BackupJobs::refuseWhileBusy(QObject *context, const std::function<void(const Value &)> &done)
{
    if (busy()) {
        deliver<Value>(this, context, done, fail(tr("a backup or restore is already under way")));
        return true;
    }
    m_thread.reset();
    return false;
}

void BackupJobs::start(BackupCommand *job)
{
    m_thread = std::make_unique<QThread>();
    m_thread->setObjectName(u"gatehouse-backup"_s);
    job->moveToThread(m_thread.get());
    connect(m_thread.get(), &QThread::finished, job, &QObject::deleteLater);
    // Direct: the job's thread ends with it, whether or not anyone is still there to hear.
    connect(
        job, &BackupCommand::finished, job, [job] { job->thread()->quit(); }, Qt::DirectConnection);
    m_thread->start();
    QMetaObject::invokeMethod(job, &BackupCommand::run, Qt::QueuedConnection);
}

void BackupJobs::run(const DaemonCommand &command, const ServerConfig &config, const QString &actor,
                     const QByteArray &passphrase, QObject *context, Done done)
{
    using Outcome = Result<QString, QString>;
    auto *job = new BackupCommand(command, config, actor);
    job->setPassphrase(passphrase);
    connect(job, &BackupCommand::finished, this,
            [guard = QPointer<QObject>(context), done = std::move(done)](int exitCode, const QString &text) {
                if (guard && done)
                    done(exitCode == 0 ? Outcome(text.trimmed()) : Outcome(fail(text.trimmed())));
            });
    start(job);
}

void BackupJobs::backUpToMemory(const ServerConfig &config, const QString &actor, const QString &remoteAddress,
                                const QString &destination, const QByteArray &passphrase, QObject *context, Sealed done)
{
    using Outcome = Result<QByteArray, QString>;
    if (refuseWhileBusy(context, done))
        return;
    DaemonCommand command;
    command.kind = DaemonCommand::Kind::Backup;
    auto *job = new BackupCommand(command, config, actor);
    job->setPassphrase(passphrase);
    job->keepInMemory(destination);
    job->setRemoteAddress(remoteAddress);
    // Written on the job's thread before it finishes; read here once the finish is delivered.
    auto sealed = std::make_shared<QByteArray>();
    connect(
        job, &BackupCommand::sealed, job, [sealed](const QByteArray &bytes) { *sealed = bytes; }, Qt::DirectConnection);
    connect(job, &BackupCommand::finished, this,
            [guard = QPointer<QObject>(context), done = std::move(done), sealed](int exitCode, const QString &text) {
                if (guard && done)
                    done(exitCode == 0 ? Outcome(*sealed) : Outcome(fail(text.trimmed())));
            });
    start(job);
}

void BackupJobs::backUp(const ServerConfig &config, const QString &actor, const QString &path,
                        const QByteArray &passphrase, QObject *context, Done done)
{
    if (refuseWhileBusy(context, done))
        return;
    DaemonCommand command;
    command.kind = DaemonCommand::Kind::Backup;
    command.backupFile = path;
    run(command, config, actor, passphrase, context, std::move(done));
}

void BackupJobs::restore(const ServerConfig &config, const QString &actor, const QString &path,
                         const QByteArray &passphrase, QObject *context, Done done)
{
    if (refuseWhileBusy(context, done))
        return;
    DaemonCommand command;
    command.kind = DaemonCommand::Kind::Restore;
    command.backupFile = path;
    command.force = true; // confirmed in the console
    run(command, config, actor, passphrase, context, std::move(done));
}

void BackupJobs::check(const QString &path, const QByteArray &passphrase, QObject *context, Checked done)
{
    using Outcome = Result<BackupSummary, QString>;
    if (refuseWhileBusy(context, done))
        return;
    // Opening costs an Argon2id derivation (64 MiB): on the job thread too.
    auto outcome = std::make_shared<Outcome>(fail(QString()));
    m_thread.reset(QThread::create([outcome, path, passphrase] {
        auto read = BackupCommand::readBackupFile(path);
        if (!read) {
            *outcome = fail(read.error());
            return;
        }
        auto contents = BackupFile::open(*read, passphrase);
        read->fill('\0');
        if (!contents) {
            *outcome = fail(u"%1: %2"_s.arg(path, contents.error()));
            return;
        }
        BackupSummary summary;
        summary.createdAt = contents->secrets.value("created_at"_L1).toInteger();
        summary.schemaVersion = contents->secrets.value("schema_version"_L1).toInt();
        summary.signingKeyId = contents->secrets.value("signing_key"_L1).toString();
        summary.databaseBytes = contents->database.size();
        summary.secretCount = int(contents->secrets.value("secrets"_L1).toObject().size());
        contents->database.fill('\0');
        if (const auto restorable = BackupCommand::checkRestorable(contents->secrets); !restorable) {
            *outcome = fail(u"%1: %2"_s.arg(path, restorable.error()));
            return;
        }
        *outcome = std::move(summary);
    }));
    m_thread->setObjectName(u"gatehouse-backup-check"_s);
    connect(m_thread.get(), &QThread::finished, this,
            [guard = QPointer<QObject>(context), done = std::move(done), outcome] {
                if (guard && done)
                    done(*outcome);
            });
    m_thread->start();
}
