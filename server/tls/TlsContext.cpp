#include "tls/TlsContext.h"

#include "auth/OpenSslHandles.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

using namespace Qt::StringLiterals;

namespace {
/// RFC 7301 §3.2: the server picks a protocol the client offered, and refuses a client whose
/// list it cannot serve; a client that sends no ALPN is served HTTP/1.1 all the same.
int selectAlpn(SSL *, const unsigned char **out, unsigned char *outLength, const unsigned char *offered,
               unsigned int offeredLength, void *)
{
    static const unsigned char ours[] = { 8, 'h', 't', 't', 'p', '/', '1', '.', '1' };
    unsigned char *selected = nullptr;
    if (SSL_select_next_proto(&selected, outLength, ours, sizeof ours, offered, offeredLength)
        != OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    *out = selected;
    return SSL_TLSEXT_ERR_OK;
}

} // namespace

TlsContext::TlsContext(SSL_CTX *context, TlsCertificate certificate)
    : m_context(context)
    , m_certificate(std::move(certificate))
{
}

TlsContext::~TlsContext()
{
    SSL_CTX_free(m_context);
}

Result<std::shared_ptr<const TlsContext>, QString> TlsContext::create(const TlsCertificate &certificate)
{
    ERR_clear_error();
    SSL_CTX *context = SSL_CTX_new(TLS_server_method());
    if (!context)
        return fail(withOpenSslReason(u"cannot create a TLS context"_s));
    std::shared_ptr<const TlsContext> made(new TlsContext(context, certificate));
    SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION);
    // TLS 1.2: ECDHE with AES-GCM or ChaCha20 only (TLS 1.3's suites are all of that kind).
    if (SSL_CTX_set_cipher_list(context, "ECDHE+AESGCM:ECDHE+CHACHA20") != 1)
        return fail(withOpenSslReason(u"cannot set the TLS 1.2 ciphers"_s));
    // A client that half-closes TCP after its request, without close_notify, still gets the
    // answer (as on the plain port); OpenSSL 3 would otherwise make that end fatal.
    SSL_CTX_set_options(context,
                        SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION
                            | SSL_OP_IGNORE_UNEXPECTED_EOF);
    SSL_CTX_set_mode(context,
                     SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_alpn_select_cb(context, &selectAlpn, nullptr);
    SSL_CTX_set_session_cache_mode(context, SSL_SESS_CACHE_SERVER);

    // The leaf, then the rest of the file as its chain, as read.
    BIO *chain = BIO_new_mem_buf(certificate.chainPem().constData(), int(certificate.chainPem().size()));
    X509 *leaf = PEM_read_bio_X509(chain, nullptr, nullptr, nullptr);
    const bool leafUsed = leaf && SSL_CTX_use_certificate(context, leaf) == 1;
    X509_free(leaf);
    bool chained = leafUsed;
    while (chained) {
        X509 *next = PEM_read_bio_X509(chain, nullptr, nullptr, nullptr);
        if (!next)
            break;
        chained = SSL_CTX_add0_chain_cert(context, next) == 1; // takes it
        if (!chained)
            X509_free(next);
    }
    BIO_free(chain);
    ERR_clear_error(); // the end of the chain reads as an error
    if (!chained)
        return fail(withOpenSslReason(u"the certificate chain cannot be used"_s));
    BIO *keyBio = BIO_new_mem_buf(certificate.keyPem().constData(), int(certificate.keyPem().size()));
    EVP_PKEY *key = PEM_read_bio_PrivateKey(keyBio, nullptr, nullptr, nullptr);
    BIO_free(keyBio);
    const bool keyUsed = key && SSL_CTX_use_PrivateKey(context, key) == 1;
    EVP_PKEY_free(key);
    if (!keyUsed || SSL_CTX_check_private_key(context) != 1)
        return fail(withOpenSslReason(u"the private key does not match the certificate"_s));
    return made;
}
