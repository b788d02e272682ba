#!/usr/bin/env bash
# test_live.sh — the live variant of test_captures.py: record a fresh nginx + curl capture in
# a private network namespace (tests/captures/record-tcp-nginx.sh), then run the same
# checks on it (served files byte for byte, reordered / duplicated / dropped variants,
# tcpflow). Skips (77) without root, nginx, curl or tcpdump.
#
#   test_live.sh PT_STREAMDUMP
set -euo pipefail
dumper=$1
src=${PT_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rc=0
bash "$src/tests/captures/record-tcp-nginx.sh" "$work/live.pcap" || rc=$?
if [ "$rc" = 77 ]; then
    exit 77
fi
[ "$rc" = 0 ] || { echo "test_live: recording failed ($rc)" >&2; exit 1; }
exec /usr/bin/python3 "$src/tests/tcp/test_captures.py" "$dumper" --capture "$work/live.pcap"
