// The JSON messages a connected client sends, read by the real LiveConnection (refresh, sync,
// ping, anything else) on top of a real WebSocketStream, with the answers it writes back.
//
// LiveConnection reads messages only from its stream's textReceived signal (the parsing is not
// a function of its own), so each message is given to it through that signal, as the stream
// gives it: only text that is valid UTF-8 (the stream closes with 1007 on anything else).
// Messages are separated by the byte 0xFF, which never occurs in UTF-8. A refresh carries an
// "access_token"; the authenticator knows "same-session", "other-session" and "other-user".
#include "FuzzCheck.h"
#include "StreamHarness.h"

#include "ws/LiveConnection.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>

using namespace Qt::StringLiterals;
using WebSocketFrame::Opcode;

namespace {
AccessClaims claimsFor(const QString &subject, const QString &sessionId)
{
    AccessClaims claims;
    claims.issuer = u"https://gatehouse.test"_s;
    claims.subject = subject;
    claims.audiences = { u"gatehouse"_s };
    claims.sessionId = sessionId;
    claims.deviceId = u"laptop"_s;
    claims.expiresAt = QDateTime::currentSecsSinceEpoch() + 3600;
    return claims;
}

const LiveConnection::Authenticator &authenticator()
{
    static const LiveConnection::Authenticator instance = [](const QByteArray &token) {
        if (token == "same-session")
            return Result<AccessClaims, QString>(claimsFor(u"alice"_s, u"s-1"_s));
        if (token == "other-session")
            return Result<AccessClaims, QString>(claimsFor(u"alice"_s, u"s-2"_s));
        if (token == "other-user")
            return Result<AccessClaims, QString>(claimsFor(u"bob"_s, u"s-1"_s));
        return Result<AccessClaims, QString>(fail(u"invalid_token"_s));
    };
    return instance;
}

/// Every answer is a final text frame holding one JSON object with a "type"; a close frame,
/// if any, comes last.
void checkAnswers(const QByteArray &output)
{
    const auto frames = parseServerFrames(output);
    FUZZ_CHECK(frames.has_value());
    for (qsizetype i = 0; i < frames->size(); ++i) {
        const ServerFrame &frame = frames->at(i);
        FUZZ_CHECK(frame.final);
        if (frame.opcode == Opcode::Close) {
            FUZZ_CHECK(i == frames->size() - 1 && frame.payload.size() <= 125);
            continue;
        }
        FUZZ_CHECK(frame.opcode == Opcode::Text);
        const QJsonObject answer = QJsonDocument::fromJson(frame.payload).object();
        FUZZ_CHECK(answer.value("type"_L1).isString());
    }
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    StreamHarness harness(WebSocketStream::Limits {});
    const AccessClaims claims = claimsFor(u"alice"_s, u"s-1"_s);
    const LiveConnection::Peer peer { u"127.0.0.1"_s, u"fuzz"_s, false };
    auto connection = std::make_unique<LiveConnection>(1, harness.stream(), claims, peer, authenticator());
    int syncs = 0;
    QObject::connect(
        connection.get(), &LiveConnection::syncRequested, connection.get(), [&](quint64 id, const QByteArray &payload) {
            FUZZ_CHECK(id == 1);
            // The payload's own bytes: one JSON value, as relayed into {"payload":…}.
            FUZZ_CHECK(payload.isEmpty() || QJsonDocument::fromJson("[" + payload + "]").array().size() == 1);
            ++syncs;
        });
    harness.stream()->uncork();

    int messages = 0;
    for (const QByteArray &message : QByteArray(reinterpret_cast<const char *>(data), qsizetype(size)).split('\xff')) {
        if (!WebSocketFrame::isValidUtf8(message) || !harness.stream() || !harness.stream()->isOpen())
            continue;
        Q_EMIT harness.stream()->textReceived(message);
        ++messages;
        checkAnswers(harness.receiveAtClient());
    }
    FUZZ_CHECK(connection->info().messagesIn == quint64(messages));
    FUZZ_CHECK(syncs <= messages);
    return 0;
}
