#!/usr/bin/env bash
# Quick start, command 2: install what is missing, build with AddressSanitizer and UBSan
# (the `ci` preset: warnings are errors, Qt asserts on) and run every test through CTest:
# unit, integration (real sockets, SQLite files, a private Secret Service, npm jose), GUI,
# browser (Debian's chromium through playwright-core) and the WebSocket conformance suite
# (`conformance`, docs/conformance.md). Then ThreadSanitizer on the state the I/O threads
# share (the `tsan` preset), and the libFuzzer targets (the `fuzz` preset, clang-14): every
# committed input replayed, each target fuzzed for 20 s (docs/fuzzing.md).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh

# The independent JOSE implementation for the cross-check, exactly as the lock file pins it.
# A stamp of the lock file that was installed makes a second run skip npm entirely.
if ! cmp -s tests/crosscheck/package-lock.json tests/crosscheck/node_modules/.gatehouse-installed-lock 2>/dev/null; then
    (cd tests/crosscheck && npm ci --no-audit --no-fund --loglevel=error \
        && cp package-lock.json node_modules/.gatehouse-installed-lock)
fi

# playwright-core for the browser tests (they drive Debian's chromium; nothing is downloaded).
if ! cmp -s tests/browser/package-lock.json tests/browser/node_modules/.gatehouse-installed-lock 2>/dev/null; then
    (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error \
        && cp package-lock.json node_modules/.gatehouse-installed-lock)
fi

cmake --preset ci >/dev/null
cmake --build --preset ci --parallel "$(nproc)"
ctest --preset ci --parallel "$(nproc)" "$@"

# ThreadSanitizer on what the I/O threads share (the tests labelled `tsan`, built from those
# classes' own sources: Debian's Qt is not instrumented, see docs/architecture.md).
cmake --preset tsan >/dev/null
cmake --build --preset tsan --parallel "$(nproc)" --target tst_sharedstate
ctest --preset tsan

cmake --preset fuzz >/dev/null
cmake --build --preset fuzz --parallel "$(nproc)"
ctest --preset fuzz --parallel "$(nproc)"
