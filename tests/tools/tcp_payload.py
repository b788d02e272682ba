#!/usr/bin/python3
"""tcp_payload.py — the deterministic files served when recording the TCP test captures.

`python3 tcp_payload.py DIR` writes them into DIR; tests import FILES and content() to
know the exact bytes (and hashes) the reassembled streams must contain.
"""

import hashlib
import os
import sys

# name -> size in bytes
FILES = {"big.bin": 100000, "small.txt": 7000}


def content(name):
    """Bytes of a served file: SHA-256 blocks of a counter (binary) or numbered lines."""
    size = FILES[name]
    out = bytearray()
    i = 0
    if name.endswith(".txt"):
        while len(out) < size:
            out += b"line %06d of the pcaptrace tcp test file\n" % i
            i += 1
    else:
        while len(out) < size:
            out += hashlib.sha256(b"pcaptrace-%d" % i).digest()
            i += 1
    return bytes(out[:size])


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: tcp_payload.py DIR")
    for name in FILES:
        with open(os.path.join(sys.argv[1], name), "wb") as f:
            f.write(content(name))


if __name__ == "__main__":
    main()
