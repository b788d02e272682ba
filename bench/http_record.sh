#!/usr/bin/env bash
# http_record.sh — record the http benchmark capture: nginx serving files of 300 B to 200 KB
# (log-uniform sizes, random bodies) to wrk with a random path per request, captured with
# tcpdump on the loopback of a network namespace of our own.
# Usage: http_record.sh [OUT.pcap]  (default bench/data/http_nginx.pcap)
# Environment: PT_BENCH_SECONDS (wrk duration, default 1), PT_BENCH_CONNECTIONS (default 1).
# Needs root, nginx-light, wrk,
# tcpdump, iproute2.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/data/http_nginx.pcap}
seconds=${PT_BENCH_SECONDS:-1}
conns=${PT_BENCH_CONNECTIONS:-1}
for tool in ip tcpdump nginx wrk; do
    command -v "$tool" >/dev/null || { echo "http_record.sh: $tool is missing" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "http_record.sh: needs root" >&2; exit 1; }
mkdir -p "$(dirname "$out")"
ns=pt-httpbench-$$
work=$(mktemp -d)
chmod 755 "$work" # nginx's worker runs as nobody
nginx_pid=
tcpdump_pid=
cleanup() {
    [ -n "$tcpdump_pid" ] && kill "$tcpdump_pid" 2>/dev/null
    [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null
    sleep 0.2
    ip netns del "$ns" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
ip netns add "$ns"
ip netns exec "$ns" ip link set lo up
# Ethernet-sized packets, as on a real network (loopback defaults to a 64 KiB MTU)
ip netns exec "$ns" ip link set lo mtu 1500
ip netns exec "$ns" ethtool -K lo tso off gso off gro off >/dev/null 2>&1 || true

mkdir -p "$work/www"
sizes=(300 700 1500 3000 6000 12000 25000 50000 100000 200000)
for s in "${sizes[@]}"; do
    head -c "$s" /dev/urandom >"$work/www/f$s.bin"
done
chmod -R a+rX "$work/www"
cat >"$work/nginx.conf" <<EOC
worker_processes 1;
daemon off;
pid $work/nginx.pid;
error_log $work/error.log;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $work/tmp;
    proxy_temp_path $work/tmp;
    fastcgi_temp_path $work/tmp;
    uwsgi_temp_path $work/tmp;
    scgi_temp_path $work/tmp;
    keepalive_requests 1000000;
    server { listen 127.0.0.1:8080; root $work/www; }
}
EOC
{
    echo 'local paths = {'
    for s in "${sizes[@]}"; do echo "  \"/f$s.bin\","; done
    echo '}'
    echo 'request = function() return wrk.format("GET", paths[math.random(#paths)]) end'
} >"$work/paths.lua"

ip netns exec "$ns" nginx -c "$work/nginx.conf" &
nginx_pid=$!
sleep 0.5
ip netns exec "$ns" tcpdump -i lo -s 0 --time-stamp-precision=nano -B 262144 -w "$out" \
    'tcp port 8080' 2>"$work/tcpdump.err" &
tcpdump_pid=$!
for _ in $(seq 50); do grep -q "listening on" "$work/tcpdump.err" && break; sleep 0.1; done
ip netns exec "$ns" wrk -t 1 -c "$conns" -d "${seconds}s" -s "$work/paths.lua" http://127.0.0.1:8080/ |
    grep -E "Requests/sec|Transfer/sec|Non-2xx"
sleep 0.5
kill -INT "$tcpdump_pid"
wait "$tcpdump_pid" || true
tcpdump_pid=
grep -E "captured|dropped" "$work/tcpdump.err" || true
ls -l "$out"
