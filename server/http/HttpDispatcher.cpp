#include "http/HttpDispatcher.h"

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

HttpDispatcher::HttpDispatcher()
    : m_state(std::make_shared<State>())
{
}

HttpDispatcher::~HttpDispatcher()
{
    stop();
}

void HttpDispatcher::serve(QObject *context, Handler handler)
{
    const std::lock_guard lock(m_state->mutex);
    m_state->context = context;
    m_state->handler = std::move(handler);
}

void HttpDispatcher::stop()
{
    const std::lock_guard lock(m_state->mutex);
    m_state->stopped = true;
    m_state->context = nullptr;
    m_state->handler = {};
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
    // The handler is looked up again on its own thread: stop() may have run in between.
    QMetaObject::invokeMethod(
        m_state->context,
        [state = m_state, request = std::move(request), answer] {
            Handler handler;
            {
                const std::lock_guard locked(state->mutex);
                handler = state->handler;
            }
            if (!handler)
                return;
            // An answer that arrives after stop() has nobody left to go to.
            handler(request, [state, answer](HttpResponse response) {
                {
                    const std::lock_guard locked(state->mutex);
                    if (state->stopped)
                        return;
                }
                answer(std::move(response));
            });
        },
        Qt::QueuedConnection);
}
