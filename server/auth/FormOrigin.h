#pragma once

#include <QByteArrayView>

/// Where a browser says a form POST comes from, for the server's own pages (login, logout):
/// `Origin` (RFC 6454 §7), `Sec-Fetch-Site` (Fetch Metadata) and `Referer` (RFC 9110 §10.1.3),
/// each compared with `Host`. Any one that names another origin refuses the form (login
/// CSRF); none at all is a client that sends none (not a browser, or an old one), which the
/// form's anti-forgery token still has to convince.
namespace FormOrigin {
enum class Verdict {
    SameOrigin,
    CrossSite,
    NoSignal,
};

struct Signals {
    QByteArrayView origin;
    QByteArrayView fetchSite;
    QByteArrayView referer;
    QByteArrayView host;
};

Verdict judge(const Signals &request);
} // namespace FormOrigin
