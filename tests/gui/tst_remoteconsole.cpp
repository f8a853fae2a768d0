// The console attached to a gatehoused running in another process, through its admin feed:
// a user's connection appears; "log out everywhere" revokes it (4003) and the outcome shows;
// with a viewer's token nothing that acts is offered, and the server refuses it if forced;
// the server is killed and restarted, and the console says so, then recovers; a viewer
// inspects a connection's messages, which appear in order, without payloads, until closed.
#include "PasswordLogin.h"
#include "models/InspectorModel.h"
#include "models/LiveState.h"
#include "models/SessionTreeModel.h"
#include "remote/RemoteServer.h"
#include "store/BackupFile.h"
#include "views/BackupDialog.h"
#include "views/ConnectDialog.h"
#include "views/InspectorDialog.h"
#include "views/MainWindow.h"
#include "views/SessionsView.h"

#include <QAction>
#include <QApplication>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QPushButton>
#include <QSignalSpy>
#include <QSslCertificate>
#include <QStatusBar>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>
#include <QTreeView>
#include <QWebSocket>

using namespace Qt::StringLiterals;

class TestRemoteConsole final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void aConnectionAppearsAndIsRevokedFromTheConsole();
    void aViewerIsOfferedNothingThatActs();
    void aViewerInspectsAConnection();
    void usersKeysAndTheAuditWhenAttached();
    void aLostServerIsShownAndRecovered();
    void overTlsWithTheLabsCertificate();
    void fileConnectAsksAndChecksBeforeAttaching();
    void aFullAdminBacksUpTheServerFromTheConsole();

private:
    QString gatehoused(const QStringList &arguments, const QByteArray &input = {}, QString dataDir = {}) const;
    void startServer();
    std::unique_ptr<QWebSocket> connectAlice(const QString &device);
    bool confirm(QWidget &window);

    QTemporaryDir m_dir;
    quint16 m_port = 0;
    QProcess m_server;
    QByteArray m_full;
    QByteArray m_viewer;
    QNetworkAccessManager m_network;
};

QString TestRemoteConsole::gatehoused(const QStringList &arguments, const QByteArray &input, QString dataDir) const
{
    if (dataDir.isEmpty())
        dataDir = m_dir.path();
    QProcess process;
    auto environment = QProcessEnvironment::systemEnvironment();
    environment.remove(u"DBUS_SESSION_BUS_ADDRESS"_s);
    process.setProcessEnvironment(environment);
    process.start(QStringLiteral(GATEHOUSED_PATH),
                  QStringList(arguments) << u"--data-dir"_s << dataDir << u"--secret-store"_s << u"file"_s);
    process.write(input);
    process.closeWriteChannel();
    process.waitForFinished(60000);
    return QString::fromUtf8(process.readAllStandardOutput());
}

void TestRemoteConsole::startServer()
{
    m_server.setProcessEnvironment(QProcessEnvironment::systemEnvironment());
    m_server.start(QStringLiteral(GATEHOUSED_PATH),
                   { u"serve"_s, u"--listen"_s, u"127.0.0.1:%1"_s.arg(m_port), u"--data-dir"_s, m_dir.path(),
                     u"--secret-store"_s, u"file"_s });
    QString banner;
    QVERIFY(QTest::qWaitFor(
        [&] { return (banner += QString::fromUtf8(m_server.readAllStandardOutput())).contains(u"listening on"_s); },
        30000));
}

void TestRemoteConsole::initTestCase()
{
    {
        QTcpServer probe; // a free port, kept across the restart below
        QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
        m_port = probe.serverPort();
    }
    QVERIFY(gatehoused({ u"user"_s, u"add"_s, u"alice"_s, u"--password-stdin"_s }, "a long password\n")
                .contains(u"alice"_s));
    m_viewer = gatehoused({ u"admin-token"_s, u"add"_s, u"room"_s, u"--scope"_s, u"viewer"_s }).trimmed().toLatin1();
    m_full = gatehoused({ u"admin-token"_s, u"show"_s }).trimmed().toLatin1();
    QVERIFY(m_viewer.startsWith("gha_") && m_full.startsWith("gha_"));
    startServer();
}

void TestRemoteConsole::cleanupTestCase()
{
    m_server.terminate();
    m_server.waitForFinished(10000);
}

std::unique_ptr<QWebSocket> TestRemoteConsole::connectAlice(const QString &device)
{
    const QString token = QString::fromLatin1(
        passwordLogin(m_network, u"127.0.0.1:%1"_s.arg(m_port), u"alice"_s, device).accessToken());
    auto socket = std::make_unique<QWebSocket>();
    QSignalSpy welcomed(socket.get(), &QWebSocket::textMessageReceived);
    socket->open(QUrl(u"ws://127.0.0.1:%1/ws?access_token=%2"_s.arg(m_port).arg(token)));
    if (!welcomed.wait(10000))
        return {};
    return socket;
}

bool TestRemoteConsole::confirm(QWidget &window)
{
    QMessageBox *box = nullptr;
    if (!QTest::qWaitFor([&] {
            for (auto *candidate : window.findChildren<QMessageBox *>(u"confirmDialog"_s)) {
                if (candidate->isVisible())
                    box = candidate;
            }
            return box != nullptr;
        }))
        return false;
    auto *button = box->findChild<QPushButton *>(u"confirmButton"_s);
    if (!button)
        return false;
    QTest::mouseClick(button, Qt::LeftButton);
    return true;
}

void TestRemoteConsole::aConnectionAppearsAndIsRevokedFromTheConsole()
{
    RemoteServer remote(QUrl(u"http://127.0.0.1:%1"_s.arg(m_port)), m_full);
    MainWindow window(remote);
    window.show();
    remote.start();
    QTRY_COMPARE_WITH_TIMEOUT(remote.state(), ServerState::Running, 10000);
    QCOMPARE(remote.actor(), u"admin:admin"_s);
    QVERIFY(window.windowTitle().contains(u"attached"_s));
    QVERIFY(remote.messagesReceived() >= 2); // hello, snapshot
    const qint64 messagesBefore = remote.messagesReceived();
    const qint64 bytesBefore = remote.bytesReceived();

    auto alice = connectAlice(u"remote-laptop"_s);
    QVERIFY(alice);
    QTRY_COMPARE_WITH_TIMEOUT(window.liveState().liveConnectionCount(u"alice"_s), 1, 5000);
    // The opened connection came over the feed, and the feed's counters saw it.
    QVERIFY(remote.messagesReceived() > messagesBefore);
    QVERIFY(remote.bytesReceived() > bytesBefore);

    auto *view = window.sessionsView();
    view->selectUser(u"alice"_s);
    QSignalSpy outcome(view, &SessionsView::outcome);
    auto *revoke = view->findChild<QAction *>(u"revokeUserAction"_s);
    QTRY_VERIFY(revoke->isEnabled());
    revoke->trigger();
    QVERIFY(confirm(window));
    QTRY_COMPARE_WITH_TIMEOUT(alice->state(), QAbstractSocket::UnconnectedState, 5000);
    QCOMPARE(int(alice->closeCode()), 4003);
    QTRY_VERIFY(!outcome.isEmpty());
    const QString said = outcome.first().first().toString();
    QVERIFY2(said.contains(u"revoked"_s) && said.contains(u"1 connection closed"_s), qPrintable(said));
    QTRY_COMPARE_WITH_TIMEOUT(window.liveState().liveConnectionCount(u"alice"_s), 0, 5000);
}

void TestRemoteConsole::aViewerIsOfferedNothingThatActs()
{
    auto alice = connectAlice(u"watched"_s);
    QVERIFY(alice);
    RemoteServer remote(QUrl(u"http://127.0.0.1:%1"_s.arg(m_port)), m_viewer);
    MainWindow window(remote);
    window.show();
    remote.start();
    QTRY_COMPARE_WITH_TIMEOUT(remote.state(), ServerState::Running, 10000);
    QCOMPARE(remote.scope(), u"viewer"_s);
    QVERIFY(window.windowTitle().contains(u"read only"_s));
    QTRY_COMPARE_WITH_TIMEOUT(window.liveState().liveConnectionCount(u"alice"_s), 1, 5000);
    auto *view = window.sessionsView();
    view->selectUser(u"alice"_s);
    for (const auto &name : { u"disconnectAction"_s, u"revokeUserAction"_s, u"revokeBeforeAction"_s,
                              u"broadcastAction"_s, u"broadcastAllAction"_s })
        QVERIFY2(!view->findChild<QAction *>(name)->isEnabled(), qPrintable(name));
    // Forced anyway, the server refuses it, says why, and alice stays.
    std::optional<AdminOutcome> forced;
    remote.disconnectUser(UserKey::local(u"alice"_s), this, [&](const AdminOutcome &o) { forced = o; });
    QTRY_VERIFY(forced.has_value());
    QVERIFY(!forced->ok());
    QVERIFY2(forced->error.contains(u"viewer: read only"_s), qPrintable(forced->error));
    QTest::qWait(200);
    QCOMPARE(alice->state(), QAbstractSocket::ConnectedState);
}

namespace {
/// The first connection row under `parent` in the sessions tree, depth first.
QModelIndex firstConnection(const QAbstractItemModel &model, const QModelIndex &parent = {})
{
    for (int row = 0; row < model.rowCount(parent); ++row) {
        const QModelIndex index = model.index(row, 0, parent);
        if (SessionTreeModel::Kind(index.data(SessionTreeModel::KindRole).toInt())
            == SessionTreeModel::Kind::Connection)
            return index;
        if (const QModelIndex below = firstConnection(model, index); below.isValid())
            return below;
    }
    return {};
}
} // namespace

void TestRemoteConsole::aViewerInspectsAConnection()
{
    auto alice = connectAlice(u"inspected"_s);
    QVERIFY(alice);
    RemoteServer remote(QUrl(u"http://127.0.0.1:%1"_s.arg(m_port)), m_viewer);
    QSignalSpy audited(&remote, &ServerFacade::auditAppended);
    MainWindow window(remote);
    window.show();
    remote.start();
    QTRY_COMPARE_WITH_TIMEOUT(remote.state(), ServerState::Running, 10000);
    QTRY_COMPARE_WITH_TIMEOUT(window.liveState().liveConnectionCount(u"alice"_s), 1, 5000);
    auto *view = window.sessionsView();
    view->selectUser(u"alice"_s);
    QModelIndex connection;
    QTRY_VERIFY((connection = firstConnection(*view->treeModel())).isValid());
    view->sessionTree()->setCurrentIndex(connection);
    auto *inspect = view->findChild<QAction *>(u"inspectAction"_s);
    QTRY_VERIFY2(inspect->isEnabled(), "reading is a viewer's too");
    inspect->trigger();
    InspectorDialog *dialog = nullptr;
    QTRY_VERIFY((dialog = window.findChild<InspectorDialog *>()) != nullptr);
    QVERIFY(dialog->isVisible());
    QCOMPARE(dialog->connectionId(), connection.data(SessionTreeModel::ConnectionIdRole).toULongLong());
    QVERIFY(dialog->findChild<QLabel *>(u"inspectorPolicy"_s)->text().contains(u"hidden"_s));

    QSignalSpy batches(&remote, &ServerFacade::inspected);
    QTRY_VERIFY_WITH_TIMEOUT(std::ranges::any_of(audited,
                                                 [](const QList<QVariant> &arguments) {
                                                     const auto events = arguments.first().value<QList<AuditEvent>>();
                                                     return std::ranges::any_of(events, [](const AuditEvent &event) {
                                                         return event.type == "inspector_opened"_L1
                                                             && event.actor == "admin:room"_L1;
                                                     });
                                                 }),
                             5000);
    alice->sendTextMessage(uR"({"type":"sync","payload":{"secret":1}})"_s);
    alice->sendTextMessage(uR"({"type":"ping"})"_s);
    const InspectorModel &model = *dialog->model();
    QTRY_COMPARE_WITH_TIMEOUT(model.rowCount(), 3, 5000);
    QCOMPARE(model.message(0).type, u"sync"_s);
    QCOMPARE(model.message(0).outgoing, false);
    QCOMPARE(model.message(1).type, u"ping"_s);
    QCOMPARE(model.message(2).type, u"pong"_s);
    QCOMPARE(model.message(2).outgoing, true);
    for (int row = 0; row < 3; ++row)
        QVERIFY(model.message(row).payload.isEmpty());
    QVERIFY2(dialog->status().contains(u"3 messages"_s), qPrintable(dialog->status()));

    // Closing it ends the inspection on the server (audited), and nothing more comes.
    dialog->close();
    QTRY_VERIFY_WITH_TIMEOUT(std::ranges::any_of(audited,
                                                 [](const QList<QVariant> &arguments) {
                                                     const auto events = arguments.first().value<QList<AuditEvent>>();
                                                     return std::ranges::any_of(events, [](const AuditEvent &event) {
                                                         return event.type == "inspector_closed"_L1;
                                                     });
                                                 }),
                             5000);
    const qsizetype before = batches.size();
    alice->sendTextMessage(uR"({"type":"ping"})"_s);
    QTest::qWait(400);
    for (qsizetype i = before; i < batches.size(); ++i)
        QVERIFY(batches[i].first().value<InspectionBatch>().messages.isEmpty());
}

void TestRemoteConsole::usersKeysAndTheAuditWhenAttached()
{
    // A viewer: the Users and Keys tabs offer nothing, and a forced change is refused.
    {
        RemoteServer remote(QUrl(u"http://127.0.0.1:%1"_s.arg(m_port)), m_viewer);
        MainWindow window(remote);
        remote.start();
        QTRY_COMPARE_WITH_TIMEOUT(remote.state(), ServerState::Running, 10000);
        QVERIFY(!window.findChild<QPushButton *>(u"addUserButton"_s)->isEnabled());
        QVERIFY(!window.findChild<QPushButton *>(u"rotateKeyButton"_s)->isEnabled());
        std::optional<QString> refused;
        remote.addUser(u"mallory"_s, {}, "a long password", {}, this, [&](const QString &error) { refused = error; });
        QTRY_VERIFY(refused.has_value());
        QVERIFY2(refused->contains(u"viewer: read only"_s), qPrintable(*refused));
        // Verifying the chain is reading: allowed.
        std::optional<AuditVerification> verified;
        remote.verifyAudit(this, [&](const AuditVerification &result) { verified = result; });
        QTRY_VERIFY(verified.has_value());
        QVERIFY2(verified->intact, qPrintable(verified->reason));
    }
    RemoteServer remote(QUrl(u"http://127.0.0.1:%1"_s.arg(m_port)), m_full);
    MainWindow window(remote);
    remote.start();
    QTRY_COMPARE_WITH_TIMEOUT(remote.state(), ServerState::Running, 10000);
    QTRY_VERIFY(window.findChild<QPushButton *>(u"addUserButton"_s)->isEnabled());
    std::optional<QString> added;
    remote.addUser(u"dora"_s, u"Dora"_s, "dora's long password", { u"user"_s }, this,
                   [&](const QString &error) { added = error; });
    QTRY_VERIFY(added.has_value());
    QVERIFY2(added->isEmpty(), qPrintable(*added));
    QTRY_VERIFY_WITH_TIMEOUT(window.liveState().user(u"dora"_s) != nullptr, 5000);
    QCOMPARE(
        passwordLogin(m_network, u"127.0.0.1:%1"_s.arg(m_port), u"dora"_s, u"d"_s, u"dora's long password"_s).status,
        200);
    std::optional<QString> disabled;
    remote.setUserEnabled(u"dora"_s, false, this, [&](const QString &error) { disabled = error; });
    QTRY_VERIFY(disabled.has_value() && disabled->isEmpty());
    QTRY_VERIFY_WITH_TIMEOUT(!window.liveState().user(u"dora"_s)->enabled, 5000);

    // The export is written here, from what the server's audit log holds.
    QTemporaryDir here;
    std::optional<std::pair<qsizetype, QString>> exported;
    AuditFilter filter;
    filter.username = u"dora"_s;
    remote.exportAudit(filter, here.filePath(u"dora.csv"_s), this,
                       [&](qsizetype written, const QString &error) { exported = std::pair(written, error); });
    QTRY_VERIFY(exported.has_value());
    QVERIFY2(exported->second.isEmpty(), qPrintable(exported->second));
    QVERIFY(exported->first >= 2); // added, disabled
    QFile csv(here.filePath(u"dora.csv"_s));
    QVERIFY(csv.open(QIODevice::ReadOnly));
    const QByteArray text = csv.readAll();
    QVERIFY(text.startsWith("id,time,type,actor"));
    QVERIFY(text.contains("admin:admin"));
    // A place that cannot be written says so.
    exported.reset();
    remote.exportAudit(filter, u"/proc/no/such/dir/x.csv"_s, this,
                       [&](qsizetype written, const QString &error) { exported = std::pair(written, error); });
    QTRY_VERIFY(exported.has_value());
    QVERIFY(exported->second.contains(u"cannot write"_s));
}

void TestRemoteConsole::aLostServerIsShownAndRecovered()
{
    RemoteServer remote(QUrl(u"http://127.0.0.1:%1"_s.arg(m_port)), m_full);
    MainWindow window(remote);
    window.show();
    remote.start();
    QTRY_COMPARE_WITH_TIMEOUT(remote.state(), ServerState::Running, 10000);
    m_server.kill(); // SIGKILL: no goodbye
    QVERIFY(m_server.waitForFinished(10000));
    QTRY_COMPARE_WITH_TIMEOUT(remote.state(), ServerState::Starting, 5000);
    QVERIFY2(window.statusBar()->currentMessage().contains(u"lost"_s),
             qPrintable(window.statusBar()->currentMessage()));
    startServer();
    QTRY_COMPARE_WITH_TIMEOUT(remote.state(), ServerState::Running, 20000);
    auto alice = connectAlice(u"after-restart"_s);
    QVERIFY(alice);
    QTRY_COMPARE_WITH_TIMEOUT(window.liveState().liveConnectionCount(u"alice"_s), 1, 5000);
}

void TestRemoteConsole::overTlsWithTheLabsCertificate()
{
    // A second server, on wss:// with its self-signed lab certificate, which the console is
    // told to trust (and nothing else is switched off).
    QTemporaryDir data;
    const QByteArray token = gatehoused({ u"admin-token"_s, u"show"_s }, {}, data.path()).trimmed().toLatin1();
    QVERIFY(token.startsWith("gha_"));
    QProcess server;
    server.start(QStringLiteral(GATEHOUSED_PATH),
                 { u"serve"_s, u"--listen"_s, u"127.0.0.1:0"_s, u"--data-dir"_s, data.path(), u"--secret-store"_s,
                   u"file"_s, u"--tls"_s, u"self-signed"_s });
    QString banner;
    QVERIFY(QTest::qWaitFor(
        [&] { return (banner += QString::fromUtf8(server.readAllStandardOutput())).contains(u"listening on"_s); },
        30000));
    const QString address = banner.section(u"listening on "_s, 1).section(u' ', 0, 0).trimmed();
    QFile certificate(data.filePath(u"tls-self-signed.pem"_s));
    QVERIFY(certificate.open(QIODevice::ReadOnly));
    const auto trusted = QSslCertificate::fromData(certificate.readAll());
    QCOMPARE(trusted.size(), 1);

    RemoteServer untrusting(QUrl(u"https://"_s + address), token);
    untrusting.start();
    QTRY_VERIFY_WITH_TIMEOUT(!untrusting.errorString().isEmpty(), 10000);
    QVERIFY(untrusting.state() != ServerState::Running);
    untrusting.stop();

    RemoteServer remote(QUrl(u"https://"_s + address), token, trusted);
    MainWindow window(remote);
    window.show();
    remote.start();
    QTRY_VERIFY2_WITH_TIMEOUT(remote.state() == ServerState::Running, qPrintable(remote.errorString()), 10000);
    QVERIFY(window.statusBar()->currentMessage().contains(u"https://"_s));
    server.terminate();
    QVERIFY(server.waitForFinished(10000));
}

void TestRemoteConsole::fileConnectAsksAndChecksBeforeAttaching()
{
    RemoteServer remote(QUrl(u"http://127.0.0.1:%1"_s.arg(m_port)), m_full);
    MainWindow window(remote);
    window.show();
    QVERIFY(window.findChild<QAction *>(u"embeddedAction"_s)); // attached: a way back
    // Not attached yet, the token's scope is not known: no backup, and the menu says why.
    auto *backup = window.findChild<QAction *>(u"backupAction"_s);
    QVERIFY(backup && !backup->isEnabled());
    QVERIFY2(backup->toolTip().contains(u"full admin token"_s), qPrintable(backup->toolTip()));
    QString notYet;
    const QTemporaryDir here;
    const QString never = here.filePath(u"never.gatehouse-backup"_s);
    remote.backUp(never, "passphrase", this, [&notYet](const Result<QString, QString> &written) {
        notYet = written ? QString() : written.error();
    });
    QTRY_VERIFY(notYet.contains(u"full admin token"_s));
    QVERIFY(!QFile::exists(never));
    QSignalSpy requested(&window, &MainWindow::connectRequested);
    window.findChild<QAction *>(u"connectAction"_s)->trigger();
    ConnectDialog *dialog = nullptr;
    QTRY_VERIFY((dialog = window.findChild<ConnectDialog *>(u"connectDialog"_s)) && dialog->isVisible());
    auto *url = dialog->findChild<QLineEdit *>(u"connectUrl"_s);
    auto *token = dialog->findChild<QLineEdit *>(u"connectToken"_s);
    auto *certificate = dialog->findChild<QLineEdit *>(u"connectCertificate"_s);
    auto *problem = dialog->findChild<QLabel *>(u"connectProblem"_s);
    const QList<std::tuple<QString, QString, QString, QString>> refused {
        { u"ftp://host:1"_s, QString::fromLatin1(m_full), {}, u"http://host:port"_s },
        { u"https://"_s, QString::fromLatin1(m_full), {}, u"http://host:port"_s },
        { u"https://host:8443"_s, u"secret"_s, {}, u"gha_"_s },
        { u"https://host:8443"_s, QString::fromLatin1(m_full), m_dir.filePath(u"missing.pem"_s), u"no PEM"_s },
    };
    for (const auto &[address, given, trust, mentions] : refused) {
        url->setText(address);
        token->setText(given);
        certificate->setText(trust);
        dialog->accept();
        QVERIFY(dialog->isVisible());
        QVERIFY2(problem->text().contains(mentions), qPrintable(problem->text()));
    }
    QCOMPARE(requested.count(), 0);
    url->setText(u"https://gatehouse.example:8443"_s);
    token->setText(QString::fromLatin1(m_viewer));
    certificate->clear();
    QCOMPARE(token->echoMode(), QLineEdit::Password); // the token is never shown in clear
    dialog->accept(); // it closes and goes
    QTRY_COMPARE(requested.count(), 1);
    const auto request = qvariant_cast<AttachRequest>(requested.first().at(0));
    QCOMPARE(request.url, QUrl(u"https://gatehouse.example:8443"_s));
    QCOMPARE(request.token, m_viewer);
    QVERIFY(!request.rememberToken); // off unless ticked
    QVERIFY(!request.tokenWasRemembered);
}

void TestRemoteConsole::aFullAdminBacksUpTheServerFromTheConsole()
{
    // The packaged server runs as its own user, and the admin's console attaches to it: File →
    // Back up… has the server make the backup and send it over the feed, and writes it here.
    // A restore stays on the server's computer, and a viewer is offered neither.
    {
        RemoteServer remote(QUrl(u"http://127.0.0.1:%1"_s.arg(m_port)), m_viewer);
        MainWindow window(remote);
        remote.start();
        QTRY_COMPARE_WITH_TIMEOUT(remote.state(), ServerState::Running, 10000);
        auto *backup = window.findChild<QAction *>(u"backupAction"_s);
        QVERIFY(!backup->isEnabled());
        QVERIFY2(backup->toolTip().contains(u"this console's is viewer"_s), qPrintable(backup->toolTip()));
    }
    RemoteServer remote(QUrl(u"http://127.0.0.1:%1"_s.arg(m_port)), m_full);
    MainWindow window(remote);
    window.show();
    remote.start();
    QTRY_COMPARE_WITH_TIMEOUT(remote.state(), ServerState::Running, 10000);
    auto *backup = window.findChild<QAction *>(u"backupAction"_s);
    auto *restore = window.findChild<QAction *>(u"restoreAction"_s);
    QTRY_VERIFY(backup->isEnabled());
    QVERIFY(!restore->isEnabled());
    QVERIFY2(restore->toolTip().contains(u"gatehoused restore"_s), qPrintable(restore->toolTip()));

    const QTemporaryDir here;
    const QString file = here.filePath(u"from-the-console.gatehouse-backup"_s);
    const QString passphrase = u"kept apart from the file"_s;
    backup->trigger();
    BackupDialog *dialog = nullptr;
    QTRY_VERIFY((dialog = window.findChild<BackupDialog *>(u"backupDialog"_s)) && dialog->isVisible());
    dialog->findChild<QLineEdit *>(u"backupFileEdit"_s)->setText(file);
    dialog->findChild<QLineEdit *>(u"backupPassphraseEdit"_s)->setText(passphrase);
    dialog->findChild<QLineEdit *>(u"backupRepeatEdit"_s)->setText(passphrase);
    QTest::mouseClick(dialog->findChild<QPushButton *>(u"backupAcceptButton"_s), Qt::LeftButton);
    QVERIFY(!window.findChild<QAction *>(u"connectAction"_s)->isEnabled()); // while it is made
    QTRY_VERIFY_WITH_TIMEOUT(window.statusBar()->currentMessage().startsWith(u"backup written to "_s), 60000);
    QVERIFY(window.findChild<QAction *>(u"connectAction"_s)->isEnabled());
    QFile written(file);
    QVERIFY(written.open(QIODevice::ReadOnly));
    QCOMPARE(written.permissions() & (QFileDevice::ReadGroup | QFileDevice::ReadOther), QFileDevice::Permissions());
    const auto opened = BackupFile::open(written.readAll(), passphrase.toUtf8());
    QVERIFY2(opened.ok(), qPrintable(opened.ok() ? QString() : opened.error()));
    QVERIFY(opened->database.startsWith("SQLite format 3"));

    // The server's own command line restores it: the file is the same as `gatehoused backup`'s.
    const QString restored = here.filePath(u"restored"_s);
    const QString out = gatehoused({ u"restore"_s, u"--from"_s, file, u"--passphrase-stdin"_s },
                                   passphrase.toUtf8() + '\n', restored);
    QVERIFY2(out.contains(u"chain intact"_s), qPrintable(out));
}

QTEST_MAIN(TestRemoteConsole)
#include "tst_remoteconsole.moc"
