#include "SessionPolicy.h"

#include <QJsonDocument>
#include <QTest>

using namespace Qt::StringLiterals;
using namespace std::chrono_literals;

class TestSessionPolicy final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void jsonRoundTrip();
    void hostileJsonIsRefused_data();
    void hostileJsonIsRefused();
    void defaultsAndLabSpeedHaveNoProblems();
    void reviewExplainsEachRule_data();
    void reviewExplainsEachRule();
};

namespace {
QStringList problemMembers(const SessionPolicy &policy)
{
    QStringList members;
    for (const auto &finding : policy.review()) {
        if (finding.severity == PolicyFinding::Severity::Problem)
            members.append(finding.member);
    }
    return members;
}
} // namespace

void TestSessionPolicy::jsonRoundTrip()
{
    const SessionPolicy lab = SessionPolicy::labSpeed();
    const auto parsed = SessionPolicy::fromJson(lab.toJson(), SessionPolicy {});
    QVERIFY(parsed);
    QVERIFY(*parsed == lab);
    // Members left out keep the base's value.
    const auto partial = SessionPolicy::fromJson(QJsonObject { { "access_token_ttl"_L1, 60 } }, lab);
    QVERIFY(partial);
    QCOMPARE(partial->accessTokenTtl, 60s);
    QCOMPARE(partial->sliCookieTtl, lab.sliCookieTtl);
}

void TestSessionPolicy::hostileJsonIsRefused_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QString>("mentions");
    QTest::newRow("string") << R"({"access_token_ttl":"60"})"_ba << u"access_token_ttl"_s;
    QTest::newRow("fraction") << R"({"access_token_ttl":60.5})"_ba << u"whole number"_s;
    QTest::newRow("zero") << R"({"session_cookie_ttl":0})"_ba << u"session_cookie_ttl"_s;
    QTest::newRow("negative") << R"({"sli_cookie_ttl":-5})"_ba << u"sli_cookie_ttl"_s;
    QTest::newRow("huge") << R"({"id_token_ttl":1e300})"_ba << u"id_token_ttl"_s;
    QTest::newRow("null") << R"({"refresh_token_max_ttl":null})"_ba << u"refresh_token_max_ttl"_s;
    QTest::newRow("unknown") << R"({"access_token_tll":60})"_ba << u"unknown member"_s;
    QTest::newRow("idle beyond max") << R"({"refresh_token_idle_ttl":100,"refresh_token_max_ttl":50})"_ba
                                     << u"longer than refresh_token_max_ttl"_s;
}

void TestSessionPolicy::hostileJsonIsRefused()
{
    QFETCH(QByteArray, json);
    QFETCH(QString, mentions);
    const SessionPolicy base;
    const auto parsed = SessionPolicy::fromJson(QJsonDocument::fromJson(json).object(), base);
    QVERIFY(!parsed);
    QVERIFY2(parsed.error().contains(mentions), qPrintable(parsed.error()));
}

void TestSessionPolicy::defaultsAndLabSpeedHaveNoProblems()
{
    QCOMPARE(problemMembers(SessionPolicy {}), QStringList {});
    QCOMPARE(problemMembers(SessionPolicy::labSpeed()), QStringList {});
    QVERIFY(SessionPolicy::labSpeed().accessTokenTtl <= 60s);
}

void TestSessionPolicy::reviewExplainsEachRule_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QString>("member");
    QTest::addColumn<QString>("says");
    QTest::newRow("access not beyond local session")
        << R"({"access_token_ttl":300,"session_cookie_ttl":300})"_ba << u"access_token_ttl"_s
        << u"does not outlive the local session"_s;
    QTest::newRow("sli too short") << R"({"sli_cookie_ttl":600,"session_cookie_ttl":300})"_ba << u"sli_cookie_ttl"_s
                                   << u"at least 15 min"_s;
    QTest::newRow("refresh idle shorter than access")
        << R"({"access_token_ttl":3600,"refresh_token_idle_ttl":1800})"_ba << u"refresh_token_idle_ttl"_s
        << u"dies before the access token"_s;
    QTest::newRow("session idle shorter than access")
        << R"({"access_token_ttl":3600,"session_idle_ttl":600})"_ba << u"session_idle_ttl"_s << u"still logged out"_s;
}

void TestSessionPolicy::reviewExplainsEachRule()
{
    QFETCH(QByteArray, json);
    QFETCH(QString, member);
    QFETCH(QString, says);
    const auto policy = SessionPolicy::fromJson(QJsonDocument::fromJson(json).object(), SessionPolicy {});
    QVERIFY2(policy, qPrintable(policy ? QString() : policy.error()));
    QCOMPARE(problemMembers(*policy), QStringList { member });
    const auto findings = policy->review();
    const auto it = std::find_if(findings.begin(), findings.end(),
                                 [&](const PolicyFinding &finding) { return finding.member == member; });
    QVERIFY(it != findings.end());
    QVERIFY2(it->text.contains(says), qPrintable(it->text));
}

QTEST_GUILESS_MAIN(TestSessionPolicy)
#include "tst_sessionpolicy.moc"
