#include "ws/HttpHead.h"

QByteArray HttpHead::value(QByteArrayView name) const
{
    QByteArray joined;
    for (const auto &[fieldName, fieldValue] : fields) {
        if (fieldName != name)
            continue;
        if (!joined.isEmpty())
            joined += ", ";
        joined += fieldValue;
    }
    return joined;
}

bool HttpHead::hasToken(QByteArrayView name, QByteArrayView token) const
{
    for (const auto &part : value(name).split(',')) {
        if (part.trimmed().compare(token, Qt::CaseInsensitive) == 0)
            return true;
    }
    return false;
}

QByteArray HttpHead::path() const
{
    const qsizetype question = target.indexOf('?');
    return question < 0 ? target : target.first(question);
}

QByteArray HttpHead::queryValue(QByteArrayView name) const
{
    const qsizetype question = target.indexOf('?');
    if (question < 0)
        return {};
    for (const auto &pair : target.sliced(question + 1).split('&')) {
        const qsizetype equals = pair.indexOf('=');
        const QByteArray key = equals < 0 ? pair : pair.first(equals);
        if (QByteArray::fromPercentEncoding(key) == name)
            return equals < 0 ? QByteArray() : QByteArray::fromPercentEncoding(pair.sliced(equals + 1));
    }
    return {};
}

qsizetype HttpHead::queryCount(QByteArrayView name) const
{
    const qsizetype question = target.indexOf('?');
    if (question < 0)
        return 0;
    qsizetype count = 0;
    for (const auto &pair : target.sliced(question + 1).split('&')) {
        const qsizetype equals = pair.indexOf('=');
        if (QByteArray::fromPercentEncoding(equals < 0 ? pair : pair.first(equals)) == name)
            ++count;
    }
    return count;
}
