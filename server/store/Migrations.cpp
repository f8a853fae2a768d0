#include "store/Migrations.h"

using namespace Qt::StringLiterals;

const std::vector<std::vector<QString>> &Migrations::steps()
{
    static const std::vector<std::vector<QString>> all = {
        // 1: settings, users and signing-key metadata (private halves live in the SecretStore).
        {
            u"CREATE TABLE settings ("
            "  name TEXT PRIMARY KEY,"
            "  value TEXT NOT NULL)"_s,
            u"CREATE TABLE users ("
            "  id INTEGER PRIMARY KEY,"
            "  username TEXT NOT NULL UNIQUE COLLATE NOCASE,"
            "  display_name TEXT NOT NULL,"
            "  roles TEXT NOT NULL DEFAULT '[]',"
            "  enabled INTEGER NOT NULL DEFAULT 1,"
            "  password_hash TEXT NOT NULL,"
            "  password_changed_at INTEGER NOT NULL,"
            "  created_at INTEGER NOT NULL,"
            "  updated_at INTEGER NOT NULL)"_s,
            u"CREATE TABLE signing_keys ("
            "  kid TEXT PRIMARY KEY,"
            "  alg TEXT NOT NULL,"
            "  public_jwk TEXT NOT NULL,"
            "  created_at INTEGER NOT NULL,"
            "  retired_at INTEGER,"
            "  verify_until INTEGER)"_s,
        },
    };
    return all;
}
