#pragma once

#include <QtGlobal>

typedef struct ssl_st SSL;

/// How a WebSocketStream's bytes reach its peer: the TCP descriptor itself, or TLS on it (an
/// OpenSSL `SSL*` whose handshake is done, taken over from the TlsRelay). Every line of frame
/// code above it serves both. A small value, not an interface: an idle connection pays for
/// one pointer more.
///
/// OpenSSL on a non-blocking socket may need the other direction to go on (a write that
/// waits for a read, a read that waits for a write); each call says which readiness to wait
/// for. The context's modes (partial writes, a moving write buffer) let the caller retry a
/// write with more bytes behind the same ones.
class StreamTransport {
    Q_DISABLE_COPY(StreamTransport)

public:
    enum class Status {
        Transferred, ///< `size` bytes moved
        WaitReadable, ///< try again when the descriptor is readable
        WaitWritable, ///< try again when the descriptor is writable
        Ended, ///< the end of the stream (FIN, close_notify) or a broken connection
    };
    struct Io {
        Status status = Status::Ended;
        qsizetype size = 0;
    };

    /// Takes the descriptor, and `ssl` when given (its handshake done, its BIO on `descriptor`).
    explicit StreamTransport(int descriptor, SSL *ssl = nullptr);
    StreamTransport(StreamTransport &&other) noexcept;
    StreamTransport &operator=(StreamTransport &&) = delete;
    ~StreamTransport();

    int descriptor() const { return m_descriptor; }
    bool isTls() const { return m_ssl != nullptr; }
    bool isOpen() const { return m_descriptor >= 0; }

    Io read(char *into, qsizetype capacity);
    Io write(const char *from, qsizetype size);
    /// Decrypted bytes OpenSSL holds that no readiness of the descriptor will announce.
    bool hasBufferedInput() const;
    /// Our side is done: close_notify (over TLS), then the FIN.
    void shutdownWrite();
    /// Frees the TLS state and closes the descriptor.
    void close();
    /// Closes with a reset: what waits unsent (for a client that stopped reading) is dropped by
    /// the kernel at once, instead of being held for minutes behind a FIN.
    void reset();

private:
    int m_descriptor;
    SSL *m_ssl;
};
