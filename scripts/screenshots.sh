#!/usr/bin/env bash
# Regenerates docs/screenshots/ from the real console under Xvfb, with a throw-away data
# directory. Needs a Release build (bash scripts/run.sh builds one).
set -euo pipefail
cd "$(dirname "$0")/.."

for package in imagemagick x11-apps xvfb; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' \
        || { [ "$(id -u)" -eq 0 ] || sudo_cmd=sudo; ${sudo_cmd:-} apt-get install -y -qq --no-install-recommends "$package"; }
done
cmake --preset release >/dev/null && cmake --build --preset release --parallel "$(nproc)" >/dev/null

data=$(mktemp -d)
display=:97
Xvfb "$display" -screen 0 1100x700x24 >/dev/null 2>&1 &
xvfb=$!
trap 'kill $console $xvfb 2>/dev/null || true; rm -rf "$data"' EXIT
sleep 1
DISPLAY=$display build/release/app/gatehouse --data-dir "$data" --listen 127.0.0.1:18080 --secret-store file \
    >/dev/null 2>&1 &
console=$!
for _ in $(seq 1 50); do
    curl -fs http://127.0.0.1:18080/healthz >/dev/null 2>&1 && break
    sleep 0.2
done
sleep 1
mkdir -p docs/screenshots
DISPLAY=$display xwd -root -silent | convert xwd:- -crop 900x600+0+0 +repage docs/screenshots/console-server.png
echo "wrote docs/screenshots/console-server.png"
