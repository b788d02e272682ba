#!/usr/bin/env bash
# record_loopback.sh — records the real-traffic link-type captures beside this script: a
# TCP exchange (nc, IPv4 and IPv6) on the loopback of a fresh network namespace,
# captured at once by tcpdump as Ethernet (-i lo), Linux SLL and Linux SLL2 (-i any -y ...),
# in nanosecond precision. Needs root, iproute2, tcpdump and netcat-openbsd.
# Usage: record_loopback.sh [OUTPUT_DIR]
set -euo pipefail
out=$(cd "${1:-$(dirname "$0")}" && pwd)
ns=pt-record-$$
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
}
trap cleanup EXIT
ip netns add "$ns"
ip netns exec "$ns" ip link set lo up

record() { # name iface [tcpdump options...]
    local name=$1 iface=$2
    shift 2
    ip netns exec "$ns" tcpdump -U -n -i "$iface" "$@" --time-stamp-precision=nano \
        -w "$out/$name" 'tcp port 7777' 2>/dev/null &
    pids+=($!)
}
record eth-loopback-nc.pcap lo
record sll-any-nc.pcap any -y LINUX_SLL
record sll2-any-nc.pcap any -y LINUX_SLL2
sleep 1

exchange() { # address
    ip netns exec "$ns" nc -l -s "$1" -p 7777 >/dev/null &
    local srv=$!
    sleep 0.3
    printf 'hello from pcaptrace\n' | ip netns exec "$ns" nc -N "$1" 7777
    wait "$srv" || true
}
exchange 127.0.0.1
exchange ::1
sleep 1
for p in "${pids[@]}"; do kill -INT "$p" 2>/dev/null || true; done
wait 2>/dev/null || true
pids=()
ls -l "$out"/eth-loopback-nc.pcap "$out"/sll-any-nc.pcap "$out"/sll2-any-nc.pcap
