# lib.sh — shell helpers shared by the benchmark scripts (sourced, not run).

# best_of RUNS CMD...: prints "wall_seconds cpu_seconds max_rss_kib": the fastest wall time
# (date +%s.%N around the run), the smallest user+system CPU time and the largest peak RSS
# (/usr/bin/time -v) over RUNS runs. CPU time is the steadier figure on a busy machine.
best_of() {
    local runs=$1 best_t="" best_c="" best_rss=0 t0 t1 t c rss log
    shift
    log=$(mktemp)
    for _ in $(seq "$runs"); do
        t0=$(date +%s.%N)
        /usr/bin/time -v "$@" >/dev/null 2>"$log"
        t1=$(date +%s.%N)
        t=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf("%.4f", b - a) }')
        c=$(awk -F': ' '/User time|System time/ { s += $2 } END { printf("%.3f", s) }' "$log")
        rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$log")
        if [ -z "$best_t" ] || awk -v a="$t" -v b="$best_t" 'BEGIN { exit !(a < b) }'; then
            best_t=$t
        fi
        if [ -z "$best_c" ] || awk -v a="$c" -v b="$best_c" 'BEGIN { exit !(a < b) }'; then
            best_c=$c
        fi
        if [ "$rss" -gt "$best_rss" ]; then best_rss=$rss; fi
    done
    rm -f "$log"
    echo "$best_t $best_c $best_rss"
}
