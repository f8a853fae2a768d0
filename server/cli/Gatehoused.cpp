#include "Gatehoused.h"

#include "cli/CommandRunner.h"
#include "cli/DaemonCommandLine.h"
#include "cli/DaemonSignals.h"

#include <QCoreApplication>
#include <QLoggingCategory>
#include <QTimer>

#include <cstdio>

int Gatehoused::run(QCoreApplication &application)
{
    const auto command = DaemonCommandLine::parse(application.arguments());
    if (!command) {
        std::fprintf(stderr, "gatehoused: %s\n", qPrintable(command.error()));
        return 2;
    }
    if (command->kind != DaemonCommand::Kind::Serve) // one-shot commands: warnings and errors only
        QLoggingCategory::setFilterRules(QStringLiteral("gatehouse.*.info=false"));
    CommandRunner runner(*command);
    QObject::connect(&runner, &CommandRunner::finished, &application, &QCoreApplication::exit, Qt::QueuedConnection);
    DaemonSignals daemonSignals(&application);
    QObject::connect(&daemonSignals, &DaemonSignals::received, &application, [] { QCoreApplication::exit(0); });
    QObject::connect(&daemonSignals, &DaemonSignals::reloadRequested, &runner, &CommandRunner::reload);
    QTimer::singleShot(0, &runner, &CommandRunner::run);
    return application.exec();
}
