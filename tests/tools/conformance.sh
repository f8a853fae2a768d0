#!/usr/bin/env bash
# The Autobahn|Testsuite (../shared/tools/autobahn/) against Gatehouse's WebSocket path:
# gatehouse-conformance-echo serves /ws through the production gate, I/O thread and stream,
# with an echo (tests/tools/conformanceecho.cpp). Cases 1.*–7.*, 9.*, 10.*.
#
#   conformance.sh check ECHO_BINARY OUTDIR   # CTest (label conformance): fails on any FAILED,
#                                             # CLOSE-FAILED or missing case, or a harness
#                                             # that does not stop cleanly (sanitizers)
#   conformance.sh report                     # docs/conformance.md: a release build of the echo
#                                             # beside the npm ws library's echo, in one run
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
autobahn=${GATEHOUSE_AUTOBAHN_DIR:-$root/../shared/tools/autobahn}
token="conformance-$$-$RANDOM"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

if [ ! -x "$autobahn/run.sh" ]; then
    echo "conformance: no Autobahn suite at $autobahn (set GATEHOUSE_AUTOBAHN_DIR)" >&2
    exit 1
fi

pin=() # a command prefix for the servers and the client (taskset), or nothing

# start_echo BINARY LOG: starts the harness and sets echo_pid and echo_port.
start_echo() {
    "${pin[@]}" "$1" --port 0 --token "$token" >"$2" 2>&1 &
    echo_pid=$!
    pids+=("$echo_pid")
    for _ in $(seq 200); do
        echo_port=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$2")
        [ -n "$echo_port" ] && return 0
        kill -0 "$echo_pid" 2>/dev/null || break
        sleep 0.1
    done
    echo "conformance: the echo did not start:" >&2
    cat "$2" >&2
    exit 2
}

# stop_echo LOG: SIGTERM, then the harness must exit 0 (a sanitizer report makes it fail).
stop_echo() {
    kill -TERM "$echo_pid"
    local status=0
    wait "$echo_pid" || status=$?
    if [ "$status" -ne 0 ]; then
        echo "conformance: the echo exited with status $status:" >&2
        tail -n 50 "$1" >&2
        return 1
    fi
}

# suite URL OUTDIR AGENT HEADERS [CASES]: one run of the suite, its summary on stdout.
suite() {
    AUTOBAHN_AGENT=$3 AUTOBAHN_HEADERS=$4 "${pin[@]}" "$autobahn/run.sh" "$1" "$2" ${5:+"$5"}
}

# both OUTDIR [CASES]: Gatehouse's release echo, then ws's, each through the suite.
both() {
    start_echo "$root/build/release/tests/tools/gatehouse-conformance-echo" "$1/echo.log"
    suite "ws://127.0.0.1:$echo_port/ws" "$1/gatehouse" gatehouse "{\"Authorization\": \"Bearer $token\"}" \
        ${2:+"$2"} | tee "$1/gatehouse.txt" || true
    stop_echo "$1/echo.log"
    # The reference: ws's own echo (as pinned in tests/crosscheck), its fragment limit lifted
    # as ours is (9.3.x and 9.4.x send up to 65 536 fragments).
    local port
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    NODE_PATH=$root/tests/crosscheck/node_modules "${pin[@]}" node "$autobahn/ref/echo-ws.cjs" "$port" 0 \
        >"$1/ws.log" 2>&1 &
    local ws_pid=$!
    pids+=("$ws_pid")
    for _ in $(seq 100); do
        grep -q "echo on" "$1/ws.log" && break
        sleep 0.1
    done
    suite "ws://127.0.0.1:$port" "$1/ws" ws "" ${2:+"$2"} | tee "$1/ws.txt" || true
    kill "$ws_pid"
    wait "$ws_pid" 2>/dev/null || true
}

case "${1:-}" in
check)
    [ $# -eq 3 ] || { echo "usage: conformance.sh check ECHO_BINARY OUTDIR" >&2; exit 2; }
    outdir=$3
    mkdir -p "$outdir"
    start_echo "$2" "$outdir/echo.log"
    status=0
    suite "ws://127.0.0.1:$echo_port/ws" "$outdir/gatehouse" gatehouse \
        "{\"Authorization\": \"Bearer $token\"}" || status=$?
    stop_echo "$outdir/echo.log" || status=1
    exit "$status"
    ;;
report)
    cd "$root"
    cmake --preset release >/dev/null
    cmake --build --preset release --parallel "$(nproc)" --target gatehouse-conformance-echo
    if ! cmp -s tests/crosscheck/package-lock.json tests/crosscheck/node_modules/.gatehouse-installed-lock 2>/dev/null; then
        (cd tests/crosscheck && npm ci --no-audit --no-fund --loglevel=error \
            && cp package-lock.json node_modules/.gatehouse-installed-lock)
    fi
    outdir=$root/build/conformance-report
    rm -rf "$outdir"
    mkdir -p "$outdir/all" "$outdir/pinned"
    both "$outdir/all"
    # 9.7.* and 9.8.* are a thousand round trips each: wake-up latency, which on a small
    # machine depends on where the scheduler puts the client and the server. Once more with
    # everything on one CPU, for a comparison that does not.
    pin=(taskset -c 0)
    both "$outdir/pinned" '["9.7.*","9.8.*"]'
    pin=()
    node tests/tools/conformance-report.mjs "$outdir/all/gatehouse/index.json" "$outdir/all/ws/index.json" \
        "$(sed -n 's/^ws \([0-9.]*\) echo.*/\1/p' "$outdir/all/ws.log")" \
        "$outdir/pinned/gatehouse/index.json" "$outdir/pinned/ws/index.json" >docs/conformance.md
    echo "== wrote docs/conformance.md"
    ;;
*)
    sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
