// The console under load: the real window (Sessions tab, one user's tree open) with its
// embedded server, while tests/bench/run.sh drives thousands of connections at it. A 10 ms
// timer measures how late the GUI thread's event loop runs; SIGTERM ends the run and prints
// one JSON line with the lateness percentiles and the most connections the console showed.
#include "SessionServer.h"
#include "models/LiveState.h"
#include "views/MainWindow.h"
#include "views/SessionsView.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QElapsedTimer>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTimer>

#include <csignal>
#include <cstdio>

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
} // namespace

int main(int argc, char *argv[])
{
    QApplication application(argc, argv);
    QCommandLineParser parser;
    const QCommandLineOption dataDir(u"data-dir"_s, u"Data directory with gatehouse.json."_s, u"DIR"_s);
    const QCommandLineOption label(u"label"_s, u"Label of the result line."_s, u"LABEL"_s, u"console"_s);
    const QCommandLineOption user(u"select-user"_s, u"User whose tree stays open."_s, u"USER"_s, u"u1"_s);
    parser.addOptions({ dataDir, label, user });
    parser.process(application);
    std::signal(SIGTERM, [](int) { stopRequested = 1; });

    SessionServer server({ parser.value(dataDir), {}, {}, u"file"_s });
    MainWindow window(server);
    window.resize(1280, 760);
    window.show();
    window.showTab(MainWindow::SessionsTab);
    server.start();
    QObject::connect(&server, &SessionServer::snapshotReady, &window,
                     [&] { window.sessionsView()->selectUser(parser.value(user)); });

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
    application.exec();
    if (server.state() == ServerState::Failed) {
        std::fprintf(stderr, "server failed: %s\n", qPrintable(server.errorString()));
        return 1;
    }
    const QJsonObject result { { "scenario"_L1, "console"_L1 },
                               { "label"_L1, parser.value(label) },
                               { "samples"_L1, qint64(lateness.size()) },
                               { "loop_late_p50_ms"_L1, percentile(lateness, 0.50) },
                               { "loop_late_p99_ms"_L1, percentile(lateness, 0.99) },
                               { "loop_late_max_ms"_L1, percentile(lateness, 1.0) },
                               { "peak_connections_shown"_L1, peakConnections } };
    std::printf("%s\n", QJsonDocument(result).toJson(QJsonDocument::Compact).constData());
    return 0;
}
