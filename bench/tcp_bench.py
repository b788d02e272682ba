#!/usr/bin/python3
"""tcp_bench.py — decode + flow tracking + reassembly (tests/tcp/pt_streamdump -n) against
the bare libpcap read loop (bench/pcap_floor) on the captures of bench/record.sh, and a flood
of one million flows (tests/tools/tcp_flood.py): CPU time, ratio to the floor, peak memory.

CPU time (user + system of the child) is the figure compared, best of --runs: wall time on a
shared machine measures the neighbours. Peak memory is the child's max RSS. The `decode`
column is the same program with --decode-only (read + decode, no tracking), so the cost of
the tcp stage alone is `tcp - decode`.

The same is then measured through the real program (core/pcaptrace): `pcaptrace -r FILE
--decode-only -q` (decode only) and `pcaptrace -r FILE --plugin none -F none -q` (decode,
tunnels, flow tracking, reassembly and the dispatcher, no output), each as a ratio to the
floor: the targets are 1.2x and 1.3x.

usage: bench/tcp_bench.py [--build DIR] [--runs N] [--flows N] [--skip-flood] [--program-only]
                          [--program PCAPTRACE]
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DATA = os.environ.get("PT_BENCH_DATA", os.path.join(HERE, "data"))
CAPTURES = ["http.pcap", "redis.pcap", "redis-pipelined.pcap"]
TARGET_RATIO = 1.3
DECODE_TARGET_RATIO = 1.2


def run(cmd):
    """Run cmd; return (cpu seconds, wall seconds, max RSS KiB, its output), from the
    child's own resource usage (wait4), not the running total of all children."""
    t0 = time.monotonic()
    with tempfile.TemporaryFile("w+") as out:
        p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, text=True)
        _, status, ru = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        wall = time.monotonic() - t0
        out.seek(0)
        text = out.read().strip()
    if p.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed: {text}")
    return ru.ru_utime + ru.ru_stime, wall, ru.ru_maxrss, text


def best(cmd, runs):
    results = [run(cmd) for _ in range(runs)]
    cpu = min(r[0] for r in results)
    wall = min(r[1] for r in results)
    return cpu, wall, max(r[2] for r in results), results[-1][3]


def program_ratios(floor, prog, runs):
    """The floor against the pcaptrace program itself: decode only, and the whole TCP path
    with no plugin and no output."""
    print(f"\nthrough the program ({os.path.basename(prog)}), CPU seconds, best of {runs} "
          "interleaved runs:")
    print(f"{'capture':24} {'packets':>9} {'floor s':>8} {'decode s':>8} {'ratio':>6} "
          f"{'tcp s':>8} {'ratio':>6} {'RSS MiB':>8}")
    worst = [0.0, 0.0]
    for name in CAPTURES:
        path = os.path.join(DATA, name)
        if not os.path.exists(path):
            continue
        cmds = [[floor, path], [prog, "-r", path, "--decode-only", "-q"],
                [prog, "-r", path, "--plugin", "none", "-F", "none", "-q"]]
        # Interleaved (floor, decode, tcp, floor, ...) so that a busy spell of the machine
        # weighs on all three alike; best CPU time of each.
        cpu, rss, ferr = [float("inf")] * 3, 0, ""
        for _ in range(runs):
            for i, cmd in enumerate(cmds):
                c, _, r, out = run(cmd)
                cpu[i] = min(cpu[i], c)
                if i == 0:
                    ferr = out
                elif i == 2:
                    rss = max(rss, r)
        fcpu, dcpu, tcpu = cpu
        dr, tr = dcpu / fcpu, tcpu / fcpu
        worst = [max(worst[0], dr), max(worst[1], tr)]
        print(f"{name:24} {int(ferr.split()[1]):9d} {fcpu:8.3f} {dcpu:8.3f} {dr:6.2f} "
              f"{tcpu:8.3f} {tr:6.2f} {rss / 1024:8.1f}")
    if worst[1] > 0:
        print(f"worst program ratios: decode {worst[0]:.2f} (target {DECODE_TARGET_RATIO}x), "
              f"decode + tcp {worst[1]:.2f} (target {TARGET_RATIO}x)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--flows", type=int, default=1_000_000)
    ap.add_argument("--skip-flood", action="store_true")
    ap.add_argument("--program-only", action="store_true",
                    help="only the ratios through the pcaptrace program")
    ap.add_argument("--program", help="another pcaptrace binary to measure (default: BUILD's)")
    a = ap.parse_args()
    floor = os.path.join(a.build, "bench", "pcap_floor")
    dump = os.path.join(a.build, "tests", "tcp", "pt_streamdump")
    prog = a.program or os.path.join(a.build, "core", "pcaptrace")
    for exe in (floor, dump, prog):
        if not os.access(exe, os.X_OK):
            sys.exit(f"{exe} not built: ninja -C {a.build}")

    if a.program_only:
        program_ratios(floor, prog, a.runs)
        return
    print(f"{'capture':24} {'packets':>9} {'floor s':>8} {'decode s':>8} {'tcp s':>8} "
          f"{'ratio':>6} {'Mpkt/s':>7} {'MB/s':>7} {'RSS MiB':>8}")
    worst = 0.0
    for name in CAPTURES:
        path = os.path.join(DATA, name)
        if not os.path.exists(path):
            print(f"{name:24} missing: run bench/record.sh")
            continue
        fcpu, _, _, ferr = best([floor, path], a.runs)
        dcpu, _, _, _ = best([dump, "-n", "-q", "--decode-only", path], a.runs)
        tcpu, _, rss, terr = best([dump, "-n", "-q", path], a.runs)
        packets = int(ferr.split()[1])
        size = os.path.getsize(path)
        ratio = tcpu / fcpu if fcpu > 0 else float("inf")
        worst = max(worst, ratio)
        print(f"{name:24} {packets:9d} {fcpu:8.3f} {dcpu:8.3f} {tcpu:8.3f} {ratio:6.2f} "
              f"{packets / tcpu / 1e6:7.2f} {size / tcpu / 1e6:7.1f} {rss / 1024:8.1f}")
        print(f"  {terr}")
    if worst > 0:
        verdict = "within" if worst <= TARGET_RATIO else "OVER"
        print(f"worst ratio to the libpcap floor: {worst:.2f} ({verdict} the {TARGET_RATIO}x target)")
    program_ratios(floor, prog, a.runs)

    if a.skip_flood:
        return
    gen = os.path.join(ROOT, "tests", "tools", "tcp_flood.py")
    with tempfile.TemporaryDirectory(prefix="pt-tcp-flood-") as tmp:
        for kind in ("syn", "short"):
            path = os.path.join(tmp, f"{kind}.pcap")
            subprocess.run([sys.executable, gen, kind, str(a.flows), path], check=True)
            for extra in ([], ["--max-flows", str(a.flows)]):
                label = f"{kind} x{a.flows}" + (" " + " ".join(extra) if extra else " (default caps)")
                cpu, wall, rss, err = best([dump, "-n", "-q"] + extra + [path], 1)
                print(f"flood {label}: {cpu:.2f} s CPU ({wall:.2f} s wall), max RSS "
                      f"{rss / 1024:.1f} MiB")
                print(f"  {err}")


if __name__ == "__main__":
    main()
