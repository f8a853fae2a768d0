#include "http/HttpResponder.h"

#include <QJsonDocument>
#include <QLoggingCategory>

Q_DECLARE_LOGGING_CATEGORY(lcHttp)

namespace {
QByteArray reasonPhrase(int status)
{
    // RFC 9110 §15; the phrase is informative only.
    switch (status) {
    case 100:
        return "Continue";
    case 200:
        return "OK";
    case 204:
        return "No Content";
    case 302:
        return "Found";
    case 303:
        return "See Other";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 413:
        return "Content Too Large";
    case 415:
        return "Unsupported Media Type";
    case 417:
        return "Expectation Failed";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 503:
        return "Service Unavailable";
    default:
        return "Status";
    }
}
} // namespace

QByteArray HttpResponse::serialized(bool close, bool withBody) const
{
    QByteArray bytes = "HTTP/1.1 " + QByteArray::number(status) + ' ' + reasonPhrase(status) + "\r\n";
    for (const auto &[name, value] : headers)
        bytes += name + ": " + value + "\r\n";
    bytes += "Content-Length: " + QByteArray::number(body.size()) + "\r\n";
    if (close)
        bytes += "Connection: close\r\n";
    bytes += "\r\n";
    return withBody ? bytes + body : bytes;
}

HttpResponder::HttpResponder(Reply reply)
    : m_reply(std::move(reply))
{
}

HttpResponder::~HttpResponder()
{
    if (!m_reply)
        return;
    if (!m_written) {
        qCWarning(lcHttp) << "a route wrote no answer: 500";
        m_response = HttpResponse { 500,
                                    { { "Content-Type", "application/json" } },
                                    R"({"error":"server_error","error_description":"the request was not answered"})" };
    }
    m_reply(std::move(m_response));
}

std::shared_ptr<HttpResponder> HttpResponder::defer()
{
    return std::make_shared<HttpResponder>(std::exchange(m_reply, {}));
}

bool HttpResponder::begin(StatusCode status)
{
    if (m_written) {
        qCWarning(lcHttp) << "a route answered twice; the second answer is dropped";
        return false;
    }
    m_written = true;
    m_response.status = int(status);
    return true;
}

void HttpResponder::write(const QJsonDocument &document, StatusCode status)
{
    write(document, {}, status);
}

void HttpResponder::write(const QJsonDocument &document, const HeaderList &headers, StatusCode status)
{
    HeaderList all { { "Content-Type", "application/json" } };
    all += headers;
    write(document.toJson(QJsonDocument::Compact), all, status);
}

void HttpResponder::write(const QByteArray &data, const QByteArray &mimeType, StatusCode status)
{
    write(data, HeaderList { { "Content-Type", mimeType } }, status);
}

void HttpResponder::write(const QByteArray &data, const HeaderList &headers, StatusCode status)
{
    if (!begin(status))
        return;
    m_response.headers = headers;
    m_response.body = data;
}

void HttpResponder::write(StatusCode status)
{
    begin(status);
}
