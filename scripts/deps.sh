#!/usr/bin/env bash
# Installs every Debian package Ember needs to build, test, fuzz and bench, and nothing twice.
# Called by `make run` and `make test`; safe to run again (it only installs what is missing).
set -euo pipefail

PKGS=(
  # build
  gcc g++ make git meson ninja-build pkg-config clang libclang-rt-14-dev
  # libraries
  libmicrohttpd-dev zlib1g-dev libdeflate-dev libzstd-dev libyaml-dev libjansson-dev
  libxxhash-dev libpcre2-dev
  # libember (issue 7): libunwind for stacks without frame pointers; gperftools' CPU
  # profiler as a peer in bench/agent_overhead.sh
  libunwind-dev libgoogle-perftools-dev
  # tests and peers
  libcriterion-dev python3 python3-pytest golang-go curl linux-perf
  # the JDK (java, javac, jfr): records the JFR ingest tests' and bench's inputs
  openjdk-17-jdk-headless
  # the web UI's browser tests (tests/e2e/ui drive it through playwright-core)
  chromium
)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

# Node and npm (the UI build in ui/, the Connect client tests in tests/e2e/connect and the
# browser tests in tests/e2e/ui): any node on PATH will do
# (a NodeSource nodejs ships its own npm and conflicts with Debian's npm package), else
# Debian's.
if ! command -v npm >/dev/null || ! command -v node >/dev/null; then
  for p in nodejs npm; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
      missing+=("$p")
    fi
  done
fi

if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#PKGS[@]} packages present"
else
  echo "deps: installing ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null; then
      echo "deps: missing packages (${missing[*]}) and not root; install sudo or run" \
           "'apt-get install ${missing[*]}' as root" >&2
      exit 1
    fi
    SUDO="sudo"
  fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# npm packages, exactly as each package-lock.json pins them: `npm ci` only when node_modules
# is missing or the lock file changed since the last install (the stamp is the lock's hash;
# scripts/embed_assets.py keeps the same stamp for ui/ when the build runs first).
npm_ci() {
  local dir="$(dirname "$0")/../$1"
  local stamp="$dir/node_modules/.ember-lock.sha256"
  local want
  want="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
  if [ ! -d "$dir/node_modules" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "deps: npm ci in $1"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$want" >"$stamp"
  else
    echo "deps: $1 node_modules up to date"
  fi
}
npm_ci tests/e2e/connect
npm_ci tests/e2e/nodejs
npm_ci ui
npm_ci tests/e2e/ui
