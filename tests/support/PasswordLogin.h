#pragma once

// POST /auth/login through the event loop, as the integration tests' clients log in.
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QSignalSpy>

#include <memory>

struct LoginAnswer {
    int status = 0;
    QJsonObject body;
    QByteArray accessToken() const { return body[QLatin1StringView("access_token")].toString().toLatin1(); }
};

/// Logs `username` in on `device` at `address` ("host:port") with the tests' usual password.
inline LoginAnswer passwordLogin(QNetworkAccessManager &network, const QString &address, const QString &username,
                                 const QString &device, const QString &password = QStringLiteral("a long password"))
{
    QNetworkRequest request(QUrl(QStringLiteral("http://") + address + QStringLiteral("/auth/login")));
    request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArray("application/json"));
    const QJsonObject credentials { { QLatin1StringView("username"), username },
                                    { QLatin1StringView("password"), password },
                                    { QLatin1StringView("device"), device } };
    std::unique_ptr<QNetworkReply> reply(network.post(request, QJsonDocument(credentials).toJson()));
    QSignalSpy finished(reply.get(), &QNetworkReply::finished);
    [[maybe_unused]] const bool done = finished.wait(20000);
    return LoginAnswer { reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(),
                         QJsonDocument::fromJson(reply->readAll()).object() };
}
