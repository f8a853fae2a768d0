#include "Gatehoused.h"

#include <QCoreApplication>

int main(int argc, char *argv[])
{
    QCoreApplication application(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("gatehouse"));
    // The project version and the git revision it was built from (cmake/GatehouseRevision.cmake).
    QCoreApplication::setApplicationVersion(QStringLiteral(GATEHOUSE_VERSION " (git " GATEHOUSE_REVISION ")"));
    return Gatehoused::run(application);
}
