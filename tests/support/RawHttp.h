#pragma once

// One HTTP/1.1 exchange over a raw socket, for tests that must see every header as sent
// (Set-Cookie more than once, Location without following it).
#include <QHostAddress>
#include <QJsonDocument>
#include <QJsonObject>
#include <QList>
#include <QTcpSocket>

struct RawReply {
    int status = 0;
    QList<std::pair<QByteArray, QByteArray>> headers; ///< names in lower case, in order
    QList<QByteArray> setCookies;
    QByteArray content;
    QJsonObject body; ///< the content as a JSON object, when it is one

    QByteArray header(QByteArrayView name) const
    {
        for (const auto &[key, value] : headers) {
            if (key == name)
                return value;
        }
        return {};
    }
    /// The value a Set-Cookie gives `name` (empty when it clears it or is absent).
    QByteArray cookie(QByteArrayView name) const
    {
        const QByteArray line = setCookie(name);
        return line.isEmpty() ? QByteArray() : line.first(line.indexOf(';')).sliced(name.size() + 1);
    }
    /// The whole Set-Cookie line for `name`, attributes included.
    QByteArray setCookie(QByteArrayView name) const
    {
        for (const auto &line : setCookies) {
            if (line.startsWith(QByteArray(name.toByteArray() + '=')))
                return line;
        }
        return {};
    }
};

/// Sends `method path` to `address` ("host:port") with extra `headers` (each ending in CRLF)
/// and reads the answer: the head, then as much content as Content-Length says. `from` is the
/// source address (any of 127.0.0.0/8 reaches a server on 127.0.0.1), else the system's choice.
inline RawReply rawHttp(const QString &address, const QByteArray &method, const QString &path,
                        const QByteArray &headers = {}, const QByteArray &body = {}, const QHostAddress &from = {})
{
    QTcpSocket socket;
    if (!from.isNull() && !socket.bind(from, 0))
        return {};
    socket.connectToHost(address.section(u':', 0, 0), address.section(u':', 1).toUShort());
    if (!socket.waitForConnected(5000))
        return {};
    socket.write(method + ' ' + path.toLatin1() + " HTTP/1.1\r\nHost: " + address.toLatin1()
                 + "\r\nConnection: close\r\n" + headers + "Content-Length: " + QByteArray::number(body.size())
                 + "\r\n\r\n" + body);
    QByteArray response;
    const auto complete = [&response] {
        const qsizetype end = response.indexOf("\r\n\r\n");
        if (end < 0)
            return false;
        qsizetype length = 0;
        for (const auto &line : response.first(end).split('\n')) {
            if (line.toLower().startsWith("content-length:"))
                length = line.sliced(15).trimmed().toLongLong();
        }
        return response.size() >= end + 4 + length;
    };
    while (!complete() && socket.waitForReadyRead(5000))
        response += socket.readAll();
    RawReply reply;
    const qsizetype end = response.indexOf("\r\n\r\n");
    const QList<QByteArray> lines = response.first(std::max<qsizetype>(0, end)).split('\n');
    if (lines.isEmpty() || end < 0)
        return reply;
    reply.status = lines.first().split(' ').value(1).toInt();
    for (const auto &line : lines.mid(1)) {
        const qsizetype colon = line.indexOf(':');
        if (colon <= 0)
            continue;
        const QByteArray name = line.first(colon).trimmed().toLower();
        const QByteArray value = line.sliced(colon + 1).trimmed();
        reply.headers.append({ name, value });
        if (name == "set-cookie")
            reply.setCookies.append(value);
    }
    reply.content = response.sliced(end + 4);
    reply.body = QJsonDocument::fromJson(reply.content).object();
    return reply;
}
