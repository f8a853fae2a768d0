#pragma once

#include <QByteArray>
#include <QList>

#include <utility>

class QJsonDocument;

/// One HTTP response as a value: status, header fields and body. The I/O thread adds the
/// framing (Content-Length, Connection) when it writes it.
struct HttpResponse {
    int status = 500;
    QList<std::pair<QByteArray, QByteArray>> headers;
    QByteArray body;

    /// The bytes on the wire, with Content-Length and, when `close`, `Connection: close`.
    QByteArray serialized(bool close) const;
};

/// What a route writes its answer into (the names are Qt's QHttpServerResponder's, whose
/// place it took). It holds one response; the first write decides it, later ones are ignored
/// with a warning, and a route that writes nothing leaves a 500.
class HttpResponder final {
public:
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

    HttpResponder() = default;
    Q_DISABLE_COPY_MOVE(HttpResponder)

    void write(const QJsonDocument &document, StatusCode status = StatusCode::Ok);
    void write(const QJsonDocument &document, const HeaderList &headers, StatusCode status = StatusCode::Ok);
    void write(const QByteArray &data, const QByteArray &mimeType, StatusCode status = StatusCode::Ok);
    void write(const QByteArray &data, const HeaderList &headers, StatusCode status = StatusCode::Ok);
    void write(StatusCode status);

    bool written() const { return m_written; }
    HttpResponse take() { return std::exchange(m_response, {}); }

private:
    bool begin(StatusCode status);

    HttpResponse m_response;
    bool m_written = false;
};
