// The console's window with its real embedded server, on the offscreen platform.
#include "SessionServer.h"
#include "views/MainWindow.h"

#include <QApplication>
#include <QFile>
#include <QLabel>
#include <QSignalSpy>
#include <QStatusBar>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>

using namespace Qt::StringLiterals;

class TestMainWindow final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void init();
    void showsTheRunningServer();
    void showsWhyTheServerCouldNotStart_data();
    void showsWhyTheServerCouldNotStart();

private:
    std::unique_ptr<QTemporaryDir> m_dir;
};

void TestMainWindow::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
}

void TestMainWindow::showsTheRunningServer()
{
    SessionServer server({ m_dir->filePath(u"data"_s), {}, u"127.0.0.1:0"_s, u"file"_s });
    MainWindow window(server);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    auto *state = window.findChild<QLabel *>(u"stateLabel"_s);
    auto *address = window.findChild<QLabel *>(u"addressLabel"_s);
    auto *dataDirectory = window.findChild<QLabel *>(u"dataDirectoryLabel"_s);
    QVERIFY(state && address && dataDirectory);
    server.start();
    QTRY_COMPARE_WITH_TIMEOUT(state->text(), u"Running"_s, 20000);
    QVERIFY2(address->text().startsWith(u"http://127.0.0.1:"_s), qPrintable(address->text()));
    QVERIFY(!address->text().endsWith(u":0"_s));
    QCOMPARE(dataDirectory->text(), m_dir->filePath(u"data"_s));
    QVERIFY(window.statusBar()->currentMessage().contains(server.listenAddress()));
    QVERIFY(!window.findChild<QLabel *>(u"errorLabel"_s)->isVisible());
    server.stop();
    QCOMPARE(state->text(), u"Stopped"_s);
}

void TestMainWindow::showsWhyTheServerCouldNotStart_data()
{
    QTest::addColumn<QString>("problem");
    QTest::newRow("port already taken") << u"port"_s;
    QTest::newRow("database file is not a database") << u"database"_s;
    QTest::newRow("data directory is a file") << u"file"_s;
}

void TestMainWindow::showsWhyTheServerCouldNotStart()
{
    QFETCH(QString, problem);
    QTcpServer squatter;
    QString listen = u"127.0.0.1:0"_s;
    QString dataDirectory = m_dir->filePath(u"data"_s);
    QString expected;
    if (problem == "port"_L1) {
        QVERIFY(squatter.listen(QHostAddress::LocalHost, 0));
        listen = u"127.0.0.1:%1"_s.arg(squatter.serverPort());
        expected = u"in use"_s;
    } else if (problem == "database"_L1) {
        QVERIFY(QDir().mkpath(dataDirectory));
        QFile garbage(dataDirectory + u"/gatehouse.sqlite"_s);
        QVERIFY(garbage.open(QIODevice::WriteOnly));
        garbage.write(QByteArray(4096, 'G'));
        garbage.close();
        expected = u"gatehouse.sqlite"_s;
    } else {
        QFile file(dataDirectory);
        QVERIFY(file.open(QIODevice::WriteOnly));
        expected = u"is a file"_s;
    }
    SessionServer server({ dataDirectory, {}, listen, u"file"_s });
    MainWindow window(server);
    window.show();
    server.start();
    auto *state = window.findChild<QLabel *>(u"stateLabel"_s);
    auto *error = window.findChild<QLabel *>(u"errorLabel"_s);
    QTRY_COMPARE_WITH_TIMEOUT(state->text(), u"Could not start"_s, 20000);
    QVERIFY(error->isVisible());
    QVERIFY2(error->text().contains(expected), qPrintable(error->text()));
}

QTEST_MAIN(TestMainWindow)
#include "tst_mainwindow.moc"
