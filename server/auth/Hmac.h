#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QList>

/// HMAC-SHA256 for the values this server signs for itself (device cookies, form tokens).
namespace Hmac {
/// The MAC of `fields` under `key`: the purpose first, then each field with its length, so
/// that no two purposes or field lists ever sign alike.
QByteArray sign(QByteArrayView key, QByteArrayView purpose, const QList<QByteArray> &fields);
/// Compares two MACs in constant time (for equal sizes).
bool equal(QByteArrayView first, QByteArrayView second);
} // namespace Hmac
