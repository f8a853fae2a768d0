// The console under load: the real window (Sessions tab, one user's tree open), while
// tests/bench/run.sh drives thousands of connections at its server. The server is embedded
// (--data-dir) or a gatehoused in another process that the console attaches to over the admin
// feed (--connect URL --admin-token-stdin). A 10 ms timer measures how late the GUI thread's
// event loop runs; SIGTERM ends the run and prints one JSON line with the lateness percentiles,
// the most connections the console showed and, attached, the feed's bandwidth.
#include "ServerFacade.h"
#include "SessionServer.h"
#include "models/LiveState.h"
#include "remote/RemoteServer.h"
#include "views/MainWindow.h"
#include "views/SessionsView.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTimer>

#include <csignal>
#include <cstdio>
#include <memory>

using namespace Qt::StringLiterals;

namespace {
volatile std::sig_atomic_t stopRequested = 0;

double percentile(std::vector<double> values, double p)
{
    if (values.empty())
        return 0;
    const auto at = values.begin() + qsizetype(p * double(values.size() - 1));
    std::nth_element(values.begin(), at, values.end());
    return *at;
}

/// The admin feed's traffic, read from the RemoteServer once a second from its first snapshot
/// on: the averages over the whole run and the busiest second.
class FeedMeter final {
public:
    void start(const RemoteServer *remote)
    {
        m_remote = remote;
        m_since.start();
        m_tick.start();
        m_lastBytes = remote->bytesReceived();
        m_lastMessages = remote->messagesReceived();
        m_firstBytes = m_lastBytes;
        m_firstMessages = m_lastMessages;
    }
    bool isStarted() const { return m_remote != nullptr; }

    void sample()
    {
        if (!m_remote)
            return;
        // A late tick covers more than a second: rates, not raw deltas, make the peak.
        const double seconds = double(m_tick.nsecsElapsed()) / 1e9;
        m_tick.restart();
        const qint64 bytes = m_remote->bytesReceived();
        const qint64 messages = m_remote->messagesReceived();
        if (seconds > 0) {
            m_peakBytesPerSecond = std::max(m_peakBytesPerSecond, double(bytes - m_lastBytes) / seconds);
            m_peakMessagesPerSecond = std::max(m_peakMessagesPerSecond, double(messages - m_lastMessages) / seconds);
        }
        m_lastBytes = bytes;
        m_lastMessages = messages;
    }

    void addTo(QJsonObject &result) const
    {
        if (!m_remote)
            return;
        const double seconds = double(m_since.nsecsElapsed()) / 1e9;
        const qint64 bytes = m_remote->bytesReceived() - m_firstBytes;
        const qint64 messages = m_remote->messagesReceived() - m_firstMessages;
        result.insert("feed_seconds"_L1, seconds);
        result.insert("feed_bytes"_L1, bytes);
        result.insert("feed_messages"_L1, messages);
        result.insert("feed_bytes_per_second_avg"_L1, seconds > 0 ? double(bytes) / seconds : 0);
        result.insert("feed_bytes_per_second_peak"_L1, m_peakBytesPerSecond);
        result.insert("feed_messages_per_second_avg"_L1, seconds > 0 ? double(messages) / seconds : 0);
        result.insert("feed_messages_per_second_peak"_L1, m_peakMessagesPerSecond);
    }

private:
    const RemoteServer *m_remote = nullptr;
    QElapsedTimer m_since;
    QElapsedTimer m_tick;
    qint64 m_firstBytes = 0;
    qint64 m_firstMessages = 0;
    qint64 m_lastBytes = 0;
    qint64 m_lastMessages = 0;
    double m_peakBytesPerSecond = 0;
    double m_peakMessagesPerSecond = 0;
};

/// The embedded server, or the attached one with the token read from standard input.
std::unique_ptr<ServerFacade> makeServer(const QCommandLineParser &parser)
{
    if (!parser.isSet(u"connect"_s))
        return std::make_unique<SessionServer>(SessionServerOptions { parser.value(u"data-dir"_s), {}, {}, u"file"_s });
    const QUrl url(parser.value(u"connect"_s), QUrl::StrictMode);
    QByteArray token;
    QFile input;
    if (parser.isSet(u"admin-token-stdin"_s) && input.open(stdin, QIODevice::ReadOnly))
        token = input.readLine(4096).trimmed();
    if (!url.isValid() || url.host().isEmpty() || token.isEmpty()) {
        std::fprintf(stderr, "consolebench: --connect takes http://host:port, with --admin-token-stdin\n");
        return {};
    }
    return std::make_unique<RemoteServer>(url, token);
}
} // namespace

int main(int argc, char *argv[])
{
    QApplication application(argc, argv);
    QCommandLineParser parser;
    const QCommandLineOption dataDir(u"data-dir"_s, u"Data directory with gatehouse.json."_s, u"DIR"_s);
    const QCommandLineOption connectTo(u"connect"_s, u"Attach to a running server (admin feed)."_s, u"URL"_s);
    const QCommandLineOption tokenStdin(u"admin-token-stdin"_s, u"With --connect: the admin token on stdin."_s);
    const QCommandLineOption readyFile(u"ready-file"_s, u"Created once the first snapshot is shown."_s, u"FILE"_s);
    const QCommandLineOption label(u"label"_s, u"Label of the result line."_s, u"LABEL"_s, u"console"_s);
    const QCommandLineOption user(u"select-user"_s, u"User whose tree stays open."_s, u"USER"_s, u"u1"_s);
    parser.addOptions({ dataDir, connectTo, tokenStdin, readyFile, label, user });
    parser.process(application);
    std::signal(SIGTERM, [](int) { stopRequested = 1; });

    const auto server = makeServer(parser);
    if (!server)
        return 2;
    const auto *remote = qobject_cast<const RemoteServer *>(server.get());
    MainWindow window(*server);
    window.resize(1280, 760);
    window.show();
    window.showTab(MainWindow::SessionsTab);
    FeedMeter feed;
    int feedLosses = 0;
    QObject::connect(server.get(), &ServerFacade::snapshotReady, &window, [&] {
        window.sessionsView()->selectUser(parser.value(user));
        if (remote && !feed.isStarted())
            feed.start(remote);
        if (parser.isSet(readyFile)) {
            QFile ready(parser.value(readyFile));
            if (!ready.open(QIODevice::WriteOnly))
                std::fprintf(stderr, "consolebench: cannot create %s\n", qPrintable(ready.fileName()));
        }
    });
    QObject::connect(server.get(), &ServerFacade::stateChanged, &window, [&](ServerState state) {
        // An attached console that loses its feed under load says so in the result.
        if (state == ServerState::Starting && feed.isStarted())
            ++feedLosses;
    });
    server->start();

    constexpr double intervalMs = 10;
    std::vector<double> lateness;
    lateness.reserve(1 << 16);
    qint64 peakConnections = 0;
    QElapsedTimer sinceLast;
    QTimer probe;
    probe.setTimerType(Qt::PreciseTimer);
    probe.setInterval(int(intervalMs));
    QObject::connect(&probe, &QTimer::timeout, &window, [&] {
        if (sinceLast.isValid())
            lateness.push_back(std::max(0.0, double(sinceLast.nsecsElapsed()) / 1e6 - intervalMs));
        sinceLast.restart();
        peakConnections = std::max(peakConnections, window.liveState().totalLiveConnections());
        if (stopRequested)
            application.quit();
    });
    probe.start();
    QTimer feedSampler;
    feedSampler.setInterval(1000);
    QObject::connect(&feedSampler, &QTimer::timeout, &window, [&] { feed.sample(); });
    feedSampler.start();
    application.exec();
    if (server->state() == ServerState::Failed) {
        std::fprintf(stderr, "server failed: %s\n", qPrintable(server->errorString()));
        return 1;
    }
    QJsonObject result { { "scenario"_L1, "console"_L1 },
                         { "label"_L1, parser.value(label) },
                         { "mode"_L1, remote ? "remote"_L1 : "embedded"_L1 },
                         { "samples"_L1, qint64(lateness.size()) },
                         { "loop_late_p50_ms"_L1, percentile(lateness, 0.50) },
                         { "loop_late_p99_ms"_L1, percentile(lateness, 0.99) },
                         { "loop_late_max_ms"_L1, percentile(lateness, 1.0) },
                         { "peak_connections_shown"_L1, peakConnections } };
    if (remote) {
        feed.addTo(result);
        result.insert("feed_losses"_L1, feedLosses);
    }
    std::printf("%s\n", QJsonDocument(result).toJson(QJsonDocument::Compact).constData());
    return 0;
}
