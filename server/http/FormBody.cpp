#include "http/FormBody.h"

using namespace Qt::StringLiterals;

namespace {
constexpr int maximumParameters = 32;

QString decode(QByteArray part)
{
    part.replace('+', ' ');
    return QString::fromUtf8(QByteArray::fromPercentEncoding(part));
}
} // namespace

Result<QHash<QString, QString>, QString> FormBody::parse(QByteArrayView body)
{
    QHash<QString, QString> parameters;
    if (body.isEmpty())
        return parameters;
    const auto pairs = body.toByteArray().split('&');
    if (pairs.size() > maximumParameters)
        return fail(u"too many parameters"_s);
    for (const auto &pair : pairs) {
        if (pair.isEmpty())
            continue;
        const qsizetype equals = pair.indexOf('=');
        const QString name = decode(equals < 0 ? pair : pair.first(equals));
        const QString value = equals < 0 ? QString() : decode(pair.sliced(equals + 1));
        if (name.isEmpty())
            return fail(u"a parameter without a name"_s);
        if (parameters.contains(name))
            return fail(u"parameter \"%1\" appears twice"_s.arg(name));
        parameters.insert(name, value);
    }
    return parameters;
}
