#pragma once

#include "Result.h"

#include <QByteArray>
#include <QDateTime>
#include <QHostAddress>
#include <QList>
#include <QString>
#include <QStringList>

/// A server certificate chain and its private key, as PEM, checked: both parse, the key is
/// the certificate's, and the certificate is valid now. What the TLS context serves, and
/// what `gatehoused tls show` and the console print. Pure OpenSSL, no sockets: any thread.
class TlsCertificate {
public:
    /// What an operator checks about a certificate (and a lab trusts by fingerprint).
    struct Summary {
        QString subject; ///< RFC 2253, e.g. "CN=gatehouse"
        QString issuer;
        QStringList dnsNames; ///< subjectAltName DNS entries
        QList<QHostAddress> addresses; ///< subjectAltName IP entries
        QDateTime notBefore; ///< UTC
        QDateTime notAfter; ///< UTC
        QString sha256Fingerprint; ///< of the leaf's DER, "AB:CD:…" as `openssl x509 -fingerprint` prints it
        QByteArray
            spkiSha256Base64; ///< of its public key, as Chromium's --ignore-certificate-errors-spki-list takes it
        int chainLength = 0; ///< certificates in the file, the leaf first
    };

    /// Checks the pair as of `now`: a sentence naming the fault otherwise.
    static Result<TlsCertificate, QString> fromPem(const QByteArray &chainPem, const QByteArray &keyPem,
                                                   const QDateTime &now = QDateTime::currentDateTimeUtc());
    /// The same from files; the sentence names the file at fault.
    static Result<TlsCertificate, QString> fromFiles(const QString &chainPath, const QString &keyPath,
                                                     const QDateTime &now = QDateTime::currentDateTimeUtc());

    /// What a certificate file says, without its key (what `gatehoused tls show` prints).
    static Result<Summary, QString> summaryOf(const QByteArray &chainPem);

    /// A new P-256 key and a self-signed certificate for these names and addresses (its
    /// subjectAltName), valid from `notBefore` for `days` days: a lab's certificate. Browsers
    /// accept P-256 (not Ed25519) certificates.
    static TlsCertificate selfSigned(const QString &commonName, const QStringList &dnsNames,
                                     const QList<QHostAddress> &addresses, int days = 365,
                                     const QDateTime &notBefore = QDateTime::currentDateTimeUtc());

    const QByteArray &chainPem() const { return m_chainPem; }
    const QByteArray &keyPem() const { return m_keyPem; }
    const Summary &summary() const { return m_summary; }
    /// Seconds until it expires (negative once it has).
    qint64 secondsLeft(const QDateTime &now = QDateTime::currentDateTimeUtc()) const;

private:
    TlsCertificate() = default;
    QByteArray m_chainPem;
    QByteArray m_keyPem;
    Summary m_summary;
};
