#include "http/HttpDispatcher.h"

#include <QCoreApplication>
#include <QEvent>
#include <QJsonDocument>
#include <QJsonObject>

using namespace Qt::StringLiterals;

namespace {
HttpResponse unavailable()
{
    HttpResponse response;
    response.status = 503;
    response.headers = { { "Content-Type", "application/json" }, { "Retry-After", "1" } };
    response.body = QJsonDocument(QJsonObject { { "error"_L1, "unavailable"_L1 },
                                                { "error_description"_L1, "the server is starting"_L1 } })
                        .toJson(QJsonDocument::Compact);
    return response;
}
} // namespace

/// Receives the requests on the handler's thread as events, which unlike queued calls can be
/// posted with a priority.
class HttpDispatcher::Inbox final : public QObject {
public:
    class Call final : public QEvent {
    public:
        explicit Call(std::function<void()> function)
            : QEvent(eventType())
            , run(std::move(function))
        {
        }
        static QEvent::Type eventType()
        {
            static const auto type = QEvent::Type(QEvent::registerEventType());
            return type;
        }
        std::function<void()> run;
    };

    explicit Inbox(std::shared_ptr<State> state)
        : m_state(std::move(state))
    {
    }

    bool event(QEvent *event) override
    {
        if (event->type() != Call::eventType())
            return QObject::event(event);
        runUrgent();
        static_cast<Call *>(event)->run();
        return true;
    }

private:
    void runUrgent()
    {
        while (true) {
            std::function<void()> call;
            {
                const std::lock_guard lock(m_state->mutex);
                if (m_state->urgentCalls.empty())
                    return;
                call = std::move(m_state->urgentCalls.front());
                m_state->urgentCalls.pop_front();
                m_state->urgentWaiting = !m_state->urgentCalls.empty();
            }
            call();
        }
    }

    std::shared_ptr<State> m_state;
};

HttpDispatcher::HttpDispatcher()
    : m_state(std::make_shared<State>())
{
}

HttpDispatcher::~HttpDispatcher()
{
    stop();
}

void HttpDispatcher::serve(QObject *context, Handler handler, Urgency urgent)
{
    // On the context's thread, but not its child: the dispatcher owns it until stop().
    auto *inbox = new Inbox(m_state);
    inbox->moveToThread(context->thread());
    const std::lock_guard lock(m_state->mutex);
    m_state->inbox = inbox;
    m_state->handler = std::move(handler);
    m_state->urgent = std::move(urgent);
}

void HttpDispatcher::stop()
{
    Inbox *inbox = nullptr;
    {
        const std::lock_guard lock(m_state->mutex);
        m_state->stopped = true;
        inbox = std::exchange(m_state->inbox, nullptr);
        m_state->handler = {};
        m_state->urgent = {};
        m_state->urgentCalls.clear();
        m_state->urgentWaiting = false;
    }
    // On the handler's thread, where stop() runs: requests still posted to it go with it.
    delete inbox;
}

bool HttpDispatcher::hasUrgentWaiting() const
{
    return m_state->urgentWaiting.load(std::memory_order_relaxed);
}

void HttpDispatcher::dispatch(HttpRequest request, QObject *requester,
                              std::function<void(const HttpResponse &)> deliver)
{
    const auto answer = [requester, deliver](HttpResponse response) {
        QMetaObject::invokeMethod(
            requester, [deliver, response = std::move(response)] { deliver(response); }, Qt::QueuedConnection);
    };
    const std::lock_guard lock(m_state->mutex);
    if (m_state->stopped)
        return; // the I/O threads are about to end, and the requester with them
    if (!m_state->handler)
        return answer(unavailable());
    std::optional<Handler> urgent = m_state->urgent ? m_state->urgent(request) : std::nullopt;
    const bool isUrgent = urgent.has_value();
    // The handler is looked up again on its own thread: stop() may have run in between.
    std::function<void()> serve = [state = m_state, request = std::move(request), answer, urgent = std::move(urgent)] {
        Handler handler;
        {
            const std::lock_guard locked(state->mutex);
            handler = state->handler;
        }
        if (!handler)
            return;
        if (urgent)
            handler = *urgent;
        // An answer that arrives after stop() has nobody left to go to.
        handler(request, [state, answer](HttpResponse response) {
            {
                const std::lock_guard locked(state->mutex);
                if (state->stopped)
                    return;
            }
            answer(std::move(response));
        });
    };
    if (isUrgent) {
        // Run before the next request; the event only wakes an idle thread (it finds the
        // queue empty when another request's event ran it first).
        m_state->urgentCalls.push_back(std::move(serve));
        m_state->urgentWaiting = true;
        QCoreApplication::postEvent(m_state->inbox, new Inbox::Call([] {}), Qt::HighEventPriority);
        return;
    }
    QCoreApplication::postEvent(m_state->inbox, new Inbox::Call(std::move(serve)));
}
