#!/usr/bin/env bash
# Installs what Gatehouse needs to build, run and test on Debian 12, and nothing that is
# already there. Safe to run again: a second run only checks and returns.
set -euo pipefail

packages=(
    build-essential cmake ninja-build pkg-config git curl
    qt6-base-dev qt6-base-dev-tools qt6-websockets-dev qt6-charts-dev
    libqt6sql6-sqlite qtkeychain-qt6-dev libgl-dev
    libssl-dev openssl libargon2-dev libhiredis-dev libsqlite3-dev sqlite3
    redis-server
    gnome-keyring dbus dbus-x11 libsecret-tools
    chromium
    clang-14 libclang-rt-14-dev libfuzzer-14-dev llvm-14
    xvfb xauth fonts-dejavu-core
    nginx libnginx-mod-stream  # the reverse-proxy tests (tests/integration/tst_reverseproxy.cpp)
    # The Debian packages (scripts/package.sh, scripts/check-packages.sh): man pages, icons, linters.
    help2man librsvg2-bin lintian desktop-file-utils appstream systemd
    # The WebSocket conformance suite (../shared/tools/autobahn/, docs/conformance.md).
    python3-autobahn python3-twisted python3-txaio python3-jinja2 python3-wsaccel python3-ujson
)

missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$package")
    fi
done

# Node.js may come from another source that bundles npm (and conflicts with Debian's npm
# package): only ask apt for it when the commands are missing.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    missing+=(nodejs npm)
fi

if ((${#missing[@]} > 0)); then
    echo "gatehouse: installing ${missing[*]}"
    sudo_cmd=()
    if [ "$(id -u)" -ne 0 ]; then
        sudo_cmd=(sudo)
    fi
    "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
