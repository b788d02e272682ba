#!/usr/bin/env bash
# demo.sh — set everything up, then trace the bundled sample capture with the Redis plugin.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh build
exec build/core/pcaptrace -r tests/captures/redis-sample.pcap --plugin redis "$@"
