#!/usr/bin/python3
"""run_golden.py — golden test of `pcaptrace --packets`: runs it over one capture with TZ=UTC
and compares stdout byte for byte with the expected file (tcpdump's TESTLIST idea).

Usage: run_golden.py PCAPTRACE CAPTURE EXPECTED [--update]
With --update (or PT_GOLDEN_UPDATE=1) the expected file is rewritten instead.
"""
import difflib
import os
import subprocess
import sys


def main():
    args = [a for a in sys.argv[1:] if a != "--update"]
    update = "--update" in sys.argv or os.environ.get("PT_GOLDEN_UPDATE") == "1"
    if len(args) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    exe, capture, expected = args
    env = dict(os.environ, TZ="UTC")
    proc = subprocess.run([exe, "-q", "--packets", "-r", capture], env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    if proc.returncode < 0:
        print("pcaptrace died with signal %d\n%s" % (-proc.returncode, proc.stderr.decode()))
        return 1
    if update:
        with open(expected, "wb") as f:
            f.write(proc.stdout)
        print("updated", expected)
        return 0
    with open(expected, "rb") as f:
        want = f.read()
    if proc.stdout == want:
        return 0
    diff = difflib.unified_diff(want.decode(errors="replace").splitlines(True),
                                proc.stdout.decode(errors="replace").splitlines(True),
                                expected, "pcaptrace --packets -r " + capture)
    sys.stdout.writelines(diff)
    sys.stdout.write(proc.stderr.decode(errors="replace"))
    return 1


if __name__ == "__main__":
    sys.exit(main())
