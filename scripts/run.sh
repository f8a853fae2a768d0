#!/usr/bin/env bash
# Quick start, command 1: install what is missing, build (Release), and start the Gatehouse
# console with its embedded server on the default embedded SQLite data directory.
# Any arguments go to the console, e.g. --data-dir DIR --listen 127.0.0.1:8080.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --parallel "$(nproc)"

if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
    echo "gatehouse: no display here (DISPLAY is empty). Run the headless server instead:" >&2
    echo "    build/release/app/gatehoused serve --listen 127.0.0.1:8080" >&2
    echo "or start the console in a virtual display: xvfb-run -a build/release/app/gatehouse" >&2
    exit 1
fi
exec build/release/app/gatehouse "$@"
