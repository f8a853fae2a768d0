#include "secrets/KeychainSecretStore.h"

#include <qt6keychain/keychain.h>

using namespace Qt::StringLiterals;

namespace {
const auto serviceName = u"gatehouse"_s;

SecretFailure failureOf(const QKeychain::Job &job)
{
    switch (job.error()) {
    case QKeychain::EntryNotFound:
        return { SecretError::NotFound, job.errorString() };
    case QKeychain::NoBackendAvailable:
    case QKeychain::NotImplemented:
        return { SecretError::BackendUnavailable, job.errorString() };
    case QKeychain::AccessDenied:
    case QKeychain::AccessDeniedByUser:
        return { SecretError::AccessDenied, job.errorString() };
    default:
        return { SecretError::Failed, job.errorString() };
    }
}

template<typename JobType> JobType *startJob(const QString &key)
{
    auto *job = new JobType(serviceName);
    job->setAutoDelete(true);
    job->setInsecureFallback(false); // a silent plain-text fallback would defeat the point
    job->setKey(key);
    return job;
}
} // namespace

KeychainSecretStore::KeychainSecretStore(QString prefix)
    : m_prefix(std::move(prefix))
{
}

QString KeychainSecretStore::backendName() const
{
    return u"keychain"_s;
}

QString KeychainSecretStore::location() const
{
    return u"Secret Service (service \"gatehouse\")"_s;
}

void KeychainSecretStore::read(const QString &name, QObject *context, ReadDone done)
{
    auto *job = startJob<QKeychain::ReadPasswordJob>(m_prefix + u'/' + name);
    QObject::connect(job, &QKeychain::Job::finished, context, [done = std::move(done)](QKeychain::Job *finished) {
        if (finished->error() != QKeychain::NoError)
            return done(Result<QByteArray, SecretFailure>::failure(failureOf(*finished)));
        done(static_cast<QKeychain::ReadPasswordJob *>(finished)->binaryData());
    });
    job->start();
}

void KeychainSecretStore::write(const QString &name, const QByteArray &secret, QObject *context, WriteDone done)
{
    auto *job = startJob<QKeychain::WritePasswordJob>(m_prefix + u'/' + name);
    job->setBinaryData(secret);
    QObject::connect(job, &QKeychain::Job::finished, context, [done = std::move(done)](QKeychain::Job *finished) {
        if (finished->error() != QKeychain::NoError)
            return done(Result<bool, SecretFailure>::failure(failureOf(*finished)));
        done(true);
    });
    job->start();
}

void KeychainSecretStore::remove(const QString &name, QObject *context, WriteDone done)
{
    auto *job = startJob<QKeychain::DeletePasswordJob>(m_prefix + u'/' + name);
    QObject::connect(job, &QKeychain::Job::finished, context, [done = std::move(done)](QKeychain::Job *finished) {
        if (finished->error() != QKeychain::NoError && finished->error() != QKeychain::EntryNotFound)
            return done(Result<bool, SecretFailure>::failure(failureOf(*finished)));
        done(true);
    });
    job->start();
}
