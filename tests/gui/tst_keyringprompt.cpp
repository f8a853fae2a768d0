// The console on a new desktop (tests/support/with-keyring-prompt.sh): the Secret Service has
// no keyring yet, and its prompter asks, on a real X server, for the new keyring's password.
// Nobody answers. The console says what it waits for and offers owner-only files; taking the
// offer starts the server at once, and leaving it, the server falls back by itself.
#include "SessionServer.h"
#include "store/Database.h"
#include "views/MainWindow.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QMessageBox>
#include <QPushButton>
#include <QRegularExpression>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTemporaryDir>
#include <QTest>

using namespace Qt::StringLiterals;

class TestKeyringPrompt final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void theConsoleOffersFilesWhileTheKeyringAsks();
    void leftAloneItFallsBackToFiles();

private:
    QString backendOf(const QString &dataDirectory) const;
};

void TestKeyringPrompt::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QSettings().clear();
    QVERIFY2(!qEnvironmentVariableIsEmpty("DISPLAY"), "run under tests/support/with-keyring-prompt.sh");
}

QString TestKeyringPrompt::backendOf(const QString &dataDirectory) const
{
    Database database;
    if (!database.open(QDir(dataDirectory).filePath(u"gatehouse.sqlite"_s)))
        return {};
    return database.setting(u"secret_backend"_s);
}

void TestKeyringPrompt::theConsoleOffersFilesWhileTheKeyringAsks()
{
    QTemporaryDir dir;
    const SessionServerOptions options { dir.filePath(u"data"_s), {}, u"127.0.0.1:0"_s, u"auto"_s };
    {
        SessionServer server(options);
        MainWindow window(server);
        window.show();
        server.start();
        auto *offer = window.findChild<QPushButton *>(u"useFileSecretsButton"_s);
        QVERIFY(offer);
        QTRY_VERIFY_WITH_TIMEOUT(offer->isVisible(), 4000); // after a second of waiting, before the 5 s fallback
        QCOMPARE(server.state(), ServerState::Starting);
        QVERIFY2(window.statusBar()->currentMessage().startsWith(u"waiting for the system keyring"_s),
                 qPrintable(window.statusBar()->currentMessage()));
        // The files come from the click, not from the server's own fallback after 5 s: its
        // warning says which.
        QTest::ignoreMessage(QtWarningMsg,
                             QRegularExpression(u"no usable Secret Service \\(owner-only files were chosen instead"_s));
        QTest::failOnWarning(QRegularExpression(u"did not answer within"_s));
        QTest::mouseClick(offer, Qt::LeftButton);
        QTRY_COMPARE_WITH_TIMEOUT(server.state(), ServerState::Running, 10000);
        QVERIFY(!offer->isVisible());
        const QFileInfo secrets(QDir(options.dataDirectory).filePath(u"secrets"_s));
        QVERIFY(secrets.isDir());
        QCOMPARE(secrets.permissions() & (QFileDevice::ReadOther | QFileDevice::ReadGroup), QFileDevice::Permissions());
        if (auto *firstRun = window.findChild<QMessageBox *>(u"firstRunDialog"_s))
            firstRun->reject();
    }
    QCOMPARE(backendOf(options.dataDirectory), u"file"_s);

    // The choice is the data directory's: the next start does not ask the keyring again.
    SessionServer again(options);
    MainWindow window(again);
    window.show();
    QSignalSpy waited(&again, &ServerFacade::startedWaitingForKeyring);
    again.start();
    QTRY_COMPARE_WITH_TIMEOUT(again.state(), ServerState::Running, 10000);
    QCOMPARE(waited.size(), 0);
    QVERIFY(!window.findChild<QPushButton *>(u"useFileSecretsButton"_s)->isVisible());
}

void TestKeyringPrompt::leftAloneItFallsBackToFiles()
{
    // No click: the prompt stays open, and the server keeps its keys in files after its 5 s.
    QTemporaryDir dir;
    const SessionServerOptions options { dir.filePath(u"data"_s), {}, u"127.0.0.1:0"_s, u"auto"_s };
    SessionServer server(options);
    MainWindow window(server);
    window.show();
    QElapsedTimer started;
    started.start();
    server.start();
    auto *offer = window.findChild<QPushButton *>(u"useFileSecretsButton"_s);
    QTRY_VERIFY_WITH_TIMEOUT(offer->isVisible(), 4000);
    QTRY_COMPARE_WITH_TIMEOUT(server.state(), ServerState::Running, 15000);
    QVERIFY2(started.elapsed() >= 4500,
             qPrintable(u"running after %1 ms: the prompt was not waited for"_s.arg(started.elapsed())));
    QVERIFY(!offer->isVisible());
    QCOMPARE(backendOf(options.dataDirectory), u"file"_s);
}

QTEST_MAIN(TestKeyringPrompt)
#include "tst_keyringprompt.moc"
