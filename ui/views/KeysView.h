#pragma once

#include "SigningKeyInfo.h"

#include <QJsonObject>
#include <QWidget>

class QLabel;
class QPlainTextEdit;
class QTableWidget;
class ServerFacade;

/// The server's signing keys (never their private halves), rotation, and the JWKS as
/// published at /.well-known/jwks.json.
class KeysView final : public QWidget {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(KeysView)

public:
    explicit KeysView(ServerFacade &server, QWidget *parent = nullptr);

    void showKeys(const QList<SigningKeyInfo> &keys, const QJsonObject &jwks);
    QTableWidget *table() const { return m_table; }

Q_SIGNALS:
    void outcome(const QString &message);

private:
    ServerFacade &m_server;
    QTableWidget *m_table = nullptr;
    QPlainTextEdit *m_jwks = nullptr;
};
