#pragma once

#include <QByteArray>
#include <QString>

#include <chrono>
#include <optional>

/// The known-device marker of the login limits (OWASP's device cookie): after a successful
/// password login the browser keeps `gh_device` = "<device id>.<expiry>.<MAC>", the MAC binding
/// it to the account. Only this server can make one, and one is worth nothing for another
/// account. It proves a past success on that device, nothing more: it logs nobody in.
class DeviceCookie final {
public:
    DeviceCookie(QByteArray key, std::chrono::seconds lifetime);

    std::chrono::seconds lifetime() const;
    /// A cookie value for `account` (its canonical name), valid for lifetime() from now.
    QByteArray issue(const QString &account, const QString &deviceId, qint64 nowSeconds) const;
    /// The device id, if `cookie` was issued here for `account` and has not expired.
    std::optional<QString> verify(QByteArrayView cookie, const QString &account, qint64 nowSeconds) const;
    /// 128 random bits, base64url.
    static QString newDeviceId();

private:
    QByteArray signature(const QString &account, QByteArrayView deviceId, QByteArrayView expiry) const;

    QByteArray m_key;
    std::chrono::seconds m_lifetime;
};
