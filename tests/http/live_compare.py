#!/usr/bin/python3
"""live_compare.py — compare what pcaptrace's http plugin reported (JSON lines) with nginx's
access log for the same traffic: the transactions (method, URI, status, body bytes) must match
exactly, as multisets.

Access log lines (format `pt` in live_nginx.sh):
    <connection> <connection_requests> <method> <request_uri> <status> <body_bytes_sent>
    <request_length>

nginx counts body bytes as sent after the header, so chunked framing is included: the
plugin's `response_wire_bytes - response_header_bytes` is the same quantity.
nginx also counts the "HTTP/1.1 100 Continue" interim response it sent before reading a body
(25 bytes) as body bytes of the final response; the comparison adds them back.
Requests nginx logged as 499 (client closed first) match the plugin's `unanswered` events.
"""
import collections
import json
import sys


def load_events(path):
    events = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                ev = json.loads(line)
            except json.JSONDecodeError as e:
                sys.exit(f"{path}:{n}: not JSON ({e}): {line[:120]}")
            if ev.get("proto") == "http":
                events.append(ev)
    return events


def load_log(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) != 7:
                sys.exit(f"{path}: unexpected line: {line!r}")
            rows.append(parts)
    return rows


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: live_compare.py ACCESS_LOG EVENTS_JSONL")
    log = load_log(sys.argv[1])
    events = load_events(sys.argv[2])
    want = collections.Counter()
    want_unanswered = collections.Counter()
    for conn, creq, method, uri, status, body, reqlen in log:
        if status == "499":
            want_unanswered[(method, uri)] += 1
        else:
            want[(method, uri, int(status), int(body))] += 1
    got = collections.Counter()
    got_unanswered = collections.Counter()
    problems = []
    for ev in events:
        kind = ev.get("event")
        if kind == "response":
            if not ev.get("paired"):
                problems.append(f"response without request: {ev}")
                continue
            body = ev["response_wire_bytes"] - ev["response_header_bytes"]
            if ev.get("info_code") == 100:
                body += len("HTTP/1.1 100 Continue\r\n\r\n")
            got[(ev["method"], ev["uri"], ev["status"], body)] += 1
            if not ev.get("complete"):
                problems.append(f"incomplete response: {ev}")
        elif kind == "unanswered":
            got_unanswered[(ev["method"], ev["uri"])] += 1
        elif kind == "parse_error":
            problems.append(f"parse error: {ev}")
    ok = True
    for label, w, g in (("transactions", want, got), ("unanswered", want_unanswered,
                                                       got_unanswered)):
        missing = w - g
        extra = g - w
        print(f"{label}: nginx {sum(w.values())}, pcaptrace {sum(g.values())}")
        for k, v in sorted(missing.items(), key=str)[:20]:
            print(f"  only in nginx's log: {v} x {k}")
            ok = False
        for k, v in sorted(extra.items(), key=str)[:20]:
            print(f"  only in pcaptrace: {v} x {k}")
            ok = False
    for p in problems[:20]:
        print("  " + p)
        ok = False
    methods = collections.Counter(k[0] for k in want.elements())
    print("methods:", dict(methods))
    if not want:
        print("nginx logged nothing")
        ok = False
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
