#!/usr/bin/env bash
# Runs a command with a real Secret Service: a private D-Bus session bus and a gnome-keyring
# daemon whose login keyring is created and unlocked with a throw-away password, in a
# throw-away home. Nothing touches the user's own keyring.
#
# The daemons get /dev/null for output, so that none of them holds the caller's pipes open
# (CTest waits for every holder); only the command writes to the real stdout and stderr,
# through descriptors 3 and 4.
set -euo pipefail

if [ "${GATEHOUSE_INSIDE_SECRET_SERVICE:-}" != 1 ]; then
    home=$(mktemp -d)
    trap 'rm -rf "$home"' EXIT
    mkdir -p "$home/run" && chmod 700 "$home/run"
    status=0
    HOME="$home" XDG_DATA_HOME="$home/.local/share" XDG_RUNTIME_DIR="$home/run" \
        GATEHOUSE_INSIDE_SECRET_SERVICE=1 dbus-run-session -- "$0" "$@" 3>&1 4>&2 >/dev/null 2>&1 || status=$?
    exit $status
fi

# --unlock reads the password from stdin and creates the login keyring if there is none.
environment=$(printf 'gatehouse-test' | gnome-keyring-daemon --unlock --components=secrets 2>/dev/null)
eval "$environment"
export GNOME_KEYRING_CONTROL
status=0
"$@" 1>&3 2>&4 3>&- 4>&- || status=$?
# Never `kill 0`: with no pid that would signal our whole process group (CTest included).
# Without a pid, only our own daemon: the one whose runtime directory is ours. (Every daemon
# of this user, as before, also killed those of tests running beside this one: their clients'
# next call then met a fresh daemon that knew none of their sessions.)
if [ -n "${GNOME_KEYRING_PID:-}" ]; then
    kill "$GNOME_KEYRING_PID" 2>/dev/null || true
else
    for pid in $(pgrep -u "$(id -u)" -f "gnome-keyring-daemon --unlock --components=secrets" || true); do
        if tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qxF "XDG_RUNTIME_DIR=$XDG_RUNTIME_DIR"; then
            kill "$pid" 2>/dev/null || true
        fi
    done
fi
exit $status
