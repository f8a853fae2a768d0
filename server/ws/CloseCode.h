#pragma once

#include <QWebSocketProtocol>

/// The close codes a client sees (docs/api.md); 4000–4999 are for applications (RFC 6455 §7.4.2).
namespace CloseCode {
constexpr auto disconnectedByAdmin = static_cast<QWebSocketProtocol::CloseCode>(4000); ///< may reconnect
constexpr auto tokenExpired = static_cast<QWebSocketProtocol::CloseCode>(4001); ///< refresh, then reconnect
constexpr auto sessionRevoked = static_cast<QWebSocketProtocol::CloseCode>(4003); ///< log in again
constexpr auto policyViolation = QWebSocketProtocol::CloseCodePolicyViolated; ///< 1008
constexpr auto messageTooBig = QWebSocketProtocol::CloseCodeTooMuchData; ///< 1009
constexpr auto tryAgainLater = static_cast<QWebSocketProtocol::CloseCode>(1013);
constexpr auto goingAway = QWebSocketProtocol::CloseCodeGoingAway; ///< 1001, server shutting down
} // namespace CloseCode
