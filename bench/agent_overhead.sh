#!/usr/bin/env bash
# Profiler overhead (issue 7): CPU-bound C workloads (bench/agent_work.c: a zlib compression
# loop, a hash-table loop, an allocation-heavy tree build) run bare, under libember at 100 Hz
# (LD_PRELOAD, file output), under `perf record -F 100 -g` and under gperftools' CPU profiler
# (LD_PRELOAD=libprofiler.so CPUPROFILE, 100 Hz), interleaved, REPS times each; the figure is
# the CPU time of the workload process (all its threads, so libember's collector counts):
# the minimum over the runs (least disturbed by other work on the machine; the headline
# ratio) and the median, each divided by the bare run's. Allocation profiling is measured on the
# allocation-heavy workload (libember cpu+alloc at the default 512 KiB mean, and alloc only).
# perf's own CPU (the perf process writing samples) is not in its figure; its in-kernel
# sampling cost is. Usage: bench/agent_overhead.sh [BUILD_DIR]   Knobs: AGENT_REPS (9).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-${BUILD:-build}}
REPS=${AGENT_REPS:-9}
LIB=$BUILD/src/agent/libember.so
PROFILER=$(ls /usr/lib/*/libprofiler.so.0 2>/dev/null | head -1 || true)
work=$(mktemp -d "${TMPDIR:-/tmp}/ember-agent-bench-XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "==> profiler overhead at 100 Hz ($REPS interleaved runs each, process CPU time)"
[ -f "$LIB" ] || { echo "no $LIB: build first (ninja -C $BUILD)"; exit 1; }
echo "+ gcc -O2 -fno-omit-frame-pointer bench/agent_work.c -lz -o $work/agent_work"
gcc -O2 -fno-omit-frame-pointer bench/agent_work.c -lz -o "$work/agent_work"

perf_ok=yes
paranoid=$(cat /proc/sys/kernel/perf_event_paranoid 2>/dev/null || echo "?")
if ! command -v perf >/dev/null; then
  perf_ok="no: perf is not installed (Debian linux-perf)"
elif ! perf record -F 100 -g -o "$work/probe.data" -- true >/dev/null 2>&1; then
  perf_ok="no: perf record fails here (kernel.perf_event_paranoid=$paranoid)"
fi
echo "perf: $perf_ok (kernel.perf_event_paranoid=$paranoid)"
[ -n "$PROFILER" ] || echo "gperftools: libprofiler.so not found (Debian libgoogle-perftools-dev)"

# one CONFIG WORKLOAD N → prints the process CPU ms
one() {
  local cfg=$1 wl=$2 n=$3 out
  case $cfg in
    bare) out=$("$work/agent_work" "$wl" "$n") ;;
    ember) out=$(LD_PRELOAD=$LIB EMBER_OUTPUT=$work/e.pb.gz EMBER_SAMPLE_RATE=100 \
                 "$work/agent_work" "$wl" "$n") ;;
    ember_alloc) out=$(LD_PRELOAD=$LIB EMBER_OUTPUT=$work/e.pb.gz EMBER_SAMPLE_RATE=100 \
                       EMBER_PROFILE_TYPES=cpu,alloc "$work/agent_work" "$wl" "$n") ;;
    ember_alloc_only) out=$(LD_PRELOAD=$LIB EMBER_OUTPUT=$work/e.pb.gz \
                            EMBER_PROFILE_TYPES=alloc "$work/agent_work" "$wl" "$n") ;;
    perf) out=$(perf record -q -F 100 -g -o "$work/perf.data" -- "$work/agent_work" "$wl" "$n" \
                2>/dev/null) ;;
    gperf) out=$(LD_PRELOAD=$PROFILER CPUPROFILE=$work/g.prof CPUPROFILE_FREQUENCY=100 \
                 "$work/agent_work" "$wl" "$n" 2>/dev/null) ;;
  esac
  echo "$out" | sed -n 's/.*cpu_ms=\([0-9.]*\).*/\1/p'
}
median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
spread() { tr ' ' '\n' | grep . | sort -g | awk 'NR==1{lo=$1} {hi=$1} END {printf "%s..%s", lo, hi}'; }

declare -A res
measure() { # WORKLOAD N CONFIGS...
  local wl=$1 n=$2
  shift 2
  local cfgs=("$@")
  declare -A runs
  for _ in $(seq "$REPS"); do
    for c in "${cfgs[@]}"; do runs[$c]="${runs[$c]:-} $(one "$c" "$wl" "$n")"; done
  done
  local base bmin
  base=$(echo "${runs[bare]}" | median)
  bmin=$(echo "${runs[bare]}" | tr ' ' '\n' | grep . | sort -g | head -1)
  printf '%-6s %-17s %9s %9s %10s %9s  %s\n' "$wl" config "min_ms" ratio "median_ms" ratio "all runs min..max"
  for c in "${cfgs[@]}"; do
    local m lo
    m=$(echo "${runs[$c]}" | median)
    lo=$(echo "${runs[$c]}" | tr ' ' '\n' | grep . | sort -g | head -1)
    res[$wl.$c]=$(awk -v a="$lo" -v b="$bmin" 'BEGIN { printf "%.4f", a / b }')
    res[$wl.$c.med]=$(awk -v a="$m" -v b="$base" 'BEGIN { printf "%.4f", a / b }')
    printf '%-6s %-17s %9s %9s %10s %9s  %s\n' "$wl" "$c" "$lo" "${res[$wl.$c]}" "$m" \
      "${res[$wl.$c.med]}" "$(echo "${runs[$c]}" | spread)"
  done
}

cfgs=(bare ember)
[ "$perf_ok" = yes ] && cfgs+=(perf)
[ -n "$PROFILER" ] && cfgs+=(gperf)
echo "+ agent_work zlib 10; agent_work hash 60   (configs: ${cfgs[*]})"
measure zlib 10 "${cfgs[@]}"
measure hash 60 "${cfgs[@]}"
echo "+ agent_work alloc 60   (allocation profiling, default 512 KiB mean)"
measure alloc 60 bare ember ember_alloc ember_alloc_only

# libember's own CPU, accounted in-process (EMBER_DEBUG=1: CPU time inside the SIGPROF
# handler + the collector thread's CPU), over longer runs: unlike the ratios above it does
# not drown in the noise of a loaded machine. Kernel signal delivery is not in it.
own() { # WORKLOAD N → "own_ms total_ms percent"
  local out
  out=$(LD_PRELOAD=$LIB EMBER_OUTPUT=$work/e.pb.gz EMBER_SAMPLE_RATE=100 EMBER_DEBUG=1 \
        "$work/agent_work" "$1" "$2" 2>&1)
  echo "$out" | awk '
    /cpu_ms=/ { for (i = 1; i <= NF; i++) if ($i ~ /^cpu_ms=/) { split($i, a, "="); t = a[2] } }
    /handler_cpu_ns=/ { for (i = 1; i <= NF; i++) {
        split($i, a, "=")
        if (a[1] == "handler_cpu_ns") h = a[2]
        if (a[1] == "collector_cpu_ns") c = a[2]
        if (a[1] == "handler_calls") n = a[2] } }
    END { printf "%.2f %.1f %.3f %d %.1f\n", (h + c) / 1e6, t, (h + c) / 1e6 / t * 100, n, n ? h / n / 1e3 : 0 }'
}
echo "+ EMBER_DEBUG=1 agent_work hash 300; agent_work zlib 20   (libember's own CPU, in-process)"
read -r own_h tot_h pct_h n_h us_h <<<"$(own hash 300)"
read -r own_z tot_z pct_z n_z us_z <<<"$(own zlib 20)"
echo "hash: libember ${own_h} ms of ${tot_h} ms process CPU = ${pct_h}% ($n_h samples, ${us_h} us in the handler each: frame pointers)"
echo "zlib: libember ${own_z} ms of ${tot_z} ms process CPU = ${pct_z}% ($n_z samples, ${us_z} us in the handler each: libz has no frame pointers, libunwind)"

pct() { awk -v r="$1" 'BEGIN { printf "%+.2f%%", (r - 1) * 100 }'; }
both() { echo "$(pct "${res[$1]}") (median $(pct "${res[$1.med]}"))"; }
echo
echo "AGENT OVERHEAD (min-of-runs ratio, median in parentheses; goal for libember < 1%)"
echo "  libember 100 Hz:             zlib $(both zlib.ember)  hash $(both hash.ember)"
echo "  libember's own CPU share:    zlib ${pct_z}%  hash ${pct_h}%   (in-process accounting, load-independent)"
if [ "$perf_ok" = yes ]; then
  echo "  perf record -F 100 -g:       zlib $(both zlib.perf)  hash $(both hash.perf)"
else
  echo "  perf: not measured ($perf_ok)"
fi
[ -n "$PROFILER" ] && echo "  gperftools CPUPROFILE 100 Hz: zlib $(both zlib.gperf)  hash $(both hash.gperf)"
echo "  allocation-heavy tree build: libember cpu $(both alloc.ember)  cpu+alloc $(both alloc.ember_alloc)  alloc only $(both alloc.ember_alloc_only)"
echo "load average $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores (other work on the machine makes every figure noisier)"
