#!/bin/bash
# live_nginx.sh — live test of the http plugin: a real nginx in a network namespace of our own,
# driven by curl (keep-alive, HEAD, POST, 100-continue, gzip/chunked), wrk and hand-written
# pipelined requests (nc), captured on the namespace's loopback by `pcaptrace` itself; what
# pcaptrace reports must match nginx's access log exactly (live_compare.py).
# Usage: live_nginx.sh PCAPTRACE [PLUGIN_DIR]. Exits 77 (skipped) without root or tools.
set -u
PCAPTRACE=${1:?usage: live_nginx.sh PCAPTRACE}
HERE=$(cd "$(dirname "$0")" && pwd)
WRK_SECONDS=${PT_HTTP_WRK_SECONDS:-1}

skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root (network namespace, live capture)"
for tool in ip nginx curl wrk nc python3; do
    command -v "$tool" >/dev/null || skip "$tool not installed"
done
[ -x "$PCAPTRACE" ] || skip "pcaptrace not built: $PCAPTRACE"

NS=pt-http-$$
TMP=$(mktemp -d /tmp/pt-http-live.XXXXXX)
chmod 755 "$TMP" # nginx's worker runs as nobody
NGINX_PID=
PT_PID=
cleanup() {
    [ -n "$PT_PID" ] && kill "$PT_PID" 2>/dev/null
    [ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null
    sleep 0.2
    ip netns del "$NS" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ip netns add "$NS" || skip "cannot create a network namespace"
ip netns exec "$NS" ip link set lo up
run() { ip netns exec "$NS" "$@"; }

# Files of 300 B to 200 KB: text (gzip-able, served chunked when compressed) and binary.
mkdir -p "$TMP/www/bin" "$TMP/logs"
python3 - "$TMP/www" <<'EOF'
import os, random, sys
root = sys.argv[1]
rng = random.Random(6)
words = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu".split()
for size in (300, 1000, 4096, 20000, 65536, 200000):
    text = []
    n = 0
    while n < size:
        w = rng.choice(words) + (" " if rng.random() < 0.9 else "\n")
        text.append(w)
        n += len(w)
    with open(f"{root}/t{size}.txt", "w") as f:
        f.write("".join(text)[:size])
    with open(f"{root}/bin/b{size}.bin", "wb") as f:
        f.write(bytes(rng.getrandbits(8) for _ in range(size)))
with open(f"{root}/index.html", "w") as f:
    f.write("<html><body>" + "hello " * 80 + "</body></html>\n")
EOF
head -c 5000 "$TMP/www/t20000.txt" > "$TMP/post5000.txt"

cat > "$TMP/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $TMP/nginx.pid;
error_log $TMP/logs/error.log warn;
events { worker_connections 256; }
http {
    log_format pt '\$connection \$connection_requests \$request_method \$request_uri \$status \$body_bytes_sent \$request_length';
    access_log $TMP/logs/access.log pt;
    client_body_temp_path $TMP/body;
    proxy_temp_path $TMP/proxy;
    fastcgi_temp_path $TMP/fastcgi;
    uwsgi_temp_path $TMP/uwsgi;
    scgi_temp_path $TMP/scgi;
    types { text/plain txt; text/html html; application/octet-stream bin; }
    keepalive_requests 100000;
    gzip on;
    gzip_types text/plain;
    gzip_min_length 100;
    server {
        listen 127.0.0.1:8080;
        listen 127.0.0.1:9090;
        root $TMP/www;
        location = /post { return 200 "posted\n"; }
        location = /teapot { return 418; }
    }
}
EOF
ip netns exec "$NS" nginx -c "$TMP/nginx.conf" -p "$TMP" &
NGINX_PID=$!
for _ in $(seq 50); do
    run curl -s -o /dev/null http://127.0.0.1:8080/index.html && break
    sleep 0.1
done
: > "$TMP/logs/access.log" # drop the readiness probes

ip netns exec "$NS" "$PCAPTRACE" -i lo -B 64 --plugin http -F json --no-color \
    'tcp port 8080 or tcp port 9090' \
    > "$TMP/events.jsonl" 2> "$TMP/pcaptrace.err" &
PT_PID=$!
# Ready once the interface is open (packets are buffered by the kernel from then on).
for _ in $(seq 300); do
    grep -q "listening on" "$TMP/pcaptrace.err" 2>/dev/null && break
    kill -0 "$PT_PID" 2>/dev/null || break
    sleep 0.1
done
kill -0 "$PT_PID" 2>/dev/null || { cat "$TMP/pcaptrace.err"; echo "pcaptrace did not start"; exit 1; }

B=http://127.0.0.1:8080
set -x
# keep-alive: several URLs on one connection
run curl -s -o /dev/null -o /dev/null -o /dev/null -o /dev/null -o /dev/null -o /dev/null \
    $B/t300.txt $B/bin/b1000.bin $B/bin/b4096.bin $B/bin/b20000.bin $B/bin/b65536.bin \
    "$B/bin/b200000.bin?x=1&y=2"
# gzip (chunked) on one connection
run curl -s --compressed -o /dev/null -o /dev/null -o /dev/null -o /dev/null \
    $B/t1000.txt $B/t20000.txt $B/t65536.txt $B/t200000.txt
# HEAD, 404, 418, and a probe-detected port outside the defaults
run curl -s -I -o /dev/null $B/t4096.txt
run curl -s -o /dev/null $B/missing $B/teapot
run curl -s -o /dev/null http://127.0.0.1:9090/index.html
# POST with bodies, with and without 100-continue
run curl -s -o /dev/null --data-binary @"$TMP/post5000.txt" $B/post
run curl -s -o /dev/null -H 'Expect: 100-continue' --data-binary @"$TMP/post5000.txt" $B/post
run curl -s -o /dev/null -d 'a=1&b=2' $B/post
# hand-written pipelined requests
printf 'GET /t300.txt HTTP/1.1\r\nHost: x\r\n\r\nGET /bin/b1000.bin HTTP/1.1\r\nHost: x\r\n\r\nHEAD /index.html HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' \
    | run nc -N -w 5 127.0.0.1 8080 > /dev/null
printf 'GET /t1000.txt HTTP/1.0\r\n\r\n' | run nc -N -w 5 127.0.0.1 8080 > /dev/null
# load: wrk, bounded
run wrk -t1 -c2 -d"${WRK_SECONDS}s" $B/bin/b4096.bin > "$TMP/wrk.out"
# Stop only once pcaptrace has caught up (a slow build lags behind the clients): a marker
# request sent last must reach its output. nginx logs it too, so the counts stay exact.
run curl -s -o /dev/null $B/pt-done-marker
set +x
for _ in $(seq 1200); do
    grep -q '"response".*pt-done-marker' "$TMP/events.jsonl" 2>/dev/null && break
    sleep 0.1
done
kill -TERM "$PT_PID"
wait "$PT_PID"
PT_PID=
kill -QUIT "$NGINX_PID"
wait "$NGINX_PID" 2>/dev/null
NGINX_PID=
grep -i "requests/sec" "$TMP/wrk.out"
grep -i "drop\|error" "$TMP/pcaptrace.err" | head -5
drops=$(grep -o '[0-9]* dropped by kernel' "$TMP/pcaptrace.err" | head -1 | cut -d' ' -f1)
python3 "$HERE/live_compare.py" "$TMP/logs/access.log" "$TMP/events.jsonl"
rc=$?
if [ $rc != 0 ] && [ "${drops:-0}" != 0 ]; then
    echo "SKIP: the kernel dropped $drops packets (machine too busy), so the capture is incomplete"
    exit 77
fi
if [ $rc != 0 ]; then
    echo "--- access log (first 40)"; head -40 "$TMP/logs/access.log"
    echo "--- pcaptrace stderr"; tail -20 "$TMP/pcaptrace.err"
fi
exit $rc
