#!/bin/bash
# live.sh — real redis-server in a private network namespace, captured live by pcaptrace
# itself (`pcaptrace -i lo --plugin redis -F json`), driven by redis-cli (RESP2 and -3),
# redis-benchmark (pipelined -P 16) and scripted sessions (pub/sub RESP2 and RESP3, MULTI,
# CLIENT REPLY, HELLO 3, blocking pops, MONITOR, a 1 MiB value, errors). Checks:
#   1. per command name, pcaptrace's count equals INFO commandstats (calls + rejected_calls)
#      exactly, when the kernel dropped nothing; every command is paired with a reply or
#      known to have none, nothing is left unanswered, no parse errors;
#   2. mid-stream: a capture started on an open connection pairs the first command it sees.
# Needs root, iproute2, redis-server, redis-cli, redis-benchmark, nc; otherwise exits 77.
set -euo pipefail

skip() { echo "skipped: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root"
for p in ip redis-server redis-cli redis-benchmark nc python3; do
    command -v "$p" >/dev/null || skip "no $p"
done
prog=${PT_BUILD_ROOT:?}/core/pcaptrace
[ -x "$prog" ] || skip "no $prog"
[ -e "$PT_BUILD_ROOT/plugins/redis/pcaptrace-redis.so" ] || skip "no redis plugin built"

ns=pt-redis-live-$$
work=$(mktemp -d)
cleanup() {
    for f in "$work"/*.ppid; do
        [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null || true
    done
    [ -f "$work/redis.pid" ] && kill "$(cat "$work/redis.pid")" 2>/dev/null || true
    sleep 0.3
    ip netns del "$ns" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

run() { ip netns exec "$ns" "$@"; }
cli() { run redis-cli -h 127.0.0.1 -p 6379 "$@"; }
raw() { run nc -N 127.0.0.1 6379; }
sock() { run redis-cli -s "$work/redis.sock" "$@"; }

ip netns add "$ns" || skip "cannot create a network namespace"
run ip link set lo up
run redis-server --port 6379 --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
    --unixsocket "$work/redis.sock" --pidfile "$work/redis.pid" --logfile "$work/redis.log" \
    --dir "$work"
for _ in $(seq 50); do sock PING >/dev/null 2>&1 && break; sleep 0.1; done

# Start a capture writing JSON events to $1.json; wait until it sees traffic.
start_capture() {
    ip netns exec "$ns" "$prog" -i lo --plugin redis -F json -B 256 tcp port 6379 \
        >"$work/$1.json" 2>"$work/$1.err" 7>&- &
    echo $! >"$work/$1.ppid"
    for i in $(seq 100); do
        cli ECHO "ready-$1-$i" >/dev/null
        grep -q "\"ready-$1-" "$work/$1.json" 2>/dev/null && return 0
        sleep 0.1
    done
    cat "$work/$1.err"
    echo "FAIL: capture $1 never saw traffic"
    exit 1
}

stop_capture() {
    local pid
    pid=$(cat "$work/$1.ppid")
    # Stop only once the capture has caught up with everything sent so far (a slow build,
    # e.g. under ASan, lags behind the clients): a marker sent last must reach its output.
    cli ECHO "done-$1" >/dev/null
    for _ in $(seq 1200); do
        grep -q "\"done-$1\"" "$work/$1.json" 2>/dev/null && break
        sleep 0.1
    done
    for i in $(seq 100); do
        # SIGINT ends the capture and flushes every stream; repeat it if it was missed
        [ $((i % 10)) = 1 ] && kill -INT "$pid" 2>/dev/null
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        echo "FAIL: capture $1 did not stop on SIGINT"
        exit 1
    fi
    rm -f "$work/$1.ppid"
}

# ---- 1. everything, counted against INFO commandstats -----------------------------------
sock CONFIG RESETSTAT >/dev/null
start_capture main

cli SET k1 v1 >/dev/null
cli GET k1 >/dev/null
cli INCR n >/dev/null
cli LPUSH k1 x >/dev/null || true   # WRONGTYPE error
cli GET >/dev/null 2>&1 || true     # wrong arity: rejected
cli NOSUCHCOMMAND >/dev/null || true
cli AUTH nopass >/dev/null 2>&1 || true
cli CONFIG GET maxmemory >/dev/null
head -c 1048576 /dev/zero | tr "\0" v | cli -x SET huge >/dev/null
cli GET huge >/dev/null
cli STRLEN huge >/dev/null
cli -3 HSET h f1 v1 f2 v2 >/dev/null
cli -3 HGETALL h >/dev/null
cli -3 SMEMBERS nothing >/dev/null
printf 'MULTI\r\nINCR n\r\nLPUSH l a b\r\nLRANGE l 0 -1\r\nEXEC\r\nPING\r\nECHO done\r\n' | raw >/dev/null
printf 'CLIENT REPLY OFF\r\nSET q 1\r\nINCR n\r\nCLIENT REPLY ON\r\nGET q\r\nCLIENT REPLY SKIP\r\nINCR n\r\nGET n\r\n' \
    | raw >/dev/null
(printf 'SUBSCRIBE a b\r\nPSUBSCRIBE n*\r\n'; sleep 0.8
 printf 'PING\r\nUNSUBSCRIBE\r\nPUNSUBSCRIBE\r\nQUIT\r\n') | raw >/dev/null &
sub2=$!
(printf 'HELLO 3\r\nSUBSCRIBE a\r\n'; sleep 0.8; printf 'GET k1\r\nUNSUBSCRIBE a\r\nQUIT\r\n') \
    | raw >/dev/null &
sub3=$!
(printf 'MONITOR\r\n'; sleep 0.8) | raw >/dev/null &
mon=$!
sleep 0.4
cli PUBLISH a hello >/dev/null
cli PUBLISH nx pattern-hit >/dev/null
wait "$sub2" "$sub3" "$mon"
cli BLPOP jobs 5 >/dev/null &
blpop=$!
sleep 0.3
cli RPUSH jobs j1 >/dev/null
wait "$blpop"
cli BLPOP empty 0.2 >/dev/null
run redis-benchmark -h 127.0.0.1 -p 6379 -c 4 -n 20000 -P 16 -t set,get,incr,lpush,lpop -q \
    >/dev/null
cli DEL k1 n l h q huge jobs >/dev/null

stop_capture main
sock INFO commandstats >"$work/stats.txt"

# ---- 2. mid-stream: the capture starts on an open connection ----------------------------
mkfifo "$work/in"
ip netns exec "$ns" nc -N 127.0.0.1 6379 <"$work/in" >"$work/mid.out" &
ncpid=$!
exec 7>"$work/in"
printf 'SET mid 1\r\nGET mid\r\n' >&7
sleep 0.3
start_capture mid
printf 'GET mid\r\nINCR mid\r\nQUIT\r\n' >&7
sleep 0.3
exec 7>&-
for _ in $(seq 50); do kill -0 "$ncpid" 2>/dev/null || break; sleep 0.1; done
kill "$ncpid" 2>/dev/null || true
stop_capture mid

python3 - "$work" <<'PY'
import collections, json, re, sys

work = sys.argv[1]
fail = []

def events(name):
    out = []
    for line in open("%s/%s.json" % (work, name), encoding="utf-8", errors="replace"):
        if line.startswith("{"):
            out.append(json.loads(line))
    return out

def drops(name):
    err = open("%s/%s.err" % (work, name)).read()
    m = re.search(r"(\d+) dropped by kernel", err)
    return int(m.group(1)) if m else None

main = events("main")
d = drops("main")
if d is None:
    fail.append("no kernel drop count in the capture's statistics")
elif d > 0:
    print("kernel dropped %d packets: exact counts cannot be checked" % d)
    print(open("%s/main.err" % work).read())
    sys.exit(77)

ours = collections.Counter()
kinds = collections.Counter()
for e in main:
    if e.get("proto") != "redis":
        continue
    kinds[e["event"]] += 1
    if e["event"] == "command":
        if e.get("error") and str(e.get("reply", "")).startswith("ERR unknown command"):
            continue  # Redis keeps no statistics for commands it does not know
        ours[e["command"].lower()] += 1
    elif e["event"] == "unanswered":
        fail.append("unanswered: %s" % json.dumps(e)[:300])
    elif e["event"] == "parse_error":
        fail.append("parse error: %s" % json.dumps(e)[:300])

theirs = collections.Counter()
for line in open("%s/stats.txt" % work):
    m = re.match(r"cmdstat_([^:]+):calls=(\d+).*?rejected_calls=(\d+)", line)
    if m:
        theirs[m.group(1)] += int(m.group(2)) + int(m.group(3))

# ECHO is the readiness probe (some were sent before the capture started); INFO and CONFIG
# RESETSTAT went over the unix socket.
for name in ("echo", "info", "config|resetstat"):
    ours.pop(name, None)
    theirs.pop(name, None)
for name in sorted(set(ours) | set(theirs)):
    flag = "" if ours[name] == theirs[name] else "   <-- MISMATCH"
    print("%-20s redis %7d  pcaptrace %7d%s" % (name, theirs[name], ours[name], flag))
    if flag:
        fail.append("count of %s: redis %d, pcaptrace %d" % (name, theirs[name], ours[name]))
print("events:", dict(kinds))
for need in ("push",):
    if kinds[need] == 0:
        fail.append("no %s events" % need)
pushes = collections.Counter(e.get("kind") for e in main if e.get("event") == "push")
for k in ("message", "pmessage", "monitor"):
    if pushes[k] == 0:
        fail.append("no push of kind %s" % k)
cmds = [e for e in main if e.get("event") == "command"]
if not any(e["command"] == "BLPOP" and e.get("blocking") and e["latency_us"] >= 200000
           for e in cmds):
    fail.append("no BLPOP that waited")
if not any(e["command"] == "GET" and e["reply_bytes"] > 1048576 for e in cmds):
    fail.append("no 1 MiB GET reply")
if not any(e.get("resp") == 3 and e["reply_type"] == "map" for e in cmds):
    fail.append("no RESP3 map reply")
if sum(1 for e in cmds if e["reply_type"] == "none") != 5:
    fail.append("CLIENT REPLY OFF/SKIP: expected 5 commands without reply")

mid = [e for e in events("mid") if e.get("proto") in ("redis", "tcp")]
flows = {e["flow"] for e in mid if e["event"] == "tcp_start" and not e["handshake"]}
picked = [e for e in mid if e["flow"] in flows and e.get("proto") == "redis"]
got = [(e["event"], e.get("command"), e.get("reply")) for e in picked]
print("mid-stream:", got)
if got[:2] != [("command", "GET", "1"), ("command", "INCR", "2")]:
    fail.append("mid-stream pickup did not pair the first commands: %s" % got)

for f in fail:
    print("FAIL:", f)
sys.exit(1 if fail else 0)
PY
