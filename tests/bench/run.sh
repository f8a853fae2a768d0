#!/usr/bin/env bash
# The Gatehouse benchmark: the same scenarios against Gatehouse and against the seed's own
# Node example server (ws + jsonwebtoken), side by side, in one run, measured from outside by
# a compiled load client. Writes docs/performance.md (with this machine's numbers) and the raw
# results to build/bench/results.jsonl.
#
#   bash tests/bench/run.sh                  # N = 10000
#   CONNECTIONS=2000 bash tests/bench/run.sh # a quicker look
#   PHASES=console bash tests/bench/run.sh   # only the console phases (embedded, attached):
#                                            # results to build/bench/results-console.jsonl,
#                                            # docs/ left as they are
#
# Not part of CTest: speed is measured here, never asserted in a unit test.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

connections=${CONNECTIONS:-10000}
repeats=${REPEATS:-20} # revoke-to-closed repeats, each a user with 10 devices
gatehouse_port=${GATEHOUSE_PORT:-18480}
peer_port=${PEER_PORT:-18481}
secret='the benchmark shared secret, 32+ bytes long'
phases=${PHASES:-all} # all, or console
case $phases in all | console) ;; *) echo "PHASES is all or console, not $phases" >&2; exit 2 ;; esac

bash scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --parallel "$(nproc)" --target gatehoused gatehouse-loadclient gatehouse-consolebench
[ "$phases" = console ] || (cd tests/bench/seed-peer && npm ci --no-audit --no-fund --loglevel=error)

gatehoused=$root/build/release/app/gatehoused
loadclient=$root/build/release/tests/bench/gatehouse-loadclient
consolebench=$root/build/release/tests/tools/gatehouse-consolebench
out=$root/build/bench
work=$(mktemp -d)
mkdir -p "$out"
results=$out/results.jsonl
[ "$phases" = console ] && results=$out/results-console.jsonl
: >"$results"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

wait_for_port() {
    for _ in $(seq 200); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
        sleep 0.05
    done
    echo "nothing listens on port $1" >&2
    return 1
}

echo "== preparing data ($connections connections, $repeats revoke repeats)"
data=$work/data
mkdir -p "$data"
cat >"$data/gatehouse.json" <<EOF
{
  "listen": "127.0.0.1:$gatehouse_port",
  "secret_store": "file",
  "access_token_ttl": 3600,
  "max_connections": 30000,
  "max_connections_per_user": 1000,
  "handshake_rate_per_ip": 1000000,
  "login_rate_per_ip": 100000,
  "handshake_rate_per_user": 1000000,
  "max_http_connections_per_address": 1000,
  "trusted_issuers": [{ "issuer": "https://bench.example", "audience": "realtime", "typ": "JWT",
                        "algorithm": "HS256", "shared_secret": "$secret" }]
}
EOF
gh() { "$gatehoused" "$@" --data-dir "$data"; }
users=$(((connections + 99) / 100)) # 10 devices × 10 tabs each
for u in $(seq "$users"); do echo "benchmark password" | gh user add "u$u" --password-stdin >/dev/null; done
for r in $(seq "$repeats"); do echo "benchmark password" | gh user add "rv$r" --password-stdin >/dev/null; done
# Default tokens (EdDSA): one session per device, shared by its 10 tabs.
for u in $(seq "$users"); do gh token mint --user "u$u" --device d --count 10 --ttl 3600; done >"$work/eddsa.tokens"
for r in $(seq "$repeats"); do
    gh token mint --user "rv$r" --device d --count 10 --ttl 3600 | sed "s/^/rv$r /"
done >"$work/eddsa-revoke.tokens"
if [ "$phases" = all ]; then
    # HS256 tokens as jsonwebtoken makes them, the same for both servers: every connection its own.
    node tests/bench/seed-peer/tokens.js "$secret" "$connections" 1 h | cut -d' ' -f2 >"$work/hs256.tokens"
    # The same tokens, forged: the signature's last character changed (to another canonical one).
    sed -E 's/A$/E/; t; s/.$/A/' "$work/hs256.tokens" >"$work/forged.tokens"
    # (other names than the EdDSA run's revoke users: revoke-before outlives the server restart)
    node tests/bench/seed-peer/tokens.js "$secret" "$repeats" 10 xr >"$work/hs256-revoke.tokens"
fi
admin=$(gh admin-token show)

request() { # METHOD PATH [ADMIN-TOKEN [BODY]]: one HTTP request, \r\n written as text
    local auth="" body=${4:-}
    [ -n "${3:-}" ] && auth="Authorization: Bearer $3\\r\\n"
    printf '%s %s HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\n%sContent-Type: application/json\\r\\nContent-Length: %s\\r\\nConnection: close\\r\\n\\r\\n%s' \
        "$1" "$2" "$auth" "${#body}" "$body"
}

start_gatehouse() {
    "$gatehoused" serve --data-dir "$data" >"$work/gatehoused.log" 2>&1 &
    server_pid=$!
    pids+=("$server_pid")
    wait_for_port "$gatehouse_port"
}
stop_server() {
    kill "$server_pid"
    wait "$server_pid" 2>/dev/null || true
}
broadcast_body='{"payload":"hello everyone"}'

# The server phases (not indented, to keep their history readable); PHASES=console skips them.
if [ "$phases" = all ]; then
echo "== Gatehouse, HS256 tokens from a trusted issuer (every token distinct); then broadcasts without and with 16 inspectors"
start_gatehouse
rm -f "$work/inspect.ready" "$work/inspect.ready.waiting"
# An admin feed open throughout; it inspects 16 connections when the load client asks.
ADMIN_TOKEN=$admin node tests/bench/inspect-feed.mjs --port "$gatehouse_port" --count 16 \
    --ready "$work/inspect.ready" --label gatehouse-hs256 >"$work/inspect.out" 2>"$work/inspect.log" &
inspect_pid=$!
pids+=("$inspect_pid")
"$loadclient" --label gatehouse-hs256 --port "$gatehouse_port" --server-pid "$server_pid" \
    --path '/ws?access_token={token}' --tokens "$work/hs256.tokens" --connections "$connections" \
    --revoke-tokens "$work/hs256-revoke.tokens" \
    --revoke-request "$(request POST '/admin/users/{user}/revoke-before?issuer=https%3A%2F%2Fbench.example' "$admin")" \
    --broadcast-request "$(request POST /admin/broadcast "$admin" "$broadcast_body")" \
    --inspect-ready "$work/inspect.ready" | tee -a "$results"
kill "$inspect_pid" 2>/dev/null || true
wait "$inspect_pid" 2>/dev/null || true
tee -a "$results" <"$work/inspect.out"
echo "== Gatehouse, the same HS256 tokens with forged signatures: every handshake refused"
"$loadclient" --label gatehouse-forged --port "$gatehouse_port" --server-pid "$server_pid" \
    --path '/ws?access_token={token}' --tokens "$work/forged.tokens" --connections "$connections" \
    --expect-refusals 1 | tee -a "$results"
stop_server

echo "== the seed's Node server (ws + jsonwebtoken), the same HS256 tokens"
PORT=$peer_port SECRET=$secret node tests/bench/seed-peer/server.js >"$work/peer.log" 2>&1 &
server_pid=$!
pids+=("$server_pid")
wait_for_port "$peer_port"
"$loadclient" --label seed-node --port "$peer_port" --server-pid "$server_pid" \
    --path '/?token={token}' --tokens "$work/hs256.tokens" --connections "$connections" \
    --revoke-tokens "$work/hs256-revoke.tokens" --revoke-request "$(request POST '/revoke?user={user}')" \
    --broadcast-request "$(request POST /broadcast)" | tee -a "$results"
stop_server

# Over TLS, the same number of connections: a WSS connection holds one descriptor, as a WS one.
tls_connections=$connections
echo "== over TLS: Gatehouse and the seed's Node peer (https.createServer + ws), one P-256 certificate, the same HS256 tokens, $tls_connections connections"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 7 -subj /CN=localhost \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$work/tls.key" -out "$work/tls.pem" 2>/dev/null
"$gatehoused" serve --data-dir "$data" --tls-cert "$work/tls.pem" --tls-key "$work/tls.key" >"$work/gatehoused-tls.log" 2>&1 &
server_pid=$!
pids+=("$server_pid")
wait_for_port "$gatehouse_port"
"$loadclient" --label gatehouse-wss --tls 1 --port "$gatehouse_port" --server-pid "$server_pid" \
    --path '/ws?access_token={token}' --tokens "$work/hs256.tokens" --connections "$tls_connections" | tee -a "$results"
stop_server
PORT=$peer_port SECRET=$secret TLS_CERT=$work/tls.pem TLS_KEY=$work/tls.key node tests/bench/seed-peer/server.js \
    >"$work/peer-tls.log" 2>&1 &
server_pid=$!
pids+=("$server_pid")
wait_for_port "$peer_port"
"$loadclient" --label seed-node-wss --tls 1 --port "$peer_port" --server-pid "$server_pid" \
    --path '/?token={token}' --tokens "$work/hs256.tokens" --connections "$tls_connections" | tee -a "$results"
stop_server

echo "== Gatehouse, its own EdDSA tokens (a session per device, 10 tabs each), console-style snapshots running"
start_gatehouse
hold_ms=15000
"$loadclient" --label gatehouse-eddsa --port "$gatehouse_port" --server-pid "$server_pid" \
    --path '/ws?access_token={token}' --tokens "$work/eddsa.tokens" --connections "$connections" \
    --revoke-tokens "$work/eddsa-revoke.tokens" \
    --revoke-request "$(request POST '/admin/users/{user}/revoke' "$admin")" \
    --broadcast-request "$(request POST /admin/broadcast "$admin" "$broadcast_body")" \
    --hold-ms "$hold_ms" | tee -a "$results" &
client_pid=$!
# While everything is held open, take the full connection list twice a second, as the
# console's snapshots do (the same ConnectionHub path), and time each one.
# (from the end of the broadcast scenario: revocation is measured on its own)
until grep -q '"scenario":"broadcast","label":"gatehouse-eddsa"' "$results" || ! kill -0 "$client_pid" 2>/dev/null; do
    sleep 0.2
done
snapshots=()
while kill -0 "$client_pid" 2>/dev/null; do
    snapshots+=("$(curl -s -o /dev/null -w '%{time_total}' -H "Authorization: Bearer $admin" \
        "http://127.0.0.1:$gatehouse_port/admin/connections")")
    sleep 0.5
done
wait "$client_pid"
printf '%s\n' "${snapshots[@]}" | node -e '
const times = require("fs").readFileSync(0, "utf8").trim().split("\n").map(Number).filter((t) => t > 0).sort((a, b) => a - b);
const pick = (f) => times.length ? 1000 * times[Math.min(times.length - 1, Math.round(f * (times.length - 1)))] : 0;
console.log(JSON.stringify({ scenario: "snapshots", label: "gatehouse-eddsa", count: times.length,
  p50_ms: +pick(0.5).toFixed(3), max_ms: +pick(1).toFixed(3) }));' | tee -a "$results"
stop_server

echo "== Gatehouse under a burst: revoke-to-closed with 40 logins and 300 refreshes in flight"
for r in $(seq "$repeats"); do
    gh token mint --user "rv$r" --device loaded --count 10 --ttl 3600 | sed "s/^/rv$r /"
done >"$work/loaded-revoke.tokens"
start_gatehouse
node tests/bench/background-load.mjs --port "$gatehouse_port" --users "$users" --logins 40 --refreshes 300 \
    --ready "$work/load.ready" --label gatehouse-loaded >"$work/load.out" 2>"$work/load.log" &
load_pid=$!
pids+=("$load_pid")
until [ -f "$work/load.ready" ] || ! kill -0 "$load_pid" 2>/dev/null; do sleep 0.2; done
sleep 2 # the loops are up to speed
"$loadclient" --label gatehouse-loaded --port "$gatehouse_port" --server-pid "$server_pid" \
    --path '/ws?access_token={token}' --tokens "$work/eddsa.tokens" --connections 1000 \
    --revoke-tokens "$work/loaded-revoke.tokens" \
    --revoke-request "$(request POST '/admin/users/{user}/revoke' "$admin")" | tee -a "$results"
kill -TERM "$load_pid"
wait "$load_pid" 2>/dev/null || true
tee -a "$results" <"$work/load.out"
stop_server
fi # the server phases

echo "== the console: its real window (offscreen, one user's tree open) and embedded server, the EdDSA load"
# The first revoke users' sessions were revoked above: new sessions for this run's revocations.
for r in $(seq "$repeats"); do
    gh token mint --user "rv$r" --device console --count 10 --ttl 3600 | sed "s/^/rv$r /"
done >"$work/console-revoke.tokens"
QT_QPA_PLATFORM=offscreen "$consolebench" --data-dir "$data" --label console --select-user u1 \
    >"$work/console.out" 2>"$work/console.log" &
server_pid=$!
pids+=("$server_pid")
wait_for_port "$gatehouse_port"
"$loadclient" --label console-eddsa --port "$gatehouse_port" --server-pid "$server_pid" \
    --path '/ws?access_token={token}' --tokens "$work/eddsa.tokens" --connections "$connections" \
    --revoke-tokens "$work/console-revoke.tokens" \
    --revoke-request "$(request POST '/admin/users/{user}/revoke' "$admin")" \
    --broadcast-request "$(request POST /admin/broadcast "$admin" "$broadcast_body")" \
    --hold-ms 10000 | tee -a "$results"
kill -TERM "$server_pid"
wait "$server_pid" 2>/dev/null || true
tee -a "$results" <"$work/console.out"

echo "== the console attached: the same window on a RemoteServer, gatehoused in another process, the EdDSA load"
# The embedded run revoked the revoke users' sessions again: new ones. The console watches with
# a viewer token, over the admin feed; it is up (first snapshot shown) before the load starts.
for r in $(seq "$repeats"); do
    gh token mint --user "rv$r" --device console-remote --count 10 --ttl 3600 | sed "s/^/rv$r /"
done >"$work/remote-revoke.tokens"
viewer=$(gh admin-token add consolebench --scope viewer)
start_gatehouse
printf '%s\n' "$viewer" | QT_QPA_PLATFORM=offscreen "$consolebench" --connect "http://127.0.0.1:$gatehouse_port" \
    --admin-token-stdin --ready-file "$work/remote.ready" --label console-remote --select-user u1 \
    >"$work/console-remote.out" 2>"$work/console-remote.log" &
console_pid=$!
pids+=("$console_pid")
until [ -f "$work/remote.ready" ] || ! kill -0 "$console_pid" 2>/dev/null; do sleep 0.1; done
[ -f "$work/remote.ready" ] || { cat "$work/console-remote.log" >&2; exit 1; }
"$loadclient" --label console-remote-eddsa --port "$gatehouse_port" --server-pid "$server_pid" \
    --path '/ws?access_token={token}' --tokens "$work/eddsa.tokens" --connections "$connections" \
    --revoke-tokens "$work/remote-revoke.tokens" \
    --revoke-request "$(request POST '/admin/users/{user}/revoke' "$admin")" \
    --broadcast-request "$(request POST /admin/broadcast "$admin" "$broadcast_body")" \
    --hold-ms 10000 | tee -a "$results"
kill -TERM "$console_pid"
wait "$console_pid" 2>/dev/null || true
tee -a "$results" <"$work/console-remote.out"
stop_server

if [ "$phases" = console ]; then
    echo "== wrote $results (docs/ untouched: PHASES=console)"
    exit 0
fi

echo "== Gatehouse, $connections idle connections: a quiet hold, then a hold pinged every 5 s"
# Its own config file: pings an hour apart for the quiet hold; the admin API then lowers them,
# as an operator would. Last of the Gatehouse runs: limits set live are kept in the data.
node -e 'const c = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
console.log(JSON.stringify({ ...c, ping_interval: 3600, pong_timeout: 20 }, null, 2));' "$data/gatehouse.json" \
    >"$work/pings.json"
"$gatehoused" serve --data-dir "$data" --config "$work/pings.json" >"$work/gatehoused-pings.log" 2>&1 &
server_pid=$!
pids+=("$server_pid")
wait_for_port "$gatehouse_port"
"$loadclient" --label gatehouse-pings --port "$gatehouse_port" --server-pid "$server_pid" \
    --path '/ws?access_token={token}' --tokens "$work/eddsa.tokens" --connections "$connections" \
    --ping-hold-ms "${PING_HOLD_MS:-60000}" \
    --ping-request "$(request PUT /admin/limits "$admin" '{"ping_interval": 5, "pong_timeout": 5}')" |
    tee -a "$results"
stop_server

echo "== one Ed25519 verification on this machine (openssl speed)"
openssl speed -seconds 3 ed25519 2>/dev/null | awk '/EdDSA \(Ed25519\)/ { print }' | tail -1 |
    node -e '
const line = require("fs").readFileSync(0, "utf8").trim().split(/\s+/);
// "253 bits EdDSA (Ed25519)  sign/s verify/s ... ": the last four numbers are sign s, verify s, sign/s, verify/s
const numbers = line.map(Number).filter((n) => !Number.isNaN(n));
const verifyPerSecond = numbers[numbers.length - 1];
console.log(JSON.stringify({ scenario: "openssl", label: "ed25519", verify_ms: +(1000 / verifyPerSecond).toFixed(4) }));' |
    tee -a "$results"

node tests/bench/report.mjs "$results" "$connections" >docs/performance.md
if [ "$connections" -eq 10000 ]; then
    node tests/bench/summary.mjs "$results" "$(date -u '+%Y-%m-%d %H:%M')" >>docs/performance-runs.md
fi
echo "== wrote docs/performance.md (and a line in docs/performance-runs.md)"
