#!/bin/bash
# golden.sh — the README's Quick start: pcaptrace over tests/captures/redis-sample.pcap (a real
# redis-server session) must print exactly tests/captures/redis-sample.expected.txt (the
# redis lines; the core's tcp start/end lines are left to the core's own tests).
# Regenerate after an intended change with: tests/redis/golden.sh --update
set -euo pipefail
src=${PT_SOURCE_ROOT:?}
prog=${PT_BUILD_ROOT:?}/core/pcaptrace
cap=$src/tests/captures/redis-sample.pcap
want=$src/tests/captures/redis-sample.expected.txt
[ -x "$prog" ] || { echo "no $prog: skipped"; exit 77; }

got=$(mktemp)
trap 'rm -f "$got"' EXIT
TZ=UTC "$prog" -r "$cap" --plugin redis --no-color -q | awk '$5 != "tcp"' >"$got"
if [ "${1:-}" = "--update" ]; then
    cp "$got" "$want"
    echo "updated $want"
    exit 0
fi
if ! diff -u "$want" "$got"; then
    echo "FAIL: output differs from $want"
    exit 1
fi
echo "ok: $(wc -l <"$got") lines match"
