#!/usr/bin/env bash
# `make bench`: prints Ember's performance figures (see bench/README.md).
#  1. builds a corpus of real Go CPU and heap profiles (bench/gocorpus, runtime/pprof)
#  2. in-process: gunzip+decode-only vs the full ingest pipeline, and their ratio
#  3. HTTP: concurrent ingest throughput, /render latency over 1,000 profiles, server RSS
#  4. storage (issue 4): 24 h of one series vs `go tool pprof -proto`, 30 days through
#     rollups, bytes on disk / bytes ingested (CPU and heap), RSS under query and under
#     100 services of steady ingest. Every figure is printed after the command that made it.
#  5. web UI (issue 6): a 100,000-node flame graph decoded and drawn in Chromium, and its
#     zoom redraws (tests/e2e/ui/render_bench.mjs, Performance API).
# Knobs: BENCH_DAYS (30), BENCH_CLIENTS (16), BENCH_STEADY_ROUNDS (360 = 1 simulated hour
# per steady-ingest hour), BENCH_STEADY_HOURS (3).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
DAYS=${BENCH_DAYS:-30}
CLIENTS=${BENCH_CLIENTS:-16}
STEADY_ROUNDS=${BENCH_STEADY_ROUNDS:-360}
STEADY_HOURS=${BENCH_STEADY_HOURS:-3}
t_start=$(date +%s)
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
corpus=$BUILD/bench-corpus
if [ ! -f "$corpus/cpu-007.pb.gz" ]; then
  echo "==> generating Go pprof corpus in $corpus"
  (cd bench/gocorpus && GOPROXY=off GOFLAGS=-mod=mod GOCACHE="$PWD/../../$BUILD/gocache" \
     go build -o "../../$BUILD/gocorpus" .)
  "$BUILD/gocorpus" -out "$corpus" -n 8 -cpu-ms 300
fi
echo "==> in-process ingest"
"$BUILD/bench/bench_ingest" "$corpus" 2>/dev/null

# JFR (issue 8): two recordings of tests/e2e/java/EmberJfrWorkload.java made by the JDK
jfr_corpus=$BUILD/bench-jfr
if [ ! -f "$jfr_corpus/alloc_lock.jfr" ]; then
  echo "==> recording a JFR corpus in $jfr_corpus (JDK Flight Recorder, settings=profile)"
  mkdir -p "$jfr_corpus"
  javac -d "$jfr_corpus" tests/e2e/java/EmberJfrWorkload.java
  java -XX:StartFlightRecording=filename="$jfr_corpus/cpu.jfr",settings=profile \
    -cp "$jfr_corpus" EmberJfrWorkload 3000 >/dev/null 2>&1
  java -XX:StartFlightRecording=filename="$jfr_corpus/alloc_lock.jfr",settings=profile,jdk.ObjectAllocationInNewTLAB#enabled=true,jdk.ObjectAllocationOutsideTLAB#enabled=true,jdk.JavaMonitorEnter#threshold=0ms,jdk.ThreadPark#threshold=0ms \
    -cp "$jfr_corpus" EmberJfrWorkload 3000 >/dev/null 2>&1
fi
echo "==> JFR ingest (in-process, multipart form with the gzipped JFR as pyroscope-java sends it)"
echo "+ $BUILD/bench/bench_jfr $jfr_corpus"
"$BUILD/bench/bench_jfr" "$jfr_corpus"

# ---- servers: started on a free port over their own data dir, stopped with SIGTERM ----
work=$(mktemp -d "${TMPDIR:-/tmp}/ember-bench-XXXXXX")
srv_pid=
stop_server() {
  if [ -n "$srv_pid" ]; then
    kill "$srv_pid" 2>/dev/null || true
    wait "$srv_pid" 2>/dev/null || true
    srv_pid=
  fi
}
trap 'stop_server; rm -rf "$work"' EXIT
# start_server DATA_DIR [FLAGS...]: sets srv_pid and port, prints the command line
start_server() {
  local dir=$1
  shift
  port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  local cmd=("$BUILD/ember" server -server.http-listen-address=127.0.0.1
             -server.http-listen-port="$port" -storage.path="$dir" "$@")
  echo "+ ${cmd[*]}"
  local t0
  t0=$(date +%s%N)
  "${cmd[@]}" &
  srv_pid=$!
  for _ in $(seq 300); do
    curl -sf "http://127.0.0.1:$port/ready" >/dev/null 2>&1 && break
    kill -0 "$srv_pid" 2>/dev/null || { echo "server exited during startup" >&2; exit 1; }
    sleep 0.05
  done
  start_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
}
# run CMD...: prints the command line, runs it, keeps its output in $work/out for res
run() {
  echo "+ $*"
  "$@" | tee "$work/out"
}
res() { sed -n "s/^result: $1=//p" "$work/out" | tail -1; }
rss_mb() { awk -v k="$2:" '$1 == k { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f", a / b }'; }

echo "==> HTTP"
start_server "$work/http" -log.level=warn
"$BUILD/bench/bench_ingest" "$corpus" "$port" "$srv_pid"
echo "data dir after the HTTP run: $(du -sh "$work/http" | cut -f1)"
stop_server
rm -rf "$work/http"

bs=$BUILD/bench/bench_storage
CPU=process_cpu:cpu:nanoseconds:cpu:nanoseconds
HEAP=memory:inuse_space:bytes:space:bytes
SRV_FLAGS=(-storage.block-duration=0 -log.level=warn)
# Simulated time starts at a UTC midnight 40 days back, so one day is one compaction window.
day0=$(( ($(date +%s) / 86400 - 40) * 86400 ))

echo
echo "==> storage 1: 24 h of one CPU series (8,640 profiles, 10 s apart) vs go tool pprof"
echo "    ingest with $CLIENTS keep-alive clients, a cut every simulated hour, then compaction"
mkdir -p "$work/files"
start_server "$work/day-cpu" "${SRV_FLAGS[@]}"
run "$bs" ingest "$corpus" "$port" cpu day-cpu "$day0" 8640 10 "$CLIENTS" 360 "$work/files"
day_bytes=$(res ingest_bytes)
echo "+ du -sb $work/day-cpu"
day_disk=$(du -sb "$work/day-cpu" | cut -f1)
echo "$day_disk bytes on disk (blocks + WAL); ingested $day_bytes bytes of gzipped pprof"
run "$bs" render "$port" "$srv_pid" day-cpu "$CPU" "$day0" $((day0 + 86400)) 21
day_med=$(res render_median_ms)
day_p90=$(res render_p90_ms)
day_ticks=$(res render_ticks)
stop_server
echo "+ (cd $work/files && go tool pprof -proto -output $work/merged.pb.gz p*.pb.gz)  # 8,640 files"
t0=$(date +%s%N)
(cd "$work/files" && go tool pprof -proto -output "$work/merged.pb.gz" p*.pb.gz >/dev/null 2>&1)
go_ms=$(awk -v d=$(( $(date +%s%N) - t0 )) 'BEGIN { printf "%.0f", d / 1e6 }')
echo "go tool pprof -proto: $go_ms ms wall clock"
echo "+ $bs total $work/merged.pb.gz cpu"
go_ticks=$("$bs" total "$work/merged.pb.gz" cpu)
same=no
[ "$go_ticks" = "$day_ticks" ] && same=yes
echo "cpu total of the go merge: $go_ticks; Ember numTicks: $day_ticks; equal: $same"
day_x=$(awk -v g="$go_ms" -v m="$day_med" 'BEGIN { printf "%.0f", g / m }')
echo "RATIO go tool pprof / Ember /render (median): ${day_x}x (goal >= 50x)"
rm -rf "$work/files" "$work/merged.pb.gz"
day_ratio=$(ratio "$day_disk" "$day_bytes")
echo "DISK 24 h CPU: $day_disk / $day_bytes = $day_ratio (goal <= 0.10)"
rm -rf "$work/day-cpu"

echo
echo "==> storage 2: 24 h of one heap series (8,640 Go heap profiles, 4 sample types each)"
start_server "$work/day-heap" "${SRV_FLAGS[@]}"
run "$bs" ingest "$corpus" "$port" heap day-heap "$day0" 8640 10 "$CLIENTS" 360
heap_bytes=$(res ingest_bytes)
echo "+ du -sb $work/day-heap"
heap_disk=$(du -sb "$work/day-heap" | cut -f1)
heap_ratio=$(ratio "$heap_disk" "$heap_bytes")
echo "DISK 24 h heap: $heap_disk / $heap_bytes = $heap_ratio (goal <= 0.10)"
run "$bs" render "$port" "$srv_pid" day-heap "$HEAP" "$day0" $((day0 + 86400)) 11
heap_med=$(res render_median_ms)
stop_server
rm -rf "$work/day-heap"

echo
n30=$((DAYS * 8640))
echo "==> storage 3: $DAYS days of one CPU series ($n30 profiles, 10 s apart) through rollups"
echo "    ingest with $CLIENTS keep-alive clients, a cut every simulated hour, compaction per day"
start_server "$work/month" "${SRV_FLAGS[@]}"
run "$bs" ingest "$corpus" "$port" cpu month "$day0" "$n30" 10 "$CLIENTS" 360
m_bytes=$(res ingest_bytes)
m_wall=$(res ingest_wall_s)
m_rate=$(res ingest_rate)
echo "+ du -sb $work/month"
m_disk=$(du -sb "$work/month" | cut -f1)
m_ratio=$(ratio "$m_disk" "$m_bytes")
echo "DISK $DAYS days CPU: $m_disk / $m_bytes = $m_ratio (goal <= 0.10)"
echo "RSS after ingest: $(rss_mb "$srv_pid" VmRSS) MB (VmHWM $(rss_mb "$srv_pid" VmHWM) MB)"
stop_server
echo "restart on the same data (blocks load from disk), then the $DAYS-day query:"
start_server "$work/month" "${SRV_FLAGS[@]}"
echo "ready after $start_ms ms; RSS $(rss_mb "$srv_pid" VmRSS) MB"
run "$bs" render "$port" "$srv_pid" month "$CPU" "$day0" $((day0 + DAYS * 86400)) 11
m_med=$(res render_median_ms)
m_p90=$(res render_p90_ms)
m_rss=$(res render_rss_max_mb)
m_hwm=$(res render_hwm_mb)
m_ticks=$(res render_ticks)
echo "numTicks $m_ticks = $DAYS x the 24 h answer ($day_ticks): $([ "$m_ticks" = $((DAYS * day_ticks)) ] && echo yes || echo NO)"
stop_server
rm -rf "$work/month"

echo
echo "==> storage 4: steady ingest, 100 services x 1 CPU profile per 10 s, $STEADY_HOURS simulated hours"
echo "    (each hour = $STEADY_ROUNDS rounds sent as fast as the server takes them, held by the head"
echo "    as with block_duration=1h, then one cut; then the hourly blocks are compacted)"
start_server "$work/steady" "${SRV_FLAGS[@]}"
s_rss=
for h in $(seq 0 $((STEADY_HOURS - 1))); do
  run "$bs" steady "$corpus" "$port" "$srv_pid" 100 "$STEADY_ROUNDS" $((day0 + h * 3600)) "$CLIENTS"
  s_rss="$s_rss $(res steady_rss_max_mb)"
  if [ "$h" = 0 ]; then s_rate=$(res steady_rate); fi
done
s_cut=$(res steady_rss_cut_mb)
if [ "$STEADY_HOURS" -gt 1 ]; then
  run "$bs" compact "$port" "$srv_pid"
  c_s=$(res compact_s)
  c_hwm=$(res compact_hwm_mb)
fi
stop_server
rm -rf "$work/steady"

echo
echo "==> web UI: a 100,000-node flame graph in Chromium (decode + first canvas draw, zoom)"
run env EMBER_BIN="$BUILD/ember" node tests/e2e/ui/render_bench.mjs
ui_ms=$(res ui_render_100k_ms)
ui_zoom=$(res ui_zoom_max_ms)

cat <<EOF

==================== storage summary (issue 4) ====================
24 h, 1 CPU series, 8,640 profiles:
  /render median $day_med ms, p90 $day_p90 ms
  go tool pprof -proto over the same 8,640 files: $go_ms ms (same total: $same)
  ratio ${day_x}x                                              (goal >= 50x)
$DAYS days, 1 CPU series, $n30 profiles (hourly cuts, daily compaction):
  ingest $m_wall s over HTTP ($m_rate profiles/s while sending)
  /render over $DAYS days: median $m_med ms, p90 $m_p90 ms           (goal < 1000 ms)
disk (du -sb blocks + WAL) / gzipped pprof ingested:           (goal <= 0.10)
  24 h CPU  $day_ratio   24 h heap  $heap_ratio   $DAYS d CPU  $m_ratio
RSS:
  $DAYS-day query (fresh server): max VmRSS $m_rss MB, VmHWM $m_hwm MB
  100 services steady ingest ($s_rate profiles/s), max VmRSS per simulated hour (MB):$s_rss
  after the last cut $s_cut MB; compacting the $STEADY_HOURS hourly blocks: ${c_s:-} s, VmHWM ${c_hwm:-} MB
24 h heap /render median $heap_med ms
web UI (issue 6): 100k-node flame graph decode + draw median $ui_ms ms (goal < 100 ms); zoom redraw max $ui_zoom ms
total bench time $(( $(date +%s) - t_start )) s on $(nproc) cores; load average $load_start at the start,
$(cut -d' ' -f1-3 /proc/loadavg) at the end (other work on the machine makes every figure noisier)
====================================================================
EOF

# issue 7: libember's CPU and allocation profiling overhead next to perf and gperftools
echo
./bench/agent_overhead.sh "$BUILD"
