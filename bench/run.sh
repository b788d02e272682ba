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

# best_of CMD...: prints "seconds max_rss_kib cpu_seconds": the fastest wall time (date
# +%s.%N around the run), the largest peak RSS and the smallest user+system CPU time
# (/usr/bin/time -v) over $runs runs. CPU time is the steadier figure on a busy machine.
best_of() {
    local best_t="" best_rss=0 best_cpu="" t0 t1 t rss cpu log
    log=$(mktemp)
    for _ in $(seq "$runs"); do
        t0=$(date +%s.%N)
        /usr/bin/time -v "$@" >/dev/null 2>"$log"
        t1=$(date +%s.%N)
        t=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf("%.4f", b - a) }')
        rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$log")
        cpu=$(awk -F': ' '/User time|System time/ { s += $2 } END { printf("%.3f", s) }' "$log")
        if [ -z "$best_cpu" ] || awk -v a="$cpu" -v b="$best_cpu" 'BEGIN { exit !(a < b) }'; then
            best_cpu=$cpu
        fi
        if [ -z "$best_t" ] || awk -v a="$t" -v b="$best_t" 'BEGIN { exit !(a < b) }'; then
            best_t=$t
        fi
        if [ "$rss" -gt "$best_rss" ]; then best_rss=$rss; fi
    done
    rm -f "$log"
    echo "$best_t $best_rss $best_cpu"
}

fmt='%-22s %9s %8s %8s %9s %13s %6s %10s %11s %9s %10s %9s\n'
# shellcheck disable=SC2059
printf "$fmt" capture packets MB floor_s decode_s decode_Mpkt/s ratio floor_RSS decode_RSS \
    floor_cpu decode_cpu cpu_ratio
for f in "$@"; do
    [ -r "$f" ] || { echo "run.sh: $f missing (run bench/record.sh)" >&2; continue; }
    cat "$f" >/dev/null # warm the page cache
    read -r packets bytes < <("$floor" "$f" | awk '{print $2, $4}')
    read -r ft frss fcpu < <(best_of "$floor" "$f")
    read -r dt drss dcpu < <(best_of "$exe" --decode-only -q -r "$f")
    # shellcheck disable=SC2059
    printf "$fmt" "$(basename "$f")" "$packets" "$(awk -v b="$bytes" 'BEGIN{printf "%.1f", b/1e6}')" \
        "$ft" "$dt" "$(awk -v p="$packets" -v t="$dt" 'BEGIN { printf("%.2f", (t > 0) ? p / t / 1e6 : 0) }')" \
        "$(awk -v a="$dt" -v b="$ft" 'BEGIN { printf("%.2f", (b > 0) ? a / b : 0) }')" \
        "$(awk -v r="$frss" 'BEGIN{printf "%.1fMiB", r/1024}')" \
        "$(awk -v r="$drss" 'BEGIN{printf "%.1fMiB", r/1024}')" "$fcpu" "$dcpu" \
        "$(awk -v a="$dcpu" -v b="$fcpu" 'BEGIN { printf("%.2f", (b > 0) ? a / b : 0) }')"
done
