#!/usr/bin/python3
"""gen-tunnels.py — writes tcp-tunnels-and-bad-options.pcap: one small HTTP-like TCP exchange
(handshake, request, response, FIN) carried four ways — GRE over IPv4 (RFC 2784), Teredo
(RFC 4380, IPv6 in UDP 3544), VXLAN (RFC 7348, Ethernet in UDP 4789) and IP-in-IP (RFC 2003)
— and one plain connection whose request segment has a TCP option with an impossible length
(RFC 9293 §3.1: kind 8, length 40) while its ports, sequence numbers and payload are sound.
Format: pcap-savefile(5), Ethernet, microseconds. Standard library only; deterministic.

Usage: gen-tunnels.py [OUTPUT_DIR]   (default: the folder of this script)
"""
import os
import struct
import sys

BASE_TS = 1700000000  # 2023-11-14 22:13:20 UTC
MAC_A = bytes.fromhex("020000000001")
MAC_B = bytes.fromhex("020000000002")
OUT_A, OUT_B = bytes([192, 0, 2, 1]), bytes([192, 0, 2, 254])
IN4_C, IN4_S = bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])
IN6_C = bytes.fromhex("20010000413700000000000000000001")  # a Teredo address
IN6_S = bytes.fromhex("20010db8000000000000000000000080")
REQUEST = b"GET / HTTP/1.1\r\nHost: example\r\n\r\n"
RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def pseudo(src, dst, proto, length):
    if len(src) == 4:
        return src + dst + struct.pack("!BBH", 0, proto, length)
    return src + dst + struct.pack("!I3xB", length, proto)


def tcp(src, dst, sport, dport, seq, ack, flags, payload=b"", options=b""):
    off = (20 + len(options)) // 4
    seg = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, off << 4, flags, 65535, 0, 0)
    seg += options + payload
    c = csum(pseudo(src, dst, 6, len(seg)) + seg)
    return seg[:16] + struct.pack("!H", c) + seg[18:]


def udp(src, dst, sport, dport, payload):
    seg = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    c = csum(pseudo(src, dst, 17, len(seg)) + seg) or 0xFFFF
    return seg[:6] + struct.pack("!H", c) + seg[8:]


def ip4(src, dst, proto, payload, ident=1):
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, 0x4000, 64, proto, 0,
                      src, dst)
    return hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:] + payload


def ip6(src, dst, proto, payload):
    return struct.pack("!IHBB16s16s", 6 << 28, len(payload), proto, 64, src, dst) + payload


def ether(payload, ethertype=0x0800, a=MAC_A, b=MAC_B):
    return b + a + struct.pack("!H", ethertype) + payload


def exchange(cport, sport, options_bad=False):
    """The segments of one connection as (from_client, tcp args) with sequence numbers."""
    c_isn, s_isn = 1000, 5000
    bad = bytes([8, 40, 0, 0]) if options_bad else b""
    return [
        (True, (c_isn, 0, 0x02, b"", b"")),
        (False, (s_isn, c_isn + 1, 0x12, b"", b"")),
        (True, (c_isn + 1, s_isn + 1, 0x10, b"", b"")),
        (True, (c_isn + 1, s_isn + 1, 0x18, REQUEST, bad)),
        (False, (s_isn + 1, c_isn + 1 + len(REQUEST), 0x18, RESPONSE, b"")),
        (True, (c_isn + 1 + len(REQUEST), s_isn + 1 + len(RESPONSE), 0x11, b"", b"")),
        (False, (s_isn + 1 + len(RESPONSE), c_isn + 2 + len(REQUEST), 0x11, b"", b"")),
        (True, (c_isn + 2 + len(REQUEST), s_isn + 2 + len(RESPONSE), 0x10, b"", b"")),
    ]


def inner_segments(csrc, sdst, cport, sport, bad=False):
    """(from_client, TCP segment) for one connection between csrc and sdst."""
    out = []
    for from_client, (seq, ack, flags, data, opts) in exchange(cport, sport, bad):
        a, b, pa, pb = (csrc, sdst, cport, sport) if from_client else (sdst, csrc, sport, cport)
        out.append((from_client, a, b, tcp(a, b, pa, pb, seq, ack, flags, data, opts)))
    return out


def frames():
    out = []
    for fc, a, b, seg in inner_segments(IN4_C, IN4_S, 40001, 80):  # GRE, IPv4 inside
        oa, ob = (OUT_A, OUT_B) if fc else (OUT_B, OUT_A)
        out.append(ether(ip4(oa, ob, 47, struct.pack("!HH", 0, 0x0800) + ip4(a, b, 6, seg))))
    for fc, a, b, seg in inner_segments(IN6_C, IN6_S, 40002, 80):  # Teredo, IPv6 inside
        oa, ob, pa, pb = (OUT_A, OUT_B, 40000, 3544) if fc else (OUT_B, OUT_A, 3544, 40000)
        out.append(ether(ip4(oa, ob, 17, udp(oa, ob, pa, pb, ip6(a, b, 6, seg)))))
    for fc, a, b, seg in inner_segments(IN4_C, IN4_S, 40003, 80):  # VXLAN, Ethernet inside
        oa, ob = (OUT_A, OUT_B) if fc else (OUT_B, OUT_A)
        vxlan = struct.pack("!II", 0x08000000, 42 << 8)
        inner = ether(ip4(a, b, 6, seg), a=MAC_A if fc else MAC_B, b=MAC_B if fc else MAC_A)
        out.append(ether(ip4(oa, ob, 17, udp(oa, ob, 50000, 4789, vxlan + inner))))
    for fc, a, b, seg in inner_segments(IN4_C, IN4_S, 40004, 80):  # IP-in-IP
        oa, ob = (OUT_A, OUT_B) if fc else (OUT_B, OUT_A)
        out.append(ether(ip4(oa, ob, 4, ip4(a, b, 6, seg))))
    for fc, a, b, seg in inner_segments(OUT_A, OUT_B, 40005, 80, bad=True):  # bad option
        out.append(ether(ip4(a, b, 6, seg)))
    return out


def main():
    folder = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    path = os.path.join(folder, "tcp-tunnels-and-bad-options.pcap")
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, fr in enumerate(frames()):
            f.write(struct.pack("<IIII", BASE_TS + i // 8, (i % 8) * 1000 + 1, len(fr), len(fr)))
            f.write(fr)
    print(path)


if __name__ == "__main__":
    main()
