#pragma once

// One admin's feed (/admin/ws) as the integration tests hold it: every message it received,
// in order, and ways to wait for one.
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkRequest>
#include <QTest>
#include <QWebSocket>

#include <functional>
#include <memory>
#include <optional>

struct AdminFeedClient {
    std::unique_ptr<QWebSocket> socket = std::make_unique<QWebSocket>();
    QList<QJsonObject> received;

    AdminFeedClient(const QString &address, const QByteArray &token)
    {
        QObject::connect(socket.get(), &QWebSocket::textMessageReceived, socket.get(), [this](const QString &text) {
            received.append(QJsonDocument::fromJson(text.toUtf8()).object());
        });
        QNetworkRequest request(QUrl(QStringLiteral("ws://") + address + QStringLiteral("/admin/ws")));
        request.setRawHeader("Authorization", "Bearer " + token);
        socket->open(request);
    }
    /// The first message after `from` that `match` takes (and its index), waiting for it.
    std::optional<QJsonObject> waitFor(const std::function<bool(const QJsonObject &)> &match,
                                       qsizetype *index = nullptr, qsizetype from = 0)
    {
        std::optional<QJsonObject> found;
        [[maybe_unused]] const bool seen = QTest::qWaitFor(
            [&] {
                for (qsizetype i = from; i < received.size(); ++i) {
                    if (match(received[i])) {
                        found = received[i];
                        if (index)
                            *index = i;
                        return true;
                    }
                }
                return false;
            },
            10000);
        return found;
    }
    /// The first message of `type` after `from` (and its index) that `also` takes, waiting for it.
    std::optional<QJsonObject> waitFor(const QString &type, qsizetype *index = nullptr, qsizetype from = 0,
                                       const std::function<bool(const QJsonObject &)> &also = {})
    {
        return waitFor(
            [&](const QJsonObject &m) { return m[QLatin1StringView("type")].toString() == type && (!also || also(m)); },
            index, from);
    }
    /// The message that answers the action with this id.
    std::optional<QJsonObject> answerTo(const QString &id)
    {
        return waitFor([&](const QJsonObject &m) { return m[QLatin1StringView("id")].toString() == id; });
    }
    void send(const QJsonObject &message)
    {
        socket->sendTextMessage(QString::fromUtf8(QJsonDocument(message).toJson()));
    }
    bool closedWith(int code) const
    {
        return socket->state() == QAbstractSocket::UnconnectedState && int(socket->closeCode()) == code;
    }
    /// Every message the inspections of `connection` brought, in order.
    QJsonArray inspected(const QString &connection) const
    {
        QJsonArray messages;
        for (const auto &message : received) {
            if (message[QLatin1StringView("type")] == QLatin1StringView("inspected")
                && message[QLatin1StringView("connection")] == connection) {
                for (const auto item : message[QLatin1StringView("messages")].toArray())
                    messages.append(item);
            }
        }
        return messages;
    }
};
