#!/usr/bin/env bash
# record.sh — records large real captures for the benchmarks, in a fresh network namespace
# (loopback only), with tcpdump in nanosecond precision, into bench/data/ (gitignored):
#
#   bench/data/http.pcap             nginx serving files of 300 B to 200 KB, driven by wrk
#   bench/data/redis.pcap            redis-server driven by redis-benchmark (no pipelining)
#   bench/data/redis-pipelined.pcap  the same with redis-benchmark -P 16
#
# Other benchmark scripts reuse these files: run this once, then bench/run.sh (or yours).
# Needs root, iproute2, tcpdump, nginx-light, wrk, redis-server, redis-tools.
# Environment: PT_BENCH_SECONDS (wrk duration, default 10), PT_BENCH_REQUESTS (per
# redis-benchmark run, default 200000), PT_BENCH_DATA (output folder, default bench/data).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
data=${PT_BENCH_DATA:-$here/data}
seconds=${PT_BENCH_SECONDS:-10}
requests=${PT_BENCH_REQUESTS:-200000}
for tool in ip tcpdump nginx wrk redis-server redis-benchmark; do
    command -v "$tool" >/dev/null || { echo "record.sh: $tool is missing" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "record.sh: needs root (network namespace, tcpdump)" >&2; exit 1; }
mkdir -p "$data"
ns=pt-bench-$$
work=$(mktemp -d)
chmod 755 "$work" # nginx workers run as nobody: they must read the served files
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
ip netns add "$ns"
ip netns exec "$ns" ip link set lo up
inns() { ip netns exec "$ns" "$@"; }

# Files of 300 B to 200 KB, spread roughly log-uniformly, served by nginx on port 8080.
mkdir -p "$work/www" "$work/nginx"
sizes=(300 700 1500 3000 6000 12000 25000 50000 100000 200000)
for s in "${sizes[@]}"; do
    head -c "$s" /dev/urandom >"$work/www/f$s.bin"
done
cat >"$work/nginx/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $work/nginx;
    proxy_temp_path $work/nginx;
    fastcgi_temp_path $work/nginx;
    uwsgi_temp_path $work/nginx;
    scgi_temp_path $work/nginx;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:8080;
        root $work/www;
    }
}
EOF
# wrk asks for a random file on each request.
{
    echo 'local paths = {'
    for s in "${sizes[@]}"; do echo "  \"/f$s.bin\","; done
    echo '}'
    echo 'request = function() return wrk.format("GET", paths[math.random(#paths)]) end'
} >"$work/paths.lua"

# tcpdump runs straight under `ip netns exec` (which execs it), so $! is tcpdump itself and
# SIGTERM reaches it (background jobs of a script ignore SIGINT).
capture() { # file filter: start tcpdump and wait until it is listening
    ip netns exec "$ns" tcpdump -i lo -s 0 --time-stamp-precision=nano -B 65536 -w "$1" "$2" \
        2>"$work/tcpdump.err" &
    pids+=($!)
    for _ in $(seq 50); do
        grep -q "listening on" "$work/tcpdump.err" && return 0
        sleep 0.1
    done
    echo "record.sh: tcpdump did not start" >&2
    cat "$work/tcpdump.err" >&2
    exit 1
}
stop_capture() {
    sleep 0.5
    kill -TERM "${pids[-1]}"
    wait "${pids[-1]}" || true
    unset 'pids[-1]'
    grep -E "captured|dropped" "$work/tcpdump.err" || true
}

echo "record.sh: http ($seconds s of wrk against nginx)"
ip netns exec "$ns" nginx -c "$work/nginx/nginx.conf" &
pids+=($!)
sleep 0.5
capture "$data/http.pcap" "tcp port 8080"
inns wrk -t 2 -c 16 -d "${seconds}s" -s "$work/paths.lua" http://127.0.0.1:8080/ | grep -E "Requests/sec|Transfer/sec"
stop_capture

echo "record.sh: redis ($requests requests per test)"
ip netns exec "$ns" redis-server --port 6379 --bind 127.0.0.1 --save '' --appendonly no --daemonize no \
    >"$work/redis.log" &
pids+=($!)
for _ in $(seq 50); do inns redis-cli -p 6379 ping >/dev/null 2>&1 && break; sleep 0.1; done
capture "$data/redis.pcap" "tcp port 6379"
inns redis-benchmark -q -p 6379 -c 16 -n "$requests" -t set,get,incr,lpush,lrange_100 -d 64 |
    tr '\r' '\n' | grep -F 'requests per second'
stop_capture
capture "$data/redis-pipelined.pcap" "tcp port 6379"
inns redis-benchmark -q -p 6379 -c 16 -n "$((requests * 4))" -P 16 -t set,get,incr,lpush -d 64 |
    tr '\r' '\n' | grep -F 'requests per second'
stop_capture
ls -l "$data"/http.pcap "$data"/redis.pcap "$data"/redis-pipelined.pcap
