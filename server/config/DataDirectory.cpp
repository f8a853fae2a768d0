#include "config/DataDirectory.h"

#include <QDir>
#include <QFileInfo>
#include <QStandardPaths>

using namespace Qt::StringLiterals;

QString DataDirectory::resolve(const QString &fromFlag)
{
    if (!fromFlag.isEmpty())
        return QDir(fromFlag).absolutePath();
    const QString fromEnvironment = qEnvironmentVariable("GATEHOUSE_DATA_DIR");
    if (!fromEnvironment.isEmpty())
        return QDir(fromEnvironment).absolutePath();
    return QStandardPaths::writableLocation(QStandardPaths::GenericDataLocation) + u"/gatehouse"_s;
}

Result<QString, QString> DataDirectory::prepare(const QString &path)
{
    const QFileInfo info(path);
    if (info.exists() && !info.isDir())
        return fail(u"data directory %1 is a file, not a folder"_s.arg(path));
    if (!info.exists()) {
        if (!QDir().mkpath(path))
            return fail(u"cannot create data directory %1"_s.arg(path));
        QFile::setPermissions(path, QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner);
    }
    if (!QFileInfo(path).isWritable())
        return fail(u"data directory %1 is not writable"_s.arg(path));
    return path;
}
