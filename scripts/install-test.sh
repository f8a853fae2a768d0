#!/usr/bin/env bash
# Installs the two Debian packages on this machine, as root, and runs the server the way its
# systemd unit does, without needing systemd as PID 1 (issue 16, "Tests"):
#   - dpkg -i both; what they install (gatehoused --version, the man pages, the unit, the
#     conffile, the gatehouse system user without a login, /var/lib/gatehouse 0700);
#   - the unit's ExecStartPre and ExecStart as its User= with its Environment=, UMask= and
#     NoNewPrivileges=; /healthz, `gatehoused status`, a user added as README.Debian says;
#     SIGTERM ends the server with status 0;
#   - an edited conffile; dpkg -r keeps the data and the edit; a reinstall keeps the edit
#     without a prompt, and the server started again serves the user added before;
#   - dpkg -P removes the data and the configuration, and keeps the user (postrm's policy).
# Whatever it created is removed again on every exit path, and the machine is checked to be
# as it was. A run killed before that (a CTest timeout) is cleaned up by the next run.
#   install-test.sh [DIR]              the packages in DIR (default build/packages)
#   install-test.sh --cpack BUILD_DIR  BUILD_DIR's own binaries, packaged first (CTest
#                                      test `packaging_install`)
# Exit 77 (CTest's SKIP_RETURN_CODE), with a sentence, where it must not run: not root, or a
# gatehouse package, user, group, data or configuration already there that it did not make.
# Runs one at a time per machine, whichever checkout starts it (flock on $lock_file).
set -euo pipefail
cd "$(dirname "$0")/.."

skip_code=77
lock_file=/run/lock/gatehouse-install-test.lock
# Written once the machine is the test's to change, removed once it is restored: found by a
# later run, it means that run was killed, and what it left is cleaned up first.
state_file=/run/lock/gatehouse-install-test.state
packages=(gatehouse-server gatehouse-console)
data_dir=/var/lib/gatehouse
config_dir=/etc/gatehouse
conffile=$config_dir/gatehouse.json
unit=/lib/systemd/system/gatehoused.service
# What the maintainer scripts have deb-systemd-helper keep for the unit (update-state, mask).
helper_files=(/etc/systemd/system/gatehoused.service
    /var/lib/systemd/deb-systemd-helper-enabled/gatehoused.service.dsh-also
    /var/lib/systemd/deb-systemd-helper-masked/gatehoused.service)
helper_masked_dir=/var/lib/systemd/deb-systemd-helper-masked
username=alice
password="install test: correct horse battery staple"

step() { echo "== $*"; }
fail() {
    echo "install-test: $*" >&2
    exit 1
}
skip() {
    echo "install-test: skipped: $*"
    exit "$skip_code"
}
# indent [FILE]: a command's output, set off from the steps.
indent() { sed 's/^/    /' "$@"; }

# --- the machine as the test found it ---------------------------------------------------------

owned=0     # 1 once the machine is the test's to change (and to restore)
server_pid= # the server this run started, while it runs

# package_status PACKAGE: dpkg's status of it ("installed", "config-files", …), empty if unknown.
package_status() {
    dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true
}

# traces: one line for each thing of gatehouse's on this machine (none before and after a run).
traces() {
    local package status path
    for package in "${packages[@]}"; do
        status="$(package_status "$package")"
        if [ -n "$status" ] && [ "$status" != not-installed ]; then echo "package $package ($status)"; fi
    done
    if getent passwd gatehouse >/dev/null; then echo "user gatehouse"; fi
    if getent group gatehouse >/dev/null; then echo "group gatehouse"; fi
    for path in "$data_dir" "$config_dir" "${helper_files[@]}"; do
        if [ -e "$path" ] || [ -L "$path" ]; then echo "$path"; fi
    done
}

# stop_pid PID: SIGTERM, then SIGKILL after 5 s, for a server left running on a failure.
stop_pid() {
    local deadline=$((SECONDS + 5))
    kill -TERM "$1" 2>/dev/null || return 0
    while kill -0 "$1" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
    kill -KILL "$1" 2>/dev/null || true
}

# restore_machine: removes whatever of gatehouse's is on the machine. Only called when the
# test made all of it (the preconditions below), or when the state file says a killed run did.
restore_machine() {
    local pid present=() package status script
    # The servers started (recorded in the state file by this run or a killed one): only a
    # process that is still gatehoused is stopped, since a recorded pid may be reused.
    if [ -n "$server_pid" ]; then stop_pid "$server_pid"; fi
    if [ -f "$state_file" ]; then
        while read -r pid; do
            if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = gatehoused ]; then stop_pid "$pid"; fi
        done < <(sed -n 's/^server //p' "$state_file")
    fi
    # Anything else still running as the gatehouse user, which the test made (a command of
    # gatehoused's that hangs): userdel refuses a user with processes.
    for pid in $(pgrep -u gatehouse 2>/dev/null || true); do stop_pid "$pid"; done
    for package in "${packages[@]}"; do
        status="$(package_status "$package")"
        if [ -n "$status" ] && [ "$status" != not-installed ]; then present+=("$package"); fi
    done
    if [ ${#present[@]} -gt 0 ] && ! dpkg -P "${present[@]}" </dev/null >"$work/cleanup-dpkg.log" 2>&1; then
        indent "$work/cleanup-dpkg.log" >&2
        # A broken maintainer script would keep the packages here for good: dpkg's last
        # resort, for these two packages only, which this test installed.
        echo "install-test: dpkg -P failed in the cleanup; purging again with the packages' maintainer scripts emptied" >&2
        for package in "${present[@]}"; do
            for script in preinst postinst prerm postrm; do
                if [ -f "/var/lib/dpkg/info/$package.$script" ]; then
                    printf '#!/bin/sh\nexit 0\n' >"/var/lib/dpkg/info/$package.$script"
                fi
            done
        done
        dpkg -P "${present[@]}" </dev/null >"$work/cleanup-dpkg.log" 2>&1 || indent "$work/cleanup-dpkg.log" >&2
    fi
    if getent passwd gatehouse >/dev/null; then userdel gatehouse || true; fi
    if getent group gatehouse >/dev/null; then groupdel gatehouse || true; fi
    rm -rf "$data_dir" "$config_dir"
    rm -f "${helper_files[@]}"
    # deb-systemd-helper's folder of masks, when the run made it (the state file says).
    if grep -qx "absent-before $helper_masked_dir" "$state_file" 2>/dev/null && [ -d "$helper_masked_dir" ]; then
        rmdir --ignore-fail-on-non-empty "$helper_masked_dir"
    fi
    local left
    left="$(traces)"
    if [ -n "$left" ]; then
        echo "install-test: after the cleanup, still on this machine: $(paste -sd ',' <<<"$left")" >&2
        return 1
    fi
    rm -f "$state_file"
}

on_exit() {
    local status=$?
    set +e
    if [ "$owned" = 1 ] && ! restore_machine; then
        echo "install-test: the machine was expected to be as before, it is not (above); the next run retries the cleanup" >&2
        [ "$status" != 0 ] || status=1
    fi
    rm -rf "$work"
    exit "$status"
}

# --- the unit, run as systemd would -------------------------------------------------------

# read_unit: what systemd would do for the installed unit, in as_unit's variables.
read_unit() {
    local user group home shell var
    user="$(unit_values User "$unit" | tail -n 1)"
    group="$(unit_values Group "$unit" | tail -n 1)"
    [ "$user" = gatehouse ] || fail "the unit's User= was expected to be gatehouse, it is '${user:-unset}'."
    home="$(getent passwd "$user" | cut -d: -f6)"
    shell="$(getent passwd "$user" | cut -d: -f7)"
    unit_umask="$(unit_values UMask "$unit" | tail -n 1)"
    setpriv_args=(--reuid="$user" --regid="${group:-$user}" --init-groups)
    if [ "$(unit_values NoNewPrivileges "$unit" | tail -n 1)" = yes ]; then setpriv_args+=(--no-new-privs); fi
    # An empty CapabilityBoundingSet= (the last one counts) drops every capability.
    if grep -q '^CapabilityBoundingSet=' "$unit" && [ -z "$(unit_values CapabilityBoundingSet "$unit" | tail -n 1)" ]; then
        setpriv_args+=(--bounding-set=-all --inh-caps=-all)
    fi
    # systemd's environment for a User= service (systemd.exec(5), "Environment variables in
    # spawned processes"), then the unit's Environment=; the sanitizers' options of a test
    # build come from the caller.
    unit_environment "$unit"
    process_env=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
        HOME="$home" USER="$user" LOGNAME="$user" SHELL="$shell" "${unit_env[@]}")
    for var in ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS; do
        if [ -n "${!var:-}" ]; then process_env+=("$var=${!var}"); fi
    done
}

# as_unit COMMAND...: COMMAND as the unit's User= and Group=, with its environment and UMask=,
# in /, stdin /dev/null. The rest of the sandbox (namespaces, seccomp) needs systemd itself;
# check-packages.sh rates it with systemd-analyze security.
as_unit() {
    (as_unit_exec "$@")
}

# as_unit_exec COMMAND...: as_unit, in place of the (sub)shell it runs in: `as_unit_exec … &`
# makes $! the server itself, for SIGTERM to reach it.
as_unit_exec() {
    cd / && umask "${unit_umask:-0022}" && exec setpriv "${setpriv_args[@]}" env -i "${process_env[@]}" "$@" </dev/null
}

# as_admin ARGS...: gatehoused ARGS as the admin runs it (README.Debian).
as_admin() {
    runuser -u gatehouse -- env GATEHOUSE_DATA_DIR="$data_dir" gatehoused --secret-store file "$@"
}

# start_server LOG [ARGS...]: the unit's ExecStartPre (it must succeed), then its ExecStart
# with ARGS added, in the background (server_pid).
start_server() {
    local log="$1"
    shift
    unit_command ExecStartPre "$unit"
    echo "\$ ${unit_argv[*]}"
    if ! as_unit "${unit_argv[@]}" >"$log.pre" 2>&1; then
        indent "$log.pre" >&2
        fail "ExecStartPre (${unit_argv[*]}) was expected to succeed as the gatehouse user; it failed (above)."
    fi
    indent "$log.pre"
    unit_command ExecStart "$unit"
    # fd 9 (the lock) is not the server's to hold.
    as_unit_exec "${unit_argv[@]}" "$@" >"$log" 2>&1 9>&- &
    server_pid=$!
    echo "server $server_pid" >>"$state_file"
    echo "\$ ${unit_argv[*]} $*   (pid $server_pid)"
}

# await_server LOG PORT: /healthz answers on 127.0.0.1:PORT within 30 s.
await_server() {
    if ! wait_for_healthz "$2" "$server_pid" 30; then
        indent "$1" >&2
        fail "/healthz was expected to answer on 127.0.0.1:$2 within 30 s; it did not (the server's log is above)."
    fi
    echo "/healthz answers on 127.0.0.1:$2"
}

# stop_server: SIGTERM, as `systemctl stop` sends; the server must exit 0 within 15 s.
stop_server() {
    local pid="$server_pid" deadline=$((SECONDS + 15)) status=0
    kill -TERM "$pid"
    while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
        fail "gatehoused was expected to exit within 15 s of SIGTERM; it was still running."
    fi
    wait "$pid" || status=$?
    server_pid=
    [ "$status" = 0 ] || fail "gatehoused was expected to exit with status 0 on SIGTERM; it exited with $status."
    echo "SIGTERM: gatehoused exited with status 0"
}

# check_status PORT: `gatehoused status`, as the gatehouse user, names the running server.
check_status() {
    local out
    if ! out="$(as_admin status 2>&1)" || ! grep -q "^listening *127\.0\.0\.1:$1 " <<<"$out"; then
        fail "gatehoused status (as gatehouse) was expected to name the server on 127.0.0.1:$1; it printed: $out"
    fi
    indent <<<"$out"
}

# log_in PORT: the user added in step 4 logs in at POST /auth/login; sets expires_in.
log_in() {
    local code body
    body="$(printf '{"username":"%s","password":"%s","device":"install-test"}' "$username" "$password")"
    code="$(curl -sS --max-time 10 -o "$work/login.json" -w '%{http_code}' -H 'Content-Type: application/json' \
        --data "$body" "http://127.0.0.1:$1/auth/login" 2>&1)" || true
    if [ "$code" != 200 ]; then
        fail "$username's login at /auth/login was expected to answer 200; it answered '$code' $(head -c 300 "$work/login.json" 2>/dev/null)."
    fi
    expires_in="$(python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); assert d["access_token"]; print(d["expires_in"])' "$work/login.json")"
    echo "$username logs in at /auth/login: 200, an access token for ${expires_in} s"
}

# --- preconditions ----------------------------------------------------------------------------

if [ "$(id -u)" != 0 ]; then
    skip "it installs packages and adds a system user, so it runs as root only (as CI does)."
fi
if ! command -v dpkg >/dev/null; then
    skip "there is no dpkg on this machine to install Debian packages with."
fi
for tool in setpriv runuser curl python3 flock; do
    command -v "$tool" >/dev/null || fail "$tool was expected on this machine; it is missing (scripts/install-deps.sh)."
done

work="$(mktemp -d)"
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
# shellcheck source=scripts/lib/packages.sh
source scripts/lib/packages.sh

step "one install test at a time on this machine ($lock_file)"
exec 9>>"$lock_file"
if ! flock -w 240 9; then
    skip "another install test on this machine held $lock_file for 240 s."
fi

if [ -f "$state_file" ]; then
    step "cleaning up after a run that was killed"
    echo "install-test: $state_file says run $(sed -n 's/^pid //p' "$state_file") ended without restoring the machine; restoring it now"
    restore_machine || fail "what the killed run left could not all be removed (above)."
fi

step "preconditions: nothing of gatehouse's on this machine"
found="$(traces)"
if [ -n "$found" ]; then
    skip "this machine already has $(paste -sd ',' <<<"$found" | sed 's/,/, /g'), which this test did not make and will not touch."
fi
packages_locate "$@"
echo "$(basename "$server_deb") and $(basename "$console_deb")"

# From here on the machine is the test's to change, and on_exit restores it.
printf 'pid %s\n' "$$" >"$state_file"
if [ ! -d "$helper_masked_dir" ]; then echo "absent-before $helper_masked_dir" >>"$state_file"; fi
owned=1

# --- 2. install -------------------------------------------------------------------------------

step "dpkg -i both packages"
if ! dpkg -i "$server_deb" "$console_deb" </dev/null >"$work/install.log" 2>&1; then
    indent "$work/install.log" >&2
    missing="$(sed -n 's/^ *\(gatehouse-[a-z]*\) depends on \(.*\); however:$/\1 needs \2/p' "$work/install.log" \
        | sort -u | paste -sd ',' | sed 's/,/, /g')"
    if [ -n "$missing" ]; then
        fail "dpkg -i was expected to install both packages; dependencies are missing: $missing."
    fi
    fail "dpkg -i was expected to install both packages; it failed (above)."
fi
indent "$work/install.log"

# --- 3. what the packages installed -------------------------------------------------------------

step "what the packages installed"
version="$(dpkg-deb -f "$server_deb" Version)"
upstream="${version#*:}"
upstream="${upstream%-*}"
out="$(/usr/bin/gatehoused --version 2>&1)" || true
[[ "$out" == "gatehoused $upstream"* ]] \
    || fail "/usr/bin/gatehoused --version was expected to print 'gatehoused $upstream …'; it printed '$out'."
echo "$out"
# (Qt's warnings, such as one about XDG_RUNTIME_DIR as root, go to stderr.)
out="$(QT_QPA_PLATFORM=offscreen /usr/bin/gatehouse --version 2>/dev/null)" || true
[[ "$out" == "gatehouse $upstream"* ]] \
    || fail "/usr/bin/gatehouse --version was expected to print 'gatehouse $upstream …'; it printed '$out'."
echo "$out"
for page in gatehoused gatehouse; do
    if command -v man >/dev/null; then
        out="$(man -w "$page" 2>&1)" || true
    else
        out="$(ls /usr/share/man/man1/"$page".1.gz 2>&1)" || true
    fi
    [ "$out" = "/usr/share/man/man1/$page.1.gz" ] \
        || fail "the man page $page(1) was expected at /usr/share/man/man1/$page.1.gz; man -w found '$out'."
done
echo "man pages: gatehoused(1), gatehouse(1)"
[ "$(dpkg -S "$unit" 2>/dev/null)" = "gatehouse-server: $unit" ] \
    || fail "the unit was expected at $unit, from gatehouse-server; dpkg -S says '$(dpkg -S "$unit" 2>&1)'."
echo "unit: $unit"
[ -f "$conffile" ] || fail "the configuration was expected at $conffile; there is no such file."
dpkg-query -W -f='${Conffiles}\n' gatehouse-server | grep -q "^ $conffile " \
    || fail "$conffile was expected to be a conffile of gatehouse-server; dpkg does not list it as one."
echo "conffile: $conffile"
IFS=: read -r _ _ uid _ _ home shell < <(getent passwd gatehouse) \
    || fail "the system user gatehouse was expected after the install; there is none."
[ "$uid" -lt 1000 ] || fail "gatehouse was expected to be a system user (uid below 1000); its uid is $uid."
[ "$shell" = /usr/sbin/nologin ] || fail "gatehouse was expected to have no login shell; its shell is $shell."
[ "$home" = "$data_dir" ] || fail "gatehouse's home was expected to be $data_dir; it is $home."
hash="$(getent shadow gatehouse | cut -d: -f2)"
[[ "$hash" == [\!\*]* ]] || fail "gatehouse was expected to have no usable password; its shadow entry has one."
echo "user: gatehouse, uid $uid, shell $shell, no password"
out="$(stat -c '%a %U:%G' "$data_dir" 2>&1)" || true
[ "$out" = "700 gatehouse:gatehouse" ] \
    || fail "$data_dir was expected to be 0700 gatehouse:gatehouse; it is '$out'."
echo "$data_dir: 0700 gatehouse:gatehouse"

# --- 4. the server, started as the unit does --------------------------------------------------

step "the unit's ExecStartPre and ExecStart, as the gatehouse user"
read_unit
echo "as: setpriv ${setpriv_args[*]}, umask ${unit_umask:-0022}, environment ${unit_env[*]}"
port="$(free_port)"
# The shipped configuration listens on 127.0.0.1:8080, which may be taken here.
start_server "$work/server.log" --listen "127.0.0.1:$port"
await_server "$work/server.log" "$port"
check_status "$port"

step "a user added while the server runs, as README.Debian says"
if ! out="$(printf '%s\n' "$password" | as_admin user add "$username" --password-stdin 2>&1)"; then
    fail "gatehoused user add $username (as gatehouse) was expected to succeed; it printed: $out"
fi
echo "$out"
log_in "$port"
stop_server

# --- 5. remove, keep, reinstall -----------------------------------------------------------------

step "an edited conffile"
port="$(free_port)"
# The admin's edits: another port (the server is then started exactly as ExecStart says) and
# a shorter access token lifetime, which the login's expires_in shows to be in force.
python3 - "$conffile" "$port" <<'EOF'
import json, sys
path, port = sys.argv[1], sys.argv[2]
with open(path) as f:
    config = json.load(f)
config["listen"] = f"127.0.0.1:{port}"
config["access_token_ttl"] = 3600
with open(path, "w") as f:
    json.dump(config, f, indent=2)
    f.write("\n")
EOF
edited="$(sha256sum "$conffile")"
echo "listen 127.0.0.1:$port, access_token_ttl 3600"

step "dpkg -r gatehouse-server keeps the data and the configuration"
if ! dpkg -r gatehouse-server </dev/null >"$work/remove.log" 2>&1; then
    indent "$work/remove.log" >&2
    fail "dpkg -r gatehouse-server was expected to succeed; it failed (above)."
fi
status="$(package_status gatehouse-server)"
[ "$status" = config-files ] || fail "after dpkg -r, gatehouse-server was expected in state config-files; it is '$status'."
[ ! -e /usr/bin/gatehoused ] || fail "after dpkg -r, /usr/bin/gatehoused was expected gone; it is still there."
[ ! -e "$unit" ] || fail "after dpkg -r, $unit was expected gone; it is still there."
[ -f "$data_dir/gatehouse.sqlite" ] \
    || fail "after dpkg -r, $data_dir/gatehouse.sqlite was expected to be kept; it holds: $(find "$data_dir" -mindepth 1 -maxdepth 1 -printf '%f ' 2>&1)"
[ "$(sha256sum "$conffile" 2>&1)" = "$edited" ] \
    || fail "after dpkg -r, the edited $conffile was expected to be kept as it was; it is gone or changed."
getent passwd gatehouse >/dev/null || fail "after dpkg -r, the gatehouse user was expected to be kept; it is gone."
echo "kept: $data_dir/gatehouse.sqlite, the edited $conffile, the gatehouse user; gone: the binary and the unit"

step "dpkg -i again: the edited conffile kept without a prompt, the data found"
# stdin is /dev/null: a conffile prompt would fail the install rather than wait.
if ! dpkg -i "$server_deb" </dev/null >"$work/reinstall.log" 2>&1; then
    indent "$work/reinstall.log" >&2
    fail "dpkg -i gatehouse-server again was expected to succeed without a prompt; it failed (above)."
fi
if grep -q "Configuration file '$conffile'" "$work/reinstall.log"; then
    indent "$work/reinstall.log" >&2
    fail "the reinstall was expected to keep the edited $conffile silently; dpkg asked about it (above)."
fi
indent "$work/reinstall.log"
[ "$(sha256sum "$conffile" 2>&1)" = "$edited" ] \
    || fail "after the reinstall, the edited $conffile was expected to be kept; it is gone or replaced."
out="$(stat -c '%a %U:%G' "$data_dir" 2>&1)" || true
[ "$out" = "700 gatehouse:gatehouse" ] \
    || fail "after the reinstall, $data_dir was expected to be 0700 gatehouse:gatehouse; it is '$out'."
echo "the edited $conffile kept, $data_dir 0700 gatehouse:gatehouse"
read_unit
start_server "$work/server-again.log"
await_server "$work/server-again.log" "$port"
check_status "$port"
log_in "$port"
[ "$expires_in" = 3600 ] \
    || fail "the edited access_token_ttl (3600) was expected in force; the login's token lives $expires_in s."
if ! out="$(as_admin user list 2>&1)" || ! grep -q "^$username " <<<"$out"; then
    fail "gatehoused user list was expected to list $username after the reinstall; it printed: $out"
fi
indent <<<"$out"
if ! out="$(as_admin audit verify 2>&1)"; then
    fail "gatehoused audit verify was expected to succeed on the kept data; it printed: $out"
fi
indent <<<"$out"
stop_server

# --- 6. purge ---------------------------------------------------------------------------------

step "dpkg -P both packages removes the data and the configuration"
if ! dpkg -P "${packages[@]}" </dev/null >"$work/purge.log" 2>&1; then
    indent "$work/purge.log" >&2
    fail "dpkg -P ${packages[*]} was expected to succeed; it failed (above)."
fi
for package in "${packages[@]}"; do
    status="$(package_status "$package")"
    [ -z "$status" ] || [ "$status" = not-installed ] \
        || fail "after dpkg -P, $package was expected to be gone from dpkg's database; it is '$status'."
done
for path in "$data_dir" "$config_dir" "${helper_files[@]}"; do
    if [ -e "$path" ] || [ -L "$path" ]; then
        fail "after dpkg -P, $path was expected gone; it is still there."
    fi
done
echo "gone: both packages, $data_dir, $config_dir, the unit's state in deb-systemd-helper"
# postrm and README.Debian: the user stays (files it owned may remain elsewhere), as is usual.
getent passwd gatehouse >/dev/null \
    || fail "after dpkg -P, the gatehouse user was expected to be kept (postrm, README.Debian); it is gone."
echo "kept, as postrm and README.Debian say: the gatehouse user"

# --- 7. the machine as before -------------------------------------------------------------------

step "the machine as before: the gatehouse user and group this test made, removed"
restore_machine || fail "the machine was expected to be as before; it is not (above)."
owned=0
echo "nothing of gatehouse's is left: no package, user, group, $data_dir or $config_dir"
echo "install-test: passed"
