// gatehouse-conformance-echo: Gatehouse's production WebSocket path with an echo in place of
// the session protocol, for the Autobahn|Testsuite (tests/tools/conformance.sh,
// docs/conformance.md).
//
//   gatehouse-conformance-echo [--port P] [--token T]
//
// What runs is what serves /ws in the server: an IoThread (its epoll dispatcher, its
// UpgradeGate peeking at the head and running the checks, a WebSocketStream on the
// descriptor, WebSocketFrame's codec), with the limits lifted to what the suite sends (16 MiB
// messages; fragments are not counted). The stream takes binary messages here, and every
// message goes back as it came, text as text, binary as binary.
//
// Authentication: the suite sends one fixed header (AUTOBAHN_HEADERS), so the gate runs with
// an authenticator that accepts exactly `Authorization: Bearer <T>` and refuses anything else
// with 401, as the real one does. No signing key, store or session is involved: the suite
// judges framing, and tokens have their own tests (tst_tokenverifier, tst_josecrosscheck).
//
// Prints "listening on 127.0.0.1:PORT" when ready; stops on SIGTERM or SIGINT (so that
// AddressSanitizer's leak check runs) and exits 0.
#include "cli/DaemonSignals.h"
#include "http/HttpCensus.h"
#include "http/HttpDispatcher.h"
#include "policy/RateLimiter.h"
#include "ws/ConnectionCensus.h"
#include "ws/IoThread.h"
#include "ws/WebSocketStream.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QTcpServer>

#include <cstdio>
#include <limits>
#include <memory>

#include <unistd.h>

using namespace Qt::StringLiterals;

namespace {
constexpr qint64 largestMessage = 16 * 1024 * 1024; // 9.1.6 and 9.2.6 send exactly this
constexpr qint64 largestQueue = 64 * 1024 * 1024; // the echo of a 16 MiB message, and more, may wait
constexpr qsizetype unlimited = 1'000'000;

/// Every bearer of `token` is the same test user; anything else is refused as the real
/// authenticator refuses a bad token.
LiveConnection::Authenticator fixedToken(const QByteArray &token)
{
    return [token](const QByteArray &presented) -> Result<AccessClaims, QString> {
        if (presented != token)
            return fail(u"bad_signature"_s);
        AccessClaims claims;
        claims.subject = u"autobahn"_s;
        claims.local = true;
        claims.sessionId = u"conformance"_s;
        claims.expiresAt = std::numeric_limits<qint32>::max();
        return claims;
    };
}

/// Hands each accepted stream an echo; the census place goes back when it ends.
void echo(WebSocketStream *stream, const AccessClaims &claims, ConnectionCensus &census)
{
    QObject::connect(stream, &WebSocketStream::textReceived, stream,
                     [stream](const QByteArray &text) { stream->sendText(text); });
    QObject::connect(stream, &WebSocketStream::binaryReceived, stream,
                     [stream](const QByteArray &bytes) { stream->sendBinary(bytes); });
    QObject::connect(stream, &WebSocketStream::disconnected, stream,
                     [&census, user = claims.user()] { census.release(user); });
}
} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QCommandLineParser parser;
    parser.addHelpOption();
    const QCommandLineOption portOption(u"port"_s, u"Port on 127.0.0.1 (0: any free one)."_s, u"P"_s, u"0"_s);
    const QCommandLineOption tokenOption(u"token"_s, u"The bearer token the gate accepts."_s, u"T"_s, u"conformance"_s);
    parser.addOptions({ portOption, tokenOption });
    parser.process(app);

    QTcpServer listener;
    if (!listener.listen(QHostAddress::LocalHost, parser.value(portOption).toUShort())) {
        std::fprintf(stderr, "cannot listen: %s\n", qPrintable(listener.errorString()));
        return 2;
    }
    listener.pauseAccepting(); // the I/O thread accepts from its socket, as in the server

    ConnectionCensus census(unlimited, unlimited);
    RateLimiter handshakesPerIp(unlimited, unlimited);
    RateLimiter handshakesPerUser(unlimited, unlimited);
    HttpCensus httpSockets(unlimited, unlimited);
    HttpDispatcher http;
    http.serve(&app, [](const HttpRequest &, HttpDispatcher::Reply reply) {
        reply(HttpResponse { 404, { { "Content-Type", "text/plain" } }, "only /ws is served here\n" });
    });

    IoThread::Setup setup;
    setup.listeningSocket = ::dup(static_cast<int>(listener.socketDescriptor()));
    const QByteArray token = parser.value(tokenOption).toUtf8();
    setup.authenticatorFor = [token](AccessGuard::SessionLoader) { return fixedToken(token); };
    // No live limits: the options' message size, and no message rate.
    setup.shared = UpgradeGate::Shared { &census, &handshakesPerIp, &handshakesPerUser, &http, &httpSockets, nullptr };
    setup.options.allowedOrigins = { u"*"_s };
    setup.options.maximumMessageSize = largestMessage;
    setup.options.binaryMessages = true;
    setup.options.maximumQueued = largestQueue;
    setup.options.upgraded
        = [&census](WebSocketStream *stream, const AccessClaims &claims) { echo(stream, claims, census); };
    setup.census = &census;
    auto thread = std::make_unique<IoThread>(std::move(setup));

    DaemonSignals signals;
    QObject::connect(&signals, &DaemonSignals::received, &app, [&] {
        http.stop();
        thread.reset(); // closes what is open with 1001 and joins the thread
        app.quit();
    });
    std::printf("listening on 127.0.0.1:%u\n", unsigned(listener.serverPort()));
    std::fflush(stdout);
    return app.exec();
}
