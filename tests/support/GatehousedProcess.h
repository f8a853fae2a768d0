#pragma once

// `gatehoused` as the integration tests run it: a command to its end, or `serve` until its
// banner says where it listens. GATEHOUSED_PATH is the build's binary (tests/CMakeLists.txt).
#include <QProcess>
#include <QRegularExpression>
#include <QString>
#include <QStringList>
#include <QTest>

struct GatehousedOutcome {
    int exitCode = -1; ///< -1: it did not start, crashed or was killed
    QString out;
    QString err;
};

namespace GatehousedProcess {
/// This environment without the user's session (no Secret Service, no display, no data
/// directory of theirs), with leak checks on.
inline QProcessEnvironment environment()
{
    auto environment = QProcessEnvironment::systemEnvironment();
    for (const auto *name : { "DBUS_SESSION_BUS_ADDRESS", "DISPLAY", "WAYLAND_DISPLAY", "GATEHOUSE_DATA_DIR" })
        environment.remove(QString::fromLatin1(name));
    environment.insert(QStringLiteral("ASAN_OPTIONS"), QStringLiteral("detect_leaks=1"));
    return environment;
}

/// Runs `gatehoused ARGUMENTS` with `input` on its standard input, killed after `timeoutMs`.
inline GatehousedOutcome run(const QStringList &arguments, const QByteArray &input, int timeoutMs)
{
    QProcess process;
    process.setProcessEnvironment(environment());
    process.start(QStringLiteral(GATEHOUSED_PATH), arguments);
    if (!process.waitForStarted())
        return {};
    process.write(input);
    process.closeWriteChannel();
    if (!process.waitForFinished(timeoutMs))
        process.kill();
    return GatehousedOutcome { process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1,
                               QString::fromUtf8(process.readAllStandardOutput()),
                               QString::fromUtf8(process.readAllStandardError()) };
}

/// Starts `gatehoused serve ARGUMENTS` (with --listen 127.0.0.1:0) in `server`; the port its
/// banner names, or 0 when it did not say within 20 s.
inline quint16 startServe(QProcess &server, const QStringList &arguments)
{
    server.setProcessEnvironment(environment());
    server.start(QStringLiteral(GATEHOUSED_PATH),
                 QStringList { QStringLiteral("serve"), QStringLiteral("--listen"), QStringLiteral("127.0.0.1:0") }
                     + arguments);
    QString banner;
    const bool listening = QTest::qWaitFor(
        [&] {
            return (banner += QString::fromUtf8(server.readAllStandardOutput()))
                .contains(QStringLiteral("listening on"));
        },
        20000);
    if (!listening)
        return 0;
    return QRegularExpression(QStringLiteral("listening on 127\\.0\\.0\\.1:(\\d+)"))
        .match(banner)
        .captured(1)
        .toUShort();
}
} // namespace GatehousedProcess
