#!/usr/bin/env bash
# bootstrap.sh — install (as root, from Debian 12's apt) whatever pcaptrace needs to build
# and test that is not installed yet, then configure and build into ./build.
# Usage: scripts/bootstrap.sh [BUILD_DIR] [extra meson options...]
set -euo pipefail
cd "$(dirname "$0")/.."

# Build dependencies, then what the tests drive (real servers and clients).
PACKAGES=(
  gcc pkg-config meson ninja-build
  libpcap-dev libglib2.0-dev libcunit1-dev libhiredis-dev node-llhttp
  python3 iproute2 tcpdump tcpflow time
  redis-server redis-tools nginx-light curl wrk netcat-openbsd
  memcached libmemcached-tools
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" -ne 0 ]; then
    echo "bootstrap: missing packages: ${missing[*]}; run as root or: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
  echo "bootstrap: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Servers are started by the tests themselves, never by the package scripts.
  # (A policy-rc.d the machine already has is left alone.)
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

build=${1:-build}
shift || true
if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" "$@" >/dev/null
else
  meson setup --reconfigure "$build" "$@" >/dev/null
fi
ninja -C "$build" >/dev/null
echo "bootstrap: built $build/core/pcaptrace" >&2
