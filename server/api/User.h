#pragma once

#include <QMetaType>
#include <QString>
#include <QStringList>

/// A user as the rest of the server sees it (never with the password hash).
struct User {
    qint64 id = 0;
    QString username;
    QString displayName;
    QStringList roles;
    bool enabled = true;
    qint64 passwordChangedAt = 0;
    qint64 createdAt = 0;
    qint64 updatedAt = 0;
};
Q_DECLARE_METATYPE(User)
