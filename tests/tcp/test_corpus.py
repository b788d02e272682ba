#!/usr/bin/python3
"""test_corpus.py — PcapPlusPlus's TCP reassembly test captures (../shared/corpus) whose
expected reassembled streams sit beside them: both directions of each connection in delivery
order, gaps written as "[N bytes missing]" (PcapPlusPlus's test format, pt_streamdump --pcpp).

Besides the captures as they are, the packet edits of PcapPlusPlus's own tests
(TestTcpReassemblyRetran, TestTcpReassemblyMissingData, TestTcpReassemblyOutOfOrder; the
source is in one_tcp_stream.pcap.source-test.PcapPlusPlus-tests.cpp.txt) are replayed here on
one_tcp_stream.pcap and must give their expected files. frag_http_req's expected file is the
reassembled IP packet in hex: its TCP payload must be the stream.

Skips (77) without the corpus. usage: test_corpus.py PT_STREAMDUMP
"""

import binascii
import os
import shutil
import struct
import subprocess
import sys
import tempfile

SRC = os.environ.get("PT_SOURCE_ROOT", os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(SRC, "tests", "tools"))
import pcap_faults  # noqa: E402

CORPUS = os.environ.get("PT_CORPUS", "")
HTTP = os.path.join(CORPUS, "http")

# capture -> expected files; each must equal one flow's --pcpp output.
PLAIN = {
    "one_tcp_stream.pcap": ["one_tcp_stream_output.txt"],
    "three_http_streams.pcap": ["three_http_streams_conn_1_output.txt",
                                "three_http_streams_conn_2_output.txt",
                                "three_http_streams_conn_3_output.txt"],
    "one_ipv6_http_stream.pcap": ["one_ipv6_http_stream.txt"],
    "four_ipv6_http_streams.pcap": ["one_ipv6_http_stream2.txt", "one_ipv6_http_stream3.txt",
                                    "one_ipv6_http_stream4.txt"],
}

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def pcpp_streams(dumper, pcap, work):
    out = tempfile.mkdtemp(dir=work)
    r = subprocess.run([dumper, "-q", "--pcpp", out, pcap], capture_output=True, timeout=60)
    check(r.returncode == 0, f"pt_streamdump on {pcap}: {r.stderr.decode(errors='replace')}")
    return {name: read(os.path.join(out, name)) for name in os.listdir(out)}


def cut_payload(p, beginning, num):
    """PcapPlusPlus's tcpReassemblyAddRetransmissions(): a copy of TCP packet p whose payload
    is `num` bytes from `beginning` (num <= 0: to the end), padded with '*' past the end, and
    whose sequence number moves by `beginning`. Faithful to one quirk of that helper: it
    removes only the layer after TCP, which for a segment starting an HTTP message is the
    header block, so the body bytes after it stay in front of the new payload."""
    d = bytes(p.data)
    doff = (d[p.tcp + 12] >> 4) * 4
    payload = d[p.tcp + doff:p.ip_end]
    if num <= 0:
        num = len(payload) - beginning
    new = payload[beginning:beginning + num]
    new += b"*" * (num - len(new))
    kept = b""
    if payload.startswith((b"GET ", b"POST ", b"HTTP/1.")) and b"\r\n\r\n" in payload:
        kept = payload[payload.index(b"\r\n\r\n") + 4:]
    num += len(kept)
    frame = bytearray(d[:p.tcp + doff] + kept + new)
    ihl = (frame[p.ip] & 15) * 4
    struct.pack_into("!H", frame, p.ip + 2, ihl + doff + num)
    struct.pack_into("!H", frame, p.ip + 10, 0)
    struct.pack_into("!H", frame, p.ip + 10, pcap_faults.checksum(bytes(frame[p.ip:p.ip + ihl])))
    struct.pack_into("!I", frame, p.tcp + 4, (p.seq + beginning) & 0xFFFFFFFF)
    q = pcap_faults.Packet((p.hdr[0], p.hdr[1], len(frame)), bytes(frame))
    pcap_faults.parse_tcp(pcap_faults.DLT_EN10MB, q)
    pcap_faults.fix_checksum(q)
    return q


def edit_retransmissions(pk):
    r = [cut_payload(pk[4], 0, 0), cut_payload(pk[10], 10, 0), cut_payload(pk[13], 0, 1340),
         cut_payload(pk[21], 0, 1430), cut_payload(pk[28], 10, 1370), cut_payload(pk[34], 10, 91)]
    for pos, q in zip((5, 12, 16, 25, 33, 40), r):
        pk.insert(pos, q)
    return pk


def edit_missing_data(pk):
    m1 = cut_payload(pk[3], 20, 0)
    pk.insert(4, m1)
    del pk[3]
    m2 = cut_payload(pk[20], 0, 1390)
    pk.insert(21, m2)
    del pk[20]
    del pk[28]
    del pk[30]
    return pk


def reverse_message(pk):
    for i in range(12):
        p = pk.pop(35)
        pk.insert(24 + i, p)


def edit_out_of_order(pk):
    pk[9], pk[10] = pk[10], pk[9]
    p = pk.pop(18)
    pk.insert(23, p)
    reverse_message(pk)
    return pk


def edit_out_of_order_missing(pk):
    reverse_message(pk)
    del pk[29]
    return pk


def edit_no_handshake(pk):
    del pk[0]
    del pk[0]
    return pk


EDITS = [
    ("retransmissions", edit_retransmissions, "one_tcp_stream_retransmission_output.txt"),
    ("missing data", edit_missing_data, "one_tcp_stream_missing_data_output.txt"),
    ("no handshake", edit_no_handshake, "one_tcp_stream_output.txt"),
    ("out of order", edit_out_of_order, "one_tcp_stream_out_of_order_output.txt"),
    ("out of order + missing", edit_out_of_order_missing,
     "one_tcp_stream_missing_data_output_ooo.txt"),
]


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    dumper = sys.argv[1]
    if not CORPUS or not os.path.isdir(HTTP):
        print("corpus not present:", CORPUS)
        sys.exit(77)
    work = tempfile.mkdtemp(prefix="pt-tcp-corpus-")
    try:
        for cap, expected in PLAIN.items():
            got = pcpp_streams(dumper, os.path.join(HTTP, cap), work)
            for e in expected:
                want = read(os.path.join(HTTP, f"{cap}.expected.{e}"))
                check(want in got.values(), f"{cap}: no flow matches {e} ({len(want)} bytes; "
                      f"flows {sorted(len(v) for v in got.values())})")
            print(f"{cap}: {len(expected)} expected stream(s) checked")

        base = os.path.join(HTTP, "one_tcp_stream.pcap")
        header, endian, dlt, _ = pcap_faults.read_pcap(base)
        for label, edit, expected in EDITS:
            pk = edit(pcap_faults.read_pcap(base)[3])
            path = os.path.join(work, label.replace(" ", "_") + ".pcap")
            pcap_faults.write_pcap(path, header, endian, pk)
            got = pcpp_streams(dumper, path, work)
            want = read(os.path.join(HTTP, f"one_tcp_stream.pcap.expected.{expected}"))
            check(list(got.values()) == [want],
                  f"one_tcp_stream, {label}: {[len(v) for v in got.values()]} bytes, expected "
                  f"{len(want)} ({expected})")
            print(f"one_tcp_stream, {label}: checked against {expected}")

        cap = "frag_http_req.pcap"
        got = pcpp_streams(dumper, os.path.join(HTTP, cap), work)
        raw = binascii.unhexlify(read(os.path.join(
            HTTP, cap + ".expected.frag_http_req_reassembled.txt")).strip())
        check(list(got.values()) == [raw[14 + 20 + 20:]],
              f"{cap}: stream is not the reassembled packet's payload")
        print(f"{cap}: IP-reassembled request checked")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if failures:
        print(f"{len(failures)} failure(s)")
        sys.exit(1)
    print("ok")


if __name__ == "__main__":
    main()
