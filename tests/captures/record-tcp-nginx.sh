#!/usr/bin/env bash
# record-tcp-nginx.sh — records tcp-nginx-transfers.pcap: nginx serves the files of
# tests/tools/tcp_payload.py in a private network namespace whose loopback has a 1500-byte
# MTU and no segmentation offload (gso_max_segs 1), so every segment is a real wire-sized
# one; curl fetches big.bin and small.txt over one IPv4 keep-alive connection, then
# small.txt over IPv6. Needs root, nginx, curl, tcpdump, ip.
#
#   tests/captures/record-tcp-nginx.sh [OUT.pcap]   (default: next to this script)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tools=$(cd "$here/../tools" && pwd)
out=${1:-$here/tcp-nginx-transfers.pcap}
port=8080

for bin in nginx curl tcpdump ip python3; do
    command -v "$bin" >/dev/null || { echo "record-tcp-nginx: $bin not found" >&2; exit 77; }
done
[ "$(id -u)" = 0 ] || { echo "record-tcp-nginx: needs root (network namespace)" >&2; exit 77; }

ns=pt-tcprec-$$
work=$(mktemp -d)
nginx_pid= tcpdump_pid=
cleanup() {
    [ -n "$tcpdump_pid" ] && kill "$tcpdump_pid" 2>/dev/null || true
    [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null || true
    wait 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

ip netns add "$ns"
ip netns exec "$ns" ip link set lo up
ip netns exec "$ns" ip link set lo mtu 1500
ip netns exec "$ns" ip link set lo gso_max_segs 1 gso_max_size 1500

mkdir -p "$work/www" "$work/logs"
python3 "$tools/tcp_payload.py" "$work/www"
cat >"$work/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
error_log $work/logs/error.log;
pid $work/nginx.pid;
events { worker_connections 64; }
http {
    access_log off;
    sendfile off;
    server_tokens off;
    types { application/octet-stream bin; text/plain txt; }
    client_body_temp_path $work/tmp;
    proxy_temp_path $work/tmp;
    fastcgi_temp_path $work/tmp;
    uwsgi_temp_path $work/tmp;
    scgi_temp_path $work/tmp;
    server {
        listen 127.0.0.1:$port;
        listen [::1]:$port;
        root $work/www;
    }
}
EOF
mkdir -p "$work/tmp"
ip netns exec "$ns" nginx -p "$work" -c "$work/nginx.conf" &
nginx_pid=$!
# Wait until nginx answers (before the capture starts, so the probe is not in it).
for _ in $(seq 100); do
    ip netns exec "$ns" curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$port/" && break
    sleep 0.05
done
# A small snaplen (the MTU is 1500) and immediate mode: with a 256 KiB snaplen the kernel
# ring holds only a few frames and a loopback burst overflows it.
ip netns exec "$ns" tcpdump -i lo -s 2048 -B 8192 -U --immediate-mode -w "$work/rec.pcap" "tcp port $port" 2>"$work/tcpdump.log" &
tcpdump_pid=$!
for _ in $(seq 100); do
    grep -q "listening on" "$work/tcpdump.log" && break
    sleep 0.05
done
ip netns exec "$ns" curl -sS --fail -o /dev/null -o /dev/null \
    "http://127.0.0.1:$port/big.bin" "http://127.0.0.1:$port/small.txt"
ip netns exec "$ns" curl -sS --fail -g -o /dev/null "http://[::1]:$port/small.txt"
sleep 1
kill -INT "$tcpdump_pid"; wait "$tcpdump_pid" 2>/dev/null || true
tcpdump_pid=
grep -qx "0 packets dropped by kernel" "$work/tcpdump.log" ||
    { echo "record-tcp-nginx: tcpdump lost packets:" >&2; cat "$work/tcpdump.log" >&2; exit 1; }
cp "$work/rec.pcap" "$out"
echo "record-tcp-nginx: wrote $out ($(stat -c %s "$out") bytes)" >&2
