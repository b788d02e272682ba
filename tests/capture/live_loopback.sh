#!/usr/bin/env bash
# live_loopback.sh — live capture test: in a fresh network namespace, `pcaptrace -i lo -c N
# --packets` watches a real TCP exchange (nc, IPv4 then IPv6) and must print its handshake,
# data and close with the right addresses. Needs root, iproute2 and netcat-openbsd (exit 77
# without them).
# Usage: live_loopback.sh PCAPTRACE
set -uo pipefail
exe=$1
[ "$(id -u)" = 0 ] || { echo "skip: needs root"; exit 77; }
command -v ip >/dev/null && command -v nc >/dev/null || { echo "skip: needs ip and nc"; exit 77; }
ns=pt-capture-live-$$
tmp=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null
    ip netns del "$ns" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
ip netns add "$ns" || { echo "skip: cannot create a network namespace"; exit 77; }
ip netns exec "$ns" ip link set lo up

# 2 exchanges x 8 packets (3 handshake, data, ack, FIN, FIN, ack) = 16; a small read timeout
# and immediate mode so it sees them promptly.
TZ=UTC ip netns exec "$ns" "$exe" -i lo --immediate -c 16 --packets 'tcp port 7777' \
    >"$tmp/out" 2>"$tmp/err" &
cap=$!
pids+=($cap)
# Wait until the capture is open: pcaptrace says "listening on" once it is.
for _ in $(seq 100); do
    grep -q "listening on lo" "$tmp/err" && break
    kill -0 "$cap" 2>/dev/null || break
    sleep 0.05
done
grep -q "listening on lo" "$tmp/err" || { echo "pcaptrace did not start:"; cat "$tmp/err"; exit 1; }
exchange() {
    ip netns exec "$ns" nc -l -s "$1" -p 7777 >"$tmp/got" &
    local srv=$!
    sleep 0.3
    printf 'hello pcaptrace\n' | ip netns exec "$ns" nc -N "$1" 7777
    wait "$srv"
    grep -q 'hello pcaptrace' "$tmp/got" || { echo "nc exchange over $1 failed"; exit 1; }
}
exchange 127.0.0.1
exchange ::1
for _ in $(seq 50); do
    kill -0 "$cap" 2>/dev/null || break
    sleep 0.1
done
if kill -0 "$cap" 2>/dev/null; then
    echo "pcaptrace did not stop after -c 16; output so far:"
    cat "$tmp/out" "$tmp/err"
    exit 1
fi
wait "$cap"
rc=$?
pids=()
cat "$tmp/out"
cat "$tmp/err" >&2
[ "$rc" = 0 ] || { echo "pcaptrace exited with $rc"; exit 1; }
fail=0
expect() { # regex
    grep -Eq "$1" "$tmp/out" || { echo "missing line matching: $1"; fail=1; }
}
t='^[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6} eth '
expect "$t"'127\.0\.0\.1:[0-9]+ -> 127\.0\.0\.1:7777 tcp \[S\] seq [0-9]+ win [0-9]+ len 0$'
expect "$t"'127\.0\.0\.1:7777 -> 127\.0\.0\.1:[0-9]+ tcp \[S\.\] seq [0-9]+ ack [0-9]+ win'
expect "$t"'127\.0\.0\.1:[0-9]+ -> 127\.0\.0\.1:7777 tcp \[P\.\] .* len 16$'
expect "$t"'127\.0\.0\.1:[0-9]+ -> 127\.0\.0\.1:7777 tcp \[F\.\]'
expect "$t"'\[::1\]:[0-9]+ -> \[::1\]:7777 tcp \[S\] '
expect "$t"'\[::1\]:[0-9]+ -> \[::1\]:7777 tcp \[P\.\] .* len 16$'
expect "$t"'\[::1\]:7777 -> \[::1\]:[0-9]+ tcp \[F\.\]'
[ "$(wc -l <"$tmp/out")" = 16 ] || { echo "expected 16 lines"; fail=1; }
grep -q '16 packets read' "$tmp/err" || { echo "missing statistics on stderr"; fail=1; }
exit $fail
