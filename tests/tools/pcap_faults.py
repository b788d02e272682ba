#!/usr/bin/python3
"""pcap_faults.py — rewrite a pcap file with network faults injected, reproducibly (fixed seed).

Faults act on TCP segments that carry data (never on SYN, FIN or RST segments):
  --reorder P     each data segment is delayed with probability P by 1..--distance packets;
                  the receiver's later ACKs are then clamped to what it could have received in
                  order (they become duplicate ACKs, as a real receiver sends), and the TCP
                  checksum of every rewritten packet is recomputed.
  --duplicate P   each data segment is sent again, 1..--distance packets later.
  --drop P        each data segment is removed from the capture (a capture drop: the ACKs
                  that cover it stay, as they would when the capturing host loses a packet).

--report FILE writes JSON: counts of each fault and, per direction ("client:port>server:port"),
the payload bytes that no remaining packet carries ("missing"), computed from the sequence
ranges of the output, so a reassembler must report exactly that many gap bytes.

Link types: Ethernet (+802.1Q), Linux cooked (SLL), BSD loopback (NULL), raw IP. Only the
Python standard library is used.
"""

import argparse
import ipaddress
import json
import random
import struct
import sys

DLT_NULL, DLT_EN10MB, DLT_RAW, DLT_LINUX_SLL = 0, 1, 101, 113
DLT_RAW_ALT = (12, 14)
TCP_FIN, TCP_SYN, TCP_RST, TCP_ACK = 0x01, 0x02, 0x04, 0x10
MAX_DISTANCE = 1000


class Packet:
    """One pcap record and, when it is TCP, where its fields are."""

    def __init__(self, hdr, data):
        self.hdr = hdr  # (sec, frac) of the record header
        self.data = bytearray(data)
        self.tcp = None  # offset of the TCP header
        self.ip = None  # offset of the IP header
        self.version = 0

    def key(self):
        return (self.src, self.sport, self.dst, self.dport)


def ip_offset(dlt, d):
    """Offset of the IP header in a frame, or None."""
    if dlt == DLT_EN10MB:
        off, etype = 14, struct.unpack_from("!H", d, 12)[0] if len(d) >= 14 else 0
        while etype in (0x8100, 0x88A8) and len(d) >= off + 4:
            etype = struct.unpack_from("!H", d, off + 2)[0]
            off += 4
        return off if etype in (0x0800, 0x86DD) else None
    if dlt == DLT_LINUX_SLL:
        return 16 if len(d) >= 16 and struct.unpack_from("!H", d, 14)[0] in (0x0800, 0x86DD) else None
    if dlt == DLT_NULL:
        return 4
    if dlt == DLT_RAW or dlt in DLT_RAW_ALT:
        return 0
    return None


def parse_tcp(dlt, p):
    """Fill p's TCP fields when it is an unfragmented IPv4/IPv6 TCP segment."""
    d = p.data
    off = ip_offset(dlt, d)
    if off is None or len(d) < off + 20:
        return
    v = d[off] >> 4
    if v == 4:
        ihl = (d[off] & 15) * 4
        total = struct.unpack_from("!H", d, off + 2)[0]
        frag = struct.unpack_from("!H", d, off + 6)[0]
        if d[off + 9] != 6 or frag & 0x3FFF or len(d) < off + ihl + 20:
            return
        p.src, p.dst = bytes(d[off + 12:off + 16]), bytes(d[off + 16:off + 20])
        p.ip_end = off + total
        l4 = off + ihl
    elif v == 6:
        if d[off + 6] != 6 or len(d) < off + 60:
            return  # extension headers are not needed for our recordings
        p.src, p.dst = bytes(d[off + 8:off + 24]), bytes(d[off + 24:off + 40])
        p.ip_end = off + 40 + struct.unpack_from("!H", d, off + 4)[0]
        l4 = off + 40
    else:
        return
    p.ip, p.tcp, p.version = off, l4, v
    p.sport, p.dport, p.seq, p.ack = struct.unpack_from("!HHII", d, l4)
    p.flags = d[l4 + 13]
    doff = (d[l4 + 12] >> 4) * 4
    p.plen = max(0, min(p.ip_end, len(d)) - (l4 + doff))


def endpoint(addr, port):
    a = ipaddress.ip_address(addr)
    return f"[{a.compressed}]:{port}" if a.version == 6 else f"{a}:{port}"


def direction_name(p):
    return endpoint(p.src, p.sport) + ">" + endpoint(p.dst, p.dport)


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def fix_checksum(p):
    """Recompute the TCP checksum of p (IPv4 or IPv6 pseudo-header)."""
    d = p.data
    seg_len = p.ip_end - p.tcp
    if p.ip_end > len(d):
        return  # cut by the snaplen: cannot be computed
    struct.pack_into("!H", d, p.tcp + 16, 0)
    seg = bytes(d[p.tcp:p.ip_end])
    if p.version == 4:
        pseudo = p.src + p.dst + struct.pack("!BBH", 0, 6, seg_len)
    else:
        pseudo = p.src + p.dst + struct.pack("!I3xB", seg_len, 6)
    struct.pack_into("!H", d, p.tcp + 16, checksum(pseudo + seg))


def seq_after(a, b):
    """a > b in 32-bit sequence space."""
    return 0 < ((a - b) & 0xFFFFFFFF) < 0x80000000


def is_data(p):
    return p.tcp is not None and p.plen > 0 and not (p.flags & (TCP_SYN | TCP_FIN | TCP_RST))


def delay(pkts, i, dist):
    """Move pkts[i] `dist` positions later."""
    p = pkts.pop(i)
    pkts.insert(min(len(pkts), i + dist), p)


def clamp_acks(pkts):
    """Rewrite ACK numbers a receiver could not have sent: an ACK never covers bytes that
    have not all arrived. Returns the number of packets rewritten."""
    contig = {}  # direction key -> next in-order sequence number
    pending = {}  # direction key -> {seq: end}
    changed = 0
    for p in pkts:
        if p.tcp is None:
            continue
        k = p.key()
        if p.flags & TCP_SYN:
            contig.setdefault(k, (p.seq + 1) & 0xFFFFFFFF)
            pending.setdefault(k, {})
        elif k in contig:
            end = (p.seq + p.plen + (1 if p.flags & TCP_FIN else 0)) & 0xFFFFFFFF
            if end != p.seq:
                pending[k][p.seq] = end
            moved = True
            while moved:
                moved = False
                for s, e in list(pending[k].items()):
                    if not seq_after(s, contig[k]):
                        del pending[k][s]
                        if seq_after(e, contig[k]):
                            contig[k] = e
                        moved = True
        rk = (p.dst, p.dport, p.src, p.sport)
        if p.flags & TCP_ACK and rk in contig and seq_after(p.ack, contig[rk]):
            p.ack = contig[rk]
            struct.pack_into("!I", p.data, p.tcp + 8, p.ack)
            fix_checksum(p)
            changed += 1
    return changed


def missing_bytes(pkts):
    """Per direction: payload bytes between the first byte and the last byte (or FIN) that
    no packet of the output carries."""
    spans = {}
    for p in pkts:
        if p.tcp is None or p.flags & TCP_RST:
            continue
        k = p.key()
        st = spans.setdefault(k, {"base": None, "ranges": []})
        if p.flags & TCP_SYN:
            st["base"] = (p.seq + 1) & 0xFFFFFFFF
            continue
        if st["base"] is None:
            continue
        rel = (p.seq - st["base"]) & 0xFFFFFFFF
        end = rel + p.plen + (1 if p.flags & TCP_FIN else 0)
        if end > rel:
            st["ranges"].append((rel, end))
    out = {}
    for k, st in spans.items():
        if not st["ranges"]:
            continue
        rs = sorted(st["ranges"])
        covered, cur_s, cur_e = 0, 0, 0
        last = max(e for _, e in rs)
        for s, e in rs:
            if s > cur_e:
                covered += cur_e - cur_s
                cur_s, cur_e = s, e
            else:
                cur_e = max(cur_e, e)
        covered += cur_e - cur_s
        p = Packet(None, b"")
        p.src, p.sport, p.dst, p.dport = k
        out[direction_name(p)] = last - covered
    return out


def read_pcap(path):
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 24:
        sys.exit(f"{path}: not a pcap file")
    magic = raw[:4]
    endian = {b"\xd4\xc3\xb2\xa1": "<", b"\x4d\x3c\xb2\xa1": "<",
              b"\xa1\xb2\xc3\xd4": ">", b"\xa1\xb2\x3c\x4d": ">"}.get(magic)
    if endian is None:
        sys.exit(f"{path}: not a classic pcap file (pcapng is not supported)")
    dlt = struct.unpack_from(endian + "I", raw, 20)[0] & 0x0FFFFFFF
    pkts, off = [], 24
    while off + 16 <= len(raw):
        sec, frac, incl, orig = struct.unpack_from(endian + "IIII", raw, off)
        off += 16
        if incl > len(raw) - off:
            sys.exit(f"{path}: truncated record")
        p = Packet((sec, frac, orig), raw[off:off + incl])
        off += incl
        parse_tcp(dlt, p)
        pkts.append(p)
    return raw[:24], endian, dlt, pkts


def write_pcap(path, header, endian, pkts):
    with open(path, "wb") as f:
        f.write(header)
        for p in pkts:
            sec, frac, orig = p.hdr
            f.write(struct.pack(endian + "IIII", sec, frac, len(p.data), max(orig, len(p.data))))
            f.write(p.data)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--reorder", type=float, default=0.0)
    ap.add_argument("--duplicate", type=float, default=0.0)
    ap.add_argument("--drop", type=float, default=0.0)
    ap.add_argument("--distance", type=int, default=8, help="max positions a packet moves")
    ap.add_argument("--report", help="write a JSON report here")
    a = ap.parse_args()
    for name in ("reorder", "duplicate", "drop"):
        v = getattr(a, name)
        if not 0.0 <= v <= 1.0:
            ap.error(f"--{name} must be between 0 and 1")
    if not 1 <= a.distance <= MAX_DISTANCE:
        ap.error(f"--distance must be between 1 and {MAX_DISTANCE}")

    header, endian, dlt, pkts = read_pcap(a.input)
    rng = random.Random(a.seed)
    report = {"seed": a.seed, "dropped": 0, "duplicated": 0, "reordered": 0,
              "dropped_bytes": 0, "acks_rewritten": 0}

    if a.drop > 0:
        kept = []
        for p in pkts:
            if is_data(p) and rng.random() < a.drop:
                report["dropped"] += 1
                report["dropped_bytes"] += p.plen
            else:
                kept.append(p)
        pkts = kept
    if a.duplicate > 0:
        i = 0
        while i < len(pkts):
            p = pkts[i]
            if is_data(p) and not getattr(p, "is_copy", False) and rng.random() < a.duplicate:
                q = Packet(p.hdr, bytes(p.data))
                parse_tcp(dlt, q)
                q.is_copy = True
                pkts.insert(min(len(pkts), i + 1 + rng.randint(1, a.distance)), q)
                report["duplicated"] += 1
            i += 1
    if a.reorder > 0:
        order = [p for p in pkts if is_data(p) and rng.random() < a.reorder]
        for p in order:
            delay(pkts, pkts.index(p), rng.randint(1, a.distance))
            report["reordered"] += 1
        report["acks_rewritten"] = clamp_acks(pkts)

    report["missing"] = missing_bytes(pkts)
    write_pcap(a.output, header, endian, pkts)
    if a.report:
        with open(a.report, "w") as f:
            json.dump(report, f, indent=1, sort_keys=True)
            f.write("\n")


if __name__ == "__main__":
    main()
