#include "http/WebCookies.h"

#include <QList>

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

QByteArray WebCookies::find(QByteArrayView cookieHeader, QByteArrayView name)
{
    for (const QByteArray &pair : cookieHeader.toByteArray().split(';')) {
        const qsizetype equals = pair.indexOf('=');
        if (equals <= 0)
            continue;
        QByteArray key = pair.first(equals).trimmed();
        if (key.startsWith("__Host-"))
            key.remove(0, 7);
        else if (key.startsWith("__Secure-"))
            key.remove(0, 9);
        if (key == name)
            return pair.sliced(equals + 1).trimmed();
    }
    return {};
}
