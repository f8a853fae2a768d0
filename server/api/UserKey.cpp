#include "UserKey.h"

#include <QHashFunctions>

using namespace Qt::StringLiterals;

namespace {
constexpr QChar separator = u'#';
} // namespace

QString UserKey::toString() const
{
    if (isLocal())
        return subject;
    // Only the issuer is escaped: the first '#' ends it, and the subject may hold anything.
    QString escaped = issuer;
    escaped.replace(u'%', "%25"_L1).replace(separator, "%23"_L1);
    return escaped + separator + subject;
}

QString UserKey::foldedUsername(const QString &username)
{
    QString folded = username;
    for (QChar &c : folded) {
        if (c >= u'A' && c <= u'Z')
            c = QChar(c.unicode() + (u'a' - u'A'));
    }
    return folded;
}

UserKey UserKey::fromString(const QString &text)
{
    const qsizetype at = text.indexOf(separator);
    if (at < 0)
        return local(text);
    QString issuer = text.first(at);
    issuer.replace("%23"_L1, QString(separator)).replace("%25"_L1, "%"_L1);
    return UserKey { issuer, text.sliced(at + 1) };
}

QString UserKey::displayName() const
{
    return isLocal() ? subject : subject + " @ "_L1 + issuer;
}

size_t qHash(const UserKey &key, size_t seed) noexcept
{
    return qHashMulti(seed, key.issuer, key.subject);
}
