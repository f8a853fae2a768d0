// Takes docs/screenshots/*.png from the real console: an embedded server on a throw-away data
// directory, over TLS with its self-signed lab certificate (which the clients here trust, as a
// lab's would), two people and a lab crowd at lab speed, a disconnect and a revocation, and then
// each view as an admin sees it. Run under Xvfb by scripts/screenshots.sh.
#include "SessionServer.h"
#include "admin/AdminTokens.h"
#include "lab/LabPanel.h"
#include "models/InspectorModel.h"
#include "models/SessionTreeModel.h"
#include "remote/RemoteServer.h"
#include "store/Database.h"
#include "views/AuditView.h"
#include "views/BackupDialog.h"
#include "views/InspectorDialog.h"
#include "views/MainWindow.h"
#include "views/PolicyEditor.h"
#include "views/SessionsView.h"
#include "views/Theme.h"
#include <QTableView>

#include <QApplication>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLineEdit>
#include <QMessageBox>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QPushButton>
#include <QSslConfiguration>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTimer>
#include <QTreeView>
#include <QWebSocket>

#include <cstdio>

using namespace Qt::StringLiterals;

namespace {
void wait(int ms)
{
    QEventLoop loop;
    QTimer::singleShot(ms, &loop, &QEventLoop::quit);
    loop.exec();
}

bool waitFor(const std::function<bool()> &condition, int ms = 20000)
{
    for (int waited = 0; waited < ms; waited += 50) {
        if (condition())
            return true;
        wait(50);
    }
    return condition();
}

void acceptConfirmation(QWidget &window)
{
    const auto open = [&]() -> QMessageBox * {
        for (auto *box : window.findChildren<QMessageBox *>(u"confirmDialog"_s)) {
            if (box->isVisible())
                return box;
        }
        return nullptr;
    };
    waitFor([&] { return open() != nullptr; });
    if (auto *box = open())
        box->findChild<QPushButton *>(u"confirmButton"_s)->click();
    wait(300);
}
} // namespace

int main(int argc, char *argv[])
{
    QApplication application(argc, argv);
    QStandardPaths::setTestModeEnabled(true);
    const QString out = argc > 1 ? QString::fromLocal8Bit(argv[1]) : u"docs/screenshots"_s;
    QDir().mkpath(out);
    QTemporaryDir data;
    // A lab: its inspectors may show what the devices say (inspect_payloads).
    QDir().mkpath(data.filePath(u"data"_s));
    QFile config(data.filePath(u"data/gatehouse.json"_s));
    if (config.open(QIODevice::WriteOnly))
        config.write(R"({"inspect_payloads": true})");
    config.close();
    SessionServerOptions options { data.filePath(u"data"_s), {}, u"127.0.0.1:0"_s, u"file"_s };
    options.tls = u"self-signed"_s;
    SessionServer server(options);
    MainWindow window(server);
    window.resize(1280, 760);
    window.show();
    server.start();
    if (!waitFor([&] { return server.state() == ServerState::Running; })) {
        std::fprintf(stderr, "the server did not start: %s\n", qPrintable(server.errorString()));
        return 1;
    }
    waitFor([&] { return window.findChild<QMessageBox *>(u"firstRunDialog"_s) != nullptr; });
    if (auto *welcome = window.findChild<QMessageBox *>(u"firstRunDialog"_s)) {
        welcome->grab().save(out + u"/first-run.png"_s);
        welcome->reject();
    }

    // Two people with browsers and phones, and a lab crowd at lab speed.
    bool added = false;
    int pending = 2;
    for (const auto &name : { u"alice"_s, u"bob"_s }) {
        server.addUser(name, name == "alice"_L1 ? u"Alice Martin"_s : u"Bob Keller"_s, "correct horse battery",
                       { u"user"_s, u"editor"_s }, &window, [&](const QString &) { added = --pending == 0; });
    }
    waitFor([&] { return added; });
    server.setPolicy(SessionPolicy::labSpeed(), &window, [](const QString &) {});
    QNetworkAccessManager network;
    QSslConfiguration trusting = QSslConfiguration::defaultConfiguration();
    trusting.setCaCertificates(QSslCertificate::fromData(server.certificateChain()));
    const QString base = server.url().toString(QUrl::StripTrailingSlash); // https://127.0.0.1:port
    QString socketBase = base;
    socketBase.replace(u"https://"_s, u"wss://"_s);
    std::vector<std::unique_ptr<QWebSocket>> sockets;
    const auto connectDevice = [&](const QString &user, const QString &device, const QString &agent, int tabs) {
        QNetworkRequest login(QUrl(base + u"/auth/login"_s));
        login.setSslConfiguration(trusting);
        login.setHeader(QNetworkRequest::ContentTypeHeader, u"application/json"_s);
        login.setHeader(QNetworkRequest::UserAgentHeader, agent);
        std::unique_ptr<QNetworkReply> reply(
            network.post(login,
                         QJsonDocument(QJsonObject { { "username"_L1, user },
                                                     { "password"_L1, u"correct horse battery"_s },
                                                     { "device"_L1, device } })
                             .toJson()));
        waitFor([&] { return reply->isFinished(); });
        const QByteArray token
            = QJsonDocument::fromJson(reply->readAll()).object().value("access_token"_L1).toString().toLatin1();
        for (int tab = 0; tab < tabs; ++tab) {
            auto socket = std::make_unique<QWebSocket>();
            QNetworkRequest request(QUrl(socketBase + u"/ws"_s));
            socket->setSslConfiguration(trusting);
            request.setRawHeader("Authorization", "Bearer " + token);
            request.setHeader(QNetworkRequest::UserAgentHeader, agent);
            socket->open(request);
            sockets.push_back(std::move(socket));
        }
    };
    connectDevice(u"alice"_s, u"laptop"_s, u"Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"_s, 3);
    connectDevice(u"alice"_s, u"phone"_s, u"Mozilla/5.0 (Android 14; Mobile) Chrome/131.0"_s, 1);
    connectDevice(u"alice"_s, u"tablet"_s, u"Mozilla/5.0 (iPad; CPU OS 17_5) Safari/604.1"_s, 1);
    connectDevice(u"bob"_s, u"desktop"_s, u"Mozilla/5.0 (Windows NT 10.0) Edge/131.0"_s, 2);
    window.labPanel()->startLab(6, 2);
    waitFor([&] { return window.labPanel()->statistics().connected == 12; });
    wait(4000);

    // Act: revoke Alice's tablet session, disconnect one of her laptop's tabs.
    window.showTab(MainWindow::SessionsTab);
    auto *sessions = window.sessionsView();
    sessions->selectUser(u"alice"_s);
    wait(500);
    auto *tree = sessions->sessionTree();
    const auto *model = tree->model();
    const auto find = [&](const QString &device, int depth) {
        const QModelIndex user = model->index(0, 0);
        for (int row = 0; row < model->rowCount(user); ++row) {
            const QModelIndex deviceIndex = model->index(row, 0, user);
            if (deviceIndex.data().toString() != device)
                continue;
            const QModelIndex session = model->index(0, 0, deviceIndex);
            return depth == 1 ? session : model->index(0, 0, session);
        }
        return QModelIndex();
    };
    tree->setCurrentIndex(find(u"tablet"_s, 1));
    sessions->findChild<QAction *>(u"revokeSessionAction"_s)->trigger();
    acceptConfirmation(window);
    tree->setCurrentIndex(find(u"laptop"_s, 2));
    sessions->findChild<QAction *>(u"disconnectAction"_s)->trigger();
    acceptConfirmation(window);
    wait(1500);
    tree->setCurrentIndex(find(u"laptop"_s, 1));
    window.grab().save(out + u"/sessions.png"_s);

    window.showTab(MainWindow::AuditTab);
    window.auditView()->verify();
    window.auditView()->table()->selectRow(0);
    wait(600);
    window.grab().save(out + u"/audit.png"_s);

    // A client with a forged token, refused before the upgrade, shows up among the rejects.
    for (int attempt = 0; attempt < 6; ++attempt) {
        QTimer::singleShot(attempt * 1500, &window, [&] {
            auto socket = std::make_unique<QWebSocket>();
            socket->setSslConfiguration(trusting);
            socket->open(QUrl(socketBase + u"/ws?access_token=forged.token.value"_s));
            sockets.push_back(std::move(socket));
        });
    }
    window.showTab(MainWindow::ActivityTab);
    wait(25000); // some history in the charts, and the lab's first in-band refreshes
    window.grab().save(out + u"/activity.png"_s);

    // The Lab speed preset as the console offers it, and in force: its review finds nothing. (An
    // edit shown here once, the SLI cookie cut to 20 s, read as the preset failing its review.)
    window.showTab(MainWindow::PolicyTab);
    window.policyEditor()->findChild<QPushButton *>(u"labSpeedButton"_s)->click();
    wait(200);
    window.grab().save(out + u"/policy.png"_s);

    window.showTab(MainWindow::UsersTab);
    wait(200);
    window.grab().save(out + u"/users.png"_s);
    window.showTab(MainWindow::KeysTab);
    wait(200);
    window.grab().save(out + u"/keys.png"_s);
    window.showTab(MainWindow::LabTab);
    wait(200);
    window.grab().save(out + u"/lab.png"_s);

    // The message inspector on one of a lab device's connections, as its chatter passes.
    window.showTab(MainWindow::SessionsTab);
    sessions->selectUser(u"lab-01"_s);
    wait(500);
    const std::function<QModelIndex(const QModelIndex &)> firstConnection = [&](const QModelIndex &parent) {
        for (int row = 0; row < model->rowCount(parent); ++row) {
            const QModelIndex index = model->index(row, 0, parent);
            if (SessionTreeModel::Kind(index.data(SessionTreeModel::KindRole).toInt())
                == SessionTreeModel::Kind::Connection)
                return index;
            if (const QModelIndex below = firstConnection(index); below.isValid())
                return below;
        }
        return QModelIndex();
    };
    tree->setCurrentIndex(firstConnection({}));
    if (auto *inspector = sessions->inspectSelected()) {
        inspector->move(window.pos() + QPoint(120, 90));
        wait(3000);
        // Something from the server too: a broadcast to the user's devices.
        server.broadcast(UserKey::local(u"lab-01"_s), QJsonObject { { "text"_L1, "the lab closes at 16:00"_L1 } },
                         &window, [](const AdminOutcome &) {});
        wait(6000);
        if (auto *table = inspector->findChild<QTableView *>(u"inspectorTable"_s)) {
            for (int row = table->model()->rowCount() - 1; row >= 0; --row) {
                if (table->model()->index(row, InspectorModel::Type).data().toString() == "sync"_L1) {
                    table->selectRow(row);
                    break;
                }
            }
        }
        wait(300);
        inspector->grab().save(out + u"/inspector.png"_s);
        inspector->close();
    } else {
        std::fprintf(stderr, "no lab connection to inspect\n");
    }

    // A second console, attached to the same server over its admin feed with a viewer's
    // token, as a trainer's room would watch a lab: the same views, read only.
    QByteArray viewerToken;
    {
        Database database;
        if (!database.open(data.filePath(u"data/gatehouse.sqlite"_s))) {
            std::fprintf(stderr, "cannot open the store: %s\n", qPrintable(database.errorString()));
        } else {
            auto made
                = AdminTokenRegistry(database).add(u"room-3"_s, AdminScope::Viewer, QDateTime::currentSecsSinceEpoch());
            if (made)
                viewerToken = *made;
            else
                std::fprintf(stderr, "cannot add a viewer token: %s\n", qPrintable(made.error()));
        }
    }
    if (!viewerToken.isEmpty()) {
        wait(1500); // the server notices a token added to its store within a second
        RemoteServer remote(server.url(), viewerToken, QSslCertificate::fromData(server.certificateChain()));
        MainWindow attached(remote);
        attached.resize(1280, 760);
        attached.show();
        remote.start();
        if (waitFor([&] { return remote.state() == ServerState::Running; })) {
            attached.sessionsView()->selectUser(u"lab-01"_s);
            wait(1500);
            attached.grab().save(out + u"/attached.png"_s);
        } else {
            std::fprintf(stderr, "the attached console did not connect: %s\n", qPrintable(remote.errorString()));
        }
    }

    // File → Back up…, filled in; then File → Restore from backup… with that backup opened:
    // the confirmation that says what it replaces.
    const QString backupFile = data.filePath(u"lab.gatehouse-backup"_s);
    const auto fillIn = [&](const char *action, bool twice) -> BackupDialog * {
        window.findChild<QAction *>(QString::fromLatin1(action))->trigger();
        BackupDialog *dialog = nullptr;
        waitFor([&] {
            for (auto *candidate : window.findChildren<BackupDialog *>(u"backupDialog"_s))
                dialog = candidate->isVisible() ? candidate : dialog;
            return dialog != nullptr;
        });
        if (!dialog)
            return nullptr;
        dialog->findChild<QLineEdit *>(u"backupFileEdit"_s)->setText(backupFile);
        dialog->findChild<QLineEdit *>(u"backupPassphraseEdit"_s)->setText(u"kept apart from the file"_s);
        if (twice)
            dialog->findChild<QLineEdit *>(u"backupRepeatEdit"_s)->setText(u"kept apart from the file"_s);
        return dialog;
    };
    if (auto *dialog = fillIn("backupAction", true)) {
        wait(300);
        dialog->grab().save(out + u"/backup.png"_s);
        dialog->findChild<QPushButton *>(u"backupAcceptButton"_s)->click();
        waitFor([&] { return QFile::exists(backupFile); });
        wait(500);
    }
    if (auto *dialog = fillIn("restoreAction", false)) {
        dialog->findChild<QPushButton *>(u"backupAcceptButton"_s)->click();
        QMessageBox *confirmation = nullptr;
        const auto restoreConfirmation = [&] {
            for (auto *box : window.findChildren<QMessageBox *>(u"confirmDialog"_s)) {
                if (box->isVisible() && box->text().startsWith(u"Restore the backup"_s))
                    confirmation = box;
            }
            return confirmation != nullptr;
        };
        if (waitFor(restoreConfirmation)) {
            wait(300);
            confirmation->grab().save(out + u"/restore.png"_s);
            confirmation->reject(); // the lab goes on
        } else {
            std::fprintf(stderr, "the backup did not open for a restore\n");
        }
    }

    Theme::apply(true);
    window.showTab(MainWindow::SessionsTab);
    wait(1200);
    window.grab().save(out + u"/sessions-dark.png"_s);
    std::printf("wrote %s/*.png\n", qPrintable(out));
    window.labPanel()->stopLab();
    return 0;
}
