#!/usr/bin/python3
"""corpus_robust.py — robustness over real and hostile captures: runs the pcaptrace binary
over every capture in $PT_CORPUS/robust and $PT_CORPUS/linktypes (tcpdump's and libpcap's
test files, many malformed on purpose) with a per-file timeout. Each run must end with exit
status 0, or a clean non-zero status with a "pcaptrace:" message; never a signal, a hang, or
a sanitizer report. Exits 77 (skipped) when the corpus is absent.

Usage: corpus_robust.py PCAPTRACE MODE...   (MODE: packets | trace | decode)
"""
import concurrent.futures
import os
import subprocess
import sys

TIMEOUT_S = 30
SANITIZER_MARKS = ("AddressSanitizer", "LeakSanitizer", "runtime error:", "UndefinedBehavior")
CAPTURE_SUFFIXES = (".pcap", ".pcapng", ".snoop", ".cap")
MODE_ARGS = {"packets": ["--packets"], "trace": [], "decode": ["--decode-only"]}


def captures(corpus):
    for sub in ("robust", "linktypes"):
        d = os.path.join(corpus, sub)
        for name in sorted(os.listdir(d)):
            if name.endswith(CAPTURE_SUFFIXES):
                yield os.path.join(d, name)


def check(exe, mode, path):
    cmd = [exe] + MODE_ARGS[mode] + ["-r", path]
    try:
        p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           timeout=TIMEOUT_S, env=dict(os.environ, TZ="UTC"))
    except subprocess.TimeoutExpired:
        return "%s: hung (more than %d s) in mode %s" % (path, TIMEOUT_S, mode)
    err = p.stderr.decode(errors="replace")
    if p.returncode < 0:
        return "%s: killed by signal %d in mode %s\n%s" % (path, -p.returncode, mode, err[-2000:])
    if any(m in err for m in SANITIZER_MARKS):
        return "%s: sanitizer report in mode %s\n%s" % (path, mode, err[-4000:])
    if p.returncode != 0 and "pcaptrace: " not in err:
        return "%s: exit %d without a message in mode %s" % (path, p.returncode, mode)
    return None


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    exe, modes = sys.argv[1], sys.argv[2:]
    corpus = os.environ.get("PT_CORPUS", "")
    if not corpus or not os.path.isdir(os.path.join(corpus, "robust")):
        print("skip: corpus not found (PT_CORPUS=%r)" % corpus)
        return 77
    files = list(captures(corpus))
    jobs = [(m, f) for m in modes for f in files]
    failures = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        for res in pool.map(lambda j: check(exe, j[0], j[1]), jobs):
            if res:
                failures.append(res)
    print("%d runs over %d captures, %d failures" % (len(jobs), len(files), len(failures)))
    for f in failures:
        print(f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
