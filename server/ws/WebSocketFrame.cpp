#include "ws/WebSocketFrame.h"

#include <QCryptographicHash>
#include <QtEndian>

namespace WebSocketFrame {

namespace {
ParseResult error(WebSocketClose code, QString reason)
{
    ParseResult result;
    result.status = ParseResult::Status::Error;
    result.error = code;
    result.reason = std::move(reason);
    return result;
}

bool isControl(Opcode opcode)
{
    return (quint8(opcode) & 0x8) != 0;
}
} // namespace

ParseResult parseClientFrame(QByteArrayView input, qint64 maximumPayload)
{
    if (input.size() < 2)
        return {};
    const auto *bytes = reinterpret_cast<const quint8 *>(input.data());
    const bool final = bytes[0] & 0x80;
    if (bytes[0] & 0x70)
        return error(WebSocketClose { 1002 }, QStringLiteral("reserved bits set"));
    const quint8 opcodeBits = bytes[0] & 0x0f;
    switch (opcodeBits) {
    case 0x0:
    case 0x1:
    case 0x2:
    case 0x8:
    case 0x9:
    case 0xA:
        break;
    default:
        return error(WebSocketClose { 1002 }, QStringLiteral("unknown opcode"));
    }
    const auto opcode = Opcode(opcodeBits);
    if (!(bytes[1] & 0x80))
        return error(WebSocketClose { 1002 }, QStringLiteral("client frames must be masked"));
    quint64 length = bytes[1] & 0x7f;
    qsizetype header = 2;
    if (length == 126) {
        if (input.size() < 4)
            return {};
        length = qFromBigEndian<quint16>(bytes + 2);
        header = 4;
        if (length < 126)
            return error(WebSocketClose { 1002 }, QStringLiteral("length not minimally encoded"));
    } else if (length == 127) {
        if (input.size() < 10)
            return {};
        length = qFromBigEndian<quint64>(bytes + 2);
        header = 10;
        if (length >> 63)
            return error(WebSocketClose { 1002 }, QStringLiteral("length has its top bit set"));
        if (length <= 0xffff)
            return error(WebSocketClose { 1002 }, QStringLiteral("length not minimally encoded"));
    }
    if (isControl(opcode) && (!final || length > 125))
        return error(WebSocketClose { 1002 }, QStringLiteral("control frames are final and short"));
    if (length > quint64(maximumPayload))
        return error(WebSocketClose { 1009 }, QStringLiteral("message too big"));
    const qsizetype total = header + 4 + qsizetype(length);
    if (input.size() < total)
        return {};
    const quint8 *mask = bytes + header;
    ParseResult result;
    result.status = ParseResult::Status::Frame;
    result.consumed = total;
    result.frame.final = final;
    result.frame.opcode = opcode;
    result.frame.payload = QByteArray(input.data() + header + 4, qsizetype(length));
    auto *payload = reinterpret_cast<quint8 *>(result.frame.payload.data());
    for (qsizetype i = 0; i < qsizetype(length); ++i)
        payload[i] ^= mask[i & 3];
    return result;
}

QByteArray encode(Opcode opcode, QByteArrayView payload)
{
    QByteArray frame;
    const auto length = quint64(payload.size());
    frame.reserve(10 + payload.size());
    frame.append(char(0x80 | quint8(opcode)));
    if (length < 126) {
        frame.append(char(length));
    } else if (length <= 0xffff) {
        frame.append(char(126));
        char size[2];
        qToBigEndian<quint16>(quint16(length), size);
        frame.append(size, 2);
    } else {
        frame.append(char(127));
        char size[8];
        qToBigEndian<quint64>(length, size);
        frame.append(size, 8);
    }
    frame.append(payload);
    return frame;
}

QByteArray closePayload(WebSocketClose code, const QString &reason)
{
    char bytes[2];
    qToBigEndian<quint16>(quint16(code), bytes);
    QByteArray payload(bytes, 2);
    QByteArray text = reason.toUtf8();
    if (text.size() > 123) {
        qsizetype cut = 123;
        while (cut > 0 && (quint8(text[cut]) & 0xC0) == 0x80) // never inside a character
            --cut;
        text.truncate(cut);
    }
    return payload + text;
}

bool isValidUtf8(QByteArrayView bytes)
{
    const auto *p = reinterpret_cast<const quint8 *>(bytes.data());
    const qsizetype size = bytes.size();
    for (qsizetype i = 0; i < size;) {
        const quint8 lead = p[i];
        if (lead < 0x80) {
            ++i;
            continue;
        }
        int extra = 0;
        quint32 codePoint = 0;
        if (lead >= 0xC2 && lead <= 0xDF) {
            extra = 1;
            codePoint = lead & 0x1F;
        } else if (lead >= 0xE0 && lead <= 0xEF) {
            extra = 2;
            codePoint = lead & 0x0F;
        } else if (lead >= 0xF0 && lead <= 0xF4) {
            extra = 3;
            codePoint = lead & 0x07;
        } else {
            return false; // a continuation byte, an overlong lead (C0, C1) or beyond U+10FFFF
        }
        if (i + extra >= size)
            return false; // cut short
        for (int k = 1; k <= extra; ++k) {
            if ((p[i + k] & 0xC0) != 0x80)
                return false;
            codePoint = (codePoint << 6) | (p[i + k] & 0x3F);
        }
        if ((extra == 2 && codePoint < 0x800) || (extra == 3 && (codePoint < 0x10000 || codePoint > 0x10FFFF))
            || (codePoint >= 0xD800 && codePoint <= 0xDFFF))
            return false;
        i += extra + 1;
    }
    return true;
}

bool isValidReceivedCloseCode(int code)
{
    if (code >= 3000 && code <= 4999)
        return true;
    switch (code) {
    case 1000:
    case 1001:
    case 1002:
    case 1003:
    case 1007:
    case 1008:
    case 1009:
    case 1010:
    case 1011:
        return true;
    default:
        return false;
    }
}

QByteArray acceptKey(QByteArrayView key)
{
    const auto decoded = QByteArray::fromBase64Encoding(key.toByteArray(), QByteArray::AbortOnBase64DecodingErrors);
    if (!decoded || decoded.decoded.size() != 16 || key.size() != 24)
        return {};
    const QByteArray keyed = key.toByteArray() + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"; // RFC 6455 §1.3
    return QCryptographicHash::hash(keyed, QCryptographicHash::Sha1).toBase64();
}

} // namespace WebSocketFrame
