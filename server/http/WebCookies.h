#pragma once

#include <QByteArray>
#include <QByteArrayView>

/// The two cookies of the 2-Cookie Handoff. The session cookie carries the access token for
/// minutes and goes with every request to the site (and the WebSocket); the refresh cookie
/// carries the refresh token for days and goes only to POST /auth/refresh (its Path). Both are
/// HttpOnly and SameSite=Strict; over TLS they are Secure, and the session cookie takes the
/// __Host- prefix, which the refresh cookie cannot (its Path is not "/"), so it takes __Secure-.
namespace WebCookies {
inline constexpr QByteArrayView sessionName = "gh_session";
inline constexpr QByteArrayView refreshName = "gh_refresh";
inline constexpr QByteArrayView refreshPath = "/auth/refresh";
/// The single login identification (SLI) of the authorization endpoint: HttpOnly, Path=/,
/// SameSite=Lax, because relying parties send the browser here by top-level navigation
/// from their own sites; __Host- over TLS.
inline constexpr QByteArrayView sliName = "gh_sli";
/// The login limits' known-device marker (DeviceCookie): HttpOnly, Path=/, SameSite=Strict
/// (only this site's own login forms need it); __Host- over TLS.
inline constexpr QByteArrayView deviceName = "gh_device";
/// The nonce of the login and logout pages' anti-forgery tokens (FormToken): short-lived,
/// HttpOnly, Path=/, SameSite=Strict; __Host- over TLS.
inline constexpr QByteArrayView formName = "gh_form";

/// Set-Cookie values; an empty value with a zero lifetime clears the cookie.
QByteArray sessionCookie(QByteArrayView accessToken, qint64 maxAgeSeconds, bool secure);
QByteArray refreshCookie(QByteArrayView refreshToken, qint64 maxAgeSeconds, bool secure);
QByteArray sliCookie(QByteArrayView value, qint64 maxAgeSeconds, bool secure);
QByteArray deviceCookie(QByteArrayView value, qint64 maxAgeSeconds, bool secure);
QByteArray formCookie(QByteArrayView nonce, qint64 maxAgeSeconds, bool secure);
/// The value of cookie `name` in a Cookie header, or empty. Over TLS (`secure`) only its
/// __Host-/__Secure- spelling is ours (a browser keeps those from a secure origin only, so
/// one set over plain HTTP or by a sibling host cannot pass for it); without TLS only the plain.
QByteArray find(QByteArrayView cookieHeader, QByteArrayView name, bool secure);
/// How often cookie `name` (in the spelling find() takes) appears in a Cookie header: more than
/// once is ambiguous (one may be tossed in by a sibling host), and find() takes the first.
qsizetype count(QByteArrayView cookieHeader, QByteArrayView name, bool secure);
} // namespace WebCookies
