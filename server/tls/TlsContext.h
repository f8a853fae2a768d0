#pragma once

#include "Result.h"
#include "tls/TlsCertificate.h"

#include <memory>

typedef struct ssl_ctx_st SSL_CTX;

/// The one OpenSSL server context every TLS connection of the port is made from: TLS 1.2 and
/// 1.3 only, forward-secret AEAD ciphers, ALPN `http/1.1` (a client that offers ALPN without it
/// is refused with `no_application_protocol`), session tickets, renegotiation off, and buffers
/// released while a connection is idle (SSL_MODE_RELEASE_BUFFERS: 14 KiB an idle connection
/// instead of 46). Immutable once built, so shared by every I/O thread; a certificate reload
/// builds a new one and swaps it in, and connections keep the context they started with.
class TlsContext {
public:
    static Result<std::shared_ptr<const TlsContext>, QString> create(const TlsCertificate &certificate);
    ~TlsContext();
    Q_DISABLE_COPY_MOVE(TlsContext)

    SSL_CTX *handle() const { return m_context; }
    const TlsCertificate &certificate() const { return m_certificate; }

private:
    TlsContext(SSL_CTX *context, TlsCertificate certificate);
    SSL_CTX *m_context;
    TlsCertificate m_certificate;
};
