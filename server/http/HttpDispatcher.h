#pragma once

#include "http/HttpRequest.h"
#include "http/HttpResponder.h"

#include <QObject>

#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>

/// Carries complete requests from the I/O threads to the HTTP API's thread and each answer
/// back to the I/O object that asked, as values. Before serve() and after stop() requests get
/// a 503 (or nothing, once the server is going away), so the gates can start before the API
/// and outlive it. Thread-safe.
class HttpDispatcher final {
public:
    /// Runs on the handler's thread; calls `reply` exactly once, there or later, on that thread.
    using Reply = std::function<void(HttpResponse)>;
    using Handler = std::function<void(const HttpRequest &, Reply)>;
    /// Asked on the I/O thread that read a request, under the dispatcher's lock: whether it
    /// goes ahead of the others waiting for the handler's thread, and the handler that serves
    /// it then. It may act there first: an admin's revocation takes effect at once, and the
    /// handler it returns finishes it with what it did.
    using Urgency = std::function<std::optional<Handler>(const HttpRequest &)>;

    HttpDispatcher();
    ~HttpDispatcher();
    Q_DISABLE_COPY_MOVE(HttpDispatcher)

    /// From now on requests run `handler` on `context`'s thread. The urgent ones go into a
    /// queue of their own that is run before every request: under load they wait for at most
    /// the one request being served, not for all those queued (Qt appends an event posted
    /// while the thread works through its queue after that queue, whatever its priority).
    void serve(QObject *context, Handler handler, Urgency urgent = {});
    /// No request reaches the handler any more, not even one already on its way; answers
    /// still to come are dropped. Call it on the handler's thread, before the I/O threads go.
    void stop();

    /// Whether an urgent request is waiting for the handler's thread: long work there (a group
    /// of refresh rotations) asks this between its steps and stops early to let it run.
    bool hasUrgentWaiting() const;

    /// From an I/O thread: `deliver` runs on `requester`'s thread with the answer. The
    /// requester must live until then, or until its thread ends after stop().
    void dispatch(HttpRequest request, QObject *requester, std::function<void(const HttpResponse &)> deliver);

private:
    class Inbox;
    struct State {
        std::mutex mutex;
        Inbox *inbox = nullptr; ///< on the context's thread, owned here
        Handler handler;
        Urgency urgent;
        std::deque<std::function<void()>> urgentCalls; ///< run first, on the handler's thread
        std::atomic<bool> urgentWaiting { false }; ///< urgentCalls is not empty (read without the lock)
        bool stopped = false;
    };
    std::shared_ptr<State> m_state;
};
