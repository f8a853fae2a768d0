#include "auth/StrictJson.h"

#include <QTest>

namespace {
/// An object whose member holds `levels` nested arrays: `levels + 1` levels in all.
QByteArray nested(int levels)
{
    return "{\"a\":" + QByteArray(levels, '[') + QByteArray(levels, ']') + "}";
}

/// `levels` objects, each the member "a" of the one around it.
QByteArray nestedObjects(int levels)
{
    return QByteArray(levels, '{').replace("{", "{\"a\":") + "1" + QByteArray(levels, '}');
}
} // namespace

class TestStrictJson final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void parse_data();
    void parse();
    void memberText_data();
    void memberText();
    void refusalsNameTheRule();
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
    QTest::newRow("integer beyond 64 bits accepted") << QByteArray(R"({"a":12345678901234567890})") << -1;
    QTest::newRow("negative integer beyond 64 bits accepted") << QByteArray(R"({"a":-12345678901234567890})") << -1;
    QTest::newRow("every number form of RFC 8259 accepted")
        << QByteArray(R"({"a":[0,-0,1.5,-0.25e-3,1E+2,2e2,10.01E-1]})") << -1;
    QTest::newRow("largest double accepted") << QByteArray(R"({"a":1.7976931348623157e308})") << -1;
    QTest::newRow("every escape of RFC 8259 accepted")
        << QByteArray(R"({"a":"\" \\ \/ \b \f \n \r \t \u00e9 \uD83D\uDE00"})") << -1;
    QTest::newRow("DEL needs no escape") << QByteArray("{\"a\":\"\x7f\"}") << -1;
    QTest::newRow("32 levels exactly accepted") << nested(31) << -1;
    QTest::newRow("32 levels of objects accepted") << nestedObjects(32) << -1;

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
    QTest::newRow("33 levels refused as too deep") << nested(32) << int(JsonError::TooDeep);
    QTest::newRow("2000 levels refused as too deep, not as not JSON") << nested(2000) << int(JsonError::TooDeep);
    QTest::newRow("33 levels of objects refused as too deep") << nestedObjects(33) << int(JsonError::TooDeep);
    // Numbers a double cannot hold: Qt refuses them, and we do not relay what we cannot read.
    QTest::newRow("1e400 refused") << QByteArray(R"({"a":1e400})") << int(JsonError::NotJson);
    QTest::newRow("-1e400 refused") << QByteArray(R"({"a":-1e400})") << int(JsonError::NotJson);
    QTest::newRow("1e-400 refused") << QByteArray(R"({"a":1e-400})") << int(JsonError::NotJson);
    // What QJsonDocument reads but RFC 8259 does not allow: refused, since texts are relayed as written.
    QTest::newRow("fraction without digits refused") << QByteArray(R"({"a":1.})") << int(JsonError::NotJson);
    QTest::newRow("fraction without integer part refused") << QByteArray(R"({"a":.5})") << int(JsonError::NotJson);
    QTest::newRow("negative fraction without integer part refused")
        << QByteArray(R"({"a":-.5})") << int(JsonError::NotJson);
    QTest::newRow("exponent after a bare point refused") << QByteArray(R"({"a":1.e5})") << int(JsonError::NotJson);
    QTest::newRow("raw control character in a string refused")
        << QByteArray("{\"a\":\"x\x01y\"}") << int(JsonError::NotJson);
    QTest::newRow("raw tab in a string refused") << QByteArray("{\"a\":\"x\ty\"}") << int(JsonError::NotJson);
    QTest::newRow("raw line feed in a member name refused") << QByteArray("{\"a\nb\":1}") << int(JsonError::NotJson);
    QTest::newRow("unknown escape refused") << QByteArray(R"({"a":"\x41"})") << int(JsonError::NotJson);
    QTest::newRow("escaped apostrophe refused") << QByteArray(R"({"a":"\'"})") << int(JsonError::NotJson);
    QTest::newRow("unknown escape in a member name refused") << QByteArray(R"({"\q":1})") << int(JsonError::NotJson);
    QTest::newRow("short unicode escape refused") << QByteArray(R"({"a":"\u12zz"})") << int(JsonError::NotJson);
    // I-JSON (RFC 7493 §2.1): a lone surrogate is no character; Qt writes it back as U+FFFD,
    // so "\udc00" and "\udc01" would become one name (found by fuzz_strictjson).
    QTest::newRow("a name that begins with U+FEFF refused")
        << QByteArray(R"({"\ufeffa":1})") << int(JsonError::NotJson);
    QTest::newRow("a name that begins with a raw U+FEFF refused") << QByteArray("{\"\xef\xbb\xbf"
                                                                                "a\":1}")
                                                                  << int(JsonError::NotJson);
    QTest::newRow("U+FEFF in a value refused") << QByteArray(R"({"a":"\ufeffb"})") << int(JsonError::NotJson);
    QTest::newRow("a raw U+FEFF in a value refused")
        << QByteArray("{\"a\":\"\xef\xbb\xbf\\ud832\\ude00\"}") << int(JsonError::NotJson);
    QTest::newRow("lone low surrogate refused") << QByteArray(R"({"\udc00":1})") << int(JsonError::NotJson);
    QTest::newRow("lone high surrogate refused") << QByteArray(R"({"a":"\ud800"})") << int(JsonError::NotJson);
    QTest::newRow("high surrogate then a letter refused")
        << QByteArray(R"({"a":"\ud800x"})") << int(JsonError::NotJson);
    QTest::newRow("two high surrogates refused") << QByteArray(R"({"a":"\ud800\ud800"})") << int(JsonError::NotJson);
    QTest::newRow("surrogates in the wrong order refused")
        << QByteArray(R"({"a":"\udc00\ud800"})") << int(JsonError::NotJson);
    QTest::newRow("number after a bare minus refused") << QByteArray(R"({"a":-})") << int(JsonError::NotJson);
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

void TestStrictJson::memberText_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<QByteArray>("member"); // as written; empty: none

    QTest::newRow("an integer beyond 64 bits keeps every digit")
        << QByteArray(R"({"type":"sync","payload":12345678901234567890})") << QByteArray("12345678901234567890");
    QTest::newRow("a negative integer beyond 64 bits keeps every digit")
        << QByteArray(R"({"payload":-12345678901234567890,"type":"sync"})") << QByteArray("-12345678901234567890");
    QTest::newRow("an object is taken whole, its white space kept")
        << QByteArray(R"({"payload":{ "a" : [1, 2] } , "b":1})") << QByteArray(R"({ "a" : [1, 2] })");
    QTest::newRow("white space around the value is left out")
        << QByteArray("{\"payload\" :\n \"x\"\t }") << QByteArray(R"("x")");
    QTest::newRow("a string keeps its escapes, quotes, braces and commas")
        << QByteArray(R"({"payload":"caf\u00e9 \"}\" ,]","b":2})") << QByteArray(R"("caf\u00e9 \"}\" ,]")");
    QTest::newRow("a name written with an escape is the same name")
        << QByteArray(R"({"p\u0061yload":[1,[2]]})") << QByteArray("[1,[2]]");
    QTest::newRow("null is a value") << QByteArray(R"({"payload":null})") << QByteArray("null");
    QTest::newRow("a nested member of the same name is not the member")
        << QByteArray(R"({"a":{"payload":1},"payload":2})") << QByteArray("2");
    QTest::newRow("a string value that reads like the name is not the member")
        << QByteArray(R"({"a":"payload","b":["payload",":"],"payload":3})") << QByteArray("3");
    const QByteArray deep = QByteArray(31, '[') + QByteArray(31, ']');
    QTest::newRow("31 levels inside the outer object are taken whole") << "{\"payload\":" + deep + "}" << deep;

    QTest::newRow("an absent member is nothing") << QByteArray(R"({"type":"sync"})") << QByteArray();
    QTest::newRow("a member found only deeper is nothing") << QByteArray(R"({"a":{"payload":1}})") << QByteArray();
    QTest::newRow("a name that differs in case is nothing") << QByteArray(R"({"Payload":1})") << QByteArray();
}

void TestStrictJson::memberText()
{
    QFETCH(QByteArray, text);
    QFETCH(QByteArray, member);
    QVERIFY(StrictJson::parseObject(text).ok());
    QCOMPARE(StrictJson::memberText(text, u"payload").toByteArray(), member);
}

void TestStrictJson::refusalsNameTheRule()
{
    QVERIFY(StrictJson::errorString(JsonError::TooDeep).contains(u"deeper than 32 levels"));
    QVERIFY(StrictJson::errorString(JsonError::DuplicateMember).contains(u"twice"));
    QVERIFY(StrictJson::errorString(JsonError::NotJson).contains(u"not JSON"));
    QVERIFY(StrictJson::errorString(JsonError::NotAnObject).contains(u"not one object"));
    QCOMPARE(StrictJson::maximumDepth, 32);
}

QTEST_APPLESS_MAIN(TestStrictJson)
#include "tst_strictjson.moc"
