#pragma once

#include "ws/HttpHead.h"

#include <QByteArray>
#include <QHostAddress>
#include <QUrl>

/// One complete HTTP request as the gate read it: head, body (de-chunked) and peer. A value:
/// it travels from an I/O thread to the HTTP API's thread.
class HttpRequest {
public:
    enum class Method { Get, Head, Post, Put, Delete, Patch, Options, Other };

    HttpRequest() = default;
    /// `remote`: the client (behind a trusted proxy, the one it names); `secure`: the request
    /// reached us over TLS, or reached the trusted proxy over HTTPS.
    HttpRequest(HttpHead head, QByteArray body, QHostAddress remote, bool secure = false);

    Method method() const;
    /// The field's value; several fields of one name are joined with ", ".
    QByteArray value(QByteArrayView name) const { return m_head.value(name); }
    const HttpHead &head() const { return m_head; }
    /// Path and query, `//x/metrics` being the path "//x/metrics", never a host. Its path()
    /// is percent-decoded; path() below is not.
    const QUrl &url() const { return m_url; }
    /// The path exactly as sent, still percent-encoded: what routes are matched on.
    QString path() const { return QString::fromLatin1(m_head.path()); }
    /// The same request as a GET (HEAD is answered as GET, without the body).
    HttpRequest asGet() const;
    const QByteArray &body() const { return m_body; }
    const QHostAddress &remoteAddress() const { return m_remote; }
    /// Cookies are Secure and __Host- prefixed, and HSTS is sent, for such a request.
    bool isSecure() const { return m_secure; }

private:
    HttpHead m_head;
    QByteArray m_body;
    QHostAddress m_remote;
    QUrl m_url;
    bool m_secure = false;
};
