#include "auth/StrictJson.h"

#include <QTest>

class TestStrictJson final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void parse_data();
    void parse();
};

void TestStrictJson::parse_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<int>("error"); // -1: accepted

    QTest::newRow("plain object accepted") << QByteArray(R"({"a":1,"b":"x"})") << -1;
    QTest::newRow("same name in sibling objects accepted") << QByteArray(R"({"a":{"x":1},"b":{"x":2}})") << -1;
    QTest::newRow("name-like string value accepted") << QByteArray(R"({"a":"b","c":"a"})") << -1;
    QTest::newRow("escaped quote inside a name accepted") << QByteArray(R"({"a\"":1,"a":2})") << -1;
    QTest::newRow("array of strings is not names") << QByteArray(R"({"a":["a","a"]})") << -1;
    QTest::newRow("white space around colon accepted") << QByteArray("{\"a\" :\n 1}") << -1;

    QTest::newRow("duplicate member refused")
        << QByteArray(R"({"alg":"HS256","alg":"none"})") << int(JsonError::DuplicateMember);
    QTest::newRow("duplicate hidden by an escape refused")
        << QByteArray(R"({"alg":1,"\u0061lg":2})") << int(JsonError::DuplicateMember);
    QTest::newRow("nested duplicate refused")
        << QByteArray(R"({"a":{"x":1,"x":2}})") << int(JsonError::DuplicateMember);
    QTest::newRow("array is not an object") << QByteArray("[1,2]") << int(JsonError::NotAnObject);
    QTest::newRow("bare string refused") << QByteArray("\"x\"") << int(JsonError::NotJson);
    QTest::newRow("truncated text refused") << QByteArray(R"({"a":)") << int(JsonError::NotJson);
    QTest::newRow("trailing garbage refused") << QByteArray(R"({"a":1}x)") << int(JsonError::NotJson);
    QTest::newRow("empty text refused") << QByteArray("") << int(JsonError::NotJson);
    QTest::newRow("deep nesting refused")
        << QByteArray("{\"a\":") + QByteArray(40, '[') + QByteArray(40, ']') + "}" << int(JsonError::TooDeep);
}

void TestStrictJson::parse()
{
    QFETCH(QByteArray, text);
    QFETCH(int, error);
    const auto result = StrictJson::parseObject(text);
    QCOMPARE(result.ok(), error < 0);
    if (error >= 0)
        QCOMPARE(int(result.error()), error);
}

QTEST_APPLESS_MAIN(TestStrictJson)
#include "tst_strictjson.moc"
