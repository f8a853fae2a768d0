// The console driven as an admin drives it, on the offscreen platform, against its real
// embedded server: real HTTP logins, real WebSocket clients, real SQLite.
#include "SessionServer.h"
#include "auth/Base64Url.h"
#include "auth/JsonWebKey.h"
#include "lab/LabPanel.h"
#include "models/AuditLogModel.h"
#include "models/LiveState.h"
#include "models/SessionTreeModel.h"
#include "models/UsersModel.h"
#include "store/BackupFile.h"
#include "views/AuditView.h"
#include "views/BackupDialog.h"
#include "views/MainWindow.h"
#include "views/PolicyEditor.h"
#include "views/SessionsView.h"
#include "views/UserDialog.h"
#include "views/UsersAdminView.h"

#include <QAction>
#include <QClipboard>
#include <QDateTime>
#include <QDialogButtonBox>
#include <QFile>
#include <QGuiApplication>
#include <QHeaderView>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMessageBox>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QSpinBox>
#include <QSslCertificate>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTabWidget>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include <QTreeView>
#include <QWebSocket>

using namespace Qt::StringLiterals;

namespace {
const auto externalIssuer = u"https://idp.example"_s;
const QByteArray externalSecret = "the identity provider's shared secret, 32+ bytes";

/// A token of the trusted external issuer, as `jsonwebtoken` makes them (HS256, typ JWT).
QByteArray externalToken(const QString &subject, const QString &device)
{
    const qint64 now = QDateTime::currentSecsSinceEpoch();
    const QJsonObject claims { { "iss"_L1, externalIssuer }, { "aud"_L1, "realtime"_L1 }, { "sub"_L1, subject },
                               { "device"_L1, device },      { "iat"_L1, now },           { "exp"_L1, now + 600 } };
    const QByteArray input = Base64Url::encode(R"({"alg":"HS256","typ":"JWT"})") + '.'
        + Base64Url::encode(QJsonDocument(claims).toJson(QJsonDocument::Compact));
    return input + '.'
        + Base64Url::encode(JsonWebKey::fromSecret(externalSecret, JwsAlgorithm::HS256, u"idp"_s)->sign(input));
}
/// The visible child of `window` named `name` (a closed one may linger until deleted), or null
/// when none shows within `timeoutMs`.
template<typename Widget> Widget *waitForVisible(const QWidget &window, const QString &name, int timeoutMs = 5000)
{
    Widget *found = nullptr;
    [[maybe_unused]] const bool shown = QTest::qWaitFor(
        [&] {
            for (auto *candidate : window.findChildren<Widget *>(name)) {
                if (candidate->isVisible())
                    found = candidate;
            }
            return found != nullptr;
        },
        timeoutMs);
    return found;
}
} // namespace

class TestConsole final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();
    void addedUserAppearsAndCanLogIn();
    void usersAreListedInNaturalOrder();
    void connectedClientAppearsAndRevokeClosesIt4003();
    void disconnectFromTheTreeCloses4000();
    void externalUserIsShownAndActedOnApart();
    void policyEditsAreCheckedAndApplied();
    void everyPresetOfferedPassesItsReview();
    void labDevicesConnectReconnectAndStopAfterRevoke();
    void refreshTokenReuseIsWarnedAbout();
    void windowLayoutPersists();
    void activityTabShowsAndReloadsTheCertificate();
    void aBadCertificateIsShownNotACrash();
    void backUpAndRestoreFromTheFileMenu();

private:
    bool confirm();
    QByteArray login(const QString &username, const QString &device);
    std::unique_ptr<QWebSocket> connectClient(const QByteArray &accessToken);
    void addUserThroughTheDialog(const QString &username);
    QModelIndex findTreeRow(SessionTreeModel::Kind kind, const QModelIndex &parent = {}) const;
    bool auditShows(const QString &type) const;
    /// File → Back up… or Restore from backup…, the dialog filled in and accepted.
    bool useBackupDialog(const char *action, const QString &file, const QString &passphrase,
                         const QString &repeat = {});
    /// The notice box the window shows ("noticeBox"), its text, closed.
    QString takeNotice();
    int meStatus(const QByteArray &accessToken);

    std::unique_ptr<QTemporaryDir> m_dir;
    QString m_lastBackupProblem; ///< what the backup dialog said last, when it refused
    SessionServerOptions m_options;
    std::unique_ptr<SessionServer> m_server;
    std::unique_ptr<MainWindow> m_window;
    QNetworkAccessManager m_network;
};

void TestConsole::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true); // QSettings away from the real user's
    QSettings().clear();
}

void TestConsole::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QFile config(m_dir->filePath(u"gatehouse.json"_s));
    QVERIFY(config.open(QIODevice::WriteOnly));
    config.write(QJsonDocument(QJsonObject { { "trusted_issuers"_L1,
                                               QJsonArray { QJsonObject {
                                                   { "issuer"_L1, externalIssuer },
                                                   { "audience"_L1, "realtime"_L1 },
                                                   { "typ"_L1, "JWT"_L1 },
                                                   { "algorithm"_L1, "HS256"_L1 },
                                                   { "shared_secret"_L1, QString::fromLatin1(externalSecret) } } } } })
                     .toJson());
    config.close();
    m_options = { m_dir->filePath(u"data"_s), config.fileName(), u"127.0.0.1:0"_s, u"file"_s };
    m_server = std::make_unique<SessionServer>(m_options);
    m_window = std::make_unique<MainWindow>(*m_server);
    m_window->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_window.get()));
    m_window->activateWindow(); // keyboard shortcuts go to the active window
    QVERIFY(QTest::qWaitForWindowActive(m_window.get()));
    m_server->start();
    QTRY_COMPARE_WITH_TIMEOUT(m_server->state(), ServerState::Running, 20000);
    // An empty data directory: the console offers to create the first user or start a demo.
    QTRY_VERIFY(m_window->findChild<QMessageBox *>(u"firstRunDialog"_s));
    m_window->findChild<QMessageBox *>(u"firstRunDialog"_s)->reject();
}

void TestConsole::cleanup()
{
    m_window.reset();
    m_server.reset();
}

bool TestConsole::confirm()
{
    // After an Argon2id derivation, for a restore.
    auto *box = waitForVisible<QMessageBox>(*m_window, u"confirmDialog"_s, 30000);
    if (!box)
        return false;
    auto *button = box->findChild<QPushButton *>(u"confirmButton"_s);
    if (!button)
        return false;
    QTest::mouseClick(button, Qt::LeftButton);
    return true;
}

void TestConsole::addUserThroughTheDialog(const QString &username)
{
    m_window->showTab(MainWindow::UsersTab);
    QTest::mouseClick(m_window->findChild<QPushButton *>(u"addUserButton"_s), Qt::LeftButton);
    UserDialog *dialog = nullptr;
    QTRY_VERIFY((dialog = m_window->findChild<UserDialog *>(u"userDialog"_s)) != nullptr);
    auto *ok = dialog->findChild<QDialogButtonBox *>()->button(QDialogButtonBox::Ok);
    QTest::keyClicks(dialog->findChild<QLineEdit *>(u"usernameEdit"_s), username);
    QTest::keyClicks(dialog->findChild<QLineEdit *>(u"passwordEdit"_s), u"correct horse"_s);
    QTest::keyClicks(dialog->findChild<QLineEdit *>(u"repeatPasswordEdit"_s), u"correct hors"_s);
    QVERIFY(!ok->isEnabled()); // the passwords differ
    QCOMPARE(dialog->findChild<QLabel *>(u"userDialogProblem"_s)->text(), u"The passwords differ."_s);
    QTest::keyClicks(dialog->findChild<QLineEdit *>(u"repeatPasswordEdit"_s), u"e"_s);
    QTest::keyClicks(dialog->findChild<QLineEdit *>(u"rolesEdit"_s), u"user, editor"_s);
    QVERIFY(ok->isEnabled());
    QTest::mouseClick(ok, Qt::LeftButton);
    auto *table = m_window->usersAdminView()->table();
    QTRY_VERIFY(!table->model()->match(table->model()->index(0, 0), Qt::DisplayRole, username).isEmpty());
}

QByteArray TestConsole::login(const QString &username, const QString &device)
{
    QNetworkRequest request(QUrl(u"http://%1/auth/login"_s.arg(m_server->listenAddress())));
    request.setHeader(QNetworkRequest::ContentTypeHeader, u"application/json"_s);
    std::unique_ptr<QNetworkReply> reply(m_network.post(
        request,
        QJsonDocument(
            QJsonObject { { "username"_L1, username }, { "password"_L1, u"correct horse"_s }, { "device"_L1, device } })
            .toJson()));
    if (!QTest::qWaitFor([&] { return reply->isFinished(); }, 20000))
        return {};
    return QJsonDocument::fromJson(reply->readAll()).object().value("access_token"_L1).toString().toLatin1();
}

std::unique_ptr<QWebSocket> TestConsole::connectClient(const QByteArray &accessToken)
{
    auto socket = std::make_unique<QWebSocket>();
    QNetworkRequest request(QUrl(u"ws://%1/ws"_s.arg(m_server->listenAddress())));
    request.setRawHeader("Authorization", "Bearer " + accessToken);
    socket->open(request);
    if (!QTest::qWaitFor([&] { return socket->state() == QAbstractSocket::ConnectedState; }, 20000))
        return {};
    return socket;
}

QModelIndex TestConsole::findTreeRow(SessionTreeModel::Kind kind, const QModelIndex &parent) const
{
    const auto *model = m_window->sessionsView()->treeModel();
    for (int row = 0; row < model->rowCount(parent); ++row) {
        const QModelIndex index = model->index(row, 0, parent);
        if (SessionTreeModel::Kind(index.data(SessionTreeModel::KindRole).toInt()) == kind)
            return index;
        if (const QModelIndex below = findTreeRow(kind, index); below.isValid())
            return below;
    }
    return {};
}

bool TestConsole::auditShows(const QString &type) const
{
    const auto *model = m_window->auditView()->model();
    for (int row = 0; row < model->rowCount(); ++row) {
        const auto &event = model->event(row);
        if (event.type == type && event.actor == m_server->actor())
            return true;
    }
    return false;
}

void TestConsole::addedUserAppearsAndCanLogIn()
{
    addUserThroughTheDialog(u"alice"_s);
    QTRY_VERIFY(auditShows(u"user_added"_s));
    QVERIFY(!login(u"alice"_s, u"laptop"_s).isEmpty());
}

void TestConsole::usersAreListedInNaturalOrder()
{
    // Added one by one, in neither order, while the tables are on screen: each takes its place
    // as a person counts, user2 before user10, without anyone clicking a header.
    m_window->showTab(MainWindow::SessionsTab);
    const QList<QTableView *> tables { m_window->sessionsView()->usersTable(), m_window->usersAdminView()->table() };
    const QStringList added { u"user10"_s, u"user2"_s, u"alice"_s, u"user1"_s, u"User3"_s };
    for (int count = 1; count <= int(added.size()); ++count) {
        bool answered = false;
        m_server->addUser(added.at(count - 1), {}, "correct horse", { u"user"_s }, m_window.get(),
                          [&](const QString &error) {
                              QVERIFY2(error.isEmpty(), qPrintable(error));
                              answered = true;
                          });
        QTRY_VERIFY_WITH_TIMEOUT(answered, 20000);
        for (auto *table : tables)
            QTRY_COMPARE(table->model()->rowCount(), count);
    }
    const QStringList expected { u"alice"_s, u"user1"_s, u"user2"_s, u"User3"_s, u"user10"_s };
    for (auto *table : tables) {
        QStringList shown;
        for (int row = 0; row < table->model()->rowCount(); ++row)
            shown.append(table->model()->index(row, UsersModel::Username).data().toString());
        QCOMPARE(shown, expected);
    }
}

void TestConsole::connectedClientAppearsAndRevokeClosesIt4003()
{
    addUserThroughTheDialog(u"alice"_s);
    const QByteArray token = login(u"alice"_s, u"laptop"_s);
    QVERIFY(!token.isEmpty());
    auto client = connectClient(token);
    QVERIFY(client);

    m_window->showTab(MainWindow::SessionsTab);
    auto *view = m_window->sessionsView();
    QTRY_VERIFY(view->usersModel()->indexOfUser(u"alice"_s).isValid());
    view->selectUser(u"alice"_s);
    QTRY_VERIFY(findTreeRow(SessionTreeModel::Kind::Connection).isValid());
    const QModelIndex connection = findTreeRow(SessionTreeModel::Kind::Connection);
    QCOMPARE(connection.siblingAtColumn(SessionTreeModel::State).data().toString(), u"open"_s);
    QCOMPARE(connection.parent().parent().data().toString(), u"laptop"_s); // user → device → session → connection
    // The countdown column knows when the access token expires and how long it lives.
    const QModelIndex access = connection.siblingAtColumn(SessionTreeModel::AccessToken);
    QVERIFY(access.data(SessionTreeModel::ExpiresAtRole).toLongLong() > QDateTime::currentSecsSinceEpoch());
    QCOMPARE(access.data(SessionTreeModel::LifetimeRole).toLongLong(), qint64(SessionPolicy {}.accessTokenTtl.count()));

    // Select the session, press Delete (the Revoke shortcut), confirm.
    auto *tree = view->sessionTree();
    m_window->activateWindow(); // the dialogs had it; shortcuts go to the active window
    QVERIFY(QTest::qWaitForWindowActive(m_window.get()));
    tree->setFocus();
    tree->setCurrentIndex(connection.parent());
    QSignalSpy closed(client.get(), &QWebSocket::disconnected);
    QTest::keyClick(tree, Qt::Key_Delete);
    QVERIFY(confirm());
    QTRY_COMPARE_WITH_TIMEOUT(closed.size(), 1, 10000);
    QCOMPARE(int(client->closeCode()), 4003);

    // The rows stay, marked, and the outcome is spelled out.
    const QModelIndex session
        = view->treeModel()->indexOfSession(connection.parent().data(SessionTreeModel::SessionIdRole).toString());
    QTRY_VERIFY(session.siblingAtColumn(SessionTreeModel::State).data().toString().startsWith(u"revoked"_s));
    QCOMPARE(session.siblingAtColumn(SessionTreeModel::AccessToken).data(SessionTreeModel::EndedRole).toString(),
             u"revoked"_s);
    QTRY_VERIFY(findTreeRow(SessionTreeModel::Kind::Connection)
                    .siblingAtColumn(SessionTreeModel::State)
                    .data()
                    .toString()
                    .startsWith(u"closed 4003"_s));
    const QString outcome = view->findChild<QLabel *>(u"outcomeLabel"_s)->text();
    QVERIFY2(outcome.startsWith(u"1 session revoked, 1 connection closed in "_s), qPrintable(outcome));
    QTRY_VERIFY(auditShows(u"session_revoked"_s));
}

void TestConsole::disconnectFromTheTreeCloses4000()
{
    addUserThroughTheDialog(u"bob"_s);
    auto first = connectClient(login(u"bob"_s, u"phone"_s));
    auto second = connectClient(login(u"bob"_s, u"laptop"_s));
    QVERIFY(first && second);
    auto *view = m_window->sessionsView();
    m_window->showTab(MainWindow::SessionsTab);
    QTRY_VERIFY(view->usersModel()->indexOfUser(u"bob"_s).isValid());
    view->selectUser(u"bob"_s);
    QTRY_COMPARE(view->usersModel()->indexOfUser(u"bob"_s).siblingAtColumn(UsersModel::Connections).data().toInt(), 2);
    QTRY_VERIFY(findTreeRow(SessionTreeModel::Kind::Connection).isValid());
    // Disconnect only the first connection row, from its context menu's action.
    const QModelIndex row = findTreeRow(SessionTreeModel::Kind::Connection);
    const QString device = row.data(SessionTreeModel::DeviceRole).toString();
    view->sessionTree()->setCurrentIndex(row);
    auto *disconnect = view->findChild<QAction *>(u"disconnectAction"_s);
    QVERIFY(view->sessionTree()->actions().contains(disconnect));
    QVERIFY(disconnect->text().contains(u"connection"_s));
    disconnect->trigger();
    QVERIFY(confirm());
    QWebSocket *closedOne = device == "phone"_L1 ? first.get() : second.get();
    QWebSocket *openOne = device == "phone"_L1 ? second.get() : first.get();
    QTRY_COMPARE(closedOne->state(), QAbstractSocket::UnconnectedState);
    QCOMPARE(int(closedOne->closeCode()), 4000);
    QCOMPARE(openOne->state(), QAbstractSocket::ConnectedState);
    QTRY_VERIFY(view->findChild<QLabel *>(u"outcomeLabel"_s)->text().startsWith(u"1 connection closed in"_s));
    QTRY_COMPARE(view->usersModel()->indexOfUser(u"bob"_s).siblingAtColumn(UsersModel::Connections).data().toInt(), 1);
    QTRY_VERIFY(auditShows(u"admin_disconnected_connection"_s));
}

void TestConsole::externalUserIsShownAndActedOnApart()
{
    addUserThroughTheDialog(u"alice"_s);
    auto ours = connectClient(login(u"alice"_s, u"laptop"_s));
    auto theirs = connectClient(externalToken(u"alice"_s, u"laptop"_s));
    QVERIFY(ours && theirs);
    const QString theirKey = externalIssuer + u"#alice"_s;

    // Two rows, one per issuer, each with its own connection.
    m_window->showTab(MainWindow::SessionsTab);
    auto *view = m_window->sessionsView();
    auto *users = view->usersModel();
    QTRY_VERIFY(users->indexOfUser(theirKey).isValid());
    QCOMPARE(users->indexOfUser(u"alice"_s).data().toString(), u"alice"_s);
    QCOMPARE(users->indexOfUser(theirKey).data().toString(), u"alice @ https://idp.example"_s);
    QTRY_COMPARE(users->indexOfUser(u"alice"_s).siblingAtColumn(UsersModel::Connections).data().toInt(), 1);
    QTRY_COMPARE(users->indexOfUser(theirKey).siblingAtColumn(UsersModel::Connections).data().toInt(), 1);
    auto *search = view->findChild<QLineEdit *>(u"userSearch"_s);
    QTest::keyClicks(search, u"idp.example"_s);
    auto *table = view->findChild<QTableView *>(u"usersTable"_s);
    QCOMPARE(table->model()->rowCount(), 1);
    search->clear();

    // Their tree holds their connection only; what they do not have cannot be done.
    view->selectUser(theirKey);
    QTRY_VERIFY(findTreeRow(SessionTreeModel::Kind::Connection).isValid());
    QCOMPARE(view->treeModel()->index(0, 0).data().toString(), u"alice @ https://idp.example"_s);
    QCOMPARE(view->treeModel()->rowCount(view->treeModel()->index(0, 0)), 1); // one device, ours is not there
    QVERIFY(!view->findChild<QAction *>(u"revokeUserAction"_s)->isEnabled()); // no sessions here
    QVERIFY(view->findChild<QAction *>(u"revokeBeforeAction"_s)->isEnabled());
    auto *disconnect = view->findChild<QAction *>(u"disconnectAction"_s);
    QVERIFY(disconnect->text().contains(u"alice @ https://idp.example"_s));

    // Disconnecting them leaves ours connected.
    disconnect->trigger();
    QVERIFY(confirm());
    QTRY_COMPARE(theirs->state(), QAbstractSocket::UnconnectedState);
    QCOMPARE(int(theirs->closeCode()), 4000);
    QTRY_VERIFY(view->findChild<QLabel *>(u"outcomeLabel"_s)->text().startsWith(u"1 connection closed in"_s));
    QCOMPARE(ours->state(), QAbstractSocket::ConnectedState);
    QTRY_COMPARE(users->indexOfUser(theirKey).siblingAtColumn(UsersModel::Connections).data().toInt(), 0);
    QCOMPARE(users->indexOfUser(u"alice"_s).siblingAtColumn(UsersModel::Connections).data().toInt(), 1);

    // They are not in our directory: the Users tab has nothing to edit for them.
    m_window->showTab(MainWindow::UsersTab);
    auto *adminTable = m_window->usersAdminView()->table();
    const auto found = adminTable->model()->match(adminTable->model()->index(0, 0), UsersModel::UsernameRole, theirKey,
                                                  1, Qt::MatchExactly);
    QCOMPARE(found.size(), 1);
    adminTable->setCurrentIndex(found.first());
    QVERIFY(!m_window->findChild<QPushButton *>(u"toggleUserButton"_s)->isEnabled());
    QVERIFY(!m_window->findChild<QPushButton *>(u"resetPasswordButton"_s)->isEnabled());
}

void TestConsole::policyEditsAreCheckedAndApplied()
{
    m_window->showTab(MainWindow::PolicyTab);
    auto *editor = m_window->policyEditor();
    auto *access = editor->findChild<QSpinBox *>(u"access_token_ttl"_s);
    auto *cookie = editor->findChild<QSpinBox *>(u"session_cookie_ttl"_s);
    auto *idle = editor->findChild<QSpinBox *>(u"refresh_token_idle_ttl"_s);
    auto *maximum = editor->findChild<QSpinBox *>(u"refresh_token_max_ttl"_s);
    auto *findings = editor->findChild<QListWidget *>(u"policyFindings"_s);
    auto *apply = editor->findChild<QPushButton *>(u"applyPolicyButton"_s);
    auto *error = editor->findChild<QLabel *>(u"policyError"_s);
    QVERIFY(access && cookie && idle && maximum && findings && apply && error);
    QVERIFY(!apply->isEnabled()); // nothing changed yet

    // An impossible combination is refused in words and cannot be applied.
    idle->setValue(maximum->value() + 1);
    QVERIFY(error->isVisible());
    QVERIFY(error->text().contains(u"refresh_token_idle_ttl is longer than refresh_token_max_ttl"_s));
    QVERIFY(!apply->isEnabled());
    idle->setValue(3600);
    QVERIFY(!error->isVisible());

    // A legal but inconsistent one is explained, and applied only after a confirmation.
    access->setValue(cookie->value());
    QVERIFY(findings->count() >= 1);
    QVERIFY(findings->item(0)->text().startsWith(
        u"Problem: The access token (5 min) does not outlive the local session"_s));
    QVERIFY(apply->isEnabled());
    QTest::mouseClick(apply, Qt::LeftButton);
    QVERIFY(confirm());
    QTRY_COMPARE(m_window->liveState().policy().accessTokenTtl, std::chrono::seconds(cookie->value()));
    QTRY_VERIFY(auditShows(u"policy_changed"_s));
    QVERIFY(!apply->isEnabled());

    // The lab-speed preset fits together and applies without a question.
    QTest::mouseClick(editor->findChild<QPushButton *>(u"labSpeedButton"_s), Qt::LeftButton);
    QCOMPARE(findings->item(0)->text(), u"These lifetimes fit together."_s);
    QTest::mouseClick(apply, Qt::LeftButton);
    QTRY_COMPARE(m_window->liveState().policy(), SessionPolicy::labSpeed());
    QVERIFY(!m_window->findChild<QMessageBox *>(u"confirmDialog"_s));

    // Limits: checked together, applied live and audited.
    auto *total = editor->findChild<QSpinBox *>(u"max_connections"_s);
    auto *perUser = editor->findChild<QSpinBox *>(u"max_connections_per_user"_s);
    QVERIFY(total && perUser);
    perUser->setValue(total->value() + 1);
    QVERIFY(error->isVisible());
    QVERIFY(error->text().contains(u"max_connections_per_user is larger than max_connections"_s));
    QVERIFY(!apply->isEnabled());
    perUser->setValue(3);
    QVERIFY(apply->isEnabled());
    QTest::mouseClick(apply, Qt::LeftButton);
    QTRY_VERIFY(auditShows(u"limits_changed"_s));
    QTRY_VERIFY(!apply->isEnabled()); // the server's limits are now the edited ones
    QCOMPARE(editor->editedLimits().maximumConnectionsPerUser, 3);
    // The liveness limits are limits like the others.
    editor->findChild<QSpinBox *>(u"ping_interval"_s)->setValue(40);
    editor->findChild<QSpinBox *>(u"message_rate"_s)->setValue(30);
    QTest::mouseClick(apply, Qt::LeftButton);
    QTRY_VERIFY(!apply->isEnabled());
    QCOMPARE(editor->editedLimits().pingIntervalSeconds, 40);
    QCOMPARE(editor->editedLimits().messageRatePerSecond, 30);
}

void TestConsole::everyPresetOfferedPassesItsReview()
{
    // Every button of the Policy tab that fills in lifetimes is a preset: each must fit together
    // with nothing to explain, and apply without a question.
    m_window->showTab(MainWindow::PolicyTab);
    auto *editor = m_window->policyEditor();
    auto *findings = editor->findChild<QListWidget *>(u"policyFindings"_s);
    auto *apply = editor->findChild<QPushButton *>(u"applyPolicyButton"_s);
    QVERIFY(findings && apply);
    QList<QPushButton *> presets = editor->findChildren<QPushButton *>();
    presets.removeIf(
        [&](const QPushButton *button) { return button == apply || button->objectName() == u"revertPolicyButton"_s; });
    QVERIFY(presets.size() >= 2); // Lab speed and Defaults
    // Twice round, so that each is chosen after each of the others.
    for (int round = 0; round < 2; ++round) {
        for (auto *preset : std::as_const(presets)) {
            QTest::mouseClick(preset, Qt::LeftButton);
            QVERIFY2(findings->count() == 1, qPrintable(preset->objectName() + u": "_s + findings->item(0)->text()));
            QCOMPARE(findings->item(0)->text(), u"These lifetimes fit together."_s);
            if (!apply->isEnabled())
                continue; // the preset is what is in force already
            QTest::mouseClick(apply, Qt::LeftButton);
            QTRY_COMPARE(m_window->liveState().policy(), editor->editedPolicy());
            QVERIFY(!m_window->findChild<QMessageBox *>(u"confirmDialog"_s));
        }
    }
}

void TestConsole::labDevicesConnectReconnectAndStopAfterRevoke()
{
    auto *lab = m_window->labPanel();
    lab->startLab(1, 2);
    QTRY_COMPARE_WITH_TIMEOUT(lab->statistics().connected, 2, 20000);
    auto *view = m_window->sessionsView();
    QTRY_VERIFY(view->usersModel()->indexOfUser(u"lab-01"_s).isValid());
    view->selectUser(u"lab-01"_s);

    // A disconnect is followed by a reconnection (with back-off) …
    QSignalSpy done(view, &SessionsView::outcome);
    view->findChild<QAction *>(u"disconnectAction"_s)->trigger();
    QVERIFY(confirm());
    QTRY_VERIFY(!done.isEmpty());
    QTRY_VERIFY_WITH_TIMEOUT(lab->statistics().reconnects >= 2 && lab->statistics().connected == 2, 20000);

    // … a revocation is not: the devices know they must log in again.
    view->findChild<QAction *>(u"revokeUserAction"_s)->trigger();
    QVERIFY(confirm());
    QTRY_COMPARE_WITH_TIMEOUT(lab->statistics().revoked, 2, 10000);
    QTest::qWait(1500); // longer than the first back-off: nobody came back
    QCOMPARE(lab->statistics().connected, 0);
    QCOMPARE(m_window->liveState().liveConnectionCount(u"lab-01"_s), 0);
    lab->stopLab();
    QTRY_COMPARE(lab->statistics().devices, 0);
}

void TestConsole::refreshTokenReuseIsWarnedAbout()
{
    addUserThroughTheDialog(u"carol"_s);
    QNetworkRequest login(QUrl(u"http://%1/auth/login"_s.arg(m_server->listenAddress())));
    login.setHeader(QNetworkRequest::ContentTypeHeader, u"application/json"_s);
    std::unique_ptr<QNetworkReply> reply(
        m_network.post(login, R"({"username":"carol","password":"correct horse","device":"phone"})"));
    QTRY_VERIFY(reply->isFinished());
    const QByteArray refreshToken
        = QJsonDocument::fromJson(reply->readAll()).object().value("refresh_token"_L1).toString().toUtf8();
    QVERIFY(!refreshToken.isEmpty());
    QNetworkRequest token(QUrl(u"http://%1/oauth/token"_s.arg(m_server->listenAddress())));
    token.setHeader(QNetworkRequest::ContentTypeHeader, u"application/x-www-form-urlencoded"_s);
    const QByteArray form
        = "grant_type=refresh_token&refresh_token=" + QUrl::toPercentEncoding(QString::fromUtf8(refreshToken));
    for (const int expected : { 200, 400 }) { // the second use of the same token is reuse
        std::unique_ptr<QNetworkReply> refreshed(m_network.post(token, form));
        QTRY_VERIFY(refreshed->isFinished());
        QCOMPARE(refreshed->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), expected);
    }
    QTRY_VERIFY(m_window->statusBar()->currentMessage().startsWith(u"Refresh-token reuse: session"_s));
    QVERIFY(m_window->statusBar()->currentMessage().contains(u"of carol (device phone) was revoked"_s));
}

void TestConsole::windowLayoutPersists()
{
    m_window->showTab(MainWindow::KeysTab);
    m_window->sessionsView()->sessionTree()->header()->resizeSection(SessionTreeModel::UserAgent, 333);
    m_window->close(); // saves
    MainWindow again(*m_server);
    QCOMPARE(again.findChild<QTabWidget *>(u"mainTabWidget"_s)->currentIndex(), int(MainWindow::KeysTab));
    QCOMPARE(again.sessionsView()->sessionTree()->header()->sectionSize(SessionTreeModel::UserAgent), 333);
}

void TestConsole::activityTabShowsAndReloadsTheCertificate()
{
    // The same console on a server started with --tls self-signed: the Activity tab says so,
    // with the certificate's fingerprint (copied as a lab trusts it) and its countdown; its
    // reload button is off, and says why a self-signed certificate has nothing to reload. The
    // lab's devices connect to it.
    m_window.reset();
    m_server.reset();
    SessionServerOptions options { m_dir->filePath(u"data"_s), {}, u"127.0.0.1:0"_s, u"file"_s };
    options.tls = u"self-signed"_s;
    m_server = std::make_unique<SessionServer>(options);
    m_window = std::make_unique<MainWindow>(*m_server);
    m_window->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_window.get()));
    m_server->start();
    QTRY_COMPARE_WITH_TIMEOUT(m_server->state(), ServerState::Running, 20000);
    if (auto *firstRun = m_window->findChild<QMessageBox *>(u"firstRunDialog"_s))
        firstRun->reject();
    QFile file(m_dir->filePath(u"data/tls-self-signed.pem"_s));
    QVERIFY(file.open(QIODevice::ReadOnly));
    const auto certificates = QSslCertificate::fromData(file.readAll());
    QCOMPARE(certificates.size(), 1);
    const QString fingerprint
        = QString::fromLatin1(certificates.first().digest(QCryptographicHash::Sha256).toHex(':').toUpper());

    auto *label = m_window->findChild<QLabel *>(u"tlsLabel"_s);
    QVERIFY(label);
    QTRY_VERIFY_WITH_TIMEOUT(label->text().contains(fingerprint), 5000);
    QVERIFY2(label->text().contains(u"on (HTTPS and WSS)"_s), qPrintable(label->text()));
    QVERIFY2(label->text().contains(u"days left"_s), qPrintable(label->text()));
    QVERIFY2(label->text().contains(u"localhost"_s), qPrintable(label->text()));
    auto *copy = m_window->findChild<QPushButton *>(u"copyFingerprintButton"_s);
    QVERIFY(copy && !copy->isHidden()); // shown with TLS (on its tab)
    copy->click();
    QCOMPARE(QGuiApplication::clipboard()->text(), fingerprint);
    // A self-signed certificate has no files to reload: the button says so instead of failing.
    auto *reload = m_window->findChild<QPushButton *>(u"reloadCertificateButton"_s);
    QVERIFY(reload && !reload->isHidden());
    QVERIFY(!reload->isEnabled());
    QVERIFY(reload->toolTip().contains(u"no files to reload"_s));

    // The lab's devices trust the served certificate, over HTTPS and over WSS alike.
    auto *lab = m_window->labPanel();
    lab->startLab(1, 2);
    QTRY_COMPARE_WITH_TIMEOUT(lab->statistics().connected, 2, 20000);
    QTRY_COMPARE(m_window->liveState().liveConnectionCount(u"lab-01"_s), 2);
    lab->stopLab();
    QTRY_COMPARE(lab->statistics().devices, 0);
}

void TestConsole::aBadCertificateIsShownNotACrash()
{
    // --tls-cert with a file that is not there: the console stays up and says why the server
    // did not start, in the sentence gatehoused prints.
    m_window.reset();
    m_server.reset();
    SessionServerOptions options { m_dir->filePath(u"data"_s), {}, u"127.0.0.1:0"_s, u"file"_s };
    options.tlsCertificate = m_dir->filePath(u"missing.pem"_s);
    options.tlsKey = m_dir->filePath(u"missing.key"_s);
    m_server = std::make_unique<SessionServer>(options);
    m_window = std::make_unique<MainWindow>(*m_server);
    m_window->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_window.get()));
    m_server->start();
    QTRY_COMPARE_WITH_TIMEOUT(m_server->state(), ServerState::Failed, 20000);
    auto *error = m_window->findChild<QLabel *>(u"errorLabel"_s);
    QVERIFY(error);
    QTRY_VERIFY(error->text().contains(u"the certificate file %1 does not exist"_s.arg(options.tlsCertificate)));
    QVERIFY(m_window->isVisible());
}

bool TestConsole::useBackupDialog(const char *action, const QString &file, const QString &passphrase,
                                  const QString &repeat)
{
    auto *trigger = m_window->findChild<QAction *>(QString::fromLatin1(action));
    if (!trigger || !trigger->isEnabled())
        return false;
    trigger->trigger();
    auto *dialog = waitForVisible<BackupDialog>(*m_window, u"backupDialog"_s);
    if (!dialog)
        return false;
    auto *fileEdit = dialog->findChild<QLineEdit *>(u"backupFileEdit"_s);
    fileEdit->clear();
    QTest::keyClicks(fileEdit, file);
    QTest::keyClicks(dialog->findChild<QLineEdit *>(u"backupPassphraseEdit"_s), passphrase);
    auto *repeatEdit = dialog->findChild<QLineEdit *>(u"backupRepeatEdit"_s);
    if (repeatEdit->isVisibleTo(dialog))
        QTest::keyClicks(repeatEdit, repeat.isNull() ? passphrase : repeat);
    auto *accept = dialog->findChild<QPushButton *>(u"backupAcceptButton"_s);
    m_lastBackupProblem = dialog->findChild<QLabel *>(u"backupProblemLabel"_s)->text();
    if (!accept->isEnabled()) {
        dialog->reject();
        return false;
    }
    QTest::mouseClick(accept, Qt::LeftButton);
    return true;
}

QString TestConsole::takeNotice()
{
    QMessageBox *box = nullptr;
    if (!QTest::qWaitFor([&] { return (box = m_window->findChild<QMessageBox *>(u"noticeBox"_s)); }, 30000))
        return {};
    const QString text = box->text();
    delete box; // at once: the next notice is then the only one
    return text;
}

int TestConsole::meStatus(const QByteArray &accessToken)
{
    QNetworkRequest request(QUrl(u"http://%1/api/me"_s.arg(m_server->listenAddress())));
    request.setRawHeader("Authorization", "Bearer " + accessToken);
    std::unique_ptr<QNetworkReply> reply(m_network.get(request));
    if (!QTest::qWaitFor([&] { return reply->isFinished(); }, 20000))
        return 0;
    return reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
}

void TestConsole::backUpAndRestoreFromTheFileMenu()
{
    // File → Back up… while alice is logged in, then a change (bob), then File → Restore:
    // refused with a wrong passphrase or a damaged file (the server untouched), then, confirmed,
    // the server stops, is restored and a new one starts on the data of the backup: alice's
    // token from before still verifies, bob is gone, the audit chain holds.
    addUserThroughTheDialog(u"alice"_s);
    const QByteArray aliceToken = login(u"alice"_s, u"laptop"_s);
    QVERIFY(!aliceToken.isEmpty());
    const QString backup = m_dir->filePath(u"console.gatehouse-backup"_s);
    const QString passphrase = u"a passphrase kept apart"_s;

    QVERIFY(!useBackupDialog("backupAction", backup, passphrase, u"a passphrase kept apar"_s));
    QCOMPARE(m_lastBackupProblem, u"The passphrases differ."_s);
    QVERIFY(useBackupDialog("backupAction", backup, passphrase));
    QTRY_VERIFY_WITH_TIMEOUT(m_window->statusBar()->currentMessage().startsWith(u"backup written to "_s), 30000);
    const auto groupOrOthers = QFileDevice::ReadGroup | QFileDevice::WriteGroup | QFileDevice::ExeGroup
        | QFileDevice::ReadOther | QFileDevice::WriteOther | QFileDevice::ExeOther;
    QCOMPARE(QFile::permissions(backup) & groupOrOthers, QFileDevice::Permissions()); // owner-only
    QTRY_VERIFY(auditShows(u"backup_made"_s));

    addUserThroughTheDialog(u"bob"_s);

    // Refused before anything stops: a wrong passphrase, a truncated copy.
    QVERIFY(useBackupDialog("restoreAction", backup, u"not the passphrase"_s));
    QString notice = takeNotice();
    QVERIFY2(notice.startsWith(u"Nothing was restored: "_s) && notice.contains(u"passphrase"_s), qPrintable(notice));
    const QString truncated = m_dir->filePath(u"truncated.gatehouse-backup"_s);
    {
        QFile whole(backup);
        QVERIFY(whole.open(QIODevice::ReadOnly));
        QFile part(truncated);
        QVERIFY(part.open(QIODevice::WriteOnly));
        part.write(whole.read(whole.size() / 2));
    }
    QVERIFY(useBackupDialog("restoreAction", truncated, passphrase));
    notice = takeNotice();
    QVERIFY2(notice.startsWith(u"Nothing was restored: "_s) && notice.contains(u"truncated"_s), qPrintable(notice));
    // One a later Gatehouse made: this one could not open its database.
    const QString newer = m_dir->filePath(u"newer.gatehouse-backup"_s);
    {
        QFile whole(backup);
        QVERIFY(whole.open(QIODevice::ReadOnly));
        auto contents = BackupFile::open(whole.readAll(), passphrase.toUtf8());
        QVERIFY(contents.ok());
        contents->secrets.insert(u"schema_version"_s, 999);
        QFile out(newer);
        QVERIFY(out.open(QIODevice::WriteOnly));
        out.write(BackupFile::seal(*contents, passphrase.toUtf8()).value());
    }
    QVERIFY(useBackupDialog("restoreAction", newer, passphrase));
    notice = takeNotice();
    QVERIFY2(notice.contains(u"newer Gatehouse"_s), qPrintable(notice));
    QCOMPARE(m_server->state(), ServerState::Running);
    QCOMPARE(meStatus(aliceToken), 200);

    // Cancelled at the confirmation: nothing happens either.
    QVERIFY(useBackupDialog("restoreAction", backup, passphrase));
    QMessageBox *confirmation = nullptr;
    QTRY_VERIFY_WITH_TIMEOUT((confirmation = m_window->findChild<QMessageBox *>(u"confirmDialog"_s)), 30000);
    QVERIFY2(confirmation->text().contains(u"Restore the backup made on "_s), qPrintable(confirmation->text()));
    QVERIFY(confirmation->text().contains(m_server->dataDirectory()));
    delete confirmation; // as closed without accepting
    QTest::qWait(100);
    QCOMPARE(m_server->state(), ServerState::Running);

    QSignalSpy restart(m_window.get(), &MainWindow::restartRequested);
    QVERIFY(useBackupDialog("restoreAction", backup, passphrase));
    QVERIFY(confirm());
    QTRY_COMPARE_WITH_TIMEOUT(restart.size(), 1, 30000);
    QCOMPARE(m_server->state(), ServerState::Stopped);
    QCOMPARE(restart.first().at(0).toString(), u"Restored"_s);
    QVERIFY2(restart.first().at(1).toString().contains(u"chain intact"_s),
             qPrintable(restart.first().at(1).toString()));
    QCOMPARE(restart.first().at(2).toBool(), false);
    // Until the application replaces it, the window lets nothing else touch the data.
    for (const auto &name : { u"backupAction"_s, u"restoreAction"_s, u"connectAction"_s })
        QVERIFY2(!m_window->findChild<QAction *>(name)->isEnabled(), qPrintable(name));
    m_window->findChild<QAction *>(u"quitAction"_s)->trigger();
    QVERIFY(m_window->statusBar()->currentMessage().contains(u"under way"_s));
    QVERIFY(!m_window->close());

    // What the application does: a new server on the same options, a new window, the notice.
    m_window.reset();
    m_server = std::make_unique<SessionServer>(m_options);
    m_window = std::make_unique<MainWindow>(*m_server);
    m_window->show();
    m_window->showNotice(restart.first().at(0).toString(), restart.first().at(1).toString(), false);
    m_server->start();
    QTRY_COMPARE_WITH_TIMEOUT(m_server->state(), ServerState::Running, 20000);
    QVERIFY(takeNotice().contains(u"chain intact"_s));
    auto *users = m_window->usersAdminView()->table()->model();
    QTRY_VERIFY(!users->match(users->index(0, 0), Qt::DisplayRole, u"alice"_s).isEmpty());
    QVERIFY(users->match(users->index(0, 0), Qt::DisplayRole, u"bob"_s).isEmpty());
    QCOMPARE(meStatus(aliceToken), 200); // signed before the backup, verified after the restore
    QTRY_VERIFY(auditShows(u"backup_restored"_s));
    bool intact = false;
    m_server->verifyAudit(this, [&intact](const AuditVerification &result) { intact = result.intact; });
    QTRY_VERIFY(intact);
}

QTEST_MAIN(TestConsole)
#include "tst_console.moc"
