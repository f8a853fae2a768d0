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
        // 2: sessions with their refresh-token families, revocations, and the audit chain.
        {
            u"CREATE TABLE sessions ("
            "  id TEXT PRIMARY KEY,"
            "  username TEXT NOT NULL COLLATE NOCASE,"
            "  device_id TEXT NOT NULL,"
            "  user_agent TEXT NOT NULL DEFAULT '',"
            "  remote_address TEXT NOT NULL DEFAULT '',"
            "  created_at INTEGER NOT NULL,"
            "  last_refresh_at INTEGER NOT NULL,"
            "  absolute_expires_at INTEGER NOT NULL,"
            "  revoked_at INTEGER,"
            "  revoke_reason TEXT)"_s,
            u"CREATE INDEX sessions_by_user ON sessions(username, device_id)"_s,
            u"CREATE TABLE refresh_tokens ("
            "  token_hash TEXT PRIMARY KEY,"
            "  session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,"
            "  generation INTEGER NOT NULL,"
            "  issued_at INTEGER NOT NULL,"
            "  expires_at INTEGER NOT NULL,"
            "  used_at INTEGER)"_s,
            u"CREATE INDEX refresh_tokens_by_session ON refresh_tokens(session_id)"_s,
            u"CREATE TABLE revoked_access_tokens ("
            "  jti TEXT PRIMARY KEY,"
            "  expires_at INTEGER NOT NULL)"_s,
            u"CREATE TABLE tokens_revoked_before ("
            "  username TEXT PRIMARY KEY COLLATE NOCASE,"
            "  revoked_before INTEGER NOT NULL)"_s,
            u"CREATE TABLE audit_events ("
            "  id INTEGER PRIMARY KEY,"
            "  at_ms INTEGER NOT NULL,"
            "  type TEXT NOT NULL,"
            "  actor TEXT NOT NULL,"
            "  username TEXT NOT NULL DEFAULT '',"
            "  device_id TEXT NOT NULL DEFAULT '',"
            "  session_id TEXT NOT NULL DEFAULT '',"
            "  remote_address TEXT NOT NULL DEFAULT '',"
            "  detail TEXT NOT NULL DEFAULT '{}',"
            "  previous_hash TEXT NOT NULL,"
            "  hash TEXT NOT NULL)"_s,
            u"CREATE INDEX audit_events_by_user ON audit_events(username)"_s,
            // The chain is append-only: the database itself refuses edits and deletions, so
            // tampering needs a deliberate bypass, and `audit verify` still finds it.
            u"CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
            "BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END"_s,
            u"CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events "
            "BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END"_s,
        },
        // 3: the expiry of each session's newest access token, for the console's countdowns.
        {
            u"ALTER TABLE sessions ADD COLUMN access_expires_at INTEGER NOT NULL DEFAULT 0"_s,
        },
        // 4: relying parties for the authorization code flow and single logout.
        {
            u"CREATE TABLE oidc_clients ("
            "  id TEXT PRIMARY KEY,"
            "  redirect_uris TEXT NOT NULL,"
            "  backchannel_logout_uri TEXT NOT NULL DEFAULT '',"
            "  frontchannel_logout_uri TEXT NOT NULL DEFAULT '',"
            "  created_at INTEGER NOT NULL)"_s,
        },
        // 5: single login identification (SLI) and authorization codes; a session knows the
        //    login it was opened under and the client it serves.
        {
            u"ALTER TABLE sessions ADD COLUMN login_id TEXT NOT NULL DEFAULT ''"_s,
            u"ALTER TABLE sessions ADD COLUMN client_id TEXT NOT NULL DEFAULT ''"_s,
            u"CREATE INDEX sessions_by_login ON sessions(login_id)"_s,
            u"CREATE TABLE single_logins ("
            "  id TEXT PRIMARY KEY,"
            "  cookie_hash TEXT NOT NULL UNIQUE,"
            "  username TEXT NOT NULL COLLATE NOCASE,"
            "  device_id TEXT NOT NULL,"
            "  authenticated_at INTEGER NOT NULL,"
            "  expires_at INTEGER NOT NULL,"
            "  access_expires_at INTEGER NOT NULL,"
            "  ended_at INTEGER)"_s,
            u"CREATE INDEX single_logins_by_user ON single_logins(username)"_s,
            u"CREATE TABLE authorization_codes ("
            "  code_hash TEXT PRIMARY KEY,"
            "  client_id TEXT NOT NULL,"
            "  redirect_uri TEXT NOT NULL,"
            "  code_challenge TEXT NOT NULL,"
            "  nonce TEXT NOT NULL DEFAULT '',"
            "  login_id TEXT NOT NULL,"
            "  expires_at INTEGER NOT NULL,"
            "  used_at INTEGER,"
            "  session_id TEXT NOT NULL DEFAULT '')"_s,
        },
        // 6: "issued before" cut-offs of external issuers' users, apart from ours: such a user is
        //    an issuer and a subject, and a subject is case-sensitive (RFC 7519 §4.1.2).
        {
            u"CREATE TABLE external_tokens_revoked_before ("
            "  issuer TEXT NOT NULL,"
            "  subject TEXT NOT NULL,"
            "  revoked_before INTEGER NOT NULL,"
            "  PRIMARY KEY (issuer, subject))"_s,
        },
        // 7: a session's live refresh token without reading its used ones. Every rotation keeps
        //    the used token (for reuse detection), so a busy session has hundreds, and reading a
        //    batch of sessions for the console read them all (17 ms for 450 sessions).
        {
            u"CREATE INDEX refresh_tokens_live ON refresh_tokens(session_id, expires_at) WHERE used_at IS NULL"_s,
        },
        // 8: named admin tokens with a scope; only each token's SHA-256 is kept. The built-in
        //    full token "admin" (the one in the secret store) is added by the server at start.
        {
            u"CREATE TABLE admin_tokens ("
            "  name TEXT PRIMARY KEY,"
            "  scope TEXT NOT NULL CHECK (scope IN ('viewer', 'operator', 'full')),"
            "  token_hash BLOB NOT NULL UNIQUE,"
            "  created_at INTEGER NOT NULL)"_s,
        },
        // 9: what the command line changed in the store, for a running server to act on (it
        //    acts on its own changes as it makes them): an outbox read in order of seq.
        {
            u"CREATE TABLE store_changes ("
            "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
            "  kind TEXT NOT NULL CHECK (kind IN ('user', 'keys')),"
            "  subject TEXT NOT NULL DEFAULT '',"
            "  password INTEGER NOT NULL DEFAULT 0,"
            "  actor TEXT NOT NULL,"
            "  at INTEGER NOT NULL)"_s,
        },
    };
    return all;
}
