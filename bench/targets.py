#!/usr/bin/env python3
"""targets.py — every benchmark target of the issues in one table: each pcaptrace mode against
the bare libpcap read loop (bench/pcap_floor) over the same recorded capture, CPU time
(user+sys) and wall time, best of N runs, runs interleaved so load drifts hit all alike.

Usage: bench/targets.py BUILD [--runs N]   (captures from bench/record.sh and
bench/http_record.sh in bench/data/; a missing capture is reported and skipped)
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")

# (issue, what, capture, pcaptrace arguments, target ratio)
TARGETS = [
    (2, "decode only", "http.pcap", ["--decode-only"], 1.2),
    (2, "decode only", "redis-pipelined.pcap", ["--decode-only"], 1.2),
    (3, "decode + tcp reassembly", "http.pcap", ["--plugin", "none", "-F", "none"], 1.3),
    (3, "decode + tcp reassembly", "http_nginx.pcap", ["--plugin", "none", "-F", "none"], 1.3),
    (3, "decode + tcp reassembly", "redis-pipelined.pcap", ["--plugin", "none", "-F", "none"], 1.3),
    (5, "redis, JSON to /dev/null", "redis-pipelined.pcap", ["--plugin", "redis", "-F", "json"], 3.0),
    (6, "http, JSON to /dev/null", "http_nginx.pcap", ["--plugin", "http", "-F", "json"], 1.5),
]


def run(cmd):
    """CPU seconds, wall seconds and peak RSS (KiB) of one run of cmd. The command runs under
    /usr/bin/time, a small process: a child forked straight from Python would report
    Python's own RSS as its peak (the counter survives exec)."""
    with tempfile.NamedTemporaryFile("r") as rss_file:
        start = time.perf_counter()
        with subprocess.Popen(["/usr/bin/time", "-f", "%M", "-o", rss_file.name, *cmd],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as p:
            _, status, usage = os.wait4(p.pid, 0)
            p.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - start
        rss = int(rss_file.read().split()[-1])
    if p.returncode != 0:
        sys.exit(f"failed ({p.returncode}): {' '.join(cmd)}")
    return usage.ru_utime + usage.ru_stime, wall, rss


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    floor_bin = os.path.join(args.build, "bench", "pcap_floor")
    prog = os.path.join(args.build, "core", "pcaptrace")
    print(f"{'issue':<5} {'what':<26} {'capture':<21} {'floor cpu':>9} {'cpu':>7} {'ratio':>6} "
          f"{'wall ratio':>10} {'peak RSS':>9} {'target':>6}")
    for issue, what, capture, extra, target in TARGETS:
        path = os.path.join(DATA, capture)
        if not os.path.exists(path):
            print(f"{issue:<5} {what:<26} {capture:<21} (missing: record it with bench/record.sh)")
            continue
        cmds = [[floor_bin, path], [prog, "-r", path, "-q", *extra]]
        best = [[1e9, 1e9, 0], [1e9, 1e9, 0]]
        for _ in range(args.runs):
            for i, cmd in enumerate(cmds):
                cpu, wall, rss = run(cmd)
                best[i] = [min(best[i][0], cpu), min(best[i][1], wall), max(best[i][2], rss)]
        ratio = best[1][0] / best[0][0]
        wall_ratio = best[1][1] / best[0][1]
        verdict = "ok" if ratio <= target else "MISS"
        print(f"{issue:<5} {what:<26} {capture:<21} {best[0][0]:8.3f}s {best[1][0]:6.3f}s "
              f"{ratio:5.2f}x {wall_ratio:9.2f}x {best[1][2] / 1024:7.1f}MiB {target:5.1f}x {verdict}")


if __name__ == "__main__":
    main()
