// WebCookies::find, which reads the Cookie header of every request for the session, refresh
// and single-login cookies: plain without TLS, prefixed over TLS.
#include "FuzzCheck.h"

#include "http/WebCookies.h"

namespace {
bool isOws(char c)
{
    return c == ' ' || c == '\t';
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView header(data, qsizetype(size));
    for (const QByteArrayView name : { WebCookies::sessionName, WebCookies::refreshName, WebCookies::sliName }) {
        const QByteArray value = WebCookies::find(header, name, false);
        const QByteArray secure = WebCookies::find(header, name, true);
        FUZZ_CHECK(!secure.contains(';'));
        FUZZ_CHECK(secure.isEmpty() || header.indexOf(secure) >= 0);
        // A value is part of one cookie-pair: never another pair, never padded.
        FUZZ_CHECK(!value.contains(';'));
        FUZZ_CHECK(value.isEmpty() || (!isOws(value.front()) && !isOws(value.back())));
        FUZZ_CHECK(value.isEmpty() || header.indexOf(value) >= 0);

        // A cookie of that name after whatever the client sent is found as written, unless the
        // client's header already held one of that name: the first one wins.
        const QByteArray ours = "0123456789abcdef";
        QByteArray extended = header.toByteArray();
        extended += "; ";
        extended += name;
        extended += '=';
        extended += ours;
        const QByteArray found = WebCookies::find(extended, name, false);
        FUZZ_CHECK(found == ours || found == value);
    }
    return 0;
}
