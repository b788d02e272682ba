#!/usr/bin/env bash
# redis_bench.sh — the Redis plugin end to end: `pcaptrace -r CAPTURE --plugin redis -F json`
# into /dev/null against the bare libpcap read loop (bench/pcap_floor) over a capture of about
# a million pipelined commands recorded from redis-benchmark -P 16 (bench/record.sh makes
# bench/data/redis-pipelined.pcap). Best of N runs; wall time and CPU time (user + system, the
# steadier figure on a shared machine), peak RSS (/usr/bin/time -v), commands/s. Targets: within
# 3x the floor's time, peak RSS under 64 MiB.
# Usage: bench/redis_bench.sh [BUILD_DIR] [CAPTURE]   (PT_BENCH_RUNS=N, default 5;
#        PT_BENCH_PLUGIN=NAME|PATH, default redis, to compare another build of the plugin)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
cap=${2:-$here/data/redis-pipelined.pcap}
runs=${PT_BENCH_RUNS:-5}
plugin=${PT_BENCH_PLUGIN:-redis}
floor=$build/bench/pcap_floor
exe=$build/core/pcaptrace
[ -x "$floor" ] && [ -x "$exe" ] || { echo "redis_bench.sh: build $build first" >&2; exit 1; }
[ -r "$cap" ] || { echo "redis_bench.sh: $cap missing (run bench/record.sh)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "redis_bench.sh: /usr/bin/time is missing" >&2; exit 1; }

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

cat "$cap" >/dev/null # warm the page cache
commands=$("$exe" -r "$cap" --plugin "$plugin" -F json -q | grep -c '"event":"command"' || true)
read -r ft fc frss < <(best_of "$runs" "$floor" "$cap")
read -r jt jc jrss < <(best_of "$runs" "$exe" -r "$cap" --plugin "$plugin" -F json -q)
read -r nt nc nrss < <(best_of "$runs" "$exe" -r "$cap" --plugin none -F json -q)
mib() { awk -v r="$1" 'BEGIN { printf("%.1f", r / 1024) }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf("%.1f", (b > 0) ? a / b : 0) }'; }
echo "capture:          $cap ($(stat -c %s "$cap") bytes, $commands commands)"
printf 'pcap_floor:       %8.3f s  cpu %6.2f s  peak RSS %6s MiB\n' "$ft" "$fc" "$(mib "$frss")"
printf 'tcp only (none):  %8.3f s  cpu %6.2f s  peak RSS %6s MiB\n' "$nt" "$nc" "$(mib "$nrss")"
printf '%-17s %8.3f s  cpu %6.2f s  peak RSS %6s MiB  %sx floor wall, %sx floor cpu (target 3x)  %.0f commands/s\n' \
    "$(basename "$plugin" .so) -> json:" "$jt" "$jc" "$(mib "$jrss")" "$(ratio "$jt" "$ft")" \
    "$(ratio "$jc" "$fc")" "$(awk -v c="$commands" -v t="$jt" 'BEGIN{print (t > 0) ? c / t : 0}')"
