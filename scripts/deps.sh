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
  # tests and peers
  libcriterion-dev python3 python3-pytest golang-go curl
)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#PKGS[@]} packages present"
  exit 0
fi

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
