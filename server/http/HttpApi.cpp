#include "http/HttpApi.h"

#include <QHttpServerRequest>
#include <QHttpServerResponder>
#include <QJsonDocument>
#include <QLoggingCategory>
#include <QTcpSocket>

using namespace Qt::StringLiterals;

Q_LOGGING_CATEGORY(lcHttp, "gatehouse.http")

namespace {
using Status = QHttpServerResponder::StatusCode;

bool isUpgradeRequest(const QHttpServerRequest &request)
{
    return !request.value("upgrade").isEmpty() || request.value("connection").toLower().contains("upgrade");
}
} // namespace

HttpApi::HttpApi(JwksProvider jwks, QObject *parent)
    : QAbstractHttpServer(parent)
    , m_jwks(std::move(jwks))
{
}

void HttpApi::writeError(QHttpServerResponder &responder, int status, const QString &error, const QString &description)
{
    const QJsonObject body { { "error"_L1, error }, { "error_description"_L1, description } };
    responder.write(QJsonDocument(body), static_cast<Status>(status));
}

bool HttpApi::handleRequest(const QHttpServerRequest &request, QTcpSocket *socket)
{
    auto responder = makeResponder(request, socket);
    const QString path = request.url().path();
    if (isUpgradeRequest(request)) {
        writeError(responder, 400, u"upgrade_not_allowed"_s, u"%1 does not switch protocols"_s.arg(path));
        return true;
    }
    const bool isGet = request.method() == QHttpServerRequest::Method::Get;
    if (path == "/healthz"_L1) {
        if (!isGet)
            return writeError(responder, 405, u"method_not_allowed"_s, u"use GET"_s), true;
        responder.write(QJsonDocument(QJsonObject { { "status"_L1, "ok"_L1 } }));
        return true;
    }
    if (path == "/.well-known/jwks.json"_L1) {
        if (!isGet)
            return writeError(responder, 405, u"method_not_allowed"_s, u"use GET"_s), true;
        responder.write(QJsonDocument(m_jwks()).toJson(QJsonDocument::Compact), "application/jwk-set+json");
        return true;
    }
    writeError(responder, 404, u"not_found"_s, u"no resource at %1"_s.arg(path));
    return true;
}

void HttpApi::missingHandler(const QHttpServerRequest &request, QTcpSocket *socket)
{
    // handleRequest() answers everything; this only runs if that ever changes.
    auto responder = makeResponder(request, socket);
    writeError(responder, 404, u"not_found"_s, request.url().path());
}
