#!/usr/bin/python3
"""corpus_tunnels.py — HTTP inside tunnels (Teredo, AYIYA, VXLAN) from the shared corpus must
yield the transactions Zeek logs: `pcaptrace --plugin http -F json` over each capture, compared
per transaction (client, server, method, host, URI, status) with Zeek's http.log beside it.
With --no-tunnels the tunnelled transactions must disappear (the decapsulation is what finds
them).

Usage: corpus_tunnels.py PCAPTRACE
The corpus folder is $PT_CORPUS/http; without it the test is skipped (exit 77).
"""
import collections
import ipaddress
import json
import os
import subprocess
import sys
import urllib.parse

CAPTURES = ["Teredo.pcap", "ayiya3.pcap", "vxlan-encapsulated-http.pcap"]
SKIP = 77


def host_norm(addr):
    """Canonical text of an IP address, so '2001:0:...' and '2001::...' compare equal."""
    return str(ipaddress.ip_address(addr.strip("[]")))


def uri_norm(uri):
    """Zeek logs URIs with %XX escapes decoded; decode ours the same way before comparing."""
    return None if uri is None else urllib.parse.unquote(uri)


def zeek_transactions(path):
    """(orig_h, orig_p, resp_h, resp_p, method, host, uri, status) of each http.log row."""
    fields, out = None, collections.Counter()
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("#fields"):
                fields = line.split("\t")[1:]
                continue
            if line.startswith("#") or fields is None:
                continue
            row = dict(zip(fields, line.split("\t")))
            val = lambda k: None if row.get(k) in (None, "-", "(empty)") else row[k]
            out[(host_norm(row["id.orig_h"]), row["id.orig_p"], host_norm(row["id.resp_h"]),
                 row["id.resp_p"], val("method"), val("host"), uri_norm(val("uri")),
                 val("status_code"))] += 1
    return out


def split_endpoint(ep):
    host, _, port = ep.rpartition(":")
    return host_norm(host), port


def pcaptrace_transactions(exe, pcap, extra):
    """The same tuple for each HTTP request pcaptrace reports, with the status of the
    response paired with it (None when there is none)."""
    p = subprocess.run([exe, "-r", pcap, "--plugin", "http", "-F", "json", "-q"] + extra,
                       capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        sys.exit(f"pcaptrace failed on {pcap}: {p.stderr.strip()}")
    requests, status = [], {}
    for line in p.stdout.splitlines():
        ev = json.loads(line)
        if ev.get("proto") != "http":
            continue
        key = (ev["flow"], ev.get("seq"))
        if ev["event"] == "request":
            requests.append((key, ev))
        elif ev["event"] == "response" and ev.get("paired"):
            status[key] = str(ev["status"])
    out = collections.Counter()
    for key, ev in requests:
        ch, cp = split_endpoint(ev["client"])
        sh, sp = split_endpoint(ev["server"])
        out[(ch, cp, sh, sp, ev.get("method"), ev.get("host"), uri_norm(ev.get("uri")),
             status.get(key))] += 1
    return out


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    exe = sys.argv[1]
    corpus = os.environ.get("PT_CORPUS", "")
    folder = os.path.join(corpus, "http")
    if not corpus or not os.path.isdir(folder):
        print("corpus absent: skipped")
        return SKIP
    failed = 0
    for name in CAPTURES:
        pcap = os.path.join(folder, name)
        log = pcap + ".expected.http.log"
        if not os.path.exists(pcap) or not os.path.exists(log):
            print(f"{name}: missing, skipped")
            continue
        want = zeek_transactions(log)
        got = pcaptrace_transactions(exe, pcap, [])
        plain = pcaptrace_transactions(exe, pcap, ["--no-tunnels"])
        tunnelled = sum((want - plain).values())
        print(f"{name}: zeek {sum(want.values())}, pcaptrace {sum(got.values())}, "
              f"without decapsulation {sum((want & plain).values())}")
        if got != want:
            failed += 1
            for t in sorted((want - got).elements(), key=str):
                print(f"  missing: {t}")
            for t in sorted((got - want).elements(), key=str):
                print(f"  extra:   {t}")
        if tunnelled == 0:
            failed += 1
            print(f"  {name}: no transaction needed decapsulation: the test proves nothing")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
