#!/usr/bin/env bash
# plugins_memcached.sh — benchmark of the whole pipeline (read, decode, TCP reassembly,
# dispatch, memcached plugin, JSON sink) over a capture of real memcached traffic, printed
# against the bare libpcap read loop (bench/pcap_floor) and against `--plugin none`.
#
# The capture, bench/data/memcached.pcap, is recorded on first use (or with --record): a
# memcached server in a fresh network namespace driven by memcslap (set, get, mget) and a
# pipelining client, captured with tcpdump in nanosecond precision on its loopback.
#
# Usage: bench/plugins_memcached.sh [--record]
# Environment: PT_BUILD (build directory, default build), PT_MC_PLUGIN (plugin .so, default
# the one the build tree makes for the tests), PT_BENCH_DATA (default bench/data),
# PT_BENCH_MC_OPS (memcslap operations per run, default 10000), PT_BENCH_PASSES (default 3).
# Recording needs root, iproute2, tcpdump, memcached and libmemcached-tools.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${PT_BUILD:-$here/../build}
data=${PT_BENCH_DATA:-$here/data}
ops=${PT_BENCH_MC_OPS:-10000}
passes=${PT_BENCH_PASSES:-3}
capture=$data/memcached.pcap
pcaptrace=$build/core/pcaptrace
floor=$build/bench/pcap_floor
plugin=${PT_MC_PLUGIN:-$build/tests/memcached/pcaptrace-memcached.so}
for f in "$pcaptrace" "$floor" "$plugin"; do
    [ -e "$f" ] || { echo "plugins_memcached.sh: $f is missing (set PT_BUILD / PT_MC_PLUGIN)" >&2; exit 1; }
done

record() {
    for tool in ip tcpdump memcached memcslap python3; do
        command -v "$tool" >/dev/null || { echo "plugins_memcached.sh: $tool is missing" >&2; exit 1; }
    done
    [ "$(id -u)" = 0 ] || { echo "plugins_memcached.sh: recording needs root" >&2; exit 1; }
    mkdir -p "$data"
    local ns=pt-bench-mc-$$
    local pids=()
    trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; ip netns del "$ns" 2>/dev/null || true' RETURN
    ip netns add "$ns"
    ip netns exec "$ns" ip link set lo up
    ip netns exec "$ns" memcached -u root -l 127.0.0.1 -p 11211 -U 0 -t 2 -m 256 &
    pids+=($!)
    for _ in $(seq 50); do
        ip netns exec "$ns" bash -c 'echo > /dev/tcp/127.0.0.1/11211' 2>/dev/null && break
        sleep 0.1
    done
    ip netns exec "$ns" tcpdump -i lo -s 0 -B 65536 --time-stamp-precision=nano -w "$capture.tmp" \
        'tcp port 11211' 2>/dev/null &
    pids+=($!)
    sleep 1
    local s=--servers=127.0.0.1:11211
    ip netns exec "$ns" memcslap "$s" --test=set --concurrency=4 --execute-number="$ops" >/dev/null
    ip netns exec "$ns" memcslap "$s" --test=get --concurrency=4 --execute-number="$ops" >/dev/null
    ip netns exec "$ns" memcslap "$s" --test=mget --concurrency=2 --execute-number=$((ops / 50)) >/dev/null
    ip netns exec "$ns" python3 - "$ops" <<'PY'
import socket, sys
ops = int(sys.argv[1])
s = socket.create_connection(("127.0.0.1", 11211))
batch = 100
for b in range(ops // batch):
    s.sendall(b"".join(b"set b%d 0 0 16\r\n0123456789abcdef\r\nget b%d\r\n" % (i, i)
                       for i in range(b * batch, (b + 1) * batch)))
    buf = b""
    while buf.count(b"END\r\n") < batch:
        buf += s.recv(1 << 20)
s.close()
PY
    sleep 1
    kill -INT "${pids[1]}"
    wait "${pids[1]}" 2>/dev/null || true
    mv "$capture.tmp" "$capture"
}

if [ "${1:-}" = --record ] || [ ! -f "$capture" ]; then
    echo "recording $capture ..."
    record
fi

echo "capture: $capture ($(stat -c %s "$capture") bytes)"
echo "floor (bare libpcap read loop, $passes passes):"
tf=$(mktemp)
/usr/bin/time -o "$tf" -f "%U %S" "$floor" "$capture" "$passes"
read -r fu fs <"$tf"
rm -f "$tf"
floor_cpu=$(awk "BEGIN{print ($fu + $fs) / $passes}")
echo "floor: $floor_cpu s of CPU time per pass"

# Run pcaptrace $passes times; print the best wall time, the best CPU time (user + system:
# steadier than wall time on a busy machine) and the peak RSS.
measure() {
    local label=$1
    shift
    local best="" cpu="" rss=0 out tf
    tf=$(mktemp)
    for _ in $(seq "$passes"); do
        /usr/bin/time -o "$tf" -f "%e %U %S %M" "$pcaptrace" -q -r "$capture" "$@" >/dev/null 2>&1
        read -r t u sy m <"$tf"
        local c
        c=$(awk "BEGIN{print $u + $sy}")
        if [ -z "$best" ] || awk "BEGIN{exit !($t < $best)}"; then best=$t; fi
        if [ -z "$cpu" ] || awk "BEGIN{exit !($c < $cpu)}"; then cpu=$c; fi
        [ "$m" -gt "$rss" ] && rss=$m
    done
    rm -f "$tf"
    echo "$label $best $cpu $rss"
}

events=$("$pcaptrace" -q -r "$capture" --plugin "$plugin" -F json 2>/dev/null | wc -l)
commands=$("$pcaptrace" -q -r "$capture" --plugin "$plugin" -F json 2>/dev/null | grep -c '"event":"command"' || true)
packets=$(tcpdump -r "$capture" 2>/dev/null | wc -l)
bytes=$(stat -c %s "$capture")
read -r _ t_none c_none rss_none < <(measure none --plugin none -F json)
read -r _ t_mc c_mc rss_mc < <(measure memcached --plugin "$plugin" -F json)
read -r _ t_text c_text rss_text < <(measure text --plugin "$plugin" -F text --no-color)
python3 - "$packets" "$bytes" "$events" "$commands" "$floor_cpu" "$t_none" "$c_none" "$rss_none" \
    "$t_mc" "$c_mc" "$rss_mc" "$t_text" "$c_text" "$rss_text" <<'PY'
import sys
pk, by, ev, cm = (int(x) for x in sys.argv[1:5])
floor = max(float(sys.argv[5]), 0.001)
a = sys.argv[6:]
rows = [("--plugin none -F json", a[0:3]), ("memcached -F json", a[3:6]),
        ("memcached -F text", a[6:9])]
print(f"{pk} packets, {by / 1e6:.1f} MB, {ev} events ({cm} memcached commands)")
print("rates per second of CPU time (user+system), best of the passes; wall time beside")
for name, (wall, cpu, rss) in rows:
    wall, cpu = float(wall), max(float(cpu), 0.001)
    evs = f"{ev / cpu / 1e3:5.0f}" if "memcached" in name else "    -"
    print(f"{name:22s} cpu {cpu:5.2f} s  wall {wall:5.2f} s  {pk / cpu / 1e3:6.0f} kpackets/s"
          f"  {by / cpu / 1e6:6.0f} MB/s  {evs} kevents/s"
          f"  peak RSS {int(rss) / 1024:5.1f} MiB  {cpu / floor:4.1f}x the floor's CPU")
PY
