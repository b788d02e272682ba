#!/bin/bash
# golden.sh — golden tests of the http plugin through the whole program: `pcaptrace -r` over the
# hand-made captures in tests/captures (made by gen-http-captures.py) must print exactly the
# expected text and JSON in tests/http/golden/ (the core's own tcp events are left out, so
# only the plugin's output is pinned). PT_GOLDEN_UPDATE=1 rewrites the expectations.
# Usage: golden.sh PCAPTRACE
set -u
PCAPTRACE=${1:?usage: golden.sh PCAPTRACE}
HERE=$(cd "$(dirname "$0")" && pwd)
CAPTURES=$HERE/../captures
export TZ=UTC
status=0
check() { # name capture pcaptrace-arguments...
    local name=$1 capture=$CAPTURES/$2
    shift 2
    local want=$HERE/golden/$name got
    got=$(mktemp)
    "$PCAPTRACE" -r "$capture" -q --no-color "$@" > "$got.all" 2> "$got.err"
    local rc=$?
    grep -v -E '"proto":"tcp"| -> [^ ]+ tcp ' "$got.all" > "$got"
    if [ "${PT_GOLDEN_UPDATE:-0}" = 1 ]; then
        cp "$got" "$want"
    fi
    if [ $rc != 0 ] || ! diff -u "$want" "$got"; then
        echo "FAIL: $name (exit $rc)"
        cat "$got.err"
        status=1
    else
        echo "ok: $name"
    fi
    rm -f "$got" "$got.all" "$got.err"
}
check http-conversations.txt http-pipelined-chunked-gzip.pcap --plugin http
check http-conversations.jsonl http-pipelined-chunked-gzip.pcap --plugin http -F json \
    --plugin-opt http.headers=true --plugin-opt http.bodies=true --plugin-opt http.body_max=64
check http-filters.txt http-pipelined-chunked-gzip.pcap --plugin http \
    --plugin-opt 'http.method=^(GET|POST)$' --plugin-opt 'http.ignore_url=\.json$' \
    --plugin-opt 'http.show_header=(?i)^content-type$'
exit $status
