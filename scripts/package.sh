#!/usr/bin/env bash
# Builds the Debian packages gatehouse-server and gatehouse-console into build/packages/
# (CPack DEB, packaging/CMakeLists.txt) from an optimised build with Debian's hardening flags
# (the `package` preset, build/package/), then lints them (scripts/check-packages.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh

# dpkg-buildflags: fortify, stack protector, format checks, relro. No -g: the packages are
# stripped, and debug information only slows the build here.
export DEB_CXXFLAGS_MAINT_STRIP=-g
cxxflags="$(dpkg-buildflags --get CXXFLAGS) $(dpkg-buildflags --get CPPFLAGS)"
ldflags="$(dpkg-buildflags --get LDFLAGS)"

# Configured again every time, so the packages name the git revision they are built from.
cmake --preset package -DCMAKE_CXX_FLAGS="$cxxflags" \
    -DCMAKE_EXE_LINKER_FLAGS="$ldflags" -DCMAKE_SHARED_LINKER_FLAGS="$ldflags" >/dev/null
nice cmake --build --preset package --parallel "$(nproc)" --target gatehoused gatehouse package-files

rm -f build/packages/*.deb
cpack --config build/package/CPackConfig.cmake -G DEB >/dev/null
rm -rf build/packages/_CPack_Packages

bash scripts/check-packages.sh build/packages
