// The same server watched twice: a console embedding it, and a console attached to it over the
// admin feed. Under churn (hundreds of connections opening and closing, a revocation, a
// disconnection, users added, disabled and given roles) both consoles' models must end up
// equal: the same users with the same rows, the same sessions, the same connections, live
// and closed, with the same close codes. The feed's snapshot and deltas are the embedded
// console's, carried over a socket.
#include "FeedCodec.h"
#include "PasswordLogin.h"
#include "SessionServer.h"
#include "admin/AdminTokens.h"
#include "core/Clock.h"
#include "identity/UserDirectory.h"
#include "models/LiveState.h"
#include "models/UsersModel.h"
#include "remote/RemoteServer.h"
#include "store/Database.h"
#include "views/MainWindow.h"
#include "views/SessionsView.h"

#include <QFile>
#include <QJsonDocument>
#include <QNetworkAccessManager>
#include <QRandomGenerator>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QWebSocket>

using namespace Qt::StringLiterals;

namespace {
/// Everything a console's LiveState knows, as comparable text: users, sessions and connections
/// in the feed's own encoding, sorted.
QStringList describe(const LiveState &state)
{
    QStringList lines;
    const auto text = [](const QJsonObject &object) {
        return QString::fromUtf8(QJsonDocument(object).toJson(QJsonDocument::Compact));
    };
    for (const auto &name : state.usernames()) {
        lines.append(u"user "_s + text(FeedCodec::toJson(*state.user(name))));
        lines.append(u"live %1 %2"_s.arg(name).arg(state.liveConnectionCount(name)));
        for (const auto &id : state.sessionsOf(name))
            lines.append(u"session "_s + text(FeedCodec::toJson(*state.session(id))));
        for (const auto id : state.connectionsOf(name)) {
            ConnectionInfo connection = *state.connection(id);
            // What moves while it is open is sampled when it opens and closes; both consoles get
            // the same samples, so these compare too.
            lines.append(u"connection "_s + text(FeedCodec::toJson(connection)));
        }
    }
    lines.sort();
    return lines;
}

/// The users table as shown, row by row, keyed by its first column.
QStringList rowsOf(const QAbstractItemModel &model)
{
    QStringList rows;
    for (int row = 0; row < model.rowCount(); ++row) {
        QStringList cells;
        for (int column = 0; column < model.columnCount(); ++column) {
            // The "last activity" column reads the clock when it is drawn: not a model difference.
            if (column != UsersModel::LastActivity)
                cells.append(model.index(row, column).data().toString());
        }
        rows.append(cells.join(u" | "_s));
    }
    rows.sort();
    return rows;
}
} // namespace

class TestFeedParity final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void bothConsolesAgreeAfterChurn();

private:
    QNetworkAccessManager m_network;
};

void TestFeedParity::bothConsolesAgreeAfterChurn()
{
    QTemporaryDir dir;
    QByteArray token;
    const QStringList names { u"ann"_s, u"ben"_s, u"cid"_s, u"dee"_s, u"eve"_s };
    {
        Database database;
        QVERIFY(database.open(dir.filePath(u"gatehouse.sqlite"_s)));
        SystemClock clock;
        for (const auto &name : names)
            QVERIFY(UserDirectory(database, clock).add(name, {}, "a long password", {}).ok());
        token = AdminTokenRegistry(database).add(u"parity"_s, AdminScope::Full, 1).value();
    }
    // Hundreds of handshakes from one address and a few users within a second: not rate-limited.
    QFile config(dir.filePath(u"gatehouse.json"_s));
    QVERIFY(config.open(QIODevice::WriteOnly));
    config.write(R"({"handshake_rate_per_ip": 100000, "handshake_rate_per_user": 100000})");
    config.close();
    SessionServer server(SessionServerOptions { dir.path(), {}, u"127.0.0.1:0"_s, u"file"_s });
    MainWindow embedded(server);
    server.start();
    QTRY_COMPARE_WITH_TIMEOUT(server.state(), ServerState::Running, 20000);
    const QString address = server.listenAddress();
    RemoteServer remote(QUrl(u"http://"_s + address), token);
    MainWindow attached(remote);
    remote.start();
    QTRY_COMPARE_WITH_TIMEOUT(remote.state(), ServerState::Running, 10000);
    QTRY_COMPARE(attached.liveState().usernames().size(), names.size());

    // Churn: every user logs in on a few devices and opens tabs on each; some close at once,
    // some close later, and admins act meanwhile.
    QHash<QString, QByteArray> tokens; // device → access token
    for (const auto &name : names) {
        for (int device = 0; device < 3; ++device) {
            const QString id = u"%1-d%2"_s.arg(name).arg(device);
            tokens.insert(id, passwordLogin(m_network, address, name, id).accessToken());
            QVERIFY(!tokens.value(id).isEmpty());
        }
    }
    std::vector<std::unique_ptr<QWebSocket>> sockets;
    auto *random = QRandomGenerator::global();
    for (int round = 0; round < 6; ++round) {
        for (auto it = tokens.cbegin(); it != tokens.cend(); ++it) {
            for (int tab = 0; tab < 4; ++tab) {
                auto socket = std::make_unique<QWebSocket>();
                socket->open(QUrl(u"ws://"_s + address + u"/ws?access_token="_s + QString::fromLatin1(it.value())));
                sockets.push_back(std::move(socket));
            }
        }
        QTest::qWait(120);
        for (auto &socket : sockets) {
            if (socket->state() == QAbstractSocket::ConnectedState && random->bounded(3) == 0)
                socket->close();
        }
    }
    QTRY_VERIFY_WITH_TIMEOUT(server.state() == ServerState::Running, 1000);
    std::optional<AdminOutcome> revoked;
    std::optional<AdminOutcome> disconnected;
    server.revokeUser(UserKey::local(u"ben"_s), this, [&](const AdminOutcome &outcome) { revoked = outcome; });
    remote.disconnectUser(UserKey::local(u"cid"_s), this, [&](const AdminOutcome &outcome) { disconnected = outcome; });
    std::optional<QString> added;
    std::optional<QString> disabled;
    std::optional<QString> roles;
    remote.addUser(u"fay"_s, u"Fay"_s, "a long password", { u"user"_s }, this, [&](const QString &e) { added = e; });
    server.setUserEnabled(u"dee"_s, false, this, [&](const QString &e) { disabled = e; });
    remote.setRoles(u"eve"_s, { u"ops"_s, u"user"_s }, this, [&](const QString &e) { roles = e; });
    QTRY_VERIFY_WITH_TIMEOUT(revoked && disconnected && added && disabled && roles, 10000);
    QVERIFY2(revoked->ok() && disconnected->ok(), qPrintable(revoked->error + disconnected->error));
    QVERIFY(added->isEmpty() && disabled->isEmpty() && roles->isEmpty());
    QVERIFY(revoked->closed > 0);

    // First the embedded console catches up with the server's own count of live connections
    // (changes are coalesced: 100 ms for connections, 250 ms for the rest); comparing before
    // that could find two consoles equally behind.
    const auto serverLive = [&] {
        QSignalSpy snapshot(&server, &ServerFacade::connectionsSnapshot);
        server.requestConnections();
        QHash<QString, int> live;
        if (snapshot.wait(5000)) {
            for (const auto &connection : snapshot.first().first().value<QList<ConnectionInfo>>())
                ++live[connection.user.subject];
        }
        return live;
    };
    QVERIFY(QTest::qWaitFor(
        [&] {
            const auto live = serverLive();
            QTest::qWait(300);
            for (const auto &name : embedded.liveState().usernames()) {
                if (embedded.liveState().liveConnectionCount(name) != live.value(name))
                    return false;
            }
            return true;
        },
        15000));
    // Then both consoles settle on the same picture.
    QStringList embeddedView;
    QStringList attachedView;
    const bool same = QTest::qWaitFor(
        [&] {
            embeddedView = describe(embedded.liveState());
            attachedView = describe(attached.liveState());
            return embeddedView == attachedView;
        },
        10000);
    if (!same) {
        for (const auto &line : embeddedView) {
            if (!attachedView.contains(line))
                qWarning().noquote() << "only embedded:" << line;
        }
        for (const auto &line : attachedView) {
            if (!embeddedView.contains(line))
                qWarning().noquote() << "only attached:" << line;
        }
    }
    QVERIFY(same);
    // Not trivially equal: there was churn to follow.
    qsizetype connections = 0;
    qsizetype closed = 0;
    for (const auto &name : embedded.liveState().usernames()) {
        for (const auto id : embedded.liveState().connectionsOf(name)) {
            ++connections;
            closed += LiveState::isClosed(*embedded.liveState().connection(id));
        }
    }
    QVERIFY2(connections >= 300 && closed >= 50,
             qPrintable(u"%1 connections, %2 closed"_s.arg(connections).arg(closed)));
    QVERIFY(embeddedView.contains(u"live ben 0"_s));
    QVERIFY(embeddedView.contains(u"live cid 0"_s));
    QCOMPARE(embedded.liveState().usernames().size(), names.size() + 1);

    // The views built on them agree too.
    QTRY_COMPARE_WITH_TIMEOUT(rowsOf(*attached.sessionsView()->usersModel()),
                              rowsOf(*embedded.sessionsView()->usersModel()), 5000);
    for (auto &socket : sockets)
        socket->abort();
}

QTEST_MAIN(TestFeedParity)
#include "tst_feedparity.moc"
