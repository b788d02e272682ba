#!/usr/bin/env bash
# test.sh — set everything up, then run the whole test suite (unit, golden, corpus, and the
# live tests that need root: they skip cleanly without it).
# Usage: scripts/test.sh [BUILD_DIR] [extra meson setup options...]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
shift || true
scripts/bootstrap.sh "$build" "$@"
meson test -C "$build" --print-errorlogs --num-processes 2
