#pragma once

#include <QString>

#include <vector>

/// The schema's history: step N takes a database from user_version N to N+1. Steps are only
/// ever appended, never edited, so every older database can be brought up to date.
namespace Migrations {
const std::vector<std::vector<QString>> &steps();
}
