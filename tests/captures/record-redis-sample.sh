#!/bin/bash
# record-redis-sample.sh — records tests/captures/redis-sample.pcap: a small, varied Redis
# session (strings, an error, AUTH, a pipelined MULTI/EXEC, inline commands, CLIENT REPLY,
# pub/sub, a blocking pop, RESP3 via HELLO 3, a 3000-byte value) between redis-server and
# redis-cli/nc in a private network namespace, captured with tcpdump on its loopback.
# Needs root, redis-server, redis-cli, tcpdump, nc (netcat-openbsd) and iproute2.
# Usage: tests/captures/record-redis-sample.sh [OUTPUT.pcap]
set -euo pipefail

out=$(realpath -m "${1:-$(dirname "$0")/redis-sample.pcap}")
ns=pt-redis-rec-$$
work=$(mktemp -d)
cleanup() {
    [ -f "$work/tcpdump.pid" ] && kill "$(cat "$work/tcpdump.pid")" 2>/dev/null || true
    [ -f "$work/redis.pid" ] && kill "$(cat "$work/redis.pid")" 2>/dev/null || true
    sleep 0.2
    ip netns del "$ns" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

run() { ip netns exec "$ns" "$@"; }
cli() { run redis-cli -h 127.0.0.1 -p 6379 "$@"; }
raw() { run nc -N 127.0.0.1 6379; }

ip netns add "$ns"
run ip link set lo up
run redis-server --port 6379 --bind 127.0.0.1 --save '' --appendonly no \
    --daemonize yes --pidfile "$work/redis.pid" --logfile "$work/redis.log" --dir "$work"
for _ in $(seq 50); do cli PING >/dev/null 2>&1 && break; sleep 0.1; done

ip netns exec "$ns" tcpdump -i lo -s 0 -U -w "$out" "tcp port 6379" 2>"$work/tcpdump.err" &
echo $! >"$work/tcpdump.pid"
sleep 1

cli SET greeting "hello world" >/dev/null
cli GET greeting >/dev/null
cli INCR visits >/dev/null
cli NOSUCHCOMMAND arg >/dev/null || true
cli AUTH hunter2 >/dev/null 2>&1 || true
cli CONFIG GET maxmemory >/dev/null
head -c 3000 /dev/zero | tr '\0' 'x' | cli -x SET blob >/dev/null
cli GETRANGE blob 0 9 >/dev/null
printf 'MULTI\r\nINCR visits\r\nLPUSH queue a b c\r\nEXEC\r\nPING\r\nLRANGE queue 0 -1\r\n' | raw >/dev/null
printf 'CLIENT REPLY OFF\r\nSET quiet 1\r\nCLIENT REPLY ON\r\nGET quiet\r\n' | raw >/dev/null
(printf 'SUBSCRIBE news\r\n'; sleep 0.6; printf 'UNSUBSCRIBE news\r\nQUIT\r\n') | raw >/dev/null &
sub=$!
sleep 0.3
cli PUBLISH news "breaking story" >/dev/null
wait "$sub"
cli BLPOP jobs 5 >/dev/null &
blpop=$!
sleep 0.3
cli RPUSH jobs job-1 >/dev/null
wait "$blpop"
cli -3 HGETALL missing >/dev/null
cli -3 HSET user:1 name ada lang c >/dev/null
cli -3 HGETALL user:1 >/dev/null
sleep 0.5
kill "$(cat "$work/tcpdump.pid")"
rm -f "$work/tcpdump.pid"
sleep 0.3
echo "wrote $out ($(stat -c %s "$out") bytes)"
