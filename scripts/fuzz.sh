#!/usr/bin/env bash
# `make fuzz`: builds libFuzzer targets with clang (+ASan/UBSan) and runs each for N seconds
# on a scratch copy of its corpus; new crashers land in out/fuzz/ and fail the run.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
if [ ! -f build-fuzz/build.ninja ]; then
  CC=clang meson setup build-fuzz --buildtype=debugoptimized -Dfuzz=true -Dtests=false \
    -Db_sanitize=address,undefined -Db_lundef=false
fi
ninja -C build-fuzz
mkdir -p out/fuzz
# undefined behaviour is a finding: stop and save the input, as for a crash
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
status=0
for exe in build-fuzz/tests/fuzz/fuzz_*; do
  [ -f "$exe" ] && [ -x "$exe" ] || continue
  name=$(basename "$exe"); name=${name#fuzz_}
  work=out/fuzz/$name; mkdir -p "$work/corpus"
  cp -n tests/fuzz/corpus/$name/* "$work/corpus/" 2>/dev/null || true
  echo "==> fuzz $name for ${secs}s"
  if ! "$exe" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
       -artifact_prefix="$work/" "$work/corpus" > "$work/log" 2>&1; then
    echo "fuzz $name FAILED: see $work/log"; tail -30 "$work/log"; status=1
  else
    tail -1 "$work/log"
  fi
done
exit $status
