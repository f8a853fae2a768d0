#include "secrets/FileSecretStore.h"

#include <QDir>
#include <QFile>
#include <QMetaObject>
#include <QRegularExpression>
#include <QSaveFile>

using namespace Qt::StringLiterals;

namespace {
constexpr qint64 maximumSecretSize = 1024 * 1024;
constexpr auto ownerOnly = QFileDevice::ReadOwner | QFileDevice::WriteOwner;

template<typename Callback, typename Value> void answerLater(QObject *context, Callback done, Value value)
{
    // Same contract as the keychain: the answer comes from the event loop, not from inside the call.
    QMetaObject::invokeMethod(
        context, [done = std::move(done), value = std::move(value)]() mutable { done(std::move(value)); },
        Qt::QueuedConnection);
}

SecretFailure failure(SecretError error, QString message)
{
    return SecretFailure { error, std::move(message) };
}
} // namespace

FileSecretStore::FileSecretStore(QString directory)
    : m_directory(std::move(directory))
{
}

QString FileSecretStore::backendName() const
{
    return u"file"_s;
}

QString FileSecretStore::pathFor(const QString &name) const
{
    static const QRegularExpression allowed(u"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$"_s);
    if (!allowed.match(name).hasMatch() || name.contains(".."_L1))
        return {};
    QString fileName = name;
    fileName.replace(u'/', u'_');
    return m_directory + u'/' + fileName;
}

void FileSecretStore::read(const QString &name, QObject *context, ReadDone done)
{
    const QString path = pathFor(name);
    using ReadResult = Result<QByteArray, SecretFailure>;
    if (path.isEmpty())
        return answerLater(context, std::move(done),
                           ReadResult::failure(failure(SecretError::Failed, u"bad secret name"_s)));
    QFile file(path);
    if (!file.exists())
        return answerLater(context, std::move(done), ReadResult::failure(failure(SecretError::NotFound, path)));
    if (!file.open(QIODevice::ReadOnly))
        return answerLater(
            context, std::move(done),
            ReadResult::failure(failure(SecretError::AccessDenied, path + u": "_s + file.errorString())));
    if ((file.permissions()
         & (QFileDevice::ReadGroup | QFileDevice::ReadOther | QFileDevice::WriteGroup | QFileDevice::WriteOther))
        != 0)
        return answerLater(
            context, std::move(done),
            ReadResult::failure(failure(SecretError::AccessDenied,
                                        path + u" is readable by others; refusing to use it (chmod 600)"_s)));
    if (file.size() > maximumSecretSize)
        return answerLater(context, std::move(done),
                           ReadResult::failure(failure(SecretError::Failed, path + u" is too large"_s)));
    answerLater(context, std::move(done), ReadResult(file.readAll()));
}

void FileSecretStore::write(const QString &name, const QByteArray &secret, QObject *context, WriteDone done)
{
    using WriteResult = Result<bool, SecretFailure>;
    const QString path = pathFor(name);
    if (path.isEmpty())
        return answerLater(context, std::move(done),
                           WriteResult::failure(failure(SecretError::Failed, u"bad secret name"_s)));
    if (!QDir().mkpath(m_directory)
        || !QFile::setPermissions(m_directory,
                                  QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner))
        return answerLater(context, std::move(done),
                           WriteResult::failure(failure(SecretError::AccessDenied, u"cannot create "_s + m_directory)));
    QSaveFile file(path);
    // Restrict the temporary file before a single secret byte goes into it.
    if (!file.open(QIODevice::WriteOnly) || !file.setPermissions(ownerOnly) || file.write(secret) != secret.size()
        || !file.commit())
        return answerLater(context, std::move(done),
                           WriteResult::failure(failure(SecretError::Failed, path + u": "_s + file.errorString())));
    answerLater(context, std::move(done), WriteResult(true));
}

void FileSecretStore::remove(const QString &name, QObject *context, WriteDone done)
{
    using WriteResult = Result<bool, SecretFailure>;
    const QString path = pathFor(name);
    if (path.isEmpty())
        return answerLater(context, std::move(done),
                           WriteResult::failure(failure(SecretError::Failed, u"bad secret name"_s)));
    if (QFile::exists(path) && !QFile::remove(path))
        return answerLater(context, std::move(done),
                           WriteResult::failure(failure(SecretError::Failed, u"cannot remove "_s + path)));
    answerLater(context, std::move(done), WriteResult(true));
}
