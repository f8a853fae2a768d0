// The console and its remembered admin tokens, against a gatehoused running in another
// process. Runs inside tests/support/with-secret-service.sh (gnome-keyring on a private bus):
// the `gatehouse --connect` binary attaches with a token remembered in the keyring or in
// files, and asks when none is; File → Connect offers, uses and forgets the remembered token;
// a token is remembered only once the server has accepted it; a remembered token the server
// refuses (401, or 4003 when revoked while attached) is said so once, with a way to forget
// or replace it, and is not tried again.
#include "RememberedTokens.h"
#include "remote/AttachedToken.h"
#include "remote/RemoteServer.h"
#include "views/ConnectDialog.h"
#include "views/MainWindow.h"

#include <QAction>
#include <QApplication>
#include <QCheckBox>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QProcess>
#include <QPushButton>
#include <QSignalSpy>
#include <QStatusBar>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>

using namespace Qt::StringLiterals;

namespace {
using Found = Result<std::optional<QByteArray>, QString>;

/// `RememberedTokens::find`, waited for on the event loop.
Found find(RememberedTokens &tokens, const QUrl &url)
{
    QObject context;
    std::optional<Found> answer;
    tokens.find(url, &context, [&answer](Found found) { answer = std::move(found); });
    if (!QTest::qWaitFor([&answer] { return answer.has_value(); }, 10000))
        return Found::failure(u"timeout"_s);
    return *answer;
}

bool remember(RememberedTokens &tokens, const QUrl &url, const QByteArray &token)
{
    QObject context;
    std::optional<QString> answer;
    tokens.remember(url, token, &context, [&answer](const QString &error) { answer = error; });
    return QTest::qWaitFor([&answer] { return answer.has_value(); }, 10000) && answer->isEmpty();
}

/// A well-formed token this server never issued.
const QByteArray unknownToken = "gha_" + QByteArray(43, 'x');
} // namespace

class TestRememberedConsole final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void init();
    void theConsoleAttachesWithTheRememberedToken_data();
    void theConsoleAttachesWithTheRememberedToken();
    void withNothingRememberedTheConsoleAsks();
    void connectDialogOffersUsesAndForgetsTheRememberedToken();
    void aTokenIsRememberedOnlyOnceAccepted();
    void aRefusedRememberedTokenIsSaidOnceAndCanBeForgotten();
    void aTokenRevokedWhileAttachedCanBeReplaced();

private:
    QString gatehoused(const QStringList &arguments) const;
    /// Waits until the server logs `text` (from its standard error) `count` times in all.
    bool serverLogged(const QString &text, int count, int timeoutMs = 15000);
    QUrl serverUrl() const { return QUrl(u"http://127.0.0.1:%1"_s.arg(m_port)); }

    QTemporaryDir m_dir;
    quint16 m_port = 0;
    QProcess m_server;
    QString m_serverLog;
    QByteArray m_token;
    QByteArray m_doomed; ///< revoked while attached
    std::unique_ptr<QTemporaryDir> m_consoleDir;
    std::unique_ptr<RememberedTokens> m_tokens;
};

QString TestRememberedConsole::gatehoused(const QStringList &arguments) const
{
    QProcess process;
    process.start(QStringLiteral(GATEHOUSED_PATH),
                  QStringList(arguments) << u"--data-dir"_s << m_dir.path() << u"--secret-store"_s << u"file"_s);
    process.closeWriteChannel();
    process.waitForFinished(60000);
    return QString::fromUtf8(process.readAllStandardOutput());
}

bool TestRememberedConsole::serverLogged(const QString &text, int count, int timeoutMs)
{
    return QTest::qWaitFor(
        [&] {
            m_serverLog += QString::fromUtf8(m_server.readAllStandardError());
            return m_serverLog.count(text) >= count;
        },
        timeoutMs);
}

void TestRememberedConsole::initTestCase()
{
    if (qEnvironmentVariableIsEmpty("DBUS_SESSION_BUS_ADDRESS"))
        QSKIP("no D-Bus session: run through tests/support/with-secret-service.sh");
    {
        QTcpServer probe;
        QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
        m_port = probe.serverPort();
    }
    m_token = gatehoused({ u"admin-token"_s, u"add"_s, u"remembered"_s, u"--scope"_s, u"full"_s }).trimmed().toLatin1();
    QVERIFY(m_token.startsWith("gha_"));
    m_doomed = gatehoused({ u"admin-token"_s, u"add"_s, u"doomed"_s, u"--scope"_s, u"viewer"_s }).trimmed().toLatin1();
    QVERIFY(m_doomed.startsWith("gha_"));
    auto environment = QProcessEnvironment::systemEnvironment();
    environment.insert(u"QT_LOGGING_RULES"_s, u"gatehouse.admin.feed.info=true"_s);
    m_server.setProcessEnvironment(environment);
    m_server.start(QStringLiteral(GATEHOUSED_PATH),
                   { u"serve"_s, u"--listen"_s, u"127.0.0.1:%1"_s.arg(m_port), u"--data-dir"_s, m_dir.path(),
                     u"--secret-store"_s, u"file"_s });
    QString banner;
    QVERIFY(QTest::qWaitFor(
        [&] { return (banner += QString::fromUtf8(m_server.readAllStandardOutput())).contains(u"listening on"_s); },
        30000));
}

void TestRememberedConsole::cleanupTestCase()
{
    m_server.terminate();
    m_server.waitForFinished(10000);
}

void TestRememberedConsole::init()
{
    // A fresh console data directory (for files) and an empty keyring entry for the server.
    m_consoleDir = std::make_unique<QTemporaryDir>();
    m_tokens = std::make_unique<RememberedTokens>(u"file"_s, m_consoleDir->path());
    RememberedTokens keychain(u"keychain"_s, m_consoleDir->path());
    QObject context;
    bool forgotten = false;
    keychain.forget(serverUrl(), &context, [&forgotten](const QString &) { forgotten = true; });
    QTRY_VERIFY(forgotten);
}

void TestRememberedConsole::theConsoleAttachesWithTheRememberedToken_data()
{
    QTest::addColumn<QString>("secretStore");
    QTest::newRow("remembered in the Secret Service") << u"keychain"_s;
    QTest::newRow("remembered in owner-only files") << u"file"_s;
}

void TestRememberedConsole::theConsoleAttachesWithTheRememberedToken()
{
    QFETCH(QString, secretStore);
    RememberedTokens tokens(secretStore, m_consoleDir->path());
    QVERIFY(remember(tokens, serverUrl(), m_token));
    m_serverLog += QString::fromUtf8(m_server.readAllStandardError());
    const int before = int(m_serverLog.count(u"admin feed opened for admin:remembered"_s));

    QProcess console;
    auto environment = QProcessEnvironment::systemEnvironment();
    environment.insert(u"QT_QPA_PLATFORM"_s, u"offscreen"_s);
    environment.insert(u"HOME"_s, m_consoleDir->path()); // its settings stay in the test's folder
    console.setProcessEnvironment(environment);
    // No --admin-token-stdin: the token comes from where it was remembered, never the command line.
    console.start(QStringLiteral(GATEHOUSE_CONSOLE_PATH),
                  { u"--connect"_s, serverUrl().toString(), u"--secret-store"_s, secretStore, u"--data-dir"_s,
                    m_consoleDir->path() });
    QVERIFY(console.waitForStarted(10000));
    const bool attached = serverLogged(u"admin feed opened for admin:remembered"_s, before + 1);
    console.terminate();
    QVERIFY(console.waitForFinished(10000));
    const QByteArray said = console.readAllStandardOutput() + console.readAllStandardError();
    QVERIFY2(attached, said.constData());
    QVERIFY(!said.contains(m_token)); // never printed
}

void TestRememberedConsole::withNothingRememberedTheConsoleAsks()
{
    m_serverLog += QString::fromUtf8(m_server.readAllStandardError());
    const int before = int(m_serverLog.count(u"admin feed opened"_s));
    QProcess console;
    auto environment = QProcessEnvironment::systemEnvironment();
    environment.insert(u"QT_QPA_PLATFORM"_s, u"offscreen"_s);
    environment.insert(u"HOME"_s, m_consoleDir->path());
    console.setProcessEnvironment(environment);
    console.start(QStringLiteral(GATEHOUSE_CONSOLE_PATH),
                  { u"--connect"_s, serverUrl().toString(), u"--secret-store"_s, u"file"_s, u"--data-dir"_s,
                    m_consoleDir->path() });
    QVERIFY(console.waitForStarted(10000));
    // It waits for the Connect dialog, which nobody answers: no feed opens, and it keeps running.
    QVERIFY(!serverLogged(u"admin feed opened"_s, before + 1, 3000));
    QCOMPARE(console.state(), QProcess::Running);
    console.terminate();
    QVERIFY(console.waitForFinished(10000));
}

void TestRememberedConsole::connectDialogOffersUsesAndForgetsTheRememberedToken()
{
    QVERIFY(remember(*m_tokens, serverUrl(), m_token));
    RemoteServer remote(serverUrl(), m_token);
    MainWindow window(remote);
    window.setRememberedTokens(m_tokens.get());
    window.show();
    QSignalSpy requested(&window, &MainWindow::connectRequested);

    window.findChild<QAction *>(u"connectAction"_s)->trigger();
    ConnectDialog *dialog = nullptr;
    QTRY_VERIFY((dialog = window.findChild<ConnectDialog *>(u"connectDialog"_s)) && dialog->isVisible());
    auto *remembered = dialog->findChild<QLabel *>(u"rememberedTokenLabel"_s);
    auto *forget = dialog->findChild<QPushButton *>(u"forgetTokenButton"_s);
    auto *rememberBox = dialog->findChild<QCheckBox *>(u"rememberCheckBox"_s);
    QVERIFY(remembered && forget && rememberBox);
    QVERIFY(!rememberBox->isChecked()); // off by default
    QTest::keyClicks(dialog->findChild<QLineEdit *>(u"connectUrl"_s), u"http://127.0.0.1:%1/"_s.arg(m_port));
    QTRY_VERIFY_WITH_TIMEOUT(remembered->isVisible(), 10000);
    QVERIFY2(remembered->text().contains(u"remembered"_s), qPrintable(remembered->text()));
    QVERIFY(forget->isVisible());
    dialog->accept(); // the token field left empty
    QTRY_COMPARE(requested.count(), 1);
    const auto request = qvariant_cast<AttachRequest>(requested.first().at(0));
    QCOMPARE(request.token, m_token);
    QVERIFY(request.tokenWasRemembered);

    // Again, and forget it this time: then the dialog wants a token.
    window.findChild<QAction *>(u"connectAction"_s)->trigger();
    QTRY_VERIFY((dialog = window.findChild<ConnectDialog *>(u"connectDialog"_s)) && dialog->isVisible());
    remembered = dialog->findChild<QLabel *>(u"rememberedTokenLabel"_s);
    forget = dialog->findChild<QPushButton *>(u"forgetTokenButton"_s);
    QTest::keyClicks(dialog->findChild<QLineEdit *>(u"connectUrl"_s), serverUrl().toString());
    QTRY_VERIFY_WITH_TIMEOUT(forget->isVisible(), 10000);
    QTest::mouseClick(forget, Qt::LeftButton);
    QTRY_VERIFY(remembered->text().contains(u"Forgotten"_s));
    const auto found = find(*m_tokens, serverUrl());
    QVERIFY(found.ok() && !found.value());
    dialog->accept();
    QTRY_VERIFY(dialog->findChild<QLabel *>(u"connectProblem"_s)->text().contains(u"gha_"_s));
    QVERIFY(dialog->isVisible());
    QCOMPARE(requested.count(), 1);
}

void TestRememberedConsole::aTokenIsRememberedOnlyOnceAccepted()
{
    {
        // A wrong token, "remember" ticked: refused by the server, so not remembered.
        AttachRequest request { serverUrl(), unknownToken, {}, true, false };
        RemoteServer remote(request.url, request.token);
        AttachedToken token(remote, request, m_tokens.get());
        remote.start();
        QTRY_COMPARE_WITH_TIMEOUT(remote.state(), ServerState::Failed, 10000);
        QTest::qWait(300);
        const auto found = find(*m_tokens, serverUrl());
        QVERIFY(found.ok() && !found.value());
    }
    AttachRequest request { serverUrl(), m_token, {}, true, false };
    RemoteServer remote(request.url, request.token);
    AttachedToken token(remote, request, m_tokens.get());
    QSignalSpy answered(&token, &AttachedToken::rememberAnswered);
    remote.start();
    QTRY_COMPARE_WITH_TIMEOUT(remote.state(), ServerState::Running, 10000);
    QTRY_COMPARE(answered.count(), 1);
    QVERIFY2(answered.first().first().toString().contains(u"is remembered"_s),
             qPrintable(answered.first().first().toString()));
    const auto found = find(*m_tokens, serverUrl());
    QVERIFY(found.ok() && found.value());
    QCOMPARE(*found.value(), m_token);
}

void TestRememberedConsole::aRefusedRememberedTokenIsSaidOnceAndCanBeForgotten()
{
    QVERIFY(remember(*m_tokens, serverUrl(), unknownToken));
    AttachRequest request { serverUrl(), unknownToken, {}, false, true };
    RemoteServer remote(request.url, request.token);
    MainWindow window(remote);
    window.setRememberedTokens(m_tokens.get());
    auto *token = new AttachedToken(remote, request, m_tokens.get(), &window);
    window.followToken(*token);
    QSignalSpy refused(token, &AttachedToken::rememberedTokenRefused);
    window.show();
    remote.start();
    QTRY_COMPARE_WITH_TIMEOUT(remote.state(), ServerState::Failed, 10000);
    QVERIFY(remote.tokenRefused());
    QMessageBox *box = nullptr;
    QTRY_VERIFY((box = window.findChild<QMessageBox *>(u"refusedTokenDialog"_s)) && box->isVisible());
    QVERIFY2(box->text().contains(u"refused"_s), qPrintable(box->text()));
    QVERIFY(!box->text().contains(QString::fromLatin1(unknownToken)));
    // Not tried again behind the user's back (the first retry would come after 1 s).
    QTest::qWait(2500);
    QCOMPARE(remote.state(), ServerState::Failed);
    QCOMPARE(refused.count(), 1);

    QTest::mouseClick(box->findChild<QPushButton *>(u"forgetRefusedTokenButton"_s), Qt::LeftButton);
    QTRY_VERIFY(window.statusBar()->currentMessage().contains(u"forgotten"_s));
    const auto found = find(*m_tokens, serverUrl());
    QVERIFY(found.ok() && !found.value());
}

void TestRememberedConsole::aTokenRevokedWhileAttachedCanBeReplaced()
{
    QVERIFY(remember(*m_tokens, serverUrl(), m_doomed));
    AttachRequest request { serverUrl(), m_doomed, {}, false, true };
    RemoteServer remote(request.url, request.token);
    MainWindow window(remote);
    window.setRememberedTokens(m_tokens.get());
    auto *token = new AttachedToken(remote, request, m_tokens.get(), &window);
    window.followToken(*token);
    window.show();
    remote.start();
    QTRY_COMPARE_WITH_TIMEOUT(remote.state(), ServerState::Running, 10000);
    gatehoused({ u"admin-token"_s, u"revoke"_s, u"doomed"_s });
    QTRY_COMPARE_WITH_TIMEOUT(remote.state(), ServerState::Failed, 10000); // 4003
    QVERIFY(remote.tokenRefused());
    QMessageBox *box = nullptr;
    QTRY_VERIFY((box = window.findChild<QMessageBox *>(u"refusedTokenDialog"_s)) && box->isVisible());
    QTest::mouseClick(box->findChild<QPushButton *>(u"replaceRefusedTokenButton"_s), Qt::LeftButton);
    ConnectDialog *dialog = nullptr;
    QTRY_VERIFY((dialog = window.findChild<ConnectDialog *>(u"connectDialog"_s)) && dialog->isVisible());
    QCOMPARE(QUrl(dialog->findChild<QLineEdit *>(u"connectUrl"_s)->text()), serverUrl());
    QVERIFY(dialog->findChild<QCheckBox *>(u"rememberCheckBox"_s)->isChecked()); // to replace it
}

QTEST_MAIN(TestRememberedConsole)
#include "tst_rememberedconsole.moc"
