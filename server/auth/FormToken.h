#pragma once

#include <QByteArray>
#include <QStringList>

#include <chrono>

/// Anti-forgery tokens for the server's own HTML forms (the login and logout pages), after
/// OWASP's signed double-submit cookie: the page sets a random nonce in a short-lived HttpOnly
/// SameSite=Strict cookie, and its form carries "<issued at>.<MAC>", the MAC binding the
/// nonce, the form's purpose and the request the page was made for. Another site can neither
/// read the cookie nor compute the MAC, so it cannot post the form.
class FormToken final {
public:
    enum class Check {
        Valid,
        Missing, ///< no token or no nonce cookie
        Expired,
        Forged, ///< not made here for this nonce, purpose and request
    };

    FormToken(QByteArray key, std::chrono::seconds lifetime);

    std::chrono::seconds lifetime() const;
    QByteArray issue(QByteArrayView purpose, QByteArrayView nonce, const QStringList &binding, qint64 nowSeconds) const;
    Check check(QByteArrayView token, QByteArrayView purpose, QByteArrayView nonce, const QStringList &binding,
                qint64 nowSeconds) const;

    /// 128 random bits, base64url: the cookie's value.
    static QByteArray newNonce();
    static bool isNonce(QByteArrayView text);

private:
    QByteArray signature(QByteArrayView purpose, QByteArrayView nonce, const QStringList &binding,
                         QByteArrayView issuedAt) const;

    QByteArray m_key;
    std::chrono::seconds m_lifetime;
};
