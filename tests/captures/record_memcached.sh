#!/bin/bash
# record_memcached.sh — records memcached-text-basic.pcap: one client session against a real
# memcached (Debian `memcached`) in a private network namespace, captured with tcpdump on its
# loopback. Session (one request at a time): set, get (hit), get (miss), get of two keys (one
# hit), set with noreply, incr, delete, stats, quit. Needs root. Usage: record_memcached.sh [OUTPUT.pcap]
set -euo pipefail
out=$(realpath -m "${1:-$(dirname "$0")/memcached-text-basic.pcap}")
ns=pt-mcrec-$$
tmp=$(mktemp -d)
cleanup() {
    ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
ip netns add "$ns"
ip netns exec "$ns" ip link set lo up
ip netns exec "$ns" memcached -u root -l 127.0.0.1 -p 11211 -U 0 -t 1 &
ip netns exec "$ns" tcpdump -i lo -U -s 0 -w "$tmp/cap.pcap" 'tcp port 11211' 2>/dev/null &
tcpdump_pid=$!
for _ in $(seq 50); do
    ip netns exec "$ns" bash -c 'echo > /dev/tcp/127.0.0.1/11211' 2>/dev/null && break
    sleep 0.1
done
sleep 0.5
# the readiness probe above also used port 11211: keep only the session's client port
ip netns exec "$ns" python3 - "$tmp/port" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", 11211))
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
def ask(req, end):
    s.sendall(req)
    buf = b""
    while not buf.endswith(end):
        chunk = s.recv(65536)
        if not chunk:
            raise SystemExit("server closed")
        buf += chunk
ask(b"set greeting 0 0 5\r\nhello\r\n", b"\r\n")
ask(b"get greeting\r\n", b"END\r\n")
ask(b"get missing\r\n", b"END\r\n")
ask(b"get greeting absent\r\n", b"END\r\n")
s.sendall(b"set counter 0 0 1 noreply\r\n5\r\n")
ask(b"incr counter 1\r\n", b"\r\n")
ask(b"delete greeting\r\n", b"\r\n")
ask(b"stats\r\n", b"END\r\n")
s.sendall(b"quit\r\n")
s.recv(10)
s.close()
PY
sleep 0.5
kill -INT "$tcpdump_pid"
wait "$tcpdump_pid" || true
tcpdump -r "$tmp/cap.pcap" -w "$out" "tcp port $(cat "$tmp/port")" 2>/dev/null
echo "wrote $out ($(tcpdump -r "$out" 2>/dev/null | wc -l) packets)"
