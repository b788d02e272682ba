#!/usr/bin/env bash
# http_bench.sh — the http plugin's benchmark: `pcaptrace -r FILE --plugin http -F json` into
# /dev/null over a capture of nginx + wrk (bodies of 300 B to 200 KB), against the bare
# libpcap read loop (bench/pcap_floor) over the same file. Prints the best of N runs of each,
# the ratio (target: within 1.5x) and pcaptrace's peak memory (target: under 64 MiB).
# Usage: http_bench.sh BUILD_DIR [FILE.pcap]   (default bench/data/http_nginx.pcap, recorded
# with bench/http_record.sh when missing). Environment: PT_BENCH_RUNS (default 5).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:?usage: http_bench.sh BUILD_DIR [FILE.pcap]}
file=${2:-$here/data/http_nginx.pcap}
runs=${PT_BENCH_RUNS:-5}
pcaptrace=$build/core/pcaptrace
floor=$build/bench/pcap_floor
for b in "$pcaptrace" "$floor"; do
    [ -x "$b" ] || { echo "http_bench.sh: $b is not built" >&2; exit 1; }
done
[ -f "$file" ] || "$here/http_record.sh" "$file"

tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
best() { # command...: best wall time (s) and peak RSS (KiB) over $runs runs
    local t0 t1 t m bt= bm=0
    for _ in $(seq "$runs"); do
        t0=$(date +%s.%N)
        /usr/bin/time -o "$tmp" -f "%M" "$@" >/dev/null 2>&1
        t1=$(date +%s.%N)
        t=$(awk "BEGIN{printf \"%.3f\", $t1 - $t0}")
        m=$(tail -1 "$tmp")
        if [ -z "$bt" ] || awk "BEGIN{exit !($t < $bt)}"; then bt=$t; fi
        [ "$m" -gt "$bm" ] && bm=$m
    done
    echo "$bt $bm"
}

cat "$file" >/dev/null # warm the page cache
packets=$("$floor" "$file" | sed -n 's/^pcap_floor: \([0-9]*\) packets.*/\1/p')
events=$("$pcaptrace" -r "$file" --plugin http -F json -q 2>/dev/null | grep -c '"proto":"http"' || true)
read -r floor_s floor_kib < <(best "$floor" "$file")
read -r pt_s pt_kib < <(best "$pcaptrace" -r "$file" --plugin http -F json -q)
read -r core_s core_kib < <(best "$pcaptrace" -r "$file" --plugin none -F none -q)
ratio=$(awk "BEGIN{printf \"%.2f\", $pt_s / ($floor_s > 0 ? $floor_s : 0.001)}")
mib=$(awk "BEGIN{printf \"%.1f\", $pt_kib / 1024}")
size=$(stat -c %s "$file")
echo "file:       $file ($packets packets, $((size / 1048576)) MiB)"
echo "http events: $events"
echo "pcap_floor: $floor_s s (best of $runs)"
echo "pcaptrace:  $pt_s s (best of $runs), $(awk "BEGIN{printf \"%.0f\", $events / ($pt_s > 0 ? $pt_s : 0.001)}") events/s, $(awk "BEGIN{printf \"%.0f\", $size / 1048576 / ($pt_s > 0 ? $pt_s : 0.001)}") MiB/s"
echo "core only:  $core_s s (--plugin none -F none: capture, decode, TCP reassembly)"
echo "ratio:      ${ratio}x the floor (target <= 1.5)"
echo "peak RSS:   $mib MiB (target < 64)"
ok=$(awk "BEGIN{print ($ratio <= 1.5 && $mib < 64) ? 1 : 0}")
[ "$ok" = 1 ] && echo "PASS" || { echo "FAIL"; exit 1; }
