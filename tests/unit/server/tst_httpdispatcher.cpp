// The dispatcher between the I/O threads and the routes: every request is answered once, on
// the requester's thread; an urgent one (an admin's revocation) arriving while the routes'
// thread works through a backlog is served next, not after the backlog.
#include "http/HttpDispatcher.h"
#include "ws/HttpHeadParser.h"

#include <QTest>

using namespace Qt::StringLiterals;

class TestHttpDispatcher final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void everyRequestIsAnsweredOnce();
    void urgentRequestPassesTheBacklog();
    void nothingIsServedAfterStop();
};

namespace {
HttpRequest requestFor(const QByteArray &method, const QByteArray &path)
{
    const QByteArray text = method + ' ' + path + " HTTP/1.1\r\nHost: a\r\n\r\n";
    const auto parsed = HttpHeadParser::parse(text);
    return HttpRequest(parsed.head, {}, QHostAddress::LocalHost);
}

bool isUrgent(const HttpRequest &request)
{
    return request.method() == HttpRequest::Method::Post;
}
} // namespace

void TestHttpDispatcher::everyRequestIsAnsweredOnce()
{
    HttpDispatcher dispatcher;
    QObject routes;
    dispatcher.serve(
        &routes,
        [](const HttpRequest &request, HttpDispatcher::Reply reply) {
            reply(HttpResponse { 200, {}, request.head().target });
        },
        &isUrgent);
    QList<QByteArray> answers;
    for (int i = 0; i < 10; ++i)
        dispatcher.dispatch(requestFor("GET", "/r" + QByteArray::number(i)), this,
                            [&answers](const HttpResponse &response) { answers.append(response.body); });
    QTRY_COMPARE(answers.size(), 10);
    QCOMPARE(answers.first(), "/r0");
    QCOMPARE(answers.last(), "/r9");
}

void TestHttpDispatcher::urgentRequestPassesTheBacklog()
{
    HttpDispatcher dispatcher;
    QObject routes;
    QList<QByteArray> served;
    dispatcher.serve(
        &routes,
        [&](const HttpRequest &request, HttpDispatcher::Reply reply) {
            served.append(request.head().target);
            // The revocation arrives while the first of 20 queued requests is being served;
            // long work there can see it waiting (and stop early for it).
            if (request.head().target == "/n0") {
                QVERIFY(!dispatcher.hasUrgentWaiting());
                dispatcher.dispatch(requestFor("POST", "/admin/revoke"), this, [](const HttpResponse &) {});
                QVERIFY(dispatcher.hasUrgentWaiting());
            }
            if (request.head().target == "/admin/revoke")
                QVERIFY(!dispatcher.hasUrgentWaiting()); // taken from the queue
            reply(HttpResponse { 200, {}, {} });
        },
        &isUrgent);
    for (int i = 0; i < 20; ++i)
        dispatcher.dispatch(requestFor("GET", "/n" + QByteArray::number(i)), this, [](const HttpResponse &) {});
    QTRY_COMPARE(served.size(), 21);
    QCOMPARE(served.value(0), "/n0");
    QCOMPARE(served.value(1), "/admin/revoke");
    QCOMPARE(served.value(2), "/n1");
}

void TestHttpDispatcher::nothingIsServedAfterStop()
{
    HttpDispatcher dispatcher;
    QObject routes;
    int served = 0;
    int answered = 0;
    dispatcher.serve(&routes, [&](const HttpRequest &, HttpDispatcher::Reply reply) {
        ++served;
        reply(HttpResponse { 200, {}, {} });
    });
    dispatcher.dispatch(requestFor("GET", "/a"), this, [&](const HttpResponse &) { ++answered; });
    dispatcher.dispatch(requestFor("POST", "/b"), this, [&](const HttpResponse &) { ++answered; });
    dispatcher.stop(); // before the routes' thread got to them
    QTest::qWait(100);
    QCOMPARE(served, 0);
    QCOMPARE(answered, 0);
}

QTEST_GUILESS_MAIN(TestHttpDispatcher)
#include "tst_httpdispatcher.moc"
