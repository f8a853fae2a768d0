// The console's models fed as the facade feeds them (snapshots, then coalesced changes), each
// watched by QAbstractItemModelTester so that every insert, change and removal is well-formed.
#include "models/AuditFilterProxy.h"
#include "models/AuditLogModel.h"
#include "models/LiveState.h"
#include "models/NaturalSortProxy.h"
#include "models/SessionTreeModel.h"
#include "models/UsersModel.h"
#include "views/CountdownDelegate.h"

#include <QAbstractItemModelTester>
#include <QDateTime>
#include <QSignalSpy>
#include <QTest>

#include <algorithm>

using namespace Qt::StringLiterals;
using Kind = SessionTreeModel::Kind;

class TestConsoleModels final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void usersModelCountsLiveConnections();
    void usersSortInNaturalOrder_data();
    void usersSortInNaturalOrder();
    void usersSortCountsAsNumbers();
    void sessionTreeGrowsInPlaceAndKeepsEndedRows();
    void closedConnectionsAreForgottenLater();
    void crossedSnapshotAndChangesCountOnce();
    void ourAliceAndAnExternalAliceAreTwoUsers();
    void auditModelIsBoundedAndFilters();
    void countdownColoursAndText();

private:
    static User user(const QString &name);
    static SessionRecord session(const QString &id, const QString &name, const QString &device);
    /// A connection of our user `name`.
    static ConnectionInfo connection(quint64 id, const QString &name, const QString &device, const QString &session);
    static ConnectionInfo connection(quint64 id, const UserKey &user, const QString &device, const QString &session);
};

namespace {
const UserKey theirAlice { u"https://idp.example"_s, u"alice"_s };
} // namespace

User TestConsoleModels::user(const QString &name)
{
    User user;
    user.username = name;
    user.roles = { u"user"_s };
    return user;
}

SessionRecord TestConsoleModels::session(const QString &id, const QString &name, const QString &device)
{
    const qint64 now = QDateTime::currentSecsSinceEpoch();
    SessionRecord record;
    record.id = id;
    record.username = name;
    record.deviceId = device;
    record.createdAt = now;
    record.absoluteExpiresAt = now + 3600;
    record.accessExpiresAt = now + 900;
    record.refreshExpiresAt = now + 1800;
    return record;
}

ConnectionInfo TestConsoleModels::connection(quint64 id, const QString &name, const QString &device,
                                             const QString &session)
{
    return connection(id, UserKey::local(name), device, session);
}

ConnectionInfo TestConsoleModels::connection(quint64 id, const UserKey &user, const QString &device,
                                             const QString &session)
{
    ConnectionInfo info;
    info.id = id;
    info.user = user;
    info.deviceId = device;
    info.sessionId = session;
    info.connectedAtMs = QDateTime::currentMSecsSinceEpoch();
    info.accessExpiresAt = QDateTime::currentSecsSinceEpoch() + 900;
    return info;
}

void TestConsoleModels::usersModelCountsLiveConnections()
{
    LiveState state;
    UsersModel model(state);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    ConsoleSnapshot snapshot;
    snapshot.users = { user(u"alice"_s), user(u"bob"_s) };
    snapshot.sessions = { session(u"s1"_s, u"alice"_s, u"laptop"_s), session(u"s2"_s, u"alice"_s, u"phone"_s) };
    state.applySnapshot(snapshot);
    QCOMPARE(model.rowCount(), 2);
    const auto cell
        = [&](const QString &name, int column) { return model.indexOfUser(name).siblingAtColumn(column).data(); };
    QCOMPARE(cell(u"alice"_s, UsersModel::Devices).toInt(), 2);
    QCOMPARE(cell(u"alice"_s, UsersModel::State).toString(), u"offline"_s);

    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    state.applyConnections(
        { connection(1, u"alice"_s, u"laptop"_s, u"s1"_s), connection(2, u"alice"_s, u"laptop"_s, u"s1"_s) }, {});
    QCOMPARE(changed.size(), 1); // one burst, one row touched
    QCOMPARE(cell(u"alice"_s, UsersModel::Connections).toInt(), 2);
    QCOMPARE(cell(u"alice"_s, UsersModel::State).toString(), u"online"_s);
    QCOMPARE(model.indexOfUser(u"alice"_s).siblingAtColumn(UsersModel::State).data(Qt::ToolTipRole).toString(),
             u"2 live connections"_s);

    // A new user arrives as an appended row, a disabled one says so.
    User carol = user(u"carol"_s);
    User bob = user(u"bob"_s);
    bob.enabled = false;
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    state.applyUsers({ carol, bob });
    QCOMPARE(inserted.size(), 1);
    QCOMPARE(model.rowCount(), 3);
    QCOMPARE(cell(u"bob"_s, UsersModel::State).toString(), u"disabled"_s);
    QCOMPARE(model.indexOfUser(u"bob"_s).siblingAtColumn(UsersModel::State).data(UsersModel::SortRole).toInt(), -1);

    auto closed = connection(1, u"alice"_s, u"laptop"_s, u"s1"_s);
    closed.closeCode = 4000;
    closed.closedAtMs = QDateTime::currentMSecsSinceEpoch();
    state.applyConnections({}, { closed, closed }); // the same close twice counts once
    QCOMPARE(cell(u"alice"_s, UsersModel::Connections).toInt(), 1);
    QCOMPARE(state.totalLiveConnections(), 1);

    // A user known only from a trusted external issuer's token shows up too.
    const UserKey build { u"https://ci.example"_s, u"svc-build"_s };
    state.applyConnections({ connection(3, build, u"ci"_s, {}) }, {});
    QCOMPARE(model.rowCount(), 4);
    QCOMPARE(cell(build.toString(), UsersModel::Username).toString(), u"svc-build @ https://ci.example"_s);
    QCOMPARE(cell(build.toString(), UsersModel::Roles).toString(), u"external"_s);
    QCOMPARE(cell(build.toString(), UsersModel::State).toString(), u"online"_s);
}

void TestConsoleModels::usersSortInNaturalOrder_data()
{
    QTest::addColumn<QStringList>("added");
    QTest::addColumn<QStringList>("sorted");
    QTest::newRow("user2 comes before user10")
        << QStringList { u"user10"_s, u"user2"_s, u"user1"_s } << QStringList { u"user1"_s, u"user2"_s, u"user10"_s };
    QTest::newRow("a number inside a name compares by value")
        << QStringList { u"rack10-a"_s, u"rack9-b"_s } << QStringList { u"rack9-b"_s, u"rack10-a"_s };
    QTest::newRow("each number in a name compares by value")
        << QStringList { u"v1.10"_s, u"v2.0"_s, u"v1.9"_s } << QStringList { u"v1.9"_s, u"v1.10"_s, u"v2.0"_s };
    QTest::newRow("capitals do not sort apart") << QStringList { u"bob"_s, u"Carol"_s, u"alice"_s, u"Dave"_s }
                                                << QStringList { u"alice"_s, u"bob"_s, u"Carol"_s, u"Dave"_s };
    QTest::newRow("names without numbers keep alphabetical order")
        << QStringList { u"mallory"_s, u"eve"_s, u"trent"_s } << QStringList { u"eve"_s, u"mallory"_s, u"trent"_s };
    QTest::newRow("numbers beyond 64 bits still compare by value")
        << QStringList { u"n100000000000000000000"_s, u"n99999999999999999999"_s }
        << QStringList { u"n99999999999999999999"_s, u"n100000000000000000000"_s };
    QTest::newRow("leading zeros keep one fixed order")
        << QStringList { u"user2"_s, u"user1"_s, u"user02"_s } << QStringList { u"user1"_s, u"user02"_s, u"user2"_s };
    QTest::newRow("the same name but for case keeps one fixed order")
        << QStringList { u"bob"_s, u"Bob"_s } << QStringList { u"Bob"_s, u"bob"_s };
}

void TestConsoleModels::usersSortInNaturalOrder()
{
    QFETCH(QStringList, added);
    QFETCH(QStringList, sorted);
    LiveState state;
    UsersModel model(state);
    NaturalSortProxy proxy;
    proxy.setSourceModel(&model);
    proxy.setSortRole(UsersModel::SortRole);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QAbstractItemModelTester proxyTester(&proxy, QAbstractItemModelTester::FailureReportingMode::QtTest);
    proxy.sort(UsersModel::Username, Qt::AscendingOrder);
    // Each one arrives as its own change, as users are added one by one.
    for (const auto &name : std::as_const(added))
        state.applyUsers({ user(name) });
    QCOMPARE(model.rowCount(), int(added.size()));
    const auto shown = [&] {
        QStringList names;
        for (int row = 0; row < proxy.rowCount(); ++row)
            names.append(proxy.index(row, UsersModel::Username).data().toString());
        return names;
    };
    QCOMPARE(shown(), sorted);
    proxy.sort(UsersModel::Username, Qt::DescendingOrder);
    std::reverse(sorted.begin(), sorted.end());
    QCOMPARE(shown(), sorted);
}

void TestConsoleModels::usersSortCountsAsNumbers()
{
    LiveState state;
    UsersModel model(state);
    NaturalSortProxy proxy;
    proxy.setSourceModel(&model);
    proxy.setSortRole(UsersModel::SortRole);
    QAbstractItemModelTester proxyTester(&proxy, QAbstractItemModelTester::FailureReportingMode::QtTest);
    ConsoleSnapshot snapshot;
    snapshot.users = { user(u"alice"_s), user(u"bob"_s), user(u"carol"_s) };
    state.applySnapshot(snapshot);
    QList<ConnectionInfo> opened;
    for (quint64 id = 1; id <= 12; ++id)
        opened.append(connection(id, id <= 10 ? u"bob"_s : u"carol"_s, u"laptop"_s, u"s"_s));
    state.applyConnections(opened, {});
    // 10 connections sort after 2 and 0: counts are numbers, not text.
    proxy.sort(UsersModel::Connections, Qt::AscendingOrder);
    QCOMPARE(proxy.index(0, UsersModel::Username).data().toString(), u"alice"_s);
    QCOMPARE(proxy.index(1, UsersModel::Username).data().toString(), u"carol"_s);
    QCOMPARE(proxy.index(2, UsersModel::Username).data().toString(), u"bob"_s);
}

void TestConsoleModels::sessionTreeGrowsInPlaceAndKeepsEndedRows()
{
    LiveState state;
    SessionTreeModel model(state);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    ConsoleSnapshot snapshot;
    snapshot.users = { user(u"alice"_s), user(u"bob"_s) };
    snapshot.sessions = { session(u"s1"_s, u"alice"_s, u"laptop"_s), session(u"s9"_s, u"bob"_s, u"phone"_s) };
    state.applySnapshot(snapshot);
    model.setUser(u"alice"_s);
    QCOMPARE(model.rowCount(), 1);
    const QModelIndex alice = model.index(0, 0);
    QCOMPARE(alice.data().toString(), u"alice"_s);
    QCOMPARE(model.rowCount(alice), 1); // bob's session is not in alice's tree

    QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
    state.applySessions({ session(u"s2"_s, u"alice"_s, u"phone"_s) });
    state.applyConnections({ connection(7, u"alice"_s, u"phone"_s, u"s2"_s),
                             connection(8, u"alice"_s, u"tablet"_s, u"s3"_s) }, // session record not yet seen
                           {});
    QCOMPARE(reset.size(), 0); // grown in place, selection and expansion kept
    QCOMPARE(model.rowCount(alice), 3);
    const QModelIndex seven = model.indexOfConnection(7);
    QVERIFY(seven.isValid());
    QCOMPARE(seven.parent().data(SessionTreeModel::SessionIdRole).toString(), u"s2"_s);
    QCOMPARE(seven.parent().parent().data().toString(), u"phone"_s);
    QCOMPARE(seven.siblingAtColumn(SessionTreeModel::State).data().toString(), u"open"_s);
    QCOMPARE(seven.siblingAtColumn(SessionTreeModel::AccessToken).data(SessionTreeModel::LifetimeRole).toLongLong(),
             qint64(state.policy().accessTokenTtl.count()));
    QVERIFY(model.indexOfConnection(8).isValid());
    // A session opened for an OpenID client names the application.
    SessionRecord notes = session(u"s4-notes"_s, u"alice"_s, u"browser abc"_s);
    notes.clientId = u"notes"_s;
    state.applySessions({ notes });
    QCOMPARE(model.indexOfSession(u"s4-notes"_s).data().toString(), u"session s4-notes · notes"_s);
    QCOMPARE(model.indexOfSession(u"s2"_s).data().toString(), u"session s2"_s);

    // Revoked and closed: still there, marked.
    SessionRecord revoked = session(u"s2"_s, u"alice"_s, u"phone"_s);
    revoked.revokedAt = QDateTime::currentSecsSinceEpoch();
    revoked.revokeReason = u"revoked_by_admin"_s;
    auto gone = connection(7, u"alice"_s, u"phone"_s, u"s2"_s);
    gone.closeCode = 4003;
    gone.closedAtMs = QDateTime::currentMSecsSinceEpoch();
    state.applySessions({ revoked });
    state.applyConnections({}, { gone });
    QCOMPARE(model.indexOfSession(u"s2"_s).siblingAtColumn(SessionTreeModel::State).data().toString(),
             u"revoked: by admin"_s);
    QCOMPARE(model.indexOfSession(u"s2"_s)
                 .siblingAtColumn(SessionTreeModel::RefreshToken)
                 .data(SessionTreeModel::EndedRole)
                 .toString(),
             u"revoked"_s);
    QCOMPARE(model.indexOfConnection(7).siblingAtColumn(SessionTreeModel::State).data().toString(),
             u"closed 4003: session revoked"_s);
    // A peer that stopped answering pings (the server's ping sweep closed it).
    auto silent = connection(8, u"alice"_s, u"tablet"_s, u"s3"_s);
    silent.closeCode = 4008;
    silent.closedAtMs = QDateTime::currentMSecsSinceEpoch();
    state.applyConnections({}, { silent });
    QCOMPARE(model.indexOfConnection(8).siblingAtColumn(SessionTreeModel::State).data().toString(),
             u"closed 4008: no answer to ping"_s);
    QCOMPARE(model.indexOfSession(u"s4-notes"_s).siblingAtColumn(SessionTreeModel::State).data().toString(),
             u"active"_s);

    model.setUser(u"bob"_s);
    QCOMPARE(model.rowCount(model.index(0, 0)), 1);
    model.setUser({});
    QCOMPARE(model.rowCount(), 0);
}

void TestConsoleModels::closedConnectionsAreForgottenLater()
{
    LiveState state;
    SessionTreeModel model(state);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    ConsoleSnapshot snapshot;
    snapshot.users = { user(u"alice"_s) };
    snapshot.sessions = { session(u"s1"_s, u"alice"_s, u"laptop"_s) };
    state.applySnapshot(snapshot);
    model.setUser(u"alice"_s);
    state.applyConnections(
        { connection(1, u"alice"_s, u"laptop"_s, u"s1"_s), connection(2, u"alice"_s, u"laptop"_s, u"s1"_s) }, {});
    auto closed = connection(1, u"alice"_s, u"laptop"_s, u"s1"_s);
    closed.closeCode = 1006;
    closed.closedAtMs = 1000;
    state.applyConnections({}, { closed });
    state.prune(1000 + LiveState::keepClosedMs - 1);
    QVERIFY(model.indexOfConnection(1).isValid());
    state.prune(1000 + LiveState::keepClosedMs + 1);
    QVERIFY(!model.indexOfConnection(1).isValid());
    QVERIFY(model.indexOfConnection(2).isValid()); // live ones are never pruned
    QCOMPARE(state.connectionsOf(u"alice"_s), QList<quint64> { 2 });
}

void TestConsoleModels::crossedSnapshotAndChangesCountOnce()
{
    LiveState state;
    const auto one = connection(1, u"alice"_s, u"laptop"_s, u"s1"_s);
    state.applyConnections({ one }, {});
    state.applyConnectionsSnapshot({ one }); // the snapshot already had it
    state.applyConnections({ one }, {}); // and a late change batch repeats it
    QCOMPARE(state.liveConnectionCount(u"alice"_s), 1);
    QCOMPARE(state.totalLiveConnections(), 1);
    auto unknown = connection(99, u"alice"_s, u"laptop"_s, u"s1"_s);
    unknown.closedAtMs = 5;
    state.applyConnections({}, { unknown }); // closed before we saw it opened
    QCOMPARE(state.totalLiveConnections(), 1);

    // A connection seen opening, then a snapshot taken after it closed but before its close
    // arrives: it is closed from then on (not dropped), and its close, when it comes, says how.
    SessionTreeModel model(state);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setUser(u"alice"_s);
    const auto two = connection(2, u"alice"_s, u"laptop"_s, u"s1"_s);
    state.applyConnections({ two }, {});
    QCOMPARE(state.liveConnectionCount(u"alice"_s), 2);
    state.applyConnectionsSnapshot({ one });
    QCOMPARE(state.liveConnectionCount(u"alice"_s), 1);
    QCOMPARE(state.totalLiveConnections(), 1);
    QVERIFY(state.connection(2) && LiveState::isClosed(*state.connection(2)));
    QCOMPARE(state.connection(2)->closeCode, 0);
    QVERIFY(model.indexOfConnection(2).isValid());
    auto twoClosed = two;
    twoClosed.closeCode = 4003;
    twoClosed.closedAtMs = QDateTime::currentMSecsSinceEpoch();
    state.applyConnections({}, { twoClosed });
    QCOMPARE(state.connection(2)->closeCode, 4003);
    QCOMPARE(state.liveConnectionCount(u"alice"_s), 1); // counted closed once
    QCOMPARE(state.totalLiveConnections(), 1);
    state.applyConnections({}, { twoClosed }); // and a repeat changes nothing
    QCOMPARE(state.totalLiveConnections(), 1);
    auto ids = state.connectionsOf(u"alice"_s);
    std::sort(ids.begin(), ids.end());
    QCOMPARE(ids, (QList<quint64> { 1, 2 }));
}

void TestConsoleModels::ourAliceAndAnExternalAliceAreTwoUsers()
{
    LiveState state;
    UsersModel users(state);
    SessionTreeModel tree(state);
    QAbstractItemModelTester usersTester(&users, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QAbstractItemModelTester treeTester(&tree, QAbstractItemModelTester::FailureReportingMode::QtTest);
    ConsoleSnapshot snapshot;
    snapshot.users = { user(u"alice"_s) };
    snapshot.sessions = { session(u"s1"_s, u"alice"_s, u"laptop"_s) };
    state.applySnapshot(snapshot);
    tree.setUser(theirAlice.toString());
    // Both at once, in one burst, with the same device name: still two users.
    state.applyConnections({ connection(1, u"alice"_s, u"laptop"_s, u"s1"_s),
                             connection(2, theirAlice, u"laptop"_s, {}), connection(3, theirAlice, u"phone"_s, {}) },
                           {});

    QCOMPARE(users.rowCount(), 2);
    const QModelIndex ours = users.indexOfUser(u"alice"_s);
    const QModelIndex theirs = users.indexOfUser(theirAlice.toString());
    QVERIFY(ours.isValid() && theirs.isValid() && ours.row() != theirs.row());
    QCOMPARE(ours.data().toString(), u"alice"_s);
    QCOMPARE(theirs.data().toString(), u"alice @ https://idp.example"_s);
    QCOMPARE(ours.data(UsersModel::IssuerRole).toString(), QString());
    QCOMPARE(theirs.data(UsersModel::IssuerRole).toString(), u"https://idp.example"_s);
    QCOMPARE(ours.siblingAtColumn(UsersModel::Connections).data().toInt(), 1);
    QCOMPARE(theirs.siblingAtColumn(UsersModel::Connections).data().toInt(), 2);
    QCOMPARE(ours.siblingAtColumn(UsersModel::Devices).data().toInt(), 1);
    QCOMPARE(theirs.siblingAtColumn(UsersModel::Devices).data().toInt(), 2);
    QCOMPARE(theirs.siblingAtColumn(UsersModel::Roles).data().toString(), u"external"_s);
    QCOMPARE(ours.siblingAtColumn(UsersModel::Roles).data().toString(), u"user"_s);
    QVERIFY(theirs.data(Qt::ToolTipRole).toString().contains(u"https://idp.example"_s));

    // Their tree holds their two connections, none of ours, and none of our sessions.
    QCOMPARE(tree.rowCount(), 1);
    QCOMPARE(tree.index(0, 0).data().toString(), u"alice @ https://idp.example"_s);
    QVERIFY(!tree.indexOfConnection(1).isValid());
    QVERIFY(tree.indexOfConnection(2).isValid());
    QVERIFY(tree.indexOfConnection(3).isValid());
    QVERIFY(!tree.indexOfSession(u"s1"_s).isValid());
    QCOMPARE(tree.index(0, SessionTreeModel::State).data().toString(), u"2 live connections"_s);

    // Ours holds ours only.
    tree.setUser(u"alice"_s);
    QCOMPARE(tree.index(0, 0).data().toString(), u"alice"_s);
    QVERIFY(tree.indexOfConnection(1).isValid());
    QVERIFY(!tree.indexOfConnection(2).isValid());
    QVERIFY(tree.indexOfSession(u"s1"_s).isValid());
    QCOMPARE(tree.index(0, SessionTreeModel::State).data().toString(), u"1 live connection"_s);

    // A close of theirs is counted against theirs alone.
    auto closed = connection(2, theirAlice, u"laptop"_s, {});
    closed.closeCode = 4000;
    closed.closedAtMs = QDateTime::currentMSecsSinceEpoch();
    state.applyConnections({}, { closed });
    QCOMPARE(state.liveConnectionCount(u"alice"_s), 1);
    QCOMPARE(state.liveConnectionCount(theirAlice.toString()), 1);
    QCOMPARE(state.connectionsOf(u"alice"_s), QList<quint64> { 1 });
}

void TestConsoleModels::auditModelIsBoundedAndFilters()
{
    AuditLogModel model(5);
    AuditFilterProxy proxy;
    proxy.setSourceModel(&model);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QAbstractItemModelTester proxyTester(&proxy, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QList<AuditEvent> events;
    for (int i = 1; i <= 4; ++i) {
        AuditEvent event;
        event.id = i;
        event.atMs = 1000 * i;
        event.type = i % 2 ? u"login_succeeded"_s : u"session_revoked"_s;
        event.actor = i == 4 ? u"console:root"_s : u"alice"_s;
        event.username = u"alice"_s;
        events.append(event);
    }
    QSignalSpy types(&model, &AuditLogModel::typesChanged);
    model.prepend(events);
    QCOMPARE(model.rowCount(), 4);
    QCOMPARE(model.event(0).id, 4); // newest first
    QCOMPARE(types.size(), 1);
    QCOMPARE(model.knownTypes(), (QStringList { u"login_succeeded"_s, u"session_revoked"_s }));
    QList<AuditEvent> more;
    for (int i = 5; i <= 7; ++i) {
        AuditEvent event = events.first();
        event.id = i;
        event.atMs = 1000 * i;
        more.append(event);
    }
    model.prepend(more);
    QCOMPARE(model.rowCount(), 5); // bounded: the oldest fell off
    QCOMPARE(model.event(0).id, 7);
    QCOMPARE(model.event(4).id, 3);

    proxy.setCriteria(u"session_revoked"_s, {}, {}, 0, 0);
    QCOMPARE(proxy.rowCount(), 1);
    proxy.setCriteria({}, {}, u"console:root"_s, 0, 0);
    QCOMPARE(proxy.rowCount(), 1);
    proxy.setCriteria({}, u"alice"_s, {}, 5000, 6000);
    QCOMPARE(proxy.rowCount(), 2);
    proxy.setCriteria({}, u"nobody"_s, {}, 0, 0);
    QCOMPARE(proxy.rowCount(), 0);
    QVERIFY(model.index(0, 0).data(AuditLogModel::DetailRole).toString().contains(u"\"id\": 7"_s));

    // Another writer's events (the command line's), told after a newer one of the server's
    // own: each goes where its id puts it, the oldest fall off, none is shown twice.
    const auto withId = [&](qint64 id) {
        AuditEvent event = events.first();
        event.id = id;
        event.atMs = 1000 * id;
        return event;
    };
    model.prepend({ withId(10) });
    model.prepend({ withId(8), withId(9), withId(7) });
    QCOMPARE(model.rowCount(), 5);
    for (int row = 0; row < 5; ++row)
        QCOMPARE(model.event(row).id, 10 - row);
}

void TestConsoleModels::countdownColoursAndText()
{
    QCOMPARE(CountdownDelegate::remainingText(0), u"expired"_s);
    QCOMPARE(CountdownDelegate::remainingText(65), u"1:05"_s);
    QCOMPARE(CountdownDelegate::remainingText(3 * 3600 + 62), u"3:01:02"_s);
    QCOMPARE(CountdownDelegate::remainingText(5 * 86400), u"5 d"_s);
    // Green with a full life, red at the end, amber between.
    QVERIFY(qAbs(CountdownDelegate::colourFor(1.0).hueF() - 1.0f / 3.0f) < 0.01f);
    QVERIFY(CountdownDelegate::colourFor(0.0).hueF() < 0.01f);
    const float middle = CountdownDelegate::colourFor(0.4).hueF();
    QVERIFY(middle > 0.05f && middle < 0.25f);
    QCOMPARE(CountdownDelegate::colourFor(-3), CountdownDelegate::colourFor(0));
}

QTEST_MAIN(TestConsoleModels)
#include "tst_consolemodels.moc"
