#!/usr/bin/python3
"""gen-http-captures.py — writes the hand-made HTTP captures used by the http plugin's golden
tests (tests/http/golden/): Ethernet/IPv4/IPv6/TCP with real handshakes, sequence numbers and
checksums, standard library only. Run it from anywhere; it writes next to itself:

  http-pipelined-chunked-gzip.pcap  one keep-alive connection: three pipelined requests (GET,
                                    GET, HEAD) answered by a chunked gzip response split
                                    across segments, a Content-Length one and a HEAD one, then
                                    a POST with Expect: 100-continue; a WebSocket upgrade on a
                                    second connection (port 8080); a 404 over IPv6 ended by a
                                    RST; and a connection picked up mid-response (no SYN).
"""
import gzip
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ip_bytes(addr):
    if ":" in addr:
        import ipaddress
        return ipaddress.IPv6Address(addr).packed
    return bytes(int(x) for x in addr.split("."))


def tcp_segment(src, dst, sport, dport, seq, ack, flags, payload):
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 5 << 4,
                      flags, 65535, 0, 0)
    s, d = ip_bytes(src), ip_bytes(dst)
    if len(s) == 4:
        pseudo = s + d + struct.pack("!BBH", 0, 6, len(hdr) + len(payload))
    else:
        pseudo = s + d + struct.pack("!IxxxB", len(hdr) + len(payload), 6)
    c = csum(pseudo + hdr + payload)
    return hdr[:16] + struct.pack("!H", c) + hdr[18:] + payload


def frame(src, dst, tcp):
    s, d = ip_bytes(src), ip_bytes(dst)
    eth = b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01"
    if len(s) == 4:
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0x4000, 64, 6, 0, s, d)
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
        return eth + b"\x08\x00" + ip + tcp
    ip = struct.pack("!IHBB16s16s", 6 << 28, len(tcp), 6, 64, s, d)
    return eth + b"\x86\xdd" + ip + tcp


FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10


class Capture:
    def __init__(self):
        self.packets = []
        self.t = 1700000000 * 1000000

    def add(self, data, gap_us):
        self.t += gap_us
        self.packets.append((self.t, data))

    def write(self, path):
        with open(path, "wb") as f:
            f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
            for t, data in self.packets:
                f.write(struct.pack("<IIII", t // 1000000, t % 1000000, len(data), len(data)))
                f.write(data)


class Conn:
    """One TCP connection: tracks both sides' sequence numbers."""

    def __init__(self, cap, client, server, isn=1000, handshake=True):
        self.cap = cap
        (self.ch, self.cp), (self.sh, self.sp) = client, server
        self.cseq, self.sseq = isn, isn * 7
        if handshake:
            self.send(True, b"", SYN, 100)
            self.cseq += 1
            self.send(False, b"", SYN | ACK, 150)
            self.sseq += 1
            self.send(True, b"", ACK, 50)

    def send(self, from_client, payload, flags=PSH | ACK, gap_us=200):
        if from_client:
            seg = tcp_segment(self.ch, self.sh, self.cp, self.sp, self.cseq, self.sseq, flags,
                              payload)
            self.cap.add(frame(self.ch, self.sh, seg), gap_us)
            self.cseq += len(payload)
        else:
            seg = tcp_segment(self.sh, self.ch, self.sp, self.cp, self.sseq, self.cseq, flags,
                              payload)
            self.cap.add(frame(self.sh, self.ch, seg), gap_us)
            self.sseq += len(payload)

    def fin(self):
        self.send(True, b"", FIN | ACK, 300)
        self.cseq += 1
        self.send(False, b"", FIN | ACK, 100)
        self.sseq += 1
        self.send(True, b"", ACK, 50)


def chunked(body, size):
    out = b""
    for i in range(0, len(body), size):
        piece = body[i:i + size]
        out += b"%x\r\n" % len(piece) + piece + b"\r\n"
    return out + b"0\r\n\r\n"


def main():
    cap = Capture()
    text = b"".join(b"line %d of a text resource that compresses well\n" % i for i in range(60))
    gz = gzip.compress(text, mtime=0)

    a = Conn(cap, ("10.0.0.1", 40001), ("10.0.0.2", 80))
    a.send(True, b"GET /app.js?v=3 HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: gen/1.0\r\n"
                 b"Accept-Encoding: gzip\r\n\r\n"
                 b"GET /data.json HTTP/1.1\r\nHost: www.example.com\r\n\r\n"
                 b"HEAD /big.iso HTTP/1.1\r\nHost: www.example.com\r\n\r\n")
    body = chunked(gz, 200)
    first = (b"HTTP/1.1 200 OK\r\nContent-Type: application/javascript\r\n"
             b"Content-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n") + body
    a.send(False, first[:150], gap_us=1500)
    a.send(False, first[150:], gap_us=300)
    a.send(False, b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n"
                  b"{\"ok\":true}HTTP/1.1 200 OK\r\nContent-Length: 5000000\r\n\r\n", gap_us=400)
    a.send(True, b"POST /upload HTTP/1.1\r\nHost: www.example.com\r\nContent-Length: 12\r\n"
                 b"Content-Type: text/plain\r\nExpect: 100-continue\r\n\r\n", gap_us=5000)
    a.send(False, b"HTTP/1.1 100 Continue\r\n\r\n", gap_us=700)
    a.send(True, b"hello world\n", gap_us=100)
    a.send(False, b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n", gap_us=2500)
    a.fin()

    b = Conn(cap, ("10.0.0.1", 40002), ("10.0.0.2", 8080), isn=5000)
    b.send(True, b"GET /socket HTTP/1.1\r\nHost: ws.example.com\r\nUpgrade: websocket\r\n"
                 b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                 b"Sec-WebSocket-Version: 13\r\n\r\n")
    b.send(False, b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n\x81\x02hi",
           gap_us=900)
    b.send(True, b"\x81\x82\x00\x00\x00\x00yo", gap_us=400)
    b.fin()

    c = Conn(cap, ("2001:db8::1", 40003), ("2001:db8::2", 80), isn=9000)
    c.send(True, b"GET /missing HTTP/1.1\r\nHost: [2001:db8::2]\r\n\r\n")
    c.send(False, b"HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\nContent-Length: 9\r\n\r\n"
                  b"not found", gap_us=1200)
    c.send(True, b"", RST | ACK, 100)

    d = Conn(cap, ("10.0.0.3", 40004), ("10.0.0.2", 80), isn=20000, handshake=False)
    d.send(False, b"the tail of an earlier body that was not captured\r\n", gap_us=100)
    d.send(True, b"GET /after HTTP/1.1\r\nHost: www.example.com\r\n\r\n", gap_us=100)
    d.send(False, b"HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n", gap_us=800)
    d.fin()

    cap.write(os.path.join(HERE, "http-pipelined-chunked-gzip.pcap"))


if __name__ == "__main__":
    main()
