#!/usr/bin/env bash
# Checks the two Debian packages in DIR (default build/packages) the way CI does: lintian
# (errors fail, warnings are printed), desktop-file-validate, appstreamcli validate,
# systemd-analyze verify and security on the unit, and the shipped config file starting the
# server exactly as the unit's ExecStart does.
#   --cpack BUILD_DIR   first package BUILD_DIR's own binaries into a temporary DIR (the CTest
#                       test `packaging`: the same install rules and checks, the build CI has)
set -euo pipefail
cd "$(dirname "$0")/.."

work="$(mktemp -d)"
server_pid=
cleanup() {
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

# shellcheck source=scripts/lib/packages.sh
source scripts/lib/packages.sh
packages_locate "$@"
failed=0
step() { echo "== $*"; }

step "lintian"
# Not a Debian upload: no source package, a maintainer who is not in Debian's keyring.
if ! lintian --fail-on error --suppress-tags-from-file packaging/lintian-overrides.txt \
    "$server_deb" "$console_deb"; then
    failed=1
fi

dpkg-deb -x "$server_deb" "$work/server"
dpkg-deb -x "$console_deb" "$work/console"

step "desktop-file-validate"
desktop-file-validate "$work"/console/usr/share/applications/*.desktop || failed=1

step "appstreamcli validate"
# --no-net: the screenshots' URLs are not fetched (no network on CI).
appstreamcli validate --no-net --pedantic --explain "$work"/console/usr/share/metainfo/*.metainfo.xml || failed=1

step "systemd-analyze verify"
unit="$work/server/lib/systemd/system/gatehoused.service"
# The unit names /usr/bin/gatehoused: verify it against the unpacked package as the root,
# with this system's units beside it (the targets it is ordered after). --man=no: the man
# page it names is in the package, not yet installed here.
# ExecReload's /bin/kill (procps) likewise.
cp -rn /lib/systemd/system/. "$work/server/lib/systemd/system/"
mkdir -p "$work/server/bin" && cp /bin/kill "$work/server/bin/"
verify_output="$(systemd-analyze verify --man=no --root="$work/server" "$unit" 2>&1)" || failed=1
if [ -n "$verify_output" ]; then
    echo "$verify_output"
    failed=1
fi

step "systemd-analyze security"
score="$(systemd-analyze security --offline=yes --root="$work/server" "$unit" 2>&1 | tail -n 1)"
echo "$score"
# "Overall exposure level for gatehoused.service: 1.8 OK": fail above 2.0 (the start of MEDIUM is 4).
exposure="$(sed -n 's/.*level for [^:]*: \([0-9.]*\).*/\1/p' <<<"$score")"
if [ -z "$exposure" ] || awk -v e="$exposure" 'BEGIN { exit !(e > 2.0) }'; then
    echo "check-packages: the unit's exposure is ${exposure:-unknown}, more than 2.0" >&2
    failed=1
fi

step "the shipped config file, with the unit's ExecStart"
config="$work/server/etc/gatehouse/gatehouse.json"
unit_command ExecStart "$unit"
unit_environment "$unit"
argv=("${unit_argv[@]}")
[ "${argv[0]}" = /usr/bin/gatehoused ] || { echo "unexpected ExecStart: ${argv[*]}" >&2; exit 1; }
argv[0]="$work/server/usr/bin/gatehoused"
for i in "${!argv[@]}"; do
    [ "${argv[$i]}" = /etc/gatehouse/gatehouse.json ] && argv[i]="$config"
done
port="$(free_port)"
mkdir -m 0700 "$work/data"
# The unit's Environment=, with the data directory moved into $work.
env "${unit_env[@]}" GATEHOUSE_DATA_DIR="$work/data" "${argv[@]}" --listen "127.0.0.1:$port" \
    >"$work/server.log" 2>&1 &
server_pid=$!
healthy=0
wait_for_healthz "$port" "$server_pid" && healthy=1
if [ "$healthy" = 1 ]; then
    echo "gatehoused serve with the packaged config: /healthz answers on 127.0.0.1:$port"
    "${argv[0]}" --version
else
    echo "check-packages: gatehoused did not start with the packaged config:" >&2
    cat "$work/server.log" >&2
    failed=1
fi

if [ "$failed" != 0 ]; then
    echo "check-packages: FAILED" >&2
    exit 1
fi
echo "check-packages: $(basename "$server_deb") and $(basename "$console_deb") are clean"
