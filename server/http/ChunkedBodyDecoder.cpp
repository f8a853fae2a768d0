#include "http/ChunkedBodyDecoder.h"

namespace {
constexpr qsizetype maximumLine = 4096; ///< a size line with its extensions, or one trailer field
constexpr qsizetype maximumFraming = 64 * 1024; ///< all size lines and trailers of one body
constexpr int maximumSizeDigits = 15; ///< 15 hex digits stay below 2^60: no overflow

int hexValue(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool isTokenCharacter(char c)
{
    // RFC 9110 §5.6.2 tchar
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
        || QByteArrayView("!#$%&'*+-.^_`|~").contains(c);
}

/// RFC 9112 §7.1.1: chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ),
/// accepted without white space and with token values only: nothing here reads them.
bool isExtensionList(QByteArrayView text)
{
    while (!text.isEmpty()) {
        if (text.front() != ';')
            return false;
        text = text.sliced(1);
        qsizetype name = 0;
        while (name < text.size() && isTokenCharacter(text[name]))
            ++name;
        if (name == 0)
            return false;
        text = text.sliced(name);
        if (!text.isEmpty() && text.front() == '=') {
            text = text.sliced(1);
            qsizetype value = 0;
            while (value < text.size() && isTokenCharacter(text[value]))
                ++value;
            if (value == 0)
                return false;
            text = text.sliced(value);
        }
    }
    return true;
}

bool isTrailerField(QByteArrayView line)
{
    const qsizetype colon = line.indexOf(':');
    if (colon <= 0)
        return false;
    for (qsizetype i = 0; i < colon; ++i) {
        if (!isTokenCharacter(line[i]))
            return false;
    }
    for (const char c : line.sliced(colon + 1)) {
        const auto byte = static_cast<unsigned char>(c);
        if ((byte < 0x20 && c != '\t') || byte == 0x7f)
            return false;
    }
    return true;
}
} // namespace

ChunkedBodyDecoder::ChunkedBodyDecoder(qint64 maximumSize)
    : m_maximumSize(maximumSize)
{
}

ChunkedBodyDecoder::Status ChunkedBodyDecoder::feed(QByteArrayView data, qsizetype &consumed)
{
    consumed = 0;
    while (consumed < data.size() && m_status == Status::NeedMore) {
        const QByteArrayView rest = data.sliced(consumed);
        if (m_state == State::Data) {
            const qsizetype taken = qsizetype(std::min<qint64>(m_remaining, rest.size()));
            m_body.append(rest.first(taken));
            m_remaining -= taken;
            consumed += taken;
            if (m_remaining == 0)
                m_state = State::DataEnd;
            continue;
        }
        // Size lines, the CRLF after each chunk's data and trailer lines: one byte at a time,
        // so that a bare CR or LF is caught where it stands.
        const char c = rest.front();
        ++consumed;
        if (++m_framingBytes > maximumFraming)
            return m_status = Status::Invalid;
        if (c == '\n') {
            if (!m_line.endsWith('\r'))
                return m_status = Status::Invalid; // a bare LF
            m_line.chop(1);
            m_status = line(m_line);
            m_line.clear();
            continue;
        }
        if (!m_line.isEmpty() && m_line.back() == '\r')
            return m_status = Status::Invalid; // a bare CR
        if (m_line.size() >= maximumLine)
            return m_status = Status::Invalid;
        m_line.append(c);
    }
    return m_status;
}

ChunkedBodyDecoder::Status ChunkedBodyDecoder::line(QByteArrayView text)
{
    switch (m_state) {
    case State::Size: {
        qsizetype digits = 0;
        qint64 size = 0;
        while (digits < text.size() && hexValue(text[digits]) >= 0) {
            if (digits == maximumSizeDigits)
                return Status::Invalid;
            size = size * 16 + hexValue(text[digits]);
            ++digits;
        }
        if (digits == 0 || !isExtensionList(text.sliced(digits)))
            return Status::Invalid;
        if (size > m_maximumSize - m_body.size())
            return Status::TooLarge;
        m_remaining = size;
        m_state = size == 0 ? State::Trailer : State::Data;
        return Status::NeedMore;
    }
    case State::DataEnd:
        if (!text.isEmpty())
            return Status::Invalid; // the chunk was longer than its size said
        m_state = State::Size;
        return Status::NeedMore;
    case State::Trailer:
        // Trailer fields are read, checked and dropped: nothing here uses them.
        if (text.isEmpty()) {
            m_state = State::Done;
            return Status::Complete;
        }
        return isTrailerField(text) ? Status::NeedMore : Status::Invalid;
    case State::Data:
    case State::Done:
        break;
    }
    return Status::Invalid;
}
