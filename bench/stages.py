#!/usr/bin/env python3
"""stages.py — where a benchmark target's budget goes: the same capture run through pcaptrace
with one more stage each time (decode + TCP only, + the protocol plugin and the host's checks
with no sink, + the JSON sink to /dev/null), each against the bare libpcap read loop
(bench/pcap_floor). CPU time (user+sys), best of N runs, interleaved like targets.py.

Usage: bench/stages.py BUILD [--capture redis-pipelined.pcap] [--plugin redis] [--runs N]
"""
import argparse
import os
import sys

from targets import DATA, run


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--capture", default="redis-pipelined.pcap")
    ap.add_argument("--plugin", default="redis")
    ap.add_argument("--runs", type=int, default=9)
    args = ap.parse_args()
    path = os.path.join(DATA, args.capture)
    if not os.path.exists(path):
        sys.exit(f"{path}: missing (record it with bench/record.sh)")
    prog = os.path.join(args.build, "core", "pcaptrace")
    stages = [
        ("bare libpcap read loop", [os.path.join(args.build, "bench", "pcap_floor"), path]),
        ("decode + tcp", [prog, "-r", path, "-q", "--plugin", "none", "-F", "none"]),
        (f"+ {args.plugin} plugin, no sink", [prog, "-r", path, "-q", "--plugin", args.plugin,
                                              "-F", "none"]),
        ("+ json sink to /dev/null", [prog, "-r", path, "-q", "--plugin", args.plugin, "-F",
                                      "json"]),
    ]
    best = [1e9] * len(stages)
    for _ in range(args.runs):
        for i, (_, cmd) in enumerate(stages):
            best[i] = min(best[i], run(cmd)[0])
    floor = best[0]
    print(f"{args.capture}, best of {args.runs}: CPU seconds and multiples of the floor")
    print(f"{'stage':<30} {'cpu':>7} {'x floor':>8} {'added':>7}")
    for i, (what, _) in enumerate(stages):
        added = f"{(best[i] - best[i - 1]) / floor:+6.2f}x" if i > 1 else ""
        print(f"{what:<30} {best[i]:6.3f}s {best[i] / floor:7.2f}x {added:>7}".rstrip())


if __name__ == "__main__":
    main()
