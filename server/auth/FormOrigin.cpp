#include "auth/FormOrigin.h"

#include <QString>
#include <QUrl>

using namespace Qt::StringLiterals;

namespace {
/// "host:port" in lower case, without the scheme's default port, or empty if it is no
/// http(s) URL. Only the authority is compared: behind a TLS proxy the scheme may differ.
QString authorityOf(QByteArrayView url)
{
    const QUrl parsed(QString::fromLatin1(url), QUrl::StrictMode);
    if (!parsed.isValid() || (parsed.scheme() != "http"_L1 && parsed.scheme() != "https"_L1) || parsed.host().isEmpty()
        || !parsed.userInfo().isEmpty())
        return {};
    const int defaultPort = parsed.scheme() == "https"_L1 ? 443 : 80;
    const int port = parsed.port(defaultPort);
    return port == defaultPort ? parsed.host() : parsed.host() + u':' + QString::number(port);
}

/// The Host field (RFC 9110 §7.2) in the same form, for either scheme's default port.
bool sameAuthority(const QString &authority, QByteArrayView host)
{
    if (authority.isEmpty() || host.isEmpty())
        return false;
    for (const QByteArrayView scheme : { "http://", "https://" }) {
        const QByteArray url = scheme.toByteArray() + host.toByteArray();
        if (authorityOf(url) == authority)
            return true;
    }
    return false;
}
} // namespace

FormOrigin::Verdict FormOrigin::judge(const Signals &request)
{
    bool signalled = false;
    if (!request.fetchSite.isEmpty()) {
        // Fetch Metadata: "none" is the user's own navigation (typed, bookmarked).
        const QByteArray site = request.fetchSite.toByteArray().trimmed().toLower();
        if (site != "same-origin" && site != "none")
            return Verdict::CrossSite; // cross-site, same-site (a sibling host), or unknown
        signalled = true;
    }
    // "null" (a sandboxed frame, a redirect across origins) names no origin at all: refused.
    if (!request.origin.isEmpty()) {
        if (!sameAuthority(authorityOf(request.origin), request.host))
            return Verdict::CrossSite;
        signalled = true;
    }
    if (!request.referer.isEmpty()) {
        if (!sameAuthority(authorityOf(request.referer), request.host))
            return Verdict::CrossSite;
        signalled = true;
    }
    return signalled ? Verdict::SameOrigin : Verdict::NoSignal;
}
