#!/usr/bin/python3
"""test_captures.py — real traffic, real faults: reassemble a recorded nginx + curl capture
(tests/captures/tcp-nginx-transfers.pcap, made by tests/captures/record-tcp-nginx.sh) and
variants rewritten by tests/tools/pcap_faults.py with fixed seeds.

  * the original and the reordered / duplicated variants must give, byte for byte, the served
    files (tests/tools/tcp_payload.py) as HTTP bodies, and identical streams;
  * dropped variants must report as gaps exactly the bytes the fault tool says are missing;
  * a peer, tcpflow, must write the same bytes per direction (see NOTE_TCPFLOW for the one
    expected difference).

usage: test_captures.py PT_STREAMDUMP [--capture FILE]
"""

import argparse
import hashlib
import ipaddress
import json
import os
import shutil
import subprocess
import sys
import tempfile

SRC = os.environ.get("PT_SOURCE_ROOT", os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(SRC, "tests", "tools"))
import tcp_payload  # noqa: E402

FAULTS = os.path.join(SRC, "tests", "tools", "pcap_faults.py")
CAPTURE = os.path.join(SRC, "tests", "captures", "tcp-nginx-transfers.pcap")

VARIANTS = [
    ("reorder-1", ["--reorder", "0.3", "--seed", "1"]),
    ("reorder-2", ["--reorder", "0.5", "--seed", "2", "--distance", "20"]),
    ("reorder-3", ["--reorder", "0.2", "--seed", "3", "--distance", "3"]),
    ("duplicate-1", ["--duplicate", "0.3", "--seed", "1"]),
    ("duplicate-2", ["--duplicate", "0.6", "--seed", "2", "--distance", "30"]),
    ("dup-reorder-4", ["--duplicate", "0.2", "--reorder", "0.3", "--seed", "4"]),
    ("drop-1", ["--drop", "0.1", "--seed", "1"]),
    ("drop-2", ["--drop", "0.2", "--seed", "2"]),
    ("drop-3", ["--drop", "0.05", "--seed", "3"]),
    ("drop-4", ["--drop", "0.3", "--seed", "4"]),
]

NOTE_TCPFLOW = (
    "tcpflow writes each segment at its stream offset, so a hole is zero-filled and a dropped "
    "final segment leaves its file short; pcaptrace reports the same holes as gaps instead")

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def dump(dumper, pcap, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    r = subprocess.run([dumper, "-q", "-o", out_dir, pcap], capture_output=True, text=True,
                       timeout=60)
    if r.returncode != 0:
        sys.exit(f"pt_streamdump failed on {pcap}: {r.stderr}")
    flows = {}
    for line in r.stdout.splitlines():
        f = json.loads(line)
        flows[(f["client"], f["server"])] = f
    return flows


def http_exchanges(req, resp):
    """Requested paths and response bodies (Content-Length framing) of one connection."""
    paths = [line.split(b" ")[1].decode() for line in req.split(b"\r\n")
             if line.startswith(b"GET ")]
    bodies, off = [], 0
    while off < len(resp):
        end = resp.find(b"\r\n\r\n", off)
        if end < 0:
            break
        head = resp[off:end].split(b"\r\n")
        length = 0
        for h in head[1:]:
            k, _, v = h.partition(b":")
            if k.strip().lower() == b"content-length":
                length = int(v)
        bodies.append(resp[end + 4:end + 4 + length])
        off = end + 4 + length
    return paths, bodies


def read(path):
    with open(path, "rb") as f:
        return f.read()


def check_served(flows, out_dir, label):
    """Every response body is the served file, byte for byte."""
    served = 0
    for f in flows.values():
        req = read(os.path.join(out_dir, f["flow"] + ".to_server"))
        resp = read(os.path.join(out_dir, f["flow"] + ".to_client"))
        paths, bodies = http_exchanges(req, resp)
        check(len(paths) == len(bodies) and paths, f"{label}: {f['flow']} requests/responses")
        for p, b in zip(paths, bodies):
            want = tcp_payload.content(p.lstrip("/"))
            check(hashlib.sha256(b).digest() == hashlib.sha256(want).digest(),
                  f"{label}: {f['flow']} body of {p} differs from the served file")
            served += 1
    return served


def tcpflow_files(pcap, out_dir):
    """tcpflow's output: (src endpoint, dst endpoint) -> bytes."""
    os.makedirs(out_dir, exist_ok=True)
    subprocess.run(["tcpflow", "-r", pcap, "-o", out_dir, "-T", "%A_%a-%B_%b--%#"],
                   capture_output=True, check=True, timeout=60)
    out = {}
    for name in os.listdir(out_dir):
        if "--" not in name:
            continue
        pair = name.rsplit("--", 1)[0]
        src, dst = pair.split("-")
        out[(norm_tcpflow(src), norm_tcpflow(dst))] = read(os.path.join(out_dir, name))
    return out


def norm_tcpflow(ep):
    """'127.000.000.001_08080' or '::1_08080' -> pcaptrace's '127.0.0.1:8080' / '[::1]:8080'."""
    addr, port = ep.rsplit("_", 1)
    if ":" in addr:
        return f"[{ipaddress.IPv6Address(addr).compressed}]:{int(port)}"
    return ".".join(str(int(x)) for x in addr.split(".")) + f":{int(port)}"


def compare_tcpflow(flows, out_dir, pcap, work, label, gaps_expected):
    tf = tcpflow_files(pcap, os.path.join(work, "tcpflow-" + label))
    for (c, s), f in flows.items():
        for d, (src, dst) in (("to_server", (c, s)), ("to_client", (s, c))):
            ours = read(os.path.join(out_dir, f"{f['flow']}.{d}"))
            theirs = tf.get((src, dst), b"")
            if not gaps_expected:
                check(ours == theirs, f"{label}: {f['flow']} {d}: {len(ours)} bytes, tcpflow "
                      f"{len(theirs)}")
            else:
                total = len(ours) + f["gap_bytes_" + d]
                # tcpflow zero-fills holes; its file ends at the last byte it saw.
                check(len(ours) <= len(theirs) + f["gap_bytes_" + d] and len(theirs) <= total,
                      f"{label}: {f['flow']} {d}: tcpflow {len(theirs)} bytes, ours "
                      f"{len(ours)} + gaps {f['gap_bytes_' + d]}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dumper")
    ap.add_argument("--capture", default=CAPTURE)
    a = ap.parse_args()
    if not os.path.exists(a.capture):
        print("capture missing:", a.capture)
        sys.exit(77)
    have_tcpflow = shutil.which("tcpflow") is not None
    work = tempfile.mkdtemp(prefix="pt-tcp-captures-")
    try:
        out0 = os.path.join(work, "original")
        base = dump(a.dumper, a.capture, out0)
        check(len(base) >= 2, f"original: {len(base)} flows")
        check(any(c.startswith("[") for c, _ in base), "original: an IPv6 flow")
        for f in base.values():
            check(f["reason"] == "fin", f"original: {f['flow']} ended by {f['reason']}")
            check(f["gap_bytes_to_server"] == 0 and f["gap_bytes_to_client"] == 0,
                  f"original: {f['flow']} has gaps")
            check(f["handshake"] and f["rtt_us"] >= 0, f"original: {f['flow']} handshake RTT")
        n = check_served(base, out0, "original")
        check(n >= 3, f"original: {n} files served")
        if have_tcpflow:
            compare_tcpflow(base, out0, a.capture, work, "original", False)

        for label, args in VARIANTS:
            pcap = os.path.join(work, label + ".pcap")
            rep_path = os.path.join(work, label + ".json")
            subprocess.run([sys.executable, FAULTS, a.capture, pcap, "--report", rep_path] + args,
                           check=True, timeout=60)
            with open(rep_path) as f:
                rep = json.load(f)
            out = os.path.join(work, label)
            flows = dump(a.dumper, pcap, out)
            check(set(flows) == set(base), f"{label}: flows {sorted(flows)}")
            dropping = rep["dropped"] > 0
            ooo = sum(f["out_of_order"] for f in flows.values())
            rtx = sum(f["retransmits"] for f in flows.values())
            if rep["reordered"] > 0:
                check(ooo > 0, f"{label}: {rep['reordered']} reordered, none out of order")
            if rep["duplicated"] > 0:
                # A copy landing after both FINs closed the flow is swallowed by it. A live
                # recording may hold real retransmissions already: count only the added ones.
                added = rtx - sum(b["retransmits"] for b in base.values())
                check(0 < added <= rep["duplicated"], f"{label}: {added} retransmits added by "
                      f"{rep['duplicated']} duplicates")
            for key, f in flows.items():
                b = base.get(key)
                if b is None:
                    continue
                c, s = key
                for d, name in (("to_server", f"{c}>{s}"), ("to_client", f"{s}>{c}")):
                    gaps = f["gap_bytes_" + d]
                    if dropping:
                        want = rep["missing"].get(name, 0)
                        check(gaps == want, f"{label}: {f['flow']} {d}: gaps {gaps}, missing {want}")
                        check(f["bytes_" + d] + gaps == b["bytes_" + d],
                              f"{label}: {f['flow']} {d}: {f['bytes_' + d]} + {gaps} != "
                              f"{b['bytes_' + d]}")
                    else:
                        check(gaps == 0, f"{label}: {f['flow']} {d}: {gaps} gap bytes")
                        check(f["sha256_" + d] == b["sha256_" + d],
                              f"{label}: {f['flow']} {d} differs from the original stream")
                check(f["overlap_conflicts"] == 0, f"{label}: {f['flow']} conflicts")
            if not dropping:
                check_served(flows, out, label)
            if have_tcpflow:
                compare_tcpflow(flows, out, pcap, work, label, dropping)
            print(f"{label}: reordered {rep['reordered']} duplicated {rep['duplicated']} "
                  f"dropped {rep['dropped']} ({rep['dropped_bytes']} B); out of order {ooo}, "
                  f"retransmits {rtx}, gaps {sum(f['gap_bytes_to_server'] + f['gap_bytes_to_client'] for f in flows.values())}")
        if have_tcpflow:
            print("tcpflow: same bytes per direction; with drops:", NOTE_TCPFLOW)
        else:
            print("tcpflow not installed: peer comparison skipped")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if failures:
        print(f"{len(failures)} failure(s)")
        sys.exit(1)
    print("ok")


if __name__ == "__main__":
    main()
