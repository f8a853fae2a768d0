#pragma once

#include <QByteArray>
#include <QByteArrayView>

/// The WWW-Authenticate value of a 401 for a bearer-token resource (RFC 6750 §3), the same
/// for the HTTP API and the WebSocket gate.
namespace BearerChallenge {
/// Without an `error`, only the realm: RFC 6750 §3.1 says a request that carries no
/// credentials at all gets no error code. Otherwise the error ("invalid_token") and, if given,
/// its description; characters that would break the quoted string are left out.
QByteArray header(QByteArrayView error = {}, QByteArrayView description = {});
} // namespace BearerChallenge
