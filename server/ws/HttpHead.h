#pragma once

#include <QByteArray>
#include <QList>
#include <QPair>

/// The head of one HTTP/1.1 request: request line and header fields, names lower-cased.
struct HttpHead {
    QByteArray method;
    QByteArray target; ///< path and query, as sent
    QByteArray version;
    QList<QPair<QByteArray, QByteArray>> fields;
    qsizetype size = 0; ///< bytes up to and including the blank line

    /// The field's value, or empty; several fields of one name are joined with ", " (RFC 9110 §5.3).
    QByteArray value(QByteArrayView name) const;
    /// Whether a comma-separated field lists `token`, case-insensitively ("Connection: keep-alive, Upgrade").
    bool hasToken(QByteArrayView name, QByteArrayView token) const;
    QByteArray path() const;
    /// One query parameter, percent-decoded, or empty.
    QByteArray queryValue(QByteArrayView name) const;
    /// How often the query names the parameter (its name percent-decoded), with or without a value.
    qsizetype queryCount(QByteArrayView name) const;
};
