// What the audit log says of connections whose peer stopped answering pings.
#include "ws/SilentPeerAudit.h"

#include <QJsonArray>
#include <QTest>

using namespace Qt::StringLiterals;

namespace {
ConnectionInfo closedWith(int code, quint64 id, const QString &user, const QString &device = u"laptop"_s)
{
    ConnectionInfo info;
    info.id = id;
    info.user = UserKey::local(user);
    info.deviceId = device;
    info.sessionId = u"s-"_s + user + u'-' + device;
    info.remoteAddress = u"192.0.2.7"_s;
    info.closeCode = code;
    return info;
}
} // namespace

class TestSilentPeerAudit final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void eventNamesWhatTheBatchShares_data();
    void eventNamesWhatTheBatchShares();
    void otherClosesAreNotAudited();
    void aNetworkDroppingIsOneEvent();
};

void TestSilentPeerAudit::eventNamesWhatTheBatchShares_data()
{
    QTest::addColumn<QList<ConnectionInfo>>("closed");
    QTest::addColumn<QString>("username");
    QTest::addColumn<QString>("device");
    QTest::addColumn<qint64>("count");
    QTest::newRow("one vanished laptop is named")
        << QList { closedWith(4008, 1, u"alice"_s) } << u"alice"_s << u"laptop"_s << qint64(1);
    QTest::newRow("the tabs of one laptop are named together")
        << QList { closedWith(4008, 1, u"alice"_s), closedWith(4008, 2, u"alice"_s) } << u"alice"_s << u"laptop"_s
        << qint64(2);
    QTest::newRow("one user's two devices name the user only")
        << QList { closedWith(4008, 1, u"alice"_s), closedWith(4008, 2, u"alice"_s, u"phone"_s) } << u"alice"_s
        << QString() << qint64(2);
    QTest::newRow("two users name nobody") << QList { closedWith(4008, 1, u"alice"_s), closedWith(4008, 2, u"bob"_s) }
                                           << QString() << QString() << qint64(2);
    QTest::newRow("a revoked connection beside it is not counted")
        << QList { closedWith(4003, 1, u"bob"_s), closedWith(4008, 2, u"alice"_s) } << u"alice"_s << u"laptop"_s
        << qint64(1);
}

void TestSilentPeerAudit::eventNamesWhatTheBatchShares()
{
    QFETCH(QList<ConnectionInfo>, closed);
    QFETCH(QString, username);
    QFETCH(QString, device);
    QFETCH(qint64, count);
    const auto event = SilentPeerAudit::eventFor(closed);
    QVERIFY(event);
    QCOMPARE(event->type, u"connection_timed_out"_s);
    QCOMPARE(event->actor, u"system"_s);
    QCOMPARE(event->username, username);
    QCOMPARE(event->deviceId, device);
    QCOMPARE(event->remoteAddress, u"192.0.2.7"_s);
    QCOMPARE(event->detail["count"_L1].toInteger(), count);
    QCOMPARE(event->detail["close_code"_L1].toInt(), 4008);
    QCOMPARE(event->detail["connections"_L1].toArray().size(), count);
}

void TestSilentPeerAudit::otherClosesAreNotAudited()
{
    QVERIFY(!SilentPeerAudit::eventFor({}));
    QVERIFY(!SilentPeerAudit::eventFor(
        { closedWith(1000, 1, u"alice"_s), closedWith(1006, 2, u"alice"_s), closedWith(4003, 3, u"bob"_s) }));
}

void TestSilentPeerAudit::aNetworkDroppingIsOneEvent()
{
    QList<ConnectionInfo> closed;
    for (quint64 id = 1; id <= 5000; ++id)
        closed.append(closedWith(4008, id, u"user%1"_s.arg(id % 700)));
    const auto event = SilentPeerAudit::eventFor(closed);
    QVERIFY(event);
    QCOMPARE(event->detail["count"_L1].toInteger(), 5000);
    QCOMPARE(event->detail["connections"_L1].toArray().size(), 100); // the rest are counted
    QVERIFY(event->username.isEmpty());
}

QTEST_GUILESS_MAIN(TestSilentPeerAudit)
#include "tst_silentpeeraudit.moc"
