#!/usr/bin/env bash
# `make bench`: prints Ember's performance figures (see bench/README.md).
#  1. builds a corpus of real Go CPU and heap profiles (bench/gocorpus, runtime/pprof)
#  2. in-process: gunzip+decode-only vs the full ingest pipeline, and their ratio
#  3. HTTP: concurrent ingest throughput, /render latency over 1,000 profiles, server RSS
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
corpus=$BUILD/bench-corpus
if [ ! -f "$corpus/cpu-007.pb.gz" ]; then
  echo "==> generating Go pprof corpus in $corpus"
  (cd bench/gocorpus && GOPROXY=off GOFLAGS=-mod=mod GOCACHE="$PWD/../../$BUILD/gocache" \
     go build -o "../../$BUILD/gocorpus" .)
  "$BUILD/gocorpus" -out "$corpus" -n 8 -cpu-ms 300
fi
echo "==> in-process ingest"
"$BUILD/bench/bench_ingest" "$corpus" 2>/dev/null

echo "==> HTTP"
data=$(mktemp -d)
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$BUILD/ember" server -server.http-listen-address=127.0.0.1 -server.http-listen-port="$port" \
  -storage.path="$data" -log.level=warn &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/ready" >/dev/null && break; sleep 0.1; done
"$BUILD/bench/bench_ingest" "$corpus" "$port" "$pid"
echo "data dir after the HTTP run: $(du -sh "$data" | cut -f1)"
