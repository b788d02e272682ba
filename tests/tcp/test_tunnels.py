#!/usr/bin/python3
"""test_tunnels.py — the tracker sees TCP inside tunnels and segments with malformed options:
`pcaptrace --plugin none -F json` over tests/captures/tcp-tunnels-and-bad-options.pcap (made by
tests/captures/gen-tunnels.py) must report five complete connections (GRE, Teredo, VXLAN,
IP-in-IP and a plain one whose request segment has a TCP option with a bad length), each with
the request and response bytes delivered; the bad segment still counts as malformed. With
--no-tunnels only the plain connection remains.

Usage: test_tunnels.py PCAPTRACE
"""
import json
import os
import subprocess
import sys

REQUEST_BYTES, RESPONSE_BYTES = 33, 43
CLIENTS = {
    "10.0.0.1:40001": "10.0.0.2:80",  # GRE
    "[2001:0:4137::1]:40002": "[2001:db8::80]:80",  # Teredo
    "10.0.0.1:40003": "10.0.0.2:80",  # VXLAN
    "10.0.0.1:40004": "10.0.0.2:80",  # IP-in-IP
    "192.0.2.1:40005": "192.0.2.254:80",  # plain, one segment with a bad option length
}
PLAIN = "192.0.2.1:40005"


def trace(exe, pcap, extra):
    """The tcp_end events by client, and the statistics line."""
    p = subprocess.run([exe, "-r", pcap, "--plugin", "none", "-F", "json"] + extra,
                       capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, TZ="UTC"))
    if p.returncode != 0:
        sys.exit(f"pcaptrace failed: {p.stderr.strip()}")
    ends = {}
    for line in p.stdout.splitlines():
        ev = json.loads(line)
        if ev["event"] == "tcp_end":
            ends[ev["client"]] = ev
    return ends, p.stderr


def check(ends, stderr, want):
    bad = []
    if sorted(ends) != sorted(want):
        bad.append(f"connections {sorted(ends)}, expected {sorted(want)}")
    for client in want:
        ev = ends.get(client)
        if ev is None:
            continue
        got = (ev["server"], ev["reason"], ev["bytes_to_server"], ev["bytes_to_client"],
               ev["gap_bytes_to_server"], ev["gap_bytes_to_client"])
        exp = (want[client], "fin", REQUEST_BYTES, RESPONSE_BYTES, 0, 0)
        if got != exp:
            bad.append(f"{client}: {got}, expected {exp}")
    if " 1 malformed" not in stderr:
        bad.append(f"the bad-option segment is not counted as malformed: {stderr.strip()}")
    return bad


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    root = os.environ.get("PT_SOURCE_ROOT",
                          os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    pcap = os.path.join(root, "tests", "captures", "tcp-tunnels-and-bad-options.pcap")
    bad = check(*trace(sys.argv[1], pcap, []), CLIENTS)
    bad += [f"--no-tunnels: {b}" for b in
            check(*trace(sys.argv[1], pcap, ["--no-tunnels"]), {PLAIN: CLIENTS[PLAIN]})]
    for b in bad:
        print(b)
    print("ok" if not bad else f"{len(bad)} problem(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
