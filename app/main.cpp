#include "Application.h"

#include <QApplication>

int main(int argc, char *argv[])
{
    QApplication qtApplication(argc, argv);
    Application application(qtApplication);
    return application.run();
}
