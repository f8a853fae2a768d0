#pragma once

#include "Result.h"

#include <QString>

/// Where an instance keeps its database, config and (fallback) secrets: `--data-dir`, else
/// $GATEHOUSE_DATA_DIR, else the user's data folder (~/.local/share/gatehouse).
namespace DataDirectory {
QString resolve(const QString &fromFlag);
/// Creates it owner-only (0700) if needed; an error sentence if it cannot be used.
Result<QString, QString> prepare(const QString &path);
} // namespace DataDirectory
