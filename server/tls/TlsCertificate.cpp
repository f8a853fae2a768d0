#include "tls/TlsCertificate.h"

#include "auth/OpenSslHandles.h"

#include <QCryptographicHash>
#include <QFile>
#include <QFileInfo>
#include <QTimeZone>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <memory>

using namespace Qt::StringLiterals;

namespace {
using Bio = BioHandle;
using Certificate = CertificateHandle;
using Key = KeyHandle;
using Names = GeneralNamesHandle;
using Extension = ExtensionHandle;
using Number = BignumHandle;

Bio memoryOf(const QByteArray &bytes)
{
    return Bio(BIO_new_mem_buf(bytes.constData(), int(bytes.size())));
}

QByteArray contentsOf(BIO *bio)
{
    char *data = nullptr;
    const long size = BIO_get_mem_data(bio, &data);
    return QByteArray(data, qsizetype(size));
}

QString nameOf(const X509_NAME *name)
{
    Bio out(BIO_new(BIO_s_mem()));
    X509_NAME_print_ex(out.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
    return QString::fromUtf8(contentsOf(out.get()));
}

QDateTime timeOf(const ASN1_TIME *time)
{
    std::tm parts {};
    if (!time || ASN1_TIME_to_tm(time, &parts) != 1)
        return {};
    return QDateTime::fromSecsSinceEpoch(qint64(timegm(&parts)), Qt::UTC);
}

QString colonHex(const QByteArray &bytes)
{
    QString hex = QString::fromLatin1(bytes.toHex().toUpper());
    QString out;
    for (qsizetype i = 0; i < hex.size(); i += 2) {
        if (i > 0)
            out += u':';
        out += hex.mid(i, 2);
    }
    return out;
}

TlsCertificate::Summary summarize(X509 *leaf, int chainLength)
{
    TlsCertificate::Summary summary;
    summary.subject = nameOf(X509_get_subject_name(leaf));
    summary.issuer = nameOf(X509_get_issuer_name(leaf));
    summary.notBefore = timeOf(X509_get0_notBefore(leaf));
    summary.notAfter = timeOf(X509_get0_notAfter(leaf));
    summary.chainLength = chainLength;
    const Names names(static_cast<GENERAL_NAMES *>(X509_get_ext_d2i(leaf, NID_subject_alt_name, nullptr, nullptr)));
    for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
        const GENERAL_NAME *name = sk_GENERAL_NAME_value(names.get(), i);
        if (name->type == GEN_DNS) {
            summary.dnsNames.append(
                QString::fromLatin1(reinterpret_cast<const char *>(ASN1_STRING_get0_data(name->d.dNSName)),
                                    ASN1_STRING_length(name->d.dNSName)));
        } else if (name->type == GEN_IPADD) {
            const auto *bytes = ASN1_STRING_get0_data(name->d.iPAddress);
            const int length = ASN1_STRING_length(name->d.iPAddress);
            if (length == 4) {
                summary.addresses.append(QHostAddress(quint32(bytes[0]) << 24 | quint32(bytes[1]) << 16
                                                      | quint32(bytes[2]) << 8 | quint32(bytes[3])));
            } else if (length == 16) {
                summary.addresses.append(QHostAddress(bytes));
            }
        }
    }
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digestLength = 0;
    if (X509_digest(leaf, EVP_sha256(), digest, &digestLength) == 1)
        summary.sha256Fingerprint
            = colonHex(QByteArray(reinterpret_cast<const char *>(digest), qsizetype(digestLength)));
    unsigned char *spki = nullptr;
    const int spkiLength = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(leaf), &spki);
    if (spkiLength > 0) {
        summary.spkiSha256Base64
            = QCryptographicHash::hash(QByteArrayView(spki, spkiLength), QCryptographicHash::Sha256).toBase64();
        OPENSSL_free(spki);
    }
    return summary;
}

/// The leaf of a PEM chain and how many certificates the chain holds.
Result<std::pair<Certificate, int>, QString> readChain(const QByteArray &chainPem)
{
    ERR_clear_error();
    const Bio chain = memoryOf(chainPem);
    Certificate leaf(PEM_read_bio_X509(chain.get(), nullptr, nullptr, nullptr));
    if (!leaf)
        return fail(withOpenSslReason(u"the certificate is not a PEM certificate"_s));
    int length = 1;
    while (Certificate next { PEM_read_bio_X509(chain.get(), nullptr, nullptr, nullptr) })
        ++length;
    ERR_clear_error(); // the end of the file reads as an error
    return std::pair { std::move(leaf), length };
}

bool addExtension(X509 *certificate, int nid, const QByteArray &value)
{
    X509V3_CTX context;
    X509V3_set_ctx_nodb(&context);
    X509V3_set_ctx(&context, certificate, certificate, nullptr, nullptr, 0);
    const Extension extension(X509V3_EXT_conf_nid(nullptr, &context, nid, value.constData()));
    return extension && X509_add_ext(certificate, extension.get(), -1) == 1;
}
} // namespace

Result<TlsCertificate, QString> TlsCertificate::fromPem(const QByteArray &chainPem, const QByteArray &keyPem,
                                                        const QDateTime &now)
{
    auto chain = readChain(chainPem);
    if (!chain)
        return fail(chain.error());
    const Certificate &leaf = chain->first;
    const int chainLength = chain->second;
    const Bio keyBio = memoryOf(keyPem);
    const Key key(PEM_read_bio_PrivateKey(keyBio.get(), nullptr, nullptr, nullptr));
    if (!key)
        return fail(withOpenSslReason(u"the private key is not a PEM private key (an encrypted key cannot be read)"_s));
    if (X509_check_private_key(leaf.get(), key.get()) != 1)
        return fail(u"the private key does not match the certificate"_s);

    TlsCertificate certificate;
    certificate.m_chainPem = chainPem;
    certificate.m_keyPem = keyPem;
    certificate.m_summary = summarize(leaf.get(), chainLength);
    const auto &summary = certificate.m_summary;
    if (!summary.notAfter.isValid() || summary.notAfter <= now)
        return fail(u"the certificate expired on %1"_s.arg(summary.notAfter.toString(Qt::ISODate)));
    if (summary.notBefore.isValid() && summary.notBefore > now)
        return fail(u"the certificate is not valid before %1"_s.arg(summary.notBefore.toString(Qt::ISODate)));
    return certificate;
}

Result<TlsCertificate::Summary, QString> TlsCertificate::summaryOf(const QByteArray &chainPem)
{
    auto chain = readChain(chainPem);
    if (!chain)
        return fail(chain.error());
    return summarize(chain->first.get(), chain->second);
}

Result<TlsCertificate, QString> TlsCertificate::fromFiles(const QString &chainPath, const QString &keyPath,
                                                          const QDateTime &now)
{
    const auto read = [](const QString &path, const QString &what) -> Result<QByteArray, QString> {
        QFile file(path);
        if (!file.exists())
            return fail(u"the %1 file %2 does not exist"_s.arg(what, path));
        if (!file.open(QIODevice::ReadOnly))
            return fail(u"the %1 file %2 cannot be read: %3"_s.arg(what, path, file.errorString()));
        // A certificate chain is a few kilobytes; a huge file is a mistake, not a chain.
        if (file.size() > 1024 * 1024)
            return fail(u"the %1 file %2 is larger than 1 MiB"_s.arg(what, path));
        return file.readAll();
    };
    const auto chain = read(chainPath, u"certificate"_s);
    if (!chain)
        return fail(chain.error());
    const auto key = read(keyPath, u"private key"_s);
    if (!key)
        return fail(key.error());
    auto certificate = fromPem(*chain, *key, now);
    if (!certificate)
        return fail(
            u"%1 (%2, %3)"_s.arg(certificate.error(), QFileInfo(chainPath).fileName(), QFileInfo(keyPath).fileName()));
    return certificate;
}

TlsCertificate TlsCertificate::selfSigned(const QString &commonName, const QStringList &dnsNames,
                                          const QList<QHostAddress> &addresses, int days, const QDateTime &notBefore)
{
    const Key key(EVP_EC_gen("P-256"));
    const Certificate certificate(X509_new());
    X509_set_version(certificate.get(), 2); // v3
    // RFC 5280 §4.1.2.2: a positive serial of at most 20 bytes, unpredictable.
    const Number serial(BN_new());
    BN_rand(serial.get(), 159, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY);
    BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(certificate.get()));
    const time_t start = time_t(notBefore.toSecsSinceEpoch());
    ASN1_TIME_set(X509_getm_notBefore(certificate.get()), start);
    ASN1_TIME_set(X509_getm_notAfter(certificate.get()), start + time_t(days) * 86400);
    X509_NAME *name = X509_get_subject_name(certificate.get());
    const QByteArray cn = commonName.toUtf8();
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char *>(cn.constData()),
                               int(cn.size()), -1, 0);
    X509_set_issuer_name(certificate.get(), name);
    X509_set_pubkey(certificate.get(), key.get());
    QStringList alternatives;
    for (const auto &dns : dnsNames)
        alternatives.append(u"DNS:"_s + dns);
    for (const auto &address : addresses)
        alternatives.append(u"IP:"_s + address.toString());
    if (!alternatives.isEmpty())
        addExtension(certificate.get(), NID_subject_alt_name, alternatives.join(u',').toLatin1());
    addExtension(certificate.get(), NID_basic_constraints, "critical,CA:FALSE");
    addExtension(certificate.get(), NID_key_usage, "critical,digitalSignature");
    addExtension(certificate.get(), NID_ext_key_usage, "serverAuth");
    addExtension(certificate.get(), NID_subject_key_identifier, "hash");
    X509_sign(certificate.get(), key.get(), EVP_sha256());

    const Bio chain(BIO_new(BIO_s_mem()));
    PEM_write_bio_X509(chain.get(), certificate.get());
    const Bio keyOut(BIO_new(BIO_s_mem()));
    PEM_write_bio_PrivateKey(keyOut.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr);
    TlsCertificate made;
    made.m_chainPem = contentsOf(chain.get());
    made.m_keyPem = contentsOf(keyOut.get());
    made.m_summary = summarize(certificate.get(), 1);
    return made;
}

qint64 TlsCertificate::secondsLeft(const QDateTime &now) const
{
    return now.secsTo(m_summary.notAfter);
}
