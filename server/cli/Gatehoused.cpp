#include "Gatehoused.h"

#include "cli/CommandRunner.h"
#include "cli/DaemonCommandLine.h"
#include "cli/TerminationSignals.h"

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
    TerminationSignals terminationSignals(&application);
    QObject::connect(&terminationSignals, &TerminationSignals::received, &application,
                     [] { QCoreApplication::exit(0); });
    QTimer::singleShot(0, &runner, &CommandRunner::run);
    return application.exec();
}
