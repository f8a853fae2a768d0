#!/usr/bin/env bash
# Runs a command as on a new desktop: a private D-Bus session whose gnome-keyring daemon has
# no keyring yet, and an X server (Xvfb) on which its prompter (gcr-prompter) asks for the new
# keyring's password. Nobody answers it: the first write to the Secret Service waits on that
# prompt, as the console's did on a fresh desktop.
#
# As in with-secret-service.sh, the daemons get /dev/null for output (CTest waits for every
# holder of its pipes); only the command writes to the real stdout and stderr, through
# descriptors 3 and 4.
set -euo pipefail

if [ "${GATEHOUSE_INSIDE_KEYRING_PROMPT:-}" != 1 ]; then
    home=$(mktemp -d)
    mkdir -p "$home/run" && chmod 700 "$home/run"
    # -displayfd: the server picks a free display and writes its number there.
    Xvfb -displayfd 5 -screen 0 800x600x24 -nolisten tcp 5>"$home/display" >/dev/null 2>&1 &
    xvfb=$!
    trap 'kill "$xvfb" 2>/dev/null || true; wait "$xvfb" 2>/dev/null || true; rm -rf "$home"' EXIT
    for _ in $(seq 1 200); do
        [ -s "$home/display" ] && break
        sleep 0.05
    done
    if [ ! -s "$home/display" ]; then
        echo "with-keyring-prompt: Xvfb did not start" >&2
        exit 1
    fi
    status=0
    HOME="$home" XDG_DATA_HOME="$home/.local/share" XDG_RUNTIME_DIR="$home/run" DISPLAY=":$(head -n 1 "$home/display")" \
        GATEHOUSE_INSIDE_KEYRING_PROMPT=1 dbus-run-session -- "$0" "$@" 3>&1 4>&2 >/dev/null 2>&1 || status=$?
    exit $status
fi

# --start without --unlock: no login keyring is made; the first write asks for one.
environment=$(gnome-keyring-daemon --start --components=secrets 2>/dev/null)
eval "$environment"
export GNOME_KEYRING_CONTROL
status=0
"$@" 1>&3 2>&4 3>&- 4>&- || status=$?
# Our daemon and the prompter the bus started for it: those whose runtime directory is ours.
for pid in $(pgrep -u "$(id -u)" -f "gnome-keyring-daemon --start --components=secrets|/usr/libexec/gcr-prompter" || true); do
    if tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qxF "XDG_RUNTIME_DIR=$XDG_RUNTIME_DIR"; then
        kill "$pid" 2>/dev/null || true
    fi
done
exit $status
