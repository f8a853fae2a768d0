#include "http/WebCookies.h"

#include <QList>

#include <algorithm>

namespace {
QByteArray cookie(QByteArrayView name, QByteArrayView prefix, QByteArrayView value, QByteArrayView path,
                  qint64 maxAgeSeconds, bool secure, QByteArrayView sameSite = "Strict")
{
    QByteArray text;
    if (secure)
        text += prefix;
    text += name;
    text += '=';
    text += value;
    text += "; Path=";
    text += path;
    text += "; Max-Age=" + QByteArray::number(std::max<qint64>(0, maxAgeSeconds));
    text += "; HttpOnly; SameSite=";
    text += sameSite;
    if (secure)
        text += "; Secure";
    return text;
}
} // namespace

QByteArray WebCookies::sessionCookie(QByteArrayView accessToken, qint64 maxAgeSeconds, bool secure)
{
    return cookie(sessionName, "__Host-", accessToken, "/", maxAgeSeconds, secure);
}

QByteArray WebCookies::refreshCookie(QByteArrayView refreshToken, qint64 maxAgeSeconds, bool secure)
{
    return cookie(refreshName, "__Secure-", refreshToken, refreshPath, maxAgeSeconds, secure);
}

QByteArray WebCookies::sliCookie(QByteArrayView value, qint64 maxAgeSeconds, bool secure)
{
    return cookie(sliName, "__Host-", value, "/", maxAgeSeconds, secure, "Lax");
}

QByteArray WebCookies::deviceCookie(QByteArrayView value, qint64 maxAgeSeconds, bool secure)
{
    return cookie(deviceName, "__Host-", value, "/", maxAgeSeconds, secure);
}

QByteArray WebCookies::formCookie(QByteArrayView nonce, qint64 maxAgeSeconds, bool secure)
{
    return cookie(formName, "__Host-", nonce, "/", maxAgeSeconds, secure);
}

namespace {
/// The name of one "name=value" pair without its prefix, or empty if it has no name or is not
/// one of ours on this transport: over TLS ours carry a __Host- or __Secure- prefix (which a
/// browser only keeps from a secure origin, so a cookie tossed in by a sibling host or over
/// plain HTTP cannot pass for them); without TLS they have none.
QByteArray nameOf(const QByteArray &pair, bool secure)
{
    const qsizetype equals = pair.indexOf('=');
    if (equals <= 0)
        return {};
    QByteArray key = pair.first(equals).trimmed();
    const bool prefixed = key.startsWith("__Host-") || key.startsWith("__Secure-");
    if (prefixed != secure)
        return {};
    if (key.startsWith("__Host-"))
        key.remove(0, 7);
    else if (key.startsWith("__Secure-"))
        key.remove(0, 9);
    return key;
}
} // namespace

QByteArray WebCookies::find(QByteArrayView cookieHeader, QByteArrayView name, bool secure)
{
    for (const QByteArray &pair : cookieHeader.toByteArray().split(';')) {
        if (nameOf(pair, secure) == name)
            return pair.sliced(pair.indexOf('=') + 1).trimmed();
    }
    return {};
}

qsizetype WebCookies::count(QByteArrayView cookieHeader, QByteArrayView name, bool secure)
{
    const QList<QByteArray> pairs = cookieHeader.toByteArray().split(';');
    return std::count_if(pairs.cbegin(), pairs.cend(),
                         [name, secure](const QByteArray &pair) { return nameOf(pair, secure) == name; });
}
