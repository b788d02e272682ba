#!/usr/bin/python3
"""corpus_zeek.py — run `pcaptrace --plugin http -F json` over the HTTP captures of the shared
corpus and compare, per transaction, with the Zeek http.log baselines beside them: method, URI,
host and status must agree. Prints the agreement per capture and in total, and fails when the
total falls below --min-agreement (differences are explained in plugins/http/README.md).

Usage: corpus_zeek.py PCAPTRACE [--min-agreement 0.9] [-v]
The corpus folder is $PT_CORPUS/http; without it the test is skipped (exit 77).
"""
import argparse
import collections
import glob
import json
import os
import subprocess
import sys

# Baselines made with a non-default Zeek configuration are left out.
SKIP_SUFFIXES = (".nonstandard.txt", ".multipart-file-limit.http.log")


def zeek_rows(path):
    """Rows of a Zeek http.log (plain or zeek-cut -m output) as dicts."""
    fields = None
    rows = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("#fields"):
                fields = line.split("\t")[1:]
                continue
            if line.startswith("#"):
                continue
            parts = line.split("\t")
            if fields is None and parts[:2] == ["ts", "uid"]:
                fields = parts
                continue
            if fields is None or len(parts) != len(fields):
                continue
            rows.append(dict(zip(fields, parts)))
    return rows


def unset(v):
    return None if v in (None, "-", "(empty)") else v


def endpoint_split(ep):
    """'1.2.3.4:80' or '[::1]:80' -> ('1.2.3.4', '80')."""
    host, _, port = ep.rpartition(":")
    return host.strip("[]"), port


def zeek_uri(raw):
    """Zeek logs the URI percent-decoded, with bytes that are not printable UTF-8 as \\xNN and
    a backslash as \\\\; the plugin reports it as sent. Render ours the Zeek way."""
    if raw is None:
        return None
    b = bytearray()
    data = raw.encode("utf-8", "surrogateescape")
    i = 0
    while i < len(data):
        if data[i] == 0x25 and i + 2 < len(data):
            try:
                b.append(int(data[i + 1:i + 3].decode("ascii"), 16))
                i += 3
                continue
            except ValueError:
                pass
        b.append(data[i])
        i += 1
    out = []
    text = bytes(b).decode("utf-8", "surrogateescape")
    for ch in text:
        o = ord(ch)
        if 0xDC80 <= o <= 0xDCFF:
            out.append("\\x%02x" % (o - 0xDC00))
        elif ch == "\\":
            out.append("\\\\")
        elif o < 0x20 or o == 0x7F:
            out.append("\\x%02x" % o)
        else:
            out.append(ch)
    return "".join(out)


def zeek_key(row):
    conn = (row.get("id.orig_h"), row.get("id.orig_p"), row.get("id.resp_h"),
            row.get("id.resp_p"))
    status = unset(row.get("status_code"))
    # Zeek logs 0 for a response without a status line (HTTP/0.9); the plugin reports null
    status = int(status) if status not in (None, "0") else None
    return conn, (unset(row.get("method")), unset(row.get("uri")), unset(row.get("host")),
                  status)


def trace(pcaptrace, pcap):
    p = subprocess.run([pcaptrace, "-r", pcap, "--plugin", "http", "-F", "json", "-q"],
                       capture_output=True, timeout=120, check=False)
    txns = []
    for line in p.stdout.decode("utf-8", "replace").splitlines():
        try:
            ev = json.loads(line)
        except json.JSONDecodeError:
            continue
        if ev.get("proto") != "http" or ev.get("event") not in ("response", "unanswered"):
            continue
        ch, cp = endpoint_split(ev["client"])
        sh, sp = endpoint_split(ev["server"])
        status = ev.get("status") if ev["event"] == "response" else None
        txns.append(((ch, cp, sh, sp), (ev.get("method"), zeek_uri(ev.get("uri")),
                                        ev.get("host"), status)))
    return p.returncode, txns


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("pcaptrace")
    ap.add_argument("--min-agreement", type=float, default=0.0)
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    corpus = os.environ.get("PT_CORPUS", "")
    folder = os.path.join(corpus, "http")
    if not corpus or not os.path.isdir(folder):
        print("SKIP: no corpus at $PT_CORPUS/http")
        return 77
    logs = sorted(p for p in glob.glob(os.path.join(folder, "*.expected.*http.log*"))
                  if not p.endswith(SKIP_SUFFIXES))
    total = agree = 0
    crashed = []
    for log in logs:
        pcap = log.split(".expected.")[0]
        if not os.path.exists(pcap):
            continue
        want = collections.Counter(zeek_key(r) for r in zeek_rows(log))
        if not want:
            continue
        rc, txns = trace(args.pcaptrace, pcap)
        if rc < 0 or rc > 2:
            crashed.append((pcap, rc))
        got = collections.Counter(txns)
        matched = sum((want & got).values())
        n = sum(want.values())
        total += n
        agree += matched
        name = os.path.basename(pcap)
        print(f"{matched:4d}/{n:<4d} {name}")
        if args.verbose and matched < n:
            for k, v in sorted((want - got).items(), key=str):
                print(f"        zeek only: {v} x {k}")
            for k, v in sorted((got - want).items(), key=str):
                print(f"        ours only: {v} x {k}")
    rate = agree / total if total else 0.0
    print(f"agreement: {agree}/{total} transactions = {rate:.1%} over {len(logs)} baselines")
    for pcap, rc in crashed:
        print(f"pcaptrace failed on {pcap}: exit {rc}")
    if crashed or rate < args.min_agreement:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
