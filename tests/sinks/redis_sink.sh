#!/bin/bash
# redis_sink.sh — the redis sink against a real redis-server on a free loopback port: events
# arrive as XADD entries (checked with redis-cli XLEN/XRANGE); a dead server costs no time and
# counts drops; a server that comes up later gets the events from then on (reconnect).
set -u
fixture=$1
command -v redis-server >/dev/null && command -v redis-cli >/dev/null ||
    { echo "redis-server/redis-cli not installed"; exit 77; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
dir=$(mktemp -d /tmp/pt-redis-sink-XXXXXX)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
start_redis() {
    redis-server --port "$1" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir" \
        --daemonize no >"$dir/redis.log" 2>&1 &
    pid=$!
    for _ in $(seq 50); do redis-cli -p "$1" ping >/dev/null 2>&1 && return 0; sleep 0.1; done
    echo "redis-server did not start"; cat "$dir/redis.log"; exit 1
}
fail() { echo "FAIL: $*"; exit 1; }
field() { sed -n "s/.*$1=\([0-9]*\).*/\1/p" <<<"$2"; }

port=$(free_port)
start_redis "$port"
out=$("$fixture" redis "redis://127.0.0.1:$port/pt-test" 5000) || fail "fixture: $out"
echo "live: $out"
[ "$(field dropped "$out")" = 0 ] || fail "drops with a live server: $out"
n=$(redis-cli -p "$port" XLEN pt-test)
[ "$n" = 5000 ] || fail "XLEN pt-test = $n, want 5000"
entry=$(redis-cli -p "$port" --no-raw XRANGE pt-test - + COUNT 1)
for k in ts flow proto event client server json; do
    grep -q "\"$k\"" <<<"$entry" || fail "entry lacks $k: $entry"
done
json=$(redis-cli -p "$port" --raw XRANGE pt-test - + COUNT 2 | awk 'prev == "json" { print } { prev = $0 }' | tail -1)
python3 -c 'import json,sys; o=json.loads(sys.argv[1]); assert o["seq"]==1 and o["key"]=="key:1\r\n\x01" and o["server"]=="[2001:db8::2]:443", o' "$json" ||
    fail "json field: $json"

# XADD MAXLEN ~ N trims the stream (approximately: whole macro nodes).
out=$("$fixture" redis "redis://127.0.0.1:$port/pt-trim" 5000 0 500) || fail "fixture: $out"
n=$(redis-cli -p "$port" XLEN pt-trim)
[ "$n" -ge 500 ] && [ "$n" -lt 2000 ] || fail "XLEN pt-trim = $n with MAXLEN ~ 500"

# Dead server: capture goes on (a blocking sink would hit the test's timeout), every event
# counted as dropped.
dead=$(free_port)
out=$("$fixture" redis "redis://127.0.0.1:$dead/pt-test" 2000) || fail "fixture: $out"
echo "dead: $out"
[ "$(field dropped "$out")" = 2000 ] || fail "dead server: $out"

# Reconnect: the server comes up while events are being produced.
kill "$pid"; wait "$pid" 2>/dev/null; pid=
late=$(free_port)
( sleep 0.6; exec redis-server --port "$late" --bind 127.0.0.1 --save '' --appendonly no \
    --dir "$dir" >"$dir/late.log" 2>&1 ) &
pid=$!
out=$("$fixture" redis "redis://127.0.0.1:$late/pt-late" 300 10) || fail "fixture: $out"
echo "late: $out"
got=$(redis-cli -p "$late" XLEN pt-late)
dropped=$(field dropped "$out")
[ "$got" -gt 0 ] || fail "nothing arrived after the server came up"
[ $((got + dropped)) = 300 ] || fail "arrived $got + dropped $dropped != 300"
echo "ok: redis sink (live, dead, late server: $got arrived, $dropped dropped)"
