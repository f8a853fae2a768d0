// The dispatcher between the I/O threads and the routes: every request is answered once, on
// the requester's thread; an urgent one (an admin's revocation) arriving while the routes'
// thread works through a backlog is served next, not after the backlog, by the handler its
// urgency chose on the requester's thread (where a revocation takes effect at once).
#include "http/HttpDispatcher.h"
#include "ws/HttpHeadParser.h"

#include <QTest>
#include <QThread>

using namespace Qt::StringLiterals;

class TestHttpDispatcher final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void everyRequestIsAnsweredOnce();
    void urgentRequestPassesTheBacklog();
    void urgencyActsOnTheRequestersThread();
    void nothingIsServedAfterStop();
};

namespace {
HttpRequest requestFor(const QByteArray &method, const QByteArray &path)
{
    const QByteArray text = method + ' ' + path + " HTTP/1.1\r\nHost: a\r\n\r\n";
    const auto parsed = HttpHeadParser::parse(text);
    return HttpRequest(parsed.head, {}, QHostAddress::LocalHost);
}

/// POSTs are urgent, served by the routes' own handler.
HttpDispatcher::Urgency postsAreUrgent(const HttpDispatcher::Handler &handler)
{
    return [handler](const HttpRequest &request) -> std::optional<HttpDispatcher::Handler> {
        if (request.method() != HttpRequest::Method::Post)
            return std::nullopt;
        return handler;
    };
}
} // namespace

void TestHttpDispatcher::everyRequestIsAnsweredOnce()
{
    HttpDispatcher dispatcher;
    QObject routes;
    const HttpDispatcher::Handler echo = [](const HttpRequest &request, HttpDispatcher::Reply reply) {
        reply(HttpResponse { 200, {}, request.head().target });
    };
    dispatcher.serve(&routes, echo, postsAreUrgent(echo));
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
    const HttpDispatcher::Handler handler = [&](const HttpRequest &request, HttpDispatcher::Reply reply) {
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
    };
    dispatcher.serve(&routes, handler, postsAreUrgent(handler));
    for (int i = 0; i < 20; ++i)
        dispatcher.dispatch(requestFor("GET", "/n" + QByteArray::number(i)), this, [](const HttpResponse &) {});
    QTRY_COMPARE(served.size(), 21);
    QCOMPARE(served.value(0), "/n0");
    QCOMPARE(served.value(1), "/admin/revoke");
    QCOMPARE(served.value(2), "/n1");
}

void TestHttpDispatcher::urgencyActsOnTheRequestersThread()
{
    // The routes on a thread of their own, busy with a request: the urgency runs on the
    // dispatching thread at once, and its handler (not the routes' own) serves the request
    // once the routes' thread is free.
    QThread routesThread;
    routesThread.start();
    QObject routes;
    routes.moveToThread(&routesThread);
    std::atomic<bool> busy = false;
    std::atomic<bool> release = false;
    std::atomic<QThread *> urgencyThread = nullptr;
    std::atomic<QThread *> handlerThread = nullptr;
    QByteArray servedBy;
    HttpDispatcher dispatcher;
    dispatcher.serve(
        &routes,
        [&](const HttpRequest &, HttpDispatcher::Reply reply) {
            busy = true;
            while (!release)
                QThread::msleep(1);
            reply(HttpResponse { 200, {}, "routes" });
        },
        [&](const HttpRequest &request) -> std::optional<HttpDispatcher::Handler> {
            if (request.method() != HttpRequest::Method::Post)
                return std::nullopt;
            urgencyThread = QThread::currentThread();
            return [&](const HttpRequest &, HttpDispatcher::Reply reply) {
                handlerThread = QThread::currentThread();
                reply(HttpResponse { 200, {}, "urgent" });
            };
        });
    dispatcher.dispatch(requestFor("GET", "/slow"), this, [](const HttpResponse &) {});
    QTRY_VERIFY(busy.load()); // the routes' thread is inside /slow
    dispatcher.dispatch(requestFor("POST", "/admin/revoke"), this,
                        [&](const HttpResponse &response) { servedBy = response.body; });
    QCOMPARE(urgencyThread.load(), QThread::currentThread());
    QCOMPARE(handlerThread.load(), nullptr);
    release = true;
    QTRY_COMPARE(servedBy, "urgent");
    QCOMPARE(handlerThread.load(), &routesThread);
    QMetaObject::invokeMethod(
        &routes, [&] { dispatcher.stop(); }, Qt::BlockingQueuedConnection);
    routesThread.quit();
    routesThread.wait();
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
