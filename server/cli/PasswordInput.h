#pragma once

#include "Result.h"

#include <QByteArray>
#include <QString>

/// Reads a new password: one line from standard input (`--password-stdin`), or typed twice
/// at a terminal prompt with echo off. Never from argv, where `ps` would show it.
namespace PasswordInput {
Result<QByteArray, QString> read(bool fromStdin, const QString &prompt);
/// The same for one already chosen (a backup's passphrase at restore): asked once.
Result<QByteArray, QString> readExisting(bool fromStdin, const QString &prompt);
} // namespace PasswordInput
