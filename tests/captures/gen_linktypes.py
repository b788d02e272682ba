#!/usr/bin/python3
"""gen_linktypes.py — writes the hand-made captures of link types and file formats that
cannot be recorded on Linux (BSD NULL/LOOP with every OS's AF value, raw IP DLT 12/14/101/
228/229, VLAN stacks, pcapng with two timestamp resolutions, big-endian and nanosecond pcap),
plus hostile ones (IPv6 extension headers, fragments, truncated and malformed frames, a file
cut short, a link type pcaptrace does not decode). Formats: pcap-savefile(5) and the pcapng
draft (draft-ietf-opsawg-pcapng). Standard library only; output is deterministic.

Usage: gen_linktypes.py [OUTPUT_DIR]   (default: the folder of this script)
"""
import os
import struct
import sys

BASE_TS = 1700000000  # 2023-11-14 22:13:20 UTC

MAC_A = bytes.fromhex("020000000001")
MAC_B = bytes.fromhex("020000000002")
IP4_A = bytes([192, 0, 2, 1])
IP4_B = bytes([198, 51, 100, 7])
IP6_A = bytes.fromhex("20010db8000000000000000000000001")
IP6_B = bytes.fromhex("20010db8000000000000000000000a02")


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def tcp(src, dst, sport, dport, seq, ack, flags, payload=b"", win=65535, options=b""):
    """A TCP segment with a correct checksum (IPv4 or IPv6 pseudo-header by address size)."""
    while len(options) % 4:
        options += b"\x01"
    off = (20 + len(options)) // 4
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, off << 4, flags, win, 0, 0) + options
    seg = hdr + payload
    if len(src) == 4:
        pseudo = src + dst + struct.pack("!BBH", 0, 6, len(seg))
    else:
        pseudo = src + dst + struct.pack("!IxxxB", len(seg), 6)
    c = csum(pseudo + seg)
    return seg[:16] + struct.pack("!H", c) + seg[18:]


def udp(src, dst, sport, dport, payload):
    seg = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    if len(src) == 4:
        pseudo = src + dst + struct.pack("!BBH", 0, 17, len(seg))
    else:
        pseudo = src + dst + struct.pack("!IxxxB", len(seg), 17)
    c = csum(pseudo + seg) or 0xFFFF
    return seg[:6] + struct.pack("!H", c) + seg[8:]


def icmp(typ, code, rest=b"\0\0\0\0", payload=b""):
    body = struct.pack("!BBH", typ, code, 0) + rest + payload
    return body[:2] + struct.pack("!H", csum(body)) + body[4:]


def ipv4(src, dst, proto, payload, ident=1, ttl=64, frag=0, mf=False, df=True, options=b"",
         total=None):
    while len(options) % 4:
        options += b"\0"
    ihl = (20 + len(options)) // 4
    flags = (0x4000 if df else 0) | (0x2000 if mf else 0) | (frag // 8)
    length = total if total is not None else 20 + len(options) + len(payload)
    hdr = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, length, ident, flags, ttl, proto, 0, src,
                      dst) + options
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return hdr + payload


def ipv6(src, dst, nh, payload, hlim=64):
    return struct.pack("!IHBB", 0x60000000, len(payload), nh, hlim) + src + dst + payload


def ext_opts(nh, body=b"\x01\x04\0\0\0\0"):
    """Hop-by-hop or destination options header: next header, length, padded options."""
    while (len(body) + 2) % 8:
        body += b"\0"
    return bytes([nh, (len(body) + 2) // 8 - 1]) + body


def eth(payload, ethertype, vlans=()):
    """Ethernet II; vlans = ((tpid, vid), ...) outermost first."""
    out = MAC_B + MAC_A
    for tpid, vid in vlans:
        out += struct.pack("!HH", tpid, vid)
    return out + struct.pack("!H", ethertype) + payload


def tcp_exchange4(src, dst, sport=40000, dport=6379):
    """A short real-looking IPv4 exchange: handshake, request, reply, close."""
    req = b"*1\r\n$4\r\nPING\r\n"
    mss = b"\x02\x04\x05\xb4\x04\x02\x08\x0a\x00\x00\x00\x01\x00\x00\x00\x00\x01\x03\x03\x07"
    return [
        ipv4(src, dst, 6, tcp(src, dst, sport, dport, 1000, 0, 0x02, options=mss)),
        ipv4(dst, src, 6, tcp(dst, src, dport, sport, 5000, 1001, 0x12, options=mss)),
        ipv4(src, dst, 6, tcp(src, dst, sport, dport, 1001, 5001, 0x10)),
        ipv4(src, dst, 6, tcp(src, dst, sport, dport, 1001, 5001, 0x18, req)),
        ipv4(dst, src, 6, tcp(dst, src, dport, sport, 5001, 1001 + len(req), 0x18, b"+PONG\r\n")),
        ipv4(src, dst, 6, tcp(src, dst, sport, dport, 1001 + len(req), 5008, 0x11)),
        ipv4(dst, src, 6, tcp(dst, src, dport, sport, 5008, 1002 + len(req), 0x11)),
    ]


def tcp_exchange6(src, dst, sport=40001, dport=80):
    req = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
    return [
        ipv6(src, dst, 6, tcp(src, dst, sport, dport, 7, 0, 0x02)),
        ipv6(dst, src, 6, tcp(dst, src, dport, sport, 90, 8, 0x12)),
        ipv6(src, dst, 6, tcp(src, dst, sport, dport, 8, 91, 0x18, req)),
        ipv6(dst, src, 6, tcp(dst, src, dport, sport, 91, 8 + len(req), 0x14)),
    ]


def misc4():
    return [
        ipv4(IP4_A, IP4_B, 17, udp(IP4_A, IP4_B, 5353, 53, b"\x12\x34\x01\x00" + b"\0" * 8)),
        ipv4(IP4_A, IP4_B, 1, icmp(8, 0, b"\x00\x01\x00\x01", b"ping")),
        ipv4(IP4_B, IP4_A, 1, icmp(0, 0, b"\x00\x01\x00\x01", b"ping")),
        ipv4(IP4_A, IP4_B, 47, b"\0\0\x08\0"),  # GRE: printed as a bare protocol number
    ]


def misc6():
    return [
        ipv6(IP6_A, IP6_B, 17, udp(IP6_A, IP6_B, 546, 547, b"\x01\0\0\0")),
        ipv6(IP6_A, IP6_B, 58, icmp(128, 0, b"\0\x07\0\x01", b"ping6")),
    ]


class Pcap:
    """pcap-savefile(5) writer: byte order and µs/ns resolution chosen per file."""

    def __init__(self, linktype, big_endian=False, nano=False, snaplen=262144):
        self.e = ">" if big_endian else "<"
        self.nano = nano
        magic = 0xA1B23C4D if nano else 0xA1B2C3D4
        self.buf = struct.pack(self.e + "IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype)
        self.n = 0

    def add(self, frame, caplen=None, wirelen=None, step_us=1013):
        ts_us = self.n * step_us + 123456
        sec = BASE_TS + ts_us // 1000000
        frac = ts_us % 1000000
        if self.nano:
            frac = frac * 1000 + 789
        cap = frame[:caplen] if caplen is not None else frame
        wire = wirelen if wirelen is not None else len(frame)
        self.buf += struct.pack(self.e + "IIII", sec, frac, len(cap), wire) + cap
        self.n += 1

    def write(self, path):
        with open(path, "wb") as f:
            f.write(self.buf)


class Pcapng:
    """pcapng writer: one section, interfaces with their own if_tsresol, enhanced packets."""

    def __init__(self, big_endian=False):
        self.e = ">" if big_endian else "<"
        self.blocks = [self.block(0x0A0D0D0A, struct.pack(self.e + "IHHq", 0x1A2B3C4D, 1, 0, -1))]
        self.ifaces = []
        self.n = 0

    def block(self, btype, body):
        while len(body) % 4:
            body += b"\0"
        total = 12 + len(body)
        return struct.pack(self.e + "II", btype, total) + body + struct.pack(self.e + "I", total)

    def add_interface(self, linktype, tsresol=6, name=b"eth0"):
        opts = struct.pack(self.e + "HH", 2, len(name)) + name
        while len(opts) % 4:
            opts += b"\0"
        opts += struct.pack(self.e + "HHB3x", 9, 1, tsresol)
        opts += struct.pack(self.e + "HH", 0, 0)
        body = struct.pack(self.e + "HHI", linktype, 0, 262144) + opts
        self.blocks.append(self.block(1, body))
        self.ifaces.append(tsresol)
        return len(self.ifaces) - 1

    def add(self, iface, frame, step_us=1013):
        ts_us = self.n * step_us + 123456
        units = (BASE_TS * 1000000 + ts_us) * (10 ** (self.ifaces[iface] - 6))
        if self.ifaces[iface] == 9:
            units += 789
        body = struct.pack(self.e + "IIIII", iface, units >> 32, units & 0xFFFFFFFF, len(frame),
                           len(frame)) + frame
        self.blocks.append(self.block(6, body))
        self.n += 1

    def write(self, path):
        with open(path, "wb") as f:
            f.write(b"".join(self.blocks))


def null_hdr(af, order):
    return struct.pack(order + "I", af)


def gen(out):
    files = {}

    # Ethernet, little-endian µs: the reference for everything else.
    p = Pcap(1)
    for ip in tcp_exchange4(IP4_A, IP4_B) + misc4():
        p.add(eth(ip, 0x0800))
    for ip in tcp_exchange6(IP6_A, IP6_B) + misc6():
        p.add(eth(ip, 0x86DD))
    p.add(eth(bytes.fromhex("0001080006040001") + MAC_A + IP4_A + bytes(6) + IP4_B, 0x0806))
    files["eth-ipv4-ipv6.pcap"] = p

    # Same traffic in the other byte order and in nanoseconds.
    for name, be, nano in (("eth-big-endian.pcap", True, False),
                           ("eth-nanosecond.pcap", False, True),
                           ("eth-big-endian-nanosecond.pcap", True, True)):
        p = Pcap(1, big_endian=be, nano=nano)
        for ip in tcp_exchange4(IP4_A, IP4_B)[:4]:
            p.add(eth(ip, 0x0800))
        files[name] = p

    # 802.1Q, 802.1ad QinQ and a triple stack (old 0x9100 TPID outermost).
    p = Pcap(1)
    ex = tcp_exchange4(IP4_A, IP4_B)
    p.add(eth(ex[0], 0x0800, ((0x8100, 10),)))
    p.add(eth(ex[1], 0x0800, ((0x8100, 0x2000 | 10),)))  # priority bits are not the id
    p.add(eth(ex[3], 0x0800, ((0x88A8, 100), (0x8100, 10))))
    p.add(eth(tcp_exchange6(IP6_A, IP6_B)[2], 0x86DD, ((0x88A8, 100), (0x8100, 10))))
    p.add(eth(ex[4], 0x0800, ((0x9100, 300), (0x88A8, 100), (0x8100, 10))))
    p.add(eth(misc4()[0], 0x0800, ((0x8100, 4094),)))
    files["eth-vlan-stacks.pcap"] = p

    # BSD NULL: the AF value is in the capturing host's byte order. AF_INET is 2 everywhere;
    # AF_INET6 is 24 (NetBSD, OpenBSD), 28 (FreeBSD, DragonFly), 30 (macOS), 10 (Linux).
    for name, order, be in (("null-af-values.pcap", "<", False),
                            ("null-af-values-big-endian.pcap", ">", True)):
        p = Pcap(0, big_endian=be)
        for ip in tcp_exchange4(IP4_A, IP4_B)[:4]:
            p.add(null_hdr(2, order) + ip)
        six = tcp_exchange6(IP6_A, IP6_B)
        for i, af in enumerate((24, 28, 30, 10)):
            p.add(null_hdr(af, order) + six[i])
        p.add(null_hdr(2, order) + misc4()[1])
        files[name] = p

    # DLT_LOOP (OpenBSD): the AF value is always big-endian.
    p = Pcap(108)
    for ip in tcp_exchange4(IP4_A, IP4_B)[:3]:
        p.add(null_hdr(2, ">") + ip)
    for i, af in enumerate((24, 28, 30)):
        p.add(null_hdr(af, ">") + tcp_exchange6(IP6_A, IP6_B)[i])
    files["loop-af-values.pcap"] = p

    # Raw IP under each link type number that means it.
    for dlt in (12, 14, 101):
        p = Pcap(dlt)
        for ip in tcp_exchange4(IP4_A, IP4_B)[:4] + tcp_exchange6(IP6_A, IP6_B)[:2]:
            p.add(ip)
        files["raw-dlt%d.pcap" % dlt] = p
    p = Pcap(228)
    for ip in tcp_exchange4(IP4_A, IP4_B) + misc4():
        p.add(ip)
    files["raw-ipv4-dlt228.pcap"] = p
    p = Pcap(229)
    for ip in tcp_exchange6(IP6_A, IP6_B) + misc6():
        p.add(ip)
    files["raw-ipv6-dlt229.pcap"] = p

    # pcapng: two Ethernet interfaces, one in µs and one in ns, packets interleaved (libpcap
    # refuses a section whose interfaces have different link types).
    g = Pcapng()
    e0 = g.add_interface(1, 6, b"eth0")
    e1 = g.add_interface(1, 9, b"eth1")
    for i, ip in enumerate(tcp_exchange4(IP4_A, IP4_B)):
        g.add(e0 if i % 2 == 0 else e1, eth(ip, 0x0800))
    files["pcapng-two-interfaces.pcapng"] = g
    g = Pcapng(big_endian=True)
    e0 = g.add_interface(1, 6, b"em0")
    for ip in tcp_exchange6(IP6_A, IP6_B):
        g.add(e0, eth(ip, 0x86DD))
    files["pcapng-big-endian.pcapng"] = g

    # IPv6 extension header chain: hop-by-hop, routing, destination options, then TCP; and
    # an ESP packet (the chain stops there).
    p = Pcap(1)
    seg = tcp(IP6_A, IP6_B, 40002, 443, 1, 0, 0x02)
    routing = bytes([60, 2, 0, 1, 0, 0, 0, 0]) + IP6_B  # type 0, one address, next: dest opts
    chain = ext_opts(43) + routing + ext_opts(6) + seg
    p.add(eth(ipv6(IP6_A, IP6_B, 0, chain), 0x86DD))
    p.add(eth(ipv6(IP6_A, IP6_B, 60, ext_opts(17) + udp(IP6_A, IP6_B, 1000, 2000, b"x")), 0x86DD))
    p.add(eth(ipv6(IP6_A, IP6_B, 50, struct.pack("!II", 0x100, 1) + b"\xaa" * 24), 0x86DD))
    files["ipv6-extension-headers.pcap"] = p

    # IPv4 and IPv6 fragments: a UDP datagram in three pieces, out of order.
    p = Pcap(1)
    data = bytes(range(256)) * 6
    dgram = udp(IP4_A, IP4_B, 7000, 7001, data)
    pieces = [(0, dgram[:512], True), (1024, dgram[1024:], False), (512, dgram[512:1024], True)]
    for off, chunk, mf in pieces:
        p.add(eth(ipv4(IP4_A, IP4_B, 17, chunk, ident=0x4242, frag=off, mf=mf, df=False), 0x0800))
    dgram6 = udp(IP6_A, IP6_B, 7000, 7001, data[:1000])
    for off, chunk, mf in ((0, dgram6[:504], True), (504, dgram6[504:], False)):
        fh = struct.pack("!BBHI", 17, 0, off | (1 if mf else 0), 0x77)
        p.add(eth(ipv6(IP6_A, IP6_B, 44, fh + chunk), 0x86DD))
    files["ip-fragments.pcap"] = p

    # Truncated (snaplen) and malformed frames, each kind once.
    p = Pcap(1, snaplen=64)
    ex = tcp_exchange4(IP4_A, IP4_B)
    big = ipv4(IP4_A, IP4_B, 6, tcp(IP4_A, IP4_B, 40000, 6379, 1001, 5001, 0x18, b"A" * 600))
    p.add(eth(big, 0x0800), caplen=64)                 # payload cut by snaplen: still decoded
    p.add(eth(ex[0], 0x0800), caplen=40)               # cut inside the TCP header: truncated
    p.add(eth(ex[0], 0x0800), caplen=10)               # cut inside the Ethernet header
    bad_ver = bytearray(ex[2])
    bad_ver[0] = 0x55                                  # IP version 5
    p.add(eth(bytes(bad_ver), 0x0800))
    bad_ihl = bytearray(ex[2])
    bad_ihl[0] = 0x43                                  # header length 12 < 20
    p.add(eth(bytes(bad_ihl), 0x0800))
    p.add(eth(ipv4(IP4_A, IP4_B, 6, ex[2][20:], total=10), 0x0800))  # total length < header
    bad_off = bytearray(ex[2])
    bad_off[20 + 12] = 0x20                            # TCP data offset 2 words < 5
    p.add(eth(bytes(bad_off), 0x0800))
    files["truncated-and-malformed.pcap"] = p

    # A link type pcaptrace does not decode (802.11): refused at open, with its name.
    p = Pcap(105)
    p.add(bytes.fromhex("80000000ffffffffffff") + MAC_A + MAC_A + b"\x00" * 14)
    files["unsupported-dlt-ieee802-11.pcap"] = p

    for name, obj in files.items():
        obj.write(os.path.join(out, name))

    # A file cut in the middle of its fifth packet record (reading must fail there, with
    # the first four delivered).
    src = files["eth-ipv4-ipv6.pcap"].buf
    off = 24
    for _ in range(4):
        caplen = struct.unpack("<I", src[off + 8:off + 12])[0]
        off += 16 + caplen
    with open(os.path.join(out, "truncated-file-packet5.pcap"), "wb") as f:
        f.write(src[:off + 16 + 10])
    return sorted(list(files) + ["truncated-file-packet5.pcap"])


if __name__ == "__main__":
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    for n in gen(out_dir):
        print(n)
