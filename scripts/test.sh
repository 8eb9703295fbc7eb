#!/usr/bin/env bash
# `make test`: every suite, then the same again under ASan+UBSan, with the total time at
# the end. Exits non-zero on the first failing suite.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
asan_only=0
[ "${1:-}" = "--asan-only" ] && asan_only=1

./scripts/deps.sh
PY=/usr/bin/python3 # Debian's interpreter sees python3-pytest (PEERS.md pitfall)

step() { printf '\n==> %s\n' "$*"; }

if [ $asan_only -eq 0 ]; then
  step "checks"
  ./scripts/check.sh
  step "build"
  [ -f build/build.ninja ] || meson setup build --buildtype=debugoptimized
  ninja -C build
  step "unit tests + fuzz corpus replay"
  meson test -C build --print-errorlogs
  step "integration tests"
  EMBER_BIN=build/ember $PY -m pytest -q tests/integration
  step "web UI: unit tests of its modules, browser tests (Chromium)"
  EMBER_BIN=build/ember node --test --test-concurrency=1 ui/test/ tests/e2e/ui/ui.test.mjs
fi

step "ASan+UBSan build"
[ -f build-asan/build.ninja ] || \
  meson setup build-asan --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false
ninja -C build-asan
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp
step "unit tests + fuzz corpus replay under ASan+UBSan"
meson test -C build-asan --print-errorlogs
step "integration tests under ASan+UBSan"
EMBER_BIN=build-asan/ember $PY -m pytest -q tests/integration
step "web UI browser tests (Chromium) against the ASan+UBSan server"
EMBER_BIN=build-asan/ember node --test --test-concurrency=1 tests/e2e/ui/ui.test.mjs

end=$(date +%s)
printf '\nmake test: all suites passed in %d s\n' $((end - start))
