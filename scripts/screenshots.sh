#!/usr/bin/env bash
# Regenerates docs/screenshots/ from the real console under Xvfb: an embedded server on a
# throw-away data directory, real logins and WebSocket clients, a lab crowd at lab speed, a
# revocation and a disconnect (tests/tools/screenshots.cpp), then every view.
set -euo pipefail
cd "$(dirname "$0")/.."

for package in xvfb xauth; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' \
        || { [ "$(id -u)" -eq 0 ] || sudo_cmd=sudo; ${sudo_cmd:-} apt-get install -y -qq --no-install-recommends "$package"; }
done
cmake --preset release >/dev/null
cmake --build --preset release --parallel "$(nproc)" --target gatehouse-screenshots >/dev/null
mkdir -p docs/screenshots
QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1400x900x24 -dpi 96" \
    build/release/tests/tools/gatehouse-screenshots docs/screenshots 2>/dev/null
