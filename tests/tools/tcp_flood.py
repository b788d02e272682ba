#!/usr/bin/python3
"""tcp_flood.py — write a pcap (Ethernet, IPv4) with many TCP flows, for the flow-table
benchmark and cap tests.

  tcp_flood.py syn N OUT.pcap     N SYNs from N different client endpoints, never answered
                                  (a SYN flood)
  tcp_flood.py short N OUT.pcap   N complete short connections: handshake, a 32-byte request,
                                  a 64-byte response with FIN, the client's FIN and last ACK

Flows start every --gap-us microseconds of capture time (default 10: 100,000 new flows per
second). TCP checksums are left zero (pcaptrace does not verify them). Standard library only.
"""

import argparse
import struct
import sys

ETH = bytes(6) + bytes([2, 0, 0, 0, 0, 1]) + b"\x08\x00"
SERVER = bytes([10, 255, 0, 1])
SYN, ACK, FIN, PSH = 0x02, 0x10, 0x01, 0x08
REQUEST = b"GET /x HTTP/1.1\r\nHost: flood\r\n\r\n"[:32].ljust(32, b" ")
RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".ljust(64, b" ")


def client_of(i):
    """A distinct client endpoint for flow i: 10.a.b.c, port 1024 + i % 60000."""
    host = i // 60000
    return bytes([10, (host >> 16) & 0x7F, (host >> 8) & 0xFF, host & 0xFF]), 1024 + i % 60000


def frame(src, sport, dst, dport, seq, ack, flags, payload=b""):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 5 << 4,
                      flags, 65535, 0, 0)
    total = 20 + len(tcp) + len(payload)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, 0, 0x4000, 64, 6, 0, src, dst)
    return ETH + ip + tcp + payload


def record(out, t_us, data):
    out.write(struct.pack("<IIII", t_us // 1000000, t_us % 1000000, len(data), len(data)))
    out.write(data)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("kind", choices=("syn", "short"))
    ap.add_argument("count", type=int)
    ap.add_argument("output")
    ap.add_argument("--gap-us", type=int, default=10)
    a = ap.parse_args()
    if not 1 <= a.count <= 50_000_000:
        sys.exit("count must be 1..50000000")
    with open(a.output, "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        t = 1_700_000_000 * 1_000_000
        for i in range(a.count):
            c, cp = client_of(i)
            ci, si = (i * 7919) & 0xFFFFFFFF, (i * 104729) & 0xFFFFFFFF
            t0 = t + i * a.gap_us
            record(out, t0, frame(c, cp, SERVER, 80, ci, 0, SYN))
            if a.kind == "syn":
                continue
            record(out, t0 + 1, frame(SERVER, 80, c, cp, si, ci + 1, SYN | ACK))
            record(out, t0 + 2, frame(c, cp, SERVER, 80, ci + 1, si + 1, ACK | PSH, REQUEST))
            record(out, t0 + 3, frame(SERVER, 80, c, cp, si + 1, ci + 33, ACK | PSH | FIN,
                                      RESPONSE))
            record(out, t0 + 4, frame(c, cp, SERVER, 80, ci + 33, si + 66, ACK | FIN))
            record(out, t0 + 5, frame(SERVER, 80, c, cp, si + 66, ci + 34, ACK))


if __name__ == "__main__":
    main()
