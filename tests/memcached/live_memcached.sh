#!/bin/bash
# live_memcached.sh — end-to-end test of the plugin SDK with the memcached example: installs
# the SDK from the build tree into a temporary directory, builds examples/memcached out of tree
# against it with pkg-config (and runs the example's own kit tests), starts a real memcached
# (Debian `memcached`) in a private network namespace, traces it with `pcaptrace -i lo
# --plugin .../pcaptrace-memcached.so -F json` while real clients (libmemcached-tools'
# memcslap, memccp, memccat, memcstat, plus a raw socket session) drive it, and checks the
# events against the server's own `stats` counters. Exit 77 (skipped) without root or tools.
set -uo pipefail

skip() {
    echo "SKIP: $*"
    exit 77
}
fail() {
    echo "FAIL: $*"
    exit 1
}

[ "$(id -u)" = 0 ] || skip "needs root (network namespace, capture)"
for tool in memcached memcslap memccp memccat memcstat meson ninja pkg-config ip python3; do
    command -v "$tool" >/dev/null || skip "$tool not installed (apt-get install memcached libmemcached-tools)"
done
: "${PT_BUILD_ROOT:?}" "${PT_SOURCE_ROOT:?}"
pcaptrace=$PT_BUILD_ROOT/core/pcaptrace
[ -x "$pcaptrace" ] || skip "pcaptrace program not built"

ns=pt-mclive-$$
tmp=$(mktemp -d /tmp/pt-mclive.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do
        kill "$p" 2>/dev/null
    done
    ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null
    for _ in $(seq 30); do
        [ -z "$(ip netns pids "$ns" 2>/dev/null)" ] && break
        sleep 0.1
    done
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
    wait 2>/dev/null
    ip netns del "$ns" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

# 1. Install the SDK (headers, pcaptrace.pc, the test kit) into a temporary root and make
#    its pkg-config files point there.
meson install -C "$PT_BUILD_ROOT" --no-rebuild --quiet --destdir "$tmp/root" >"$tmp/install.log" 2>&1 ||
    fail "meson install: $(tail -5 "$tmp/install.log")"
pc=$(find "$tmp/root" -name pcaptrace.pc | head -1)
[ -n "$pc" ] || fail "pcaptrace.pc was not installed"
pcdir=$(dirname "$pc")
for f in "$pcdir"/pcaptrace*.pc; do
    sed -i "s|^prefix=|prefix=$tmp/root|" "$f"
done
export PKG_CONFIG_PATH=$pcdir
pkg-config --cflags pcaptrace | grep -q -- "-I$tmp/root" || fail "pcaptrace.pc cflags: $(pkg-config --cflags pcaptrace)"
[ -f "$(pkg-config --variable=includedir pcaptrace)/pcaptrace/plugin.h" ] || fail "plugin.h not installed"
[ -n "$(pkg-config --variable=plugindir pcaptrace)" ] || fail "pcaptrace.pc has no plugindir"

# 2. Build the example out of tree against the installed SDK, with its own tests. A
#    sanitizer build installs an instrumented test kit, so the example must match it.
sanitize=$(meson introspect --buildoptions "$PT_BUILD_ROOT" |
    python3 -c 'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "b_sanitize"))')
extra=()
[ "$sanitize" != none ] && extra=(-Db_sanitize="$sanitize" -Db_lundef=false)
meson setup "$tmp/mc" "$PT_SOURCE_ROOT/examples/memcached" -Dplugindir="$tmp/plugins" "${extra[@]}" \
    >"$tmp/setup.log" 2>&1 || fail "meson setup of the example: $(tail -20 "$tmp/setup.log")"
ninja -C "$tmp/mc" >"$tmp/build.log" 2>&1 || fail "example build: $(tail -20 "$tmp/build.log")"
grep -q "warning:" "$tmp/build.log" && fail "example build has warnings: $(grep warning: "$tmp/build.log")"
meson install -C "$tmp/mc" --quiet >/dev/null 2>&1 || fail "example install"
so=$tmp/plugins/pcaptrace-memcached.so
[ -f "$so" ] || fail "example plugin not installed at $so"
[ -x "$tmp/mc/test_memcached" ] || fail "example tests were not built (pcaptrace-testkit.pc?)"
meson test -C "$tmp/mc" --no-rebuild >"$tmp/mctest.log" 2>&1 || fail "example tests: $(cat "$tmp/mc/meson-logs/testlog.txt" | tail -30)"
exported=$(nm -D --defined-only "$so" | awk '$2 == "T" {print $3}')
[ "$exported" = pt_plugin_entry ] || fail "plugin exports more than pt_plugin_entry: $exported"
"$pcaptrace" --plugin "$so" --list-plugins >"$tmp/list.txt" 2>&1 || true
grep -q memcached "$tmp/list.txt" || fail "pcaptrace --list-plugins does not show it: $(cat "$tmp/list.txt")"

# 3. A real server in a namespace of our own.
ip netns add "$ns" || skip "cannot create a network namespace"
ip netns exec "$ns" ip link set lo up
ip netns exec "$ns" memcached -u root -l 127.0.0.1 -p 11211 -U 0 -t 2 -m 64 &
pids+=($!)
for _ in $(seq 50); do
    ip netns exec "$ns" bash -c 'echo > /dev/tcp/127.0.0.1/11211' 2>/dev/null && break
    sleep 0.1
done

# 4. Trace it.
ip netns exec "$ns" "$pcaptrace" -i lo -B 256 --plugin "$so" \
    --plugin-opt memcached.max_line_bytes=1048576 --plugin-opt memcached.max_keys=1024 \
    -F json tcp port 11211 >"$tmp/events.json" 2>"$tmp/pcaptrace.err" &
tracer=$!
pids+=($tracer)
# Ready once the interface is open (packets are buffered by the kernel from then on).
for _ in $(seq 300); do
    grep -q "listening on" "$tmp/pcaptrace.err" 2>/dev/null && break
    kill -0 "$tracer" 2>/dev/null || break
    sleep 0.1
done
kill -0 "$tracer" 2>/dev/null || fail "pcaptrace exited: $(cat "$tmp/pcaptrace.err")"

# 5. Real clients.
run() {
    timeout 60 ip netns exec "$ns" "$@" >>"$tmp/clients.log" 2>&1 || fail "client failed: $* ($(tail -3 "$tmp/clients.log"))"
}
s=--servers=127.0.0.1:11211
run memcslap "$s" --test=set --concurrency=2 --execute-number=300
run memcslap "$s" --test=get --concurrency=2 --execute-number=300
run memcslap "$s" --test=mget --concurrency=1 --execute-number=50
run memcslap "$s" --test=set --noreply --execute-number=200
head -c 3000 /dev/urandom >"$tmp/blob.bin"
(cd "$tmp" && run memccp "$s" blob.bin)
run memccat "$s" blob.bin
run memcstat "$s"
ip netns exec "$ns" python3 - <<'PY' >>"$tmp/clients.log" 2>&1 || fail "raw session failed"
import socket
s = socket.create_connection(("127.0.0.1", 11211))
def ask(req, end=b"\r\n"):
    s.sendall(req)
    buf = b""
    while not buf.endswith(end):
        buf += s.recv(65536)
    return buf
ask(b"set n 0 0 1\r\n7\r\n")
ask(b"incr n 5\r\n")
ask(b"decr n 100\r\n")
ask(b"incr absent 1\r\n")
ask(b"touch n 100\r\n")
ask(b"gat 100 n absent\r\n", b"END\r\n")
ask(b"delete n\r\n")
ask(b"delete n\r\n")
ask(b"mg blob.bin v\r\n", b"\r\n" )
ask(b"mn\r\n")
ask(b"version\r\n")
# pipelined: 50 sets and 50 gets in one write, the answers read after
pipe = b"".join(b"set p%d 0 0 2\r\nxy\r\nget p%d p%d\r\n" % (i, i, i + 1) for i in range(50))
s.sendall(pipe)
buf = b""
while buf.count(b"END\r\n") < 50:
    buf += s.recv(65536)
s.sendall(b"quit\r\n")
s.recv(1)
PY
# Stop only once the tracer has caught up (a slow build lags behind the clients): a marker
# request sent last must reach its output. The server counts it too (one more cmd_get).
ip netns exec "$ns" bash -c 'exec 3<>/dev/tcp/127.0.0.1/11211; printf "get pt-done-marker\r\n" >&3;
    head -c 5 <&3 >/dev/null'
for _ in $(seq 1200); do
    grep -q "pt-done-marker" "$tmp/events.json" 2>/dev/null && break
    sleep 0.1
done
kill -INT "$tracer"
for _ in $(seq 50); do
    kill -0 "$tracer" 2>/dev/null || break
    sleep 0.1
done
kill -0 "$tracer" 2>/dev/null && fail "pcaptrace did not stop on SIGINT"
wait "$tracer"
rc=$?
[ "$rc" = 0 ] || [ "$rc" = 130 ] || fail "pcaptrace exit status $rc: $(cat "$tmp/pcaptrace.err")"

# 6. The server's own counters (this connection is no longer traced).
ip netns exec "$ns" python3 - >"$tmp/stats.txt" <<'PY' || fail "stats"
import socket
s = socket.create_connection(("127.0.0.1", 11211))
s.sendall(b"stats\r\n")
buf = b""
while not buf.endswith(b"END\r\n"):
    buf += s.recv(65536)
print(buf.decode())
PY

# 7. Compare.
python3 - "$tmp/events.json" "$tmp/stats.txt" "$tmp/pcaptrace.err" <<'PY'
import json, sys
events = []
for n, line in enumerate(open(sys.argv[1], encoding="utf-8"), 1):
    try:
        events.append(json.loads(line))
    except ValueError as e:
        sys.exit(f"FAIL: line {n} is not JSON ({e}): {line[:200]}")
stats = {}
for line in open(sys.argv[2]):
    p = line.split()
    if len(p) == 3 and p[0] == "STAT":
        stats[p[1]] = p[2]
import re
m = re.search(r"(\d+) dropped by kernel", open(sys.argv[3]).read())
if m is None:
    sys.exit("FAIL: no kernel drop count in pcaptrace's statistics")
if int(m.group(1)) > 0:
    print(f"SKIP: the kernel dropped {m.group(1)} packets (machine too busy): counts cannot be exact")
    sys.exit(77)
mc = [e for e in events if e.get("proto") == "memcached"]
cmds = [e for e in mc if e["event"] == "command"]
for e in mc:
    for k in ("ts", "flow", "client", "server"):
        if k not in e:
            sys.exit(f"FAIL: envelope field {k} missing: {e}")
problems = [e for e in mc if e["event"] in ("parse_error", "unanswered")]
if problems:
    sys.exit(f"FAIL: {len(problems)} parse_error/unanswered events, first: {problems[0]}")
def count(names):
    return sum(1 for e in cmds if e["command"] in names)
# memcached counts get/gets/mg keys in cmd_get, and gat/gats keys (and touch) in cmd_touch
got = {
    "cmd_get": sum(e["key_count"] for e in cmds if e["command"] in ("get", "gets"))
               + count(("mg",)),
    "get_hits": sum(e["hits"] for e in cmds if e["command"] in ("get", "gets", "mg")),
    "cmd_touch": sum(e["key_count"] for e in cmds if e["command"] in ("gat", "gats"))
                 + count(("touch",)),
    "cmd_set": count(("set", "add", "replace", "append", "prepend", "cas")),
    "delete": count(("delete",)),
    "incr_decr": count(("incr", "decr")),
}
want = {
    "cmd_get": int(stats["cmd_get"]),
    "get_hits": int(stats["get_hits"]),
    "cmd_touch": int(stats["cmd_touch"]),
    "cmd_set": int(stats["cmd_set"]),
    "delete": int(stats["delete_hits"]) + int(stats["delete_misses"]),
    "incr_decr": sum(int(stats[k]) for k in ("incr_hits", "incr_misses", "decr_hits", "decr_misses")),
}
print("events:", len(events), "memcached commands:", len(cmds))
print("traced:", got)
print("server:", want)
if got != want:
    sys.exit("FAIL: traced counts differ from the server's stats")
answered = [e for e in cmds if e["result"] is not None]
bad = [e for e in answered if not isinstance(e["latency_us"], int) or e["latency_us"] < 0]
if not answered or bad:
    sys.exit(f"FAIL: latency missing or negative: {bad[:1]}")
if not any(e["command"] == "stats" for e in cmds):
    sys.exit("FAIL: memcstat's stats command not seen")
if not any(e["command"] == "get" and e["key_count"] > 1 for e in cmds):
    sys.exit("FAIL: no multi-key get seen from memcslap --test=mget")
lat = sorted(e["latency_us"] for e in answered)
print("latency_us p50", lat[len(lat) // 2], "p99", lat[len(lat) * 99 // 100], "max", lat[-1])
PY
status=$?
[ $status = 77 ] && exit 77
[ $status = 0 ] || { echo "pcaptrace stderr:"; cat "$tmp/pcaptrace.err"; exit 1; }
echo "PASS"
