#!/usr/bin/python3
"""detect_e2e.py — detection through the whole program: the Redis and HTTP sample captures
are rewritten onto other server ports (Redis on 7777, HTTP on 5432; then both on one port)
and `pcaptrace -F json` must report the same protocol events as on the standard ports, with
the same counts; `--plugin none` and `--plugin redis` restrict what is found. Needs the redis
and http plugins built (else skipped)."""
import json
import os
import struct
import subprocess
import sys
import tempfile

build = os.environ["PT_BUILD_ROOT"]
src = os.environ["PT_SOURCE_ROOT"]
prog = os.path.join(build, "core", "pcaptrace")
caps = os.path.join(src, "tests", "captures")
redis_cap = os.path.join(caps, "redis-sample.pcap")
http_cap = os.path.join(caps, "tcp-nginx-transfers.pcap")
for need in (prog, redis_cap, http_cap, os.path.join(build, "plugins", "redis"),
             os.path.join(build, "plugins", "http")):
    if not os.path.exists(need):
        print("missing", need)
        sys.exit(77)


def read_pcap(path):
    data = open(path, "rb").read()
    magic, _, _, _, _, snap, dlt = struct.unpack("<IHHiIII", data[:24])
    assert magic == 0xA1B2C3D4 and dlt == 1, "little-endian Ethernet pcap expected"
    off, pkts = 24, []
    while off + 16 <= len(data):
        sec, usec, incl, orig = struct.unpack("<IIII", data[off:off + 16])
        pkts.append([sec, usec, bytearray(data[off + 16:off + 16 + incl]), orig])
        off += 16 + incl
    return data[:24], pkts


def move_port(pkts, old, new):
    """Rewrite TCP port `old` to `new` in IPv4 and IPv6 Ethernet frames (no extension
    headers in these captures; checksums are not used)."""
    for p in pkts:
        frame = p[2]
        if len(frame) >= 14 + 20 and frame[12:14] == b"\x08\x00" and frame[14 + 9] == 6:
            tcp = 14 + (frame[14] & 15) * 4
        elif len(frame) >= 14 + 40 and frame[12:14] == b"\x86\xdd" and frame[14 + 6] == 6:
            tcp = 14 + 40
        else:
            continue
        for at in (tcp, tcp + 2):
            if struct.unpack(">H", frame[at:at + 2])[0] == old:
                frame[at:at + 2] = struct.pack(">H", new)
    return pkts


def write_pcap(path, header, pkts):
    with open(path, "wb") as f:
        f.write(header)
        for sec, usec, frame, orig in sorted(pkts, key=lambda p: (p[0], p[1])):
            f.write(struct.pack("<IIII", sec, usec, len(frame), orig) + bytes(frame))


def run(pcap, *args):
    out = subprocess.run([prog, "-r", pcap, "-F", "json", *args], capture_output=True,
                         check=True, env=dict(os.environ, TZ="UTC")).stdout
    events = [json.loads(l) for l in out.decode().splitlines()]
    counts = {}
    for e in events:
        # "unanswered" is left out: a reply whose request the redis probe did not recognise
        # (an unknown command) cannot identify a stream off its port, by the plugin's design.
        if e["proto"] != "tcp" and e["event"] != "unanswered":
            counts[(e["proto"], e["event"])] = counts.get((e["proto"], e["event"]), 0) + 1
    return events, counts


failures = []


def check(cond, what):
    if not cond:
        failures.append(what)


with tempfile.TemporaryDirectory(prefix="pt-detect-") as d:
    _, redis_std = run(redis_cap)
    _, http_std = run(http_cap)
    check(any(p == "redis" for p, _ in redis_std), f"redis events on 6379: {redis_std}")
    check(any(p == "http" for p, _ in http_std), f"http events on 8080: {http_std}")
    both = dict(redis_std)
    both.update(http_std)

    hdr, rp = read_pcap(redis_cap)
    _, hp = read_pcap(http_cap)
    odd = os.path.join(d, "odd.pcap")
    write_pcap(odd, hdr, move_port([p[:] for p in rp], 6379, 7777) +
               move_port([p[:] for p in hp], 8080, 5432))
    events, counts = run(odd)
    check(counts == both, f"odd ports: {counts} != {both}")
    for e in events:
        if e["proto"] == "redis":
            check(e["server"].endswith(":7777"), "redis server port 7777")
        if e["proto"] == "http":
            check(e["server"].endswith(":5432"), "http server port 5432")

    hdr, rp = read_pcap(redis_cap)
    _, hp = read_pcap(http_cap)
    same = os.path.join(d, "same.pcap")
    write_pcap(same, hdr, move_port(rp, 6379, 9000) + move_port(hp, 8080, 9000))
    _, counts = run(same)
    check(counts == both, f"one port, two protocols: {counts} != {both}")

    _, counts = run(odd, "--plugin", "none")
    check(counts == {}, f"--plugin none: {counts}")
    _, counts = run(odd, "--plugin", "redis")
    check(counts == redis_std, f"--plugin redis: {counts} != {redis_std}")

    # A declared port wins over probing: HTTP declared on Redis's odd port is a violation
    # for http, and the redis streams there stay tcp-only.
    _, counts = run(odd, "--port", "http=7777")
    check(not any(p == "redis" for p, _ in counts), f"--port http=7777: {counts}")

    # Sinks: a json file equal to stdout.
    sink = os.path.join(d, "events.jsonl")
    out = subprocess.run([prog, "-r", odd, "-F", "json", "--sink", "json:" + sink],
                         capture_output=True, check=True).stdout
    check(open(sink, "rb").read() == out, "--sink json:FILE equals -F json stdout")

if failures:
    for f in failures:
        print("FAIL:", f)
    sys.exit(1)
print("ok: detection on odd ports and mixed on one port;", both)
