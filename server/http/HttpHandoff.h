#pragma once

#include <QTcpServer>

/// A QTcpServer that never listens: the I/O threads hand it the sockets of plain HTTP
/// requests, unread, and the HTTP API (bound to it) serves them on this object's thread.
class HttpHandoff final : public QTcpServer {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(HttpHandoff)

public:
    explicit HttpHandoff(QObject *parent = nullptr);

    /// From any thread: the connected socket is adopted on this object's thread.
    void adopt(qintptr socket);
};
