// The login limits of every password form: what strangers get per account, whatever their
// addresses and spellings, and that the owner still gets in from a known device or address.
#include "identity/UserDirectory.h"
#include "policy/LoginLimits.h"

#include <QTest>

#include "ManualClock.h"

using namespace Qt::StringLiterals;
using namespace std::chrono_literals;

namespace {
/// One attempt of a scenario and what admit() must answer; an admitted attempt then fails,
/// unless it has the right password.
struct Step {
    double time = 0;
    QString address = QStringLiteral("192.0.2.1");
    QString device;
    QString account = QStringLiteral("alice");
    bool exists = true;
    bool succeeds = false;
    std::optional<int> wait;

    Step at(double seconds) const { return with(&Step::time, seconds); }
    Step from(const QString &where) const { return with(&Step::address, where); }
    Step onDevice(const QString &id) const { return with(&Step::device, id); }
    Step forAccount(const QString &name, bool known = true) const
    {
        return with(&Step::account, name).with(&Step::exists, known);
    }
    Step rightPassword() const { return with(&Step::succeeds, true); }
    Step waits(int seconds) const { return with(&Step::wait, std::optional(seconds)); }

private:
    template<typename T> Step with(T Step::*member, T value) const
    {
        Step copy = *this;
        copy.*member = std::move(value);
        return copy;
    }
};
using Steps = QList<Step>;

Steps repeated(int times, const Step &step)
{
    return Steps(times, step);
}

LoginAttempt attemptOf(const Step &step)
{
    return { step.account, step.exists, step.address, step.device };
}

/// The 32 spellings of "alice" the lookup takes for one user, counted as it counts them.
QString spelling(int variant)
{
    QString name = u"alice"_s;
    for (int i = 0; i < 5; ++i) {
        if (variant & (1 << i))
            name[i] = name[i].toUpper();
    }
    return name;
}

double secondsOf(const ManualClock &clock)
{
    return double(clock.nowMilliseconds()) / 1000.0;
}
} // namespace

Q_DECLARE_METATYPE(Steps)

class TestLoginLimits final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void scenarios_data();
    void scenarios();
    void networks_data();
    void networks();
    void spellingsAndAddressesShareOneCount();
    void ownerGetsInWhileAnAttackerKeepsFailing();
    void floodingTheTablesForgetsNoAccount();
};

void TestLoginLimits::scenarios_data()
{
    QTest::addColumn<Steps>("steps");
    constexpr double days30 = 30 * 86400.0;
    const Step fail;
    const Step success = fail.rightPassword();
    const QString home = u"198.51.100.1"_s;
    const QString attacker = u"203.0.113.66"_s;

    QTest::newRow("the right password at once is admitted") << Steps { success };
    QTest::newRow("five wrong passwords are all checked") << repeated(5, fail);
    QTest::newRow("a success clears the count: five more are free")
        << repeated(4, fail) + Steps { success } + repeated(5, fail) + Steps { fail.waits(1) };
    QTest::newRow("after the wait the next attempt is checked")
        << repeated(5, fail) + Steps { fail.at(0.5).waits(1), success.at(1) };

    QTest::newRow("the sixth attempt waits 1 s, even with the right password")
        << repeated(5, fail) + Steps { success.waits(1) };
    QTest::newRow("then each wait is twice the last: 1, 2, 4, 8 s")
        << repeated(5, fail) + Steps { fail.at(1),          fail.at(2).waits(1), fail.at(3),
                                       fail.at(6).waits(1), fail.at(7),          fail.at(7).waits(8) };
    QTest::newRow("a new address does not reset the account's count for strangers")
        << repeated(5, fail) + Steps { fail.from(u"203.0.113.9"_s).waits(1) };
    QTest::newRow("three addresses share the account's five free failures") << repeated(3, fail.from(u"203.0.113.1"_s))
            + repeated(2, fail.from(u"203.0.113.2"_s)) + Steps { fail.from(u"203.0.113.3"_s).waits(1) };
    QTest::newRow("an unknown name is limited exactly like a real account (no hint which exist)")
        << repeated(5, fail.forAccount(u"nobody"_s, false)) + Steps { fail.forAccount(u"nobody"_s, false).waits(1) };
    QTest::newRow("accounts are counted apart")
        << repeated(5, fail) + Steps { fail.forAccount(u"bob"_s).from(attacker), fail.waits(1) };
    QTest::newRow("one address trying many accounts is held back after five failures (spraying)")
        << Steps { fail.forAccount(u"a"_s),        fail.forAccount(u"b"_s), fail.forAccount(u"c"_s),
                   fail.forAccount(u"d"_s, false), fail.forAccount(u"e"_s), fail.forAccount(u"f"_s).waits(1) };

    QTest::newRow("a known device gets in while strangers are held back") << repeated(5, fail.from(attacker))
            + Steps { fail.from(attacker).waits(1), success.from(home).waits(1),
                      success.from(home).onDevice(u"phone"_s) };
    QTest::newRow("a known address gets in while strangers elsewhere are held back") << Steps { success.from(home) }
            + repeated(5, fail.from(attacker)) + Steps { fail.from(u"203.0.113.67"_s).waits(1), success.from(home) };
    QTest::newRow("a known IPv6 address is its whole /64") << Steps { success.from(u"2001:db8:1:2::1"_s) }
            + repeated(5, fail.from(attacker)) + Steps { success.from(u"2001:db8:1:2:ffff::9"_s) };
    QTest::newRow("a known address is forgotten 30 days after its last success") << Steps { success.from(home) }
            + repeated(5, fail.at(days30).from(attacker)) + Steps { success.at(days30).from(home).waits(1) };

    QTest::newRow("a device cookie has its own back-off: a stolen one is bounded too")
        << repeated(5, fail.onDevice(u"stolen"_s)) + Steps { fail.onDevice(u"stolen"_s).waits(1) };
    QTest::newRow("spraying from the owner's address does not hold the owner back there")
        << Steps { success.from(home) }
            + Steps { fail.from(home).forAccount(u"a"_s),
                      fail.from(home).forAccount(u"b"_s),
                      fail.from(home).forAccount(u"c"_s),
                      fail.from(home).forAccount(u"d"_s),
                      fail.from(home).forAccount(u"e"_s),
                      fail.from(home).forAccount(u"f"_s).waits(1),
                      success.from(home) };
    QTest::newRow("a stranger at the owner's address is held back there, the owner's device is not")
        << Steps { success.from(home) } + repeated(5, fail.from(home))
            + Steps { fail.from(home).waits(1), success.from(home).onDevice(u"laptop"_s) };
    QTest::newRow("strangers in the owner's /64 are held back by its count")
        << Steps { success.from(u"2001:db8:1:2::1"_s) } + repeated(5, fail.from(u"2001:db8:1:2:aaaa::1"_s))
            + Steps { fail.from(u"2001:db8:1:2:bbbb::2"_s).waits(1) };
}

void TestLoginLimits::scenarios()
{
    QFETCH(Steps, steps);
    ManualClock clock;
    const double start = secondsOf(clock);
    LoginLimits limits({});
    for (qsizetype i = 0; i < steps.size(); ++i) {
        const Step &step = steps[i];
        const LoginAttempt attempt = attemptOf(step);
        const auto wait = limits.admit(attempt, start + step.time);
        QVERIFY2(wait == step.wait,
                 qPrintable(
                     u"step %1: waits %2 s, expected %3 s"_s.arg(i).arg(wait.value_or(0)).arg(step.wait.value_or(0))));
        if (!wait && step.succeeds)
            limits.recordSuccess(attempt, start + step.time);
    }
}

void TestLoginLimits::networks_data()
{
    QTest::addColumn<QString>("address");
    QTest::addColumn<QString>("network");
    QTest::newRow("an IPv4 address is itself") << u"192.0.2.7"_s << u"192.0.2.7"_s;
    QTest::newRow("an IPv6 address is its /64") << u"2001:db8:1:2:3:4:5:6"_s << u"2001:db8:1:2::/64"_s;
    QTest::newRow("an IPv4-mapped IPv6 address is the IPv4 one") << u"::ffff:192.0.2.7"_s << u"192.0.2.7"_s;
    QTest::newRow("IPv6 loopback") << u"::1"_s << u"::/64"_s;
    QTest::newRow("not an address stays as it is") << u"unix:socket"_s << u"unix:socket"_s;
}

void TestLoginLimits::networks()
{
    QFETCH(QString, address);
    QFETCH(QString, network);
    QCOMPARE(LoginLimits::networkOf(address), network);
}

void TestLoginLimits::spellingsAndAddressesShareOneCount()
{
    // The attack of issue 12: 32 spellings of one name, a new address every 5 tries, as fast as
    // the server answers (every 25 ms), for ten minutes. Before the count was by spelling, 192
    // passwords were checked in 4.8 s.
    ManualClock clock;
    LoginLimits limits({});
    QList<double> checks;
    for (int attempt = 0; attempt < 24000; ++attempt) {
        const LoginAttempt guess {
            UserDirectory::foldedUsername(spelling(attempt % 32)),
            true,
            u"10.%1.%2.%3"_s.arg(attempt / 5 / 65536).arg(attempt / 5 / 256 % 256).arg(attempt / 5 % 256),
            {}
        };
        if (!limits.admit(guess, secondsOf(clock)))
            checks.append(secondsOf(clock));
        clock.advance(25ms);
    }
    // Five free, then 1, 2, 4 … 256 s, then one every 300 s.
    QCOMPARE(checks.size(), 5 + 9);
    for (const double start : checks) {
        const auto inMinute = std::count_if(checks.cbegin(), checks.cend(),
                                            [start](double at) { return at >= start && at < start + 60; });
        QVERIFY2(inMinute <= 10, qPrintable(u"%1 checks in the minute from %2"_s.arg(inMinute).arg(start)));
    }
}

void TestLoginLimits::ownerGetsInWhileAnAttackerKeepsFailing()
{
    // An attacker who knows only the username fails once a second for an hour, from a new
    // address and spelling each time. The owner logs in every 5 minutes: from the laptop
    // (device cookie) and, in turn, from home (an address known from an earlier login).
    ManualClock clock;
    LoginLimits limits({});
    const LoginAttempt fromHome { u"alice"_s, true, u"198.51.100.1"_s, {} };
    QVERIFY(!limits.admit(fromHome, secondsOf(clock)));
    limits.recordSuccess(fromHome, secondsOf(clock));
    int ownerLogins = 0;
    int attackerChecks = 0;
    for (int second = 1; second <= 3600; ++second) {
        clock.advance(1s);
        const LoginAttempt guess { UserDirectory::foldedUsername(spelling(second % 32)),
                                   true,
                                   u"203.0.%1.%2"_s.arg(second / 256).arg(second % 256),
                                   {} };
        if (!limits.admit(guess, secondsOf(clock)))
            ++attackerChecks;
        if (second % 300 == 0) {
            const LoginAttempt owner
                = second % 600 == 0 ? LoginAttempt { u"alice"_s, true, u"192.0.2.44"_s, u"laptop"_s } : fromHome;
            QVERIFY2(!limits.admit(owner, secondsOf(clock)), qPrintable(u"owner refused at %1 s"_s.arg(second)));
            limits.recordSuccess(owner, secondsOf(clock));
            ++ownerLogins;
        }
    }
    QCOMPARE(ownerLogins, 12);
    // Five, then 1, 2 … 256 s, then one every 300 s.
    QCOMPARE(attackerChecks, 5 + 9 + 10);
}

void TestLoginLimits::floodingTheTablesForgetsNoAccount()
{
    // Strangers fill every table they can with keys that are held back; an existing account's
    // count is not in such a table, so it cannot be pushed out or refused a place.
    LoginLimits limits({ .maximumKeys = 100 });
    const double now = 1'800'000'000;
    for (int name = 0; name < 1000; ++name) {
        for (int i = 0; i < 5; ++i)
            [[maybe_unused]] const auto ignored = limits.admit(
                { u"junk%1"_s.arg(name), false, u"10.0.%1.%2"_s.arg(name / 256).arg(name % 256), {} }, now);
    }
    int checks = 0;
    for (int i = 0; i < 100; ++i) {
        if (!limits.admit({ u"alice"_s, true, u"10.1.%1.%2"_s.arg(i / 256).arg(i % 256), {} }, now))
            ++checks;
    }
    QCOMPARE(checks, 5);
}

QTEST_APPLESS_MAIN(TestLoginLimits)
#include "tst_loginlimits.moc"
