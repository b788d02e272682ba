#!/usr/bin/python3
"""corpus.py — the Redis plugin against the reference baselines of $PT_CORPUS/redis.

For every Zeek redis.log baseline, pcaptrace's `command` and `unanswered` events must agree
with Zeek on each command's name and on reply success (T: a reply, F: an error reply, -: no
reply), compared per capture as multisets. The captures where we differ on purpose are listed
in KNOWN with the exact number of rows that differ and why (see plugins/redis/README.md,
"Reference comparison"); any other difference, or a changed count, fails. Every capture of the
folder must also be traced without a crash, a hang or an error exit. Exits 77 without the
corpus or the program."""
import collections
import glob
import json
import os
import subprocess
import sys

CORPUS = os.environ.get("PT_CORPUS", "")
BUILD = os.environ.get("PT_BUILD_ROOT", "")
PROG = os.path.join(BUILD, "core", "pcaptrace")
# seconds one capture may take (a hang fails the test instead of stalling it)
TRACE_TIMEOUT = 120

# capture -> (rows that differ, reason); documented in plugins/redis/README.md
KNOWN = {
    "excessive-pipelining.pcap": (7, "Zeek stops naming commands past its pipelining limit"),
    "pipeline-quotes.pcap": (2, "an unbalanced quote is a protocol error that ends the "
                                "connection, as in Redis; Zeek logs it as a command"),
}


def zeek_rows(path):
    fields, rows = None, []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("#fields"):
                fields = line.split("\t")[1:]
            elif line and not line.startswith("#"):
                rows.append(dict(zip(fields, line.split("\t"))))
    return rows


def trace(pcap, ports):
    args = [PROG, "-r", pcap, "--plugin", "redis", "-F", "json", "-q"]
    for p in sorted(ports):
        args += ["--port", "redis=%s" % p]
    r = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=TRACE_TIMEOUT)
    if r.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (pcap, r.returncode, r.stderr.decode()[-500:]))
    events = []
    for line in r.stdout.decode("utf-8", "replace").splitlines():
        if line.startswith("{"):
            events.append(json.loads(line))
    return events


def ours(events):
    rows = []
    for e in events:
        if e.get("proto") != "redis":
            continue
        if e["event"] == "command":
            if e["reply_type"] == "none":
                ok = "-"
            else:
                ok = "F" if e.get("error") else "T"
        elif e["event"] == "unanswered" and e.get("side") == "command":
            ok = "-"
        else:
            continue
        rows.append((e["command"].split("|")[0], ok))
    return rows


def main():
    if not CORPUS or not os.path.isdir(os.path.join(CORPUS, "redis")):
        print("no corpus at %r: skipped" % CORPUS)
        return 77
    if not os.access(PROG, os.X_OK):
        print("no pcaptrace program at %s: skipped" % PROG)
        return 77
    failures = 0
    logs = sorted(glob.glob(os.path.join(CORPUS, "redis", "*.expected.redis*.log")))
    seen = set()
    for log in logs:
        pcap = log.split(".expected.")[0]
        name = os.path.basename(pcap)
        if name in seen or "filtered" in log:
            continue  # one baseline per capture (the others differ in value truncation only)
        seen.add(name)
        rows = zeek_rows(log)
        ports = {r["id.resp_p"] for r in rows if r.get("id.resp_p", "-") != "-"}
        theirs = collections.Counter((r["cmd.name"], r["success"]) for r in rows)
        mine = collections.Counter(ours(trace(pcap, ports)))
        diff = sum(((theirs - mine) + (mine - theirs)).values())
        rows_differ = max(sum((theirs - mine).values()), sum((mine - theirs).values()))
        want = KNOWN.get(name, (0, ""))[0]
        status = "ok" if rows_differ == want else "FAIL"
        print("%-36s zeek %3d rows, pcaptrace %3d, differing %d (documented %d) %s"
              % (name, sum(theirs.values()), sum(mine.values()), rows_differ, want, status))
        if status != "ok":
            failures += 1
            print("   zeek only:", dict(theirs - mine))
            print("   ours only:", dict(mine - theirs))
        del diff
    # every capture, on every port: no crash, no hang, a clean exit
    # and the RESP captures of robust/ (tcpdump's malformed and looping inputs, such as
    # resp_4_infiniteloop.pcapng, a NUL inside an inline command that once hung the parser)
    robust = sorted(glob.glob(os.path.join(CORPUS, "robust", "resp_*.pcap*")))
    for pcap in sorted(glob.glob(os.path.join(CORPUS, "redis", "*.pcap*"))) + robust:
        if ".expected." in pcap or ".source-" in pcap:
            continue
        try:
            events = trace(pcap, {"80", "6379", "6380"})
            print("%-36s traced: %d events" % (os.path.basename(pcap), len(events)))
        except Exception as ex:  # noqa: BLE001 - report and count any failure
            print("FAIL", ex)
            failures += 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
