#pragma once

#include "Result.h"
#include "ws/HttpHead.h"

#include <QString>

/// How a request's body is delimited (RFC 9112 §6), decided from its head alone and strictly:
/// where lenient servers disagree on the length, requests are smuggled. Also checks the rest
/// of what every request must have before its body is read (Host, Expect). Pure.
namespace HttpFraming {
struct Body {
    enum class Kind { None, Length, Chunked } kind = Kind::None;
    qint64 length = 0; ///< for Kind::Length
    bool expectsContinue = false; ///< `Expect: 100-continue`: say 100 before reading it
};

/// Why a request is refused before its body is read; the connection closes after the answer.
struct Refusal {
    int status = 400;
    QString error;
    QString description;
};

/// The body's framing, or the refusal: a repeated or non-decimal Content-Length, one with
/// Transfer-Encoding, a transfer coding other than a lone `chunked`, a missing or repeated
/// Host on HTTP/1.1, an Expect other than 100-continue, or a declared length over the limit.
Result<Body, Refusal> of(const HttpHead &head, qint64 maximumBodySize);

/// Whether the connection may stay open after the answer (RFC 9112 §9.3): HTTP/1.1 without
/// `Connection: close`. HTTP/1.0 connections always close here.
bool keepsAlive(const HttpHead &head);
} // namespace HttpFraming
