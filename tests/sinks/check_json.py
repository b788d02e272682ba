#!/usr/bin/python3
"""check_json.py — runs sink_fixture over hostile events and checks the JSON lines sink with
Python's json parser (valid UTF-8 JSON, envelope, lossless base64 side channel, shortened
values) and the text sink (one line per event, no control bytes, valid UTF-8, values shortened
with their full length shown)."""
import base64
import json
import os
import re
import subprocess
import sys
import tempfile

fixture = sys.argv[1]
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)


with tempfile.TemporaryDirectory(prefix="pt-sinks-") as d:
    subprocess.run([fixture, "hostile", d], check=True)
    raw = open(os.path.join(d, "events.jsonl"), "rb").read()
    text = open(os.path.join(d, "events.txt"), "rb").read()
    expected = [json.loads(l) for l in open(os.path.join(d, "expected.jsonl"))]

# JSON: valid UTF-8 as a whole, one object per line.
raw.decode("utf-8")  # raises on invalid UTF-8
lines = raw.split(b"\n")
check(lines[-1] == b"", "json output ends with a newline")
lines = lines[:-1]
check(len(lines) == len(expected), f"{len(lines)} json lines for {len(expected)} events")
envelope = ["ts", "flow", "proto", "event", "client", "server"]
for line, exp in zip(lines, expected):
    for b in line:
        check(b >= 0x20, f"raw control byte {b:#x} in a json line")
    obj = json.loads(line)
    check(list(obj)[:6] == envelope, f"envelope order: {list(obj)[:6]}")
    check(isinstance(obj["ts"], float) and abs(obj["ts"] - 1700000000.123456) < 1e-6,
          f"ts {obj['ts']}")
    check(re.search(rb'"ts":1700000000\.123456,', line) is not None, "ts has 6 decimals")
    check(obj["event"] == exp["event"], "event kind")
    check(obj["client"] in ("192.0.2.1:40001", "[2001:db8::1]:40002"), obj["client"])
    for name, f in exp["fields"].items():
        check(name in obj, f"field {name} present in {exp['event']}")
        want_len = None
        if f["type"] == "bytes":
            want = base64.b64decode(f["b64"])
            check(base64.b64decode(obj[name]) == want, f"bytes {name} round trip")
            want_len = f["full_len"]
        elif f["type"] == "str":
            want = base64.b64decode(f["b64"])
            try:
                exact = want.decode("utf-8")
                check(obj[name] == exact, f"str {name} equals its UTF-8 text")
                check(name + "_b64" not in obj, f"no {name}_b64 for valid UTF-8")
            except UnicodeDecodeError:
                check("\ufffd" in obj[name], f"str {name} shows U+FFFD")
                check(base64.b64decode(obj[name + "_b64"]) == want, f"{name}_b64 round trip")
            want_len = f["full_len"]
        elif f["type"] == "list":
            items = [base64.b64decode(x) for x in f["b64"]]
            check(len(obj[name]) == len(items), f"list {name} length")
            side = obj.get(name + "_b64")
            for i, item in enumerate(items):
                try:
                    check(obj[name][i] == item.decode("utf-8"), f"list item {i}")
                    check(side is None or side[i] is None, f"list item {i} has no b64")
                except UnicodeDecodeError:
                    check(side is not None and base64.b64decode(side[i]) == item,
                          f"list item {i} b64 round trip")
            if f["total"] > len(items):
                check(obj.get(name + "_total") == f["total"], f"{name}_total")
        if want_len is not None:
            n = len(want)
            if want_len > n:
                check(obj.get(name + "_full_len") == want_len, f"{name}_full_len")
            else:
                check(name + "_full_len" not in obj, f"no {name}_full_len")
    if exp["event"] == "numbers":
        check(obj["nan"] is None and obj["inf"] is None, "non-finite doubles are null")
        check(obj["pi"] == 3.141592653589793, "double round trip")
        check(obj["min"] == -(2**63) and obj["max"] == 2**64 - 1, "64-bit integers")
        check(obj["yes"] is True and obj["nothing"] is None and obj["empty"] == "", "literals")
    if exp["event"] == "utf8_ok":
        check(b"\\u2028" in line, "U+2028 escaped")

# Text: one line per event, printable, valid UTF-8, long values shortened.
tl = text.split(b"\n")
check(tl[-1] == b"", "text output ends with a newline")
tl = tl[:-1]
check(len(tl) == len(expected), f"{len(tl)} text lines for {len(expected)} events")
for line in tl:
    check(all(b >= 0x20 and b != 0x7F for b in line), f"control byte in text line {line[:60]!r}")
    s = line.decode("utf-8")
    check(re.match(r"^\d\d:\d\d:\d\d\.\d{6} \S+ -> \S+ hostile \w+ ", s) is not None,
          f"text line shape: {s[:80]}")
    check(not any(0x80 <= ord(c) <= 0x9F for c in s), "C1 control in text")
huge = [l.decode() for l in tl if b" huge " in l][0]
check("\u2026(1048576 bytes)" in huge, "huge value shows its full length")
check("\u2026(5000000 bytes)" in huge, "producer-shortened value shows its full_len")
check(len(huge) < 2000, f"huge text line is shortened ({len(huge)} chars)")
allb = [l.decode() for l in tl if b" all_bytes " in l][0]
check("\\x00\\x01" in allb and "\\n" in allb and "\\x1b" in allb,
      "control bytes escaped as \\xNN")
check("\u2026(256 bytes)" in allb, "all_bytes shortened at 64 bytes, full length shown")
check(any('one="\\x7f"' in l.decode() for l in tl), "DEL escaped")
check(any('one="\\x9b"' in l.decode() for l in tl), "lone high byte escaped")

if failures:
    for f in failures[:30]:
        print("FAIL:", f)
    print(f"{len(failures)} failures")
    sys.exit(1)
print(f"ok: {len(lines)} json lines and {len(tl)} text lines checked")
