#pragma once

#include <QByteArray>
#include <QList>

#include <functional>
#include <memory>
#include <utility>

class QJsonDocument;

/// One HTTP response as a value: status, header fields and body. The I/O thread adds the
/// framing (Content-Length, Connection) when it writes it.
struct HttpResponse {
    int status = 500;
    QList<std::pair<QByteArray, QByteArray>> headers;
    QByteArray body;

    /// The bytes on the wire, with Content-Length and, when `close`, `Connection: close`;
    /// without the body for a HEAD request (the length stays the GET's, RFC 9110 §8.6).
    QByteArray serialized(bool close, bool withBody = true) const;
};

/// What a route writes its answer into (the names are Qt's QHttpServerResponder's, whose
/// place it took). It holds one response; the first write decides it, later ones are ignored
/// with a warning. The answer leaves when the responder goes: a route that wrote nothing
/// leaves a 500. A route whose answer needs work elsewhere (a password hash on the worker
/// pool) defers it, and the answer leaves when the last copy of the deferred responder goes.
class HttpResponder final {
public:
    using Reply = std::function<void(HttpResponse)>;

    enum class StatusCode {
        Ok = 200,
        BadRequest = 400,
        Unauthorized = 401,
        Forbidden = 403,
        NotFound = 404,
        TooManyRequests = 429,
        InternalServerError = 500,
        ServiceUnavailable = 503,
    };
    using HeaderList = QList<std::pair<QByteArray, QByteArray>>;

    explicit HttpResponder(Reply reply = {});
    ~HttpResponder();
    Q_DISABLE_COPY_MOVE(HttpResponder)

    /// Takes over the answer: this responder sends nothing; the one returned sends what is
    /// written into it when its last copy is destroyed (on this thread).
    std::shared_ptr<HttpResponder> defer();

    void write(const QJsonDocument &document, StatusCode status = StatusCode::Ok);
    void write(const QJsonDocument &document, const HeaderList &headers, StatusCode status = StatusCode::Ok);
    void write(const QByteArray &data, const QByteArray &mimeType, StatusCode status = StatusCode::Ok);
    void write(const QByteArray &data, const HeaderList &headers, StatusCode status = StatusCode::Ok);
    void write(StatusCode status);

    bool written() const { return m_written; }

private:
    bool begin(StatusCode status);

    Reply m_reply;
    HttpResponse m_response;
    bool m_written = false;
};
