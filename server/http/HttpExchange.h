#pragma once

#include "http/ChunkedBodyDecoder.h"
#include "http/HttpFraming.h"
#include "http/HttpResponder.h"
#include "ws/HttpHead.h"

#include <QDeadlineTimer>
#include <QObject>
#include <QTimer>

#include <chrono>
#include <functional>
#include <optional>

class HttpDispatcher;
class QSocketNotifier;

/// One request and its answer on an I/O thread, after the gate has read and accepted the
/// head: it takes the head's bytes, reads the body by its framing within a deadline (nothing
/// beyond it: a pipelined request stays in the kernel for the gate), hands the request to
/// the HTTP API's thread, writes the answer, and then either gives the socket back to the
/// gate for the next request or closes it gracefully, reading and dropping what the client
/// still sends for a while (nginx's lingering close), so that a reset does not destroy the
/// answer. The gate's refusals take the same way out. It deletes itself when done.
class HttpExchange final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(HttpExchange)

public:
    struct Setup {
        qintptr socket = -1;
        QString remote; ///< the socket's peer: its place in the HTTP census
        QString client; ///< who the request is from (a trusted proxy's client); empty: remote
        bool secure = false; ///< over TLS, or over HTTPS to a trusted proxy
        HttpHead head;
        HttpFraming::Body body;
        qint64 maximumBodySize = 0;
        std::chrono::milliseconds timeout { 10000 }; ///< for the body, and again for the answer
        bool lastOnConnection = false; ///< the connection's request limit is reached
        /// A refusal decided from the head alone: `consume` bytes (all the gate peeked at) are
        /// taken, this is written, and the connection closes without reading a body.
        QByteArray refusal; ///< the whole answer, on the wire
        qsizetype consume = 0;
        HttpDispatcher *dispatcher = nullptr;
        /// The answer is written and the connection stays open: the socket goes back.
        std::function<void(HttpExchange *, qintptr socket)> keptAlive;
        /// The socket was closed.
        std::function<void(HttpExchange *)> closed;
    };

    explicit HttpExchange(Setup setup, QObject *parent = nullptr);
    ~HttpExchange() override;

    /// Takes the head's bytes and goes on from there.
    void start();

private:
    enum class Stage { Body, Dispatched, Writing, Lingering, Done };

    void handleReadable();
    void handleWritable();
    void handleDeadline();
    void readLengthBody();
    void readChunkedBody();
    void dispatch();
    /// Answers without the HTTP API (a bad body, a late one) and closes afterwards.
    void refuse(int status, const QString &error, const QString &description);
    void respond(const HttpResponse &response, bool close);
    void writeAndClose(const QByteArray &bytes);
    void write(const QByteArray &bytes);
    void writePending();
    void finish();
    /// No more notifications or deadline: the socket is about to leave or close.
    void stopWatching();
    void closeSocket();

    Setup m_setup;
    Stage m_stage = Stage::Body;
    QSocketNotifier *m_reader = nullptr; ///< a child
    QSocketNotifier *m_writer = nullptr; ///< a child
    QTimer m_deadline;
    QByteArray m_body;
    std::optional<ChunkedBodyDecoder> m_chunks;
    QByteArray m_output;
    bool m_closeAfter = false;
};
