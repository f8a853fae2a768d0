#pragma once

#include <QByteArray>
#include <QList>
#include <QMetaType>
#include <QSslCertificate>
#include <QUrl>

/// What `--connect` or File → Connect asks for: a server, its admin token, certificates to
/// trust, and what becomes of the token.
struct AttachRequest {
    QUrl url;
    QByteArray token;
    QList<QSslCertificate> trusted;
    bool rememberToken = false; ///< remember it once the server has accepted it
    bool tokenWasRemembered = false; ///< it came from RememberedTokens
};

Q_DECLARE_METATYPE(AttachRequest)
