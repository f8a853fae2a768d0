#include "remote/AttachedToken.h"

#include "RememberedTokens.h"
#include "remote/RemoteServer.h"

using namespace Qt::StringLiterals;

AttachedToken::AttachedToken(RemoteServer &server, AttachRequest request, RememberedTokens *tokens, QObject *parent)
    : QObject(parent)
    , m_server(server)
    , m_request(std::move(request))
    , m_tokens(tokens)
{
    // Kept only to be remembered once accepted; the server holds its own copy.
    if (!m_request.rememberToken || m_request.tokenWasRemembered)
        m_request.token.clear();
    connect(&server, &ServerFacade::stateChanged, this, &AttachedToken::handleServerStateChanged);
}

void AttachedToken::handleServerStateChanged()
{
    if (m_server.state() == ServerState::Running && !m_request.token.isEmpty()) {
        // Accepted by the server: only now is it worth remembering.
        const QByteArray token = std::exchange(m_request.token, {});
        if (!m_tokens)
            return;
        m_tokens->remember(m_request.url, token, this, [this](const QString &error) {
            const QString where = m_tokens ? m_tokens->location() : QString();
            Q_EMIT rememberAnswered(
                error.isEmpty() ? tr("The admin token for %1 is remembered (%2).").arg(m_request.url.authority(), where)
                                : error);
        });
        return;
    }
    if (m_server.state() == ServerState::Failed && m_server.tokenRefused() && m_request.tokenWasRemembered)
        Q_EMIT rememberedTokenRefused(m_request.url, m_server.errorString());
}
