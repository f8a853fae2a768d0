// The certificate and the TLS context the port will serve: a self-signed lab certificate,
// files checked before use (a key that is not the certificate's, an expired certificate,
// garbage), the summary an operator trusts, cross-checked with the openssl command line, and
// real handshakes against an OpenSSL client over a socket pair: TLS 1.3 with ALPN http/1.1, the
// chain served, and TLS 1.1 and a client without http/1.1 refused.
#include "tls/TlsCertificate.h"
#include "tls/TlsContext.h"

#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <sys/socket.h>
#include <unistd.h>

using namespace Qt::StringLiterals;

namespace {
const QList<QHostAddress> loopback { QHostAddress(u"127.0.0.1"_s), QHostAddress(u"::1"_s) };

TlsCertificate lab(const QDateTime &notBefore = QDateTime::currentDateTimeUtc().addSecs(-60), int days = 30)
{
    return TlsCertificate::selfSigned(u"gatehouse test"_s, { u"localhost"_s, u"gatehouse.test"_s }, loopback, days,
                                      notBefore);
}

QByteArray openssl(const QStringList &arguments, const QByteArray &input)
{
    QProcess process;
    process.start(u"openssl"_s, arguments);
    process.write(input);
    process.closeWriteChannel();
    process.waitForFinished(10000);
    return process.readAllStandardOutput().trimmed();
}

/// Both ends of a handshake in this thread, over a socket pair.
struct Handshake {
    bool succeeded = false;
    QByteArray alpn;
    int version = 0;
    long verified = -1;
    int chainLength = 0;
};

Handshake shake(const TlsContext &server, const TlsCertificate &trusted, int clientMaximumVersion = 0,
                const QByteArray &clientAlpn = QByteArray("\x08http/1.1", 9))
{
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, pair) != 0)
        return {};
    SSL_CTX *clientContext = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(clientContext, SSL_VERIFY_NONE, nullptr); // the result is read below
    if (clientMaximumVersion != 0) {
        SSL_CTX_set_min_proto_version(clientContext, TLS1_VERSION);
        SSL_CTX_set_max_proto_version(clientContext, clientMaximumVersion);
        SSL_CTX_set_security_level(clientContext, 0); // let the old client try
        SSL_CTX_set_cipher_list(clientContext, "ALL:@SECLEVEL=0");
    }
    BIO *pem = BIO_new_mem_buf(trusted.chainPem().constData(), int(trusted.chainPem().size()));
    X509 *anchor = PEM_read_bio_X509(pem, nullptr, nullptr, nullptr);
    X509_STORE_add_cert(SSL_CTX_get_cert_store(clientContext), anchor);
    X509_free(anchor);
    BIO_free(pem);
    SSL *client = SSL_new(clientContext);
    SSL_set1_host(client, "localhost");
    SSL_set_alpn_protos(client, reinterpret_cast<const unsigned char *>(clientAlpn.constData()),
                        unsigned(clientAlpn.size()));
    SSL_set_fd(client, pair[0]);
    SSL_set_connect_state(client);
    SSL *serving = SSL_new(server.handle());
    SSL_set_fd(serving, pair[1]);
    SSL_set_accept_state(serving);

    Handshake result;
    bool clientDone = false;
    bool serverDone = false;
    for (int round = 0; round < 50 && !(clientDone && serverDone); ++round) {
        const auto step = [](SSL *ssl, bool &done) {
            if (done)
                return true;
            const int answer = SSL_do_handshake(ssl);
            if (answer == 1)
                return done = true;
            const int error = SSL_get_error(ssl, answer);
            return error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE;
        };
        // Each side runs until it needs the other's next flight.
        if (!step(client, clientDone) || !step(serving, serverDone))
            break;
    }
    result.succeeded = clientDone && serverDone;
    if (result.succeeded) {
        const unsigned char *alpn = nullptr;
        unsigned int alpnLength = 0;
        SSL_get0_alpn_selected(client, &alpn, &alpnLength);
        result.alpn = QByteArray(reinterpret_cast<const char *>(alpn), qsizetype(alpnLength));
        result.version = SSL_version(client);
        result.verified = SSL_get_verify_result(client);
        const auto *chain = SSL_get_peer_cert_chain(client);
        result.chainLength = chain ? sk_X509_num(chain) : 0;
    }
    ERR_clear_error();
    SSL_free(client);
    SSL_free(serving);
    SSL_CTX_free(clientContext);
    ::close(pair[0]);
    ::close(pair[1]);
    return result;
}
} // namespace

class TestTlsContext final : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void selfSignedCertificateIsForTheLab()
    {
        const TlsCertificate certificate = lab();
        const auto &summary = certificate.summary();
        QCOMPARE(summary.subject, u"CN=gatehouse test"_s);
        QCOMPARE(summary.issuer, summary.subject);
        QCOMPARE(summary.dnsNames, (QStringList { u"localhost"_s, u"gatehouse.test"_s }));
        QCOMPARE(summary.addresses, loopback);
        QCOMPARE(summary.chainLength, 1);
        QVERIFY(certificate.secondsLeft() > 29 * 86400);
        QVERIFY(certificate.keyPem().contains("-----BEGIN PRIVATE KEY-----"));
        // P-256, as browsers accept: the openssl command line reads the key as such.
        QVERIFY(openssl({ u"pkey"_s, u"-noout"_s, u"-text"_s }, certificate.keyPem()).contains("prime256v1"));
        QVERIFY(TlsCertificate::fromPem(certificate.chainPem(), certificate.keyPem()).ok());
    }

    void fingerprintsAgreeWithTheOpensslCommand()
    {
        const TlsCertificate certificate = lab();
        QCOMPARE(openssl({ u"x509"_s, u"-noout"_s, u"-fingerprint"_s, u"-sha256"_s }, certificate.chainPem()),
                 "sha256 Fingerprint=" + certificate.summary().sha256Fingerprint.toLatin1());
        const QByteArray publicKey = openssl({ u"x509"_s, u"-noout"_s, u"-pubkey"_s }, certificate.chainPem());
        const QByteArray der = [&] {
            QProcess process;
            process.start(u"openssl"_s, { u"pkey"_s, u"-pubin"_s, u"-outform"_s, u"DER"_s });
            process.write(publicKey + '\n');
            process.closeWriteChannel();
            process.waitForFinished(10000);
            return process.readAllStandardOutput();
        }();
        QVERIFY(!der.isEmpty());
        QCOMPARE(certificate.summary().spkiSha256Base64,
                 QCryptographicHash::hash(der, QCryptographicHash::Sha256).toBase64());
    }

    void badPairsAreRefusedWithASentence_data()
    {
        QTest::addColumn<QByteArray>("chain");
        QTest::addColumn<QByteArray>("key");
        QTest::addColumn<QString>("sentence");
        const TlsCertificate one = lab();
        const TlsCertificate other = lab();
        const QDateTime now = QDateTime::currentDateTimeUtc();
        const TlsCertificate expired = lab(now.addDays(-10), 1);
        const TlsCertificate future = lab(now.addDays(3), 10);
        QTest::newRow("another key") << one.chainPem() << other.keyPem() << u"does not match"_s;
        QTest::newRow("expired") << expired.chainPem() << expired.keyPem() << u"expired on"_s;
        QTest::newRow("not yet valid") << future.chainPem() << future.keyPem() << u"not valid before"_s;
        QTest::newRow("garbage certificate") << QByteArray("hello") << one.keyPem() << u"not a PEM certificate"_s;
        QTest::newRow("empty certificate") << QByteArray() << one.keyPem() << u"not a PEM certificate"_s;
        QTest::newRow("key as certificate") << one.keyPem() << one.keyPem() << u"not a PEM certificate"_s;
        QTest::newRow("certificate as key") << one.chainPem() << one.chainPem() << u"not a PEM private key"_s;
        QByteArray truncated = one.chainPem();
        truncated.chop(40);
        QTest::newRow("truncated certificate") << truncated << one.keyPem() << u"not a PEM certificate"_s;
    }

    void badPairsAreRefusedWithASentence()
    {
        QFETCH(QByteArray, chain);
        QFETCH(QByteArray, key);
        QFETCH(QString, sentence);
        const auto checked = TlsCertificate::fromPem(chain, key);
        QVERIFY(!checked);
        QVERIFY2(checked.error().contains(sentence), qPrintable(checked.error()));
    }

    void filesAreNamedInTheirErrors()
    {
        QTemporaryDir dir;
        const TlsCertificate certificate = lab();
        const QString chainPath = dir.filePath(u"cert.pem"_s);
        const QString keyPath = dir.filePath(u"key.pem"_s);
        QFile chainFile(chainPath);
        QVERIFY(chainFile.open(QIODevice::WriteOnly));
        chainFile.write(certificate.chainPem());
        chainFile.close();
        const auto missing = TlsCertificate::fromFiles(chainPath, keyPath);
        QVERIFY(!missing);
        QCOMPARE(missing.error(), u"the private key file %1 does not exist"_s.arg(keyPath));
        QFile keyFile(keyPath);
        QVERIFY(keyFile.open(QIODevice::WriteOnly));
        keyFile.write(lab().keyPem());
        keyFile.close();
        const auto mismatched = TlsCertificate::fromFiles(chainPath, keyPath);
        QVERIFY(!mismatched);
        QCOMPARE(mismatched.error(), u"the private key does not match the certificate (cert.pem, key.pem)"_s);
        QVERIFY(keyFile.open(QIODevice::WriteOnly | QIODevice::Truncate));
        keyFile.write(certificate.keyPem());
        keyFile.close();
        QVERIFY(TlsCertificate::fromFiles(chainPath, keyPath).ok());
    }

    void handshakeIsTls13WithHttp11()
    {
        const TlsCertificate certificate = lab();
        const auto context = TlsContext::create(certificate);
        QVERIFY2(context, context ? "" : qPrintable(context.error()));
        const Handshake handshake = shake(**context, certificate);
        QVERIFY(handshake.succeeded);
        QCOMPARE(handshake.version, TLS1_3_VERSION);
        QCOMPARE(handshake.alpn, "http/1.1");
        QCOMPARE(handshake.verified, long(X509_V_OK)); // a client that trusts the lab certificate
        QCOMPARE(handshake.chainLength, 1);
    }

    void oldProtocolsAndOtherApplicationsAreRefused()
    {
        const TlsCertificate certificate = lab();
        const auto context = TlsContext::create(certificate);
        QVERIFY(context);
        QVERIFY(!shake(**context, certificate, TLS1_1_VERSION).succeeded);
        QVERIFY(!shake(**context, certificate, TLS1_VERSION).succeeded);
        const Handshake tls12 = shake(**context, certificate, TLS1_2_VERSION);
        QVERIFY(tls12.succeeded);
        QCOMPARE(tls12.version, TLS1_2_VERSION);
        QVERIFY(!shake(**context, certificate, 0, QByteArray("\x02h2", 3)).succeeded);
        QVERIFY(shake(**context, certificate, 0, {}).succeeded); // no ALPN at all: HTTP/1.1
    }

    void theWholeChainIsServed()
    {
        const TlsCertificate leaf = lab();
        const TlsCertificate intermediate = lab();
        const auto chained = TlsCertificate::fromPem(leaf.chainPem() + intermediate.chainPem(), leaf.keyPem());
        QVERIFY(chained);
        QCOMPARE(chained->summary().chainLength, 2);
        const auto context = TlsContext::create(*chained);
        QVERIFY(context);
        const Handshake handshake = shake(**context, leaf);
        QVERIFY(handshake.succeeded);
        QCOMPARE(handshake.chainLength, 2);
    }
};

QTEST_GUILESS_MAIN(TestTlsContext)
#include "tst_tlscontext.moc"
