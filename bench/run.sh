#!/usr/bin/env bash
# run.sh — capture+decode benchmark: for each capture, the bare libpcap read loop
# (bench/pcap_floor) against `pcaptrace --decode-only` (capture, decode, IP defrag, no
# output), best of N runs, with elapsed time and peak RSS from /usr/bin/time -v.
# Targets: decode-only within 1.2x the floor's time, peak RSS under 32 MiB.
# Usage: bench/run.sh [BUILD_DIR] [CAPTURE...]
#   BUILD_DIR defaults to build/; captures default to bench/data/{http,redis,redis-pipelined}.pcap
#   (make them with bench/record.sh). PT_BENCH_RUNS sets N (default 5).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
shift || true
runs=${PT_BENCH_RUNS:-5}
floor=$build/bench/pcap_floor
exe=$build/core/pcaptrace
[ -x "$floor" ] && [ -x "$exe" ] || { echo "run.sh: build $build first (ninja -C $build)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "run.sh: /usr/bin/time is missing (apt-get install time)" >&2; exit 1; }
if [ $# -eq 0 ]; then
    set -- "$here"/data/http.pcap "$here"/data/redis.pcap "$here"/data/redis-pipelined.pcap
fi

# best_of CMD...: prints "seconds max_rss_kib" of the fastest of $runs runs.
best_of() {
    local best_t="" best_rss=0 t rss log
    log=$(mktemp)
    for _ in $(seq "$runs"); do
        /usr/bin/time -v "$@" >/dev/null 2>"$log"
        t=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$log")
        rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
        if [ -z "$best_t" ] || awk -v a="$t" -v b="$best_t" 'BEGIN{exit !(a<b)}'; then best_t=$t; fi
        [ "$rss" -gt "$best_rss" ] && best_rss=$rss
    done
    rm -f "$log"
    echo "$best_t $best_rss"
}

printf '%-22s %10s %9s %9s %12s %7s %9s %9s\n' capture packets MB floor_s decode_s Mpkt/s ratio floor_MiB decode_MiB
for f in "$@"; do
    [ -r "$f" ] || { echo "run.sh: $f missing (run bench/record.sh)" >&2; continue; }
    cat "$f" >/dev/null # page cache
    read -r packets bytes < <("$floor" "$f" | awk '{print $2, $4}')
    read -r ft frss < <(best_of "$floor" "$f")
    read -r dt drss < <(best_of "$exe" --decode-only -q -r "$f")
    awk -v n="$(basename "$f")" -v p="$packets" -v b="$bytes" -v ft="$ft" -v dt="$dt" \
        -v fr="$frss" -v dr="$drss" 'BEGIN {
        printf "%-22s %10d %9.1f %9.3f %12.3f %7.2f %9.2f %9.1f %9.1f\n", n, p, b/1e6, ft, dt,
            (dt > 0 ? p/dt/1e6 : 0), (ft > 0 ? dt/ft : 0), fr/1024, dr/1024 }' | \
        awk '{printf "%-22s %10s %9s %9s %12s %7s %9s %9s\n", $1, $2, $3, $4, $5, $6, $7, $8" "$9}'
done
