#include "http/HttpRequest.h"

HttpRequest::HttpRequest(HttpHead head, QByteArray body, QHostAddress remote, bool secure)
    : m_head(std::move(head))
    , m_body(std::move(body))
    , m_remote(std::move(remote))
    , m_secure(secure)
{
    // The target is origin-form (the head parser accepts nothing else): its path is set as a
    // path, so that no part of it can be taken for an authority.
    const QByteArray path = m_head.path();
    m_url.setPath(QString::fromLatin1(path), QUrl::TolerantMode);
    if (const qsizetype question = m_head.target.indexOf('?'); question >= 0)
        m_url.setQuery(QString::fromLatin1(m_head.target.sliced(question + 1)), QUrl::TolerantMode);
}

HttpRequest::Method HttpRequest::method() const
{
    static const std::pair<QByteArrayView, Method> methods[] = {
        { "GET", Method::Get },         { "HEAD", Method::Head },     { "POST", Method::Post },
        { "PUT", Method::Put },         { "DELETE", Method::Delete }, { "PATCH", Method::Patch },
        { "OPTIONS", Method::Options },
    };
    for (const auto &[name, method] : methods) {
        if (m_head.method == name)
            return method;
    }
    return Method::Other;
}

HttpRequest HttpRequest::asGet() const
{
    HttpRequest get = *this;
    get.m_head.method = "GET";
    return get;
}
