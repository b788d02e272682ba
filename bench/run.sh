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

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

fmt='%-22s %9s %8s %8s %9s %13s %6s %10s %11s %9s %10s %9s\n'
# shellcheck disable=SC2059
printf "$fmt" capture packets MB floor_s decode_s decode_Mpkt/s ratio floor_RSS decode_RSS \
    floor_cpu decode_cpu cpu_ratio
for f in "$@"; do
    [ -r "$f" ] || { echo "run.sh: $f missing (run bench/record.sh)" >&2; continue; }
    cat "$f" >/dev/null # warm the page cache
    read -r packets bytes < <("$floor" "$f" | awk '{print $2, $4}')
    read -r ft fcpu frss < <(best_of "$runs" "$floor" "$f")
    read -r dt dcpu drss < <(best_of "$runs" "$exe" --decode-only -q -r "$f")
    # shellcheck disable=SC2059
    printf "$fmt" "$(basename "$f")" "$packets" "$(awk -v b="$bytes" 'BEGIN{printf "%.1f", b/1e6}')" \
        "$ft" "$dt" "$(awk -v p="$packets" -v t="$dt" 'BEGIN { printf("%.2f", (t > 0) ? p / t / 1e6 : 0) }')" \
        "$(awk -v a="$dt" -v b="$ft" 'BEGIN { printf("%.2f", (b > 0) ? a / b : 0) }')" \
        "$(awk -v r="$frss" 'BEGIN{printf "%.1fMiB", r/1024}')" \
        "$(awk -v r="$drss" 'BEGIN{printf "%.1fMiB", r/1024}')" "$fcpu" "$dcpu" \
        "$(awk -v a="$dcpu" -v b="$fcpu" 'BEGIN { printf("%.2f", (b > 0) ? a / b : 0) }')"
done
