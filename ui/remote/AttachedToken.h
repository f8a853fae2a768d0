#pragma once

#include "remote/AttachRequest.h"

#include <QObject>
#include <QPointer>

class RememberedTokens;
class RemoteServer;

/// The admin token of an attached console, after the attach: remembered once the server has
/// accepted it (when that was asked), and, when the server refuses a remembered token, said
/// so once (RemoteServer does not try a refused token again) so that the window can offer
/// to forget or replace it.
class AttachedToken final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(AttachedToken)

public:
    AttachedToken(RemoteServer &server, AttachRequest request, RememberedTokens *tokens, QObject *parent = nullptr);

Q_SIGNALS:
    /// A sentence for the status bar: the token is remembered, or why it is not.
    void rememberAnswered(const QString &message);
    /// The server refused the token remembered for it.
    void rememberedTokenRefused(const QUrl &server, const QString &why);

private:
    void handleServerStateChanged();

    RemoteServer &m_server;
    AttachRequest m_request;
    QPointer<RememberedTokens> m_tokens;
};
