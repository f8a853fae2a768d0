#pragma once

#include <QString>
#include <QtGlobal>

/// A WebSocket close code as it goes on the wire (RFC 6455 §7.4). Not Qt's
/// QWebSocketProtocol::CloseCode: that enum names only RFC 6455's own codes, and holding
/// 4000–4999 in it is undefined behaviour (UBSan says so).
enum class WebSocketClose : quint16 {};

/// The close codes a client sees (docs/api.md); 4000–4999 are for applications (RFC 6455 §7.4.2).
namespace CloseCode {
constexpr auto disconnectedByAdmin = WebSocketClose { 4000 }; ///< may reconnect
constexpr auto tokenExpired = WebSocketClose { 4001 }; ///< refresh, then reconnect
constexpr auto sessionRevoked = WebSocketClose { 4003 }; ///< log in again
constexpr auto pingTimeout = WebSocketClose { 4008 }; ///< no answer to a ping: the peer is gone
constexpr auto policyViolation = WebSocketClose { 1008 }; ///< binary frames, over the message rate
constexpr auto messageTooBig = WebSocketClose { 1009 };
constexpr auto tryAgainLater = WebSocketClose { 1013 };
constexpr auto goingAway = WebSocketClose { 1001 }; ///< server shutting down

/// The reasons in the close frames of revocations, wherever they are closed from.
inline QString sessionRevokedReason(const QString &why)
{
    return QStringLiteral("session revoked: ") + why;
}
inline QString tokensRevokedReason()
{
    return QStringLiteral("tokens revoked: log in again");
}
} // namespace CloseCode
