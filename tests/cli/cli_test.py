#!/usr/bin/python3
"""cli_test.py — tests of the `pcaptrace` command line, one case per run: bad options and
values (exit 2), unknown interface with a suggestion (lo0 -> lo), bad filter (exit 2 with
libpcap's message), missing and corrupt files, a capture cut short (message with the file
and packet number, packets before it printed, exit 1), stdin, -w round trip, -c, -D, the
positional FILE/INTERFACE/FILTER reading, statistics, and SIGINT/SIGTERM on a live capture.

Usage: cli_test.py PCAPTRACE CASE      (exit 0 pass, 1 fail, 77 skip)
"""
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

EXE = None
CAPS = os.path.join(os.environ.get("PT_SOURCE_ROOT", "."), "tests", "captures")
REF = os.path.join(CAPS, "eth-ipv4-ipv6.pcap")  # 18 packets: 11 TCP, 2 UDP, 3 ICMP, GRE, ARP


class Fail(Exception):
    pass


def run(*args, stdin=None, timeout=30):
    p = subprocess.run([EXE] + list(args), stdin=stdin, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout, env=dict(os.environ, TZ="UTC"))
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def expect(cond, what, out="", err=""):
    if not cond:
        raise Fail("%s\n--- stdout\n%s--- stderr\n%s" % (what, out, err))


def expect_usage_error(args, needle):
    rc, out, err = run(*args)
    expect(rc == 2, "%s: exit %d, want 2" % (args, rc), out, err)
    expect(needle in err, "%s: stderr lacks %r" % (args, needle), out, err)
    expect(out == "", "%s: usage error printed to stdout" % (args,), out, err)


def case_help():
    rc, out, err = run("--help")
    expect(rc == 0, "--help exit %d" % rc, out, err)
    for opt in ("--read", "--interface", "--filter", "--snaplen", "--buffer-size", "--no-promisc",
                "--immediate", "--count", "--list-interfaces", "--write", "--stats", "--packets",
                "--plugin", "--format", "--sink", "--tcp-verbose"):
        expect(opt in out, "--help does not list " + opt, out, err)
    expect("--decode-only" not in out, "hidden --decode-only is listed", out, err)


def case_bad_options():
    expect_usage_error(["--no-such-option"], "Unknown option")
    expect_usage_error(["-c", "many", "-r", REF], "-c")
    expect_usage_error(["-c", "-5", "-r", REF], "--count")
    expect_usage_error(["-s", "300000", "-r", REF], "--snaplen")
    expect_usage_error(["-B", "-1", "-r", REF], "--buffer-size")
    expect_usage_error(["--stats", "-1", "-r", REF], "--stats")
    expect_usage_error(["-r", REF, "-i", "lo"], "not both")
    expect_usage_error(["-r", REF, "-f", "tcp", "udp"], "either with -f")
    rc, out, err = run("--no-such-option")
    expect("--help" in err, "usage error does not point at --help", out, err)


def case_unknown_interface():
    for args in (["-i", "lo0", "--packets", "-c", "1"], ["--packets", "-c", "1", "lo0"]):
        rc, out, err = run(*args)
        expect(rc == 1, "%s: exit %d, want 1" % (args, rc), out, err)
        expect("lo0: no such interface" in err, "no 'no such interface'", out, err)
        expect("did you mean 'lo'?" in err, "no suggestion of lo", out, err)
        expect(" lo" in err.split("interfaces:")[-1], "existing interfaces not listed", out, err)


def case_bad_filter():
    for args in (["-r", REF, "--packets", "tcp", "port"], ["-r", REF, "--packets", "-f", "tcp port"],
                 [REF, "--packets", "host", "999.1.1.1"]):
        rc, out, err = run(*args)
        expect(rc == 2, "%s: exit %d, want 2" % (args, rc), out, err)
        expect("bad filter" in err, "no 'bad filter'", out, err)
        expect("syntax error" in err or "bogus" in err or "illegal" in err or "invalid" in err,
               "libpcap's message missing", out, err)


def case_missing_file():
    rc, out, err = run("-r", "/nonexistent/x.pcap", "--packets")
    expect(rc == 1, "exit %d, want 1" % rc, out, err)
    expect("/nonexistent/x.pcap" in err and "No such file" in err, "message", out, err)
    with tempfile.NamedTemporaryFile(suffix=".pcap") as f:
        f.write(b"this is not a capture file at all\n" * 4)
        f.flush()
        rc, out, err = run("-r", f.name, "--packets")
        expect(rc == 1, "garbage file: exit %d, want 1" % rc, out, err)
        expect(f.name in err and "format" in err, "garbage file: message", out, err)


def case_truncated_capture():
    path = os.path.join(CAPS, "truncated-file-packet5.pcap")
    for mode in (["--packets"], []):
        rc, out, err = run("-r", path, *mode)
        expect(rc == 1, "%s: exit %d, want 1" % (mode, rc), out, err)
        expect("truncated-file-packet5.pcap: packet 5: " in err, "file and packet number", out,
               err)
        expect("truncated" in err, "libpcap's reason", out, err)
        if mode:
            expect(len(out.splitlines()) == 4, "the 4 packets before were not printed", out, err)
        expect("4 packets read" in err, "statistics missing", out, err)


def case_unsupported_linktype():
    rc, out, err = run("-r", os.path.join(CAPS, "unsupported-dlt-ieee802-11.pcap"), "--packets")
    expect(rc == 1, "exit %d, want 1" % rc, out, err)
    expect("link type IEEE802_11 (105" in err and "not supported" in err, "message", out, err)


def case_stdin():
    rc, want, err = run("-r", REF, "--packets", "-q")
    expect(rc == 0 and len(want.splitlines()) == 18, "reference run", want, err)
    with open(REF, "rb") as f:
        rc, out, err = run("-r", "-", "--packets", "-q", stdin=f)
    expect(rc == 0, "stdin exit %d" % rc, out, err)
    expect(out == want, "stdin output differs", out, err)


def case_write_roundtrip():
    with tempfile.TemporaryDirectory() as d:
        saved = os.path.join(d, "saved.pcap")
        rc, out, err = run("-r", REF, "-w", saved, "--packets", "-q", "-c", "5", "tcp")
        expect(rc == 0 and len(out.splitlines()) == 5, "first run", out, err)
        rc, again, err = run("-r", saved, "--packets", "-q")
        expect(rc == 0 and again == out, "saved file reads back differently", again, err)
        if shutil.which("tcpdump"):
            p = subprocess.run(["tcpdump", "-nn", "-r", saved], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
            expect(p.returncode == 0 and len(p.stdout.splitlines()) == 5,
                   "tcpdump does not read the saved file", p.stdout.decode(), p.stderr.decode())
        rc, out, err = run("-r", REF, "-w", os.path.join(d, "no", "such", "dir.pcap"))
        expect(rc == 1 and "dir.pcap" in err, "unwritable -w file", out, err)


def case_count():
    for n in (1, 3, 17):
        rc, out, err = run("-r", REF, "--packets", "-c", str(n))
        expect(rc == 0 and len(out.splitlines()) == n, "-c %d printed %d" % (n,
                                                                            len(out.splitlines())),
               out, err)
        expect("%d packets read" % n in err, "-c %d statistics" % n, out, err)
    rc, out, err = run("-r", REF, "--packets", "-c", "1000")
    expect(rc == 0 and len(out.splitlines()) == 18, "-c beyond the end", out, err)


def case_positionals():
    # FILE then filter words; "ip6" is a filter word, not an interface.
    rc, out, err = run(REF, "--packets", "-q", "ip6", "and", "tcp")
    expect(rc == 0 and len(out.splitlines()) == 4, "FILE ip6 and tcp", out, err)
    rc, out, err = run("-q", "--packets", "-r", REF, "udp")
    expect(rc == 0 and len(out.splitlines()) == 2, "-r FILE udp", out, err)
    rc, out, err = run("-q", "--packets", "-r", REF, "--", "not", "tcp")
    expect(rc == 0 and len(out.splitlines()) == 7, "-r FILE -- not tcp", out, err)


def case_list_interfaces():
    rc, out, err = run("-D")
    expect(rc == 0, "-D exit %d" % rc, out, err)
    expect(any(line.split(".", 1)[-1].startswith("lo ") for line in out.splitlines()),
           "-D does not list lo", out, err)


def case_statistics():
    rc, out, err = run("-r", os.path.join(CAPS, "truncated-and-malformed.pcap"), "--packets")
    expect(rc == 0, "exit %d" % rc, out, err)
    expect("7 packets read" in err and "2 truncated" in err and "4 malformed" in err,
           "counters on stderr", out, err)
    rc, out, err = run("-r", os.path.join(CAPS, "ip-fragments.pcap"), "--decode-only")
    expect(rc == 0 and out == "", "--decode-only prints packets", out, err)
    expect("5 fragments (2 datagrams reassembled" in err, "fragment counters", out, err)
    rc, out, err = run("-q", "-r", REF, "--packets")
    expect(err == "", "-q still prints statistics", out, err)


def case_trace_file():
    rc, out, err = run("-r", REF)
    expect(rc == 0, "full pipeline over a file: exit %d" % rc, out, err)
    expect("18 packets read" in err, "statistics", out, err)


def case_bad_plugin_option():
    # A value init() refuses: a plugin named with --plugin must not be dropped silently.
    rc, out, err = run("-r", REF, "--plugin", "redis", "--plugin-opt", "redis.max_depth=abc")
    expect(rc == 1, "exit %d, want 1" % rc, out, err)
    expect("redis.max_depth" in err and "could not start" in err, "message", out, err)
    expect(out == "", "nothing traced without the plugin asked for", out, err)


def wait_for_line(stream, needle, timeout):
    """Read lines from a pipe until one contains needle (or the time is up); returns them."""
    seen = b""
    deadline = time.time() + timeout
    while time.time() < deadline:
        ready, _, _ = select.select([stream], [], [], deadline - time.time())
        if not ready:
            break
        line = stream.readline()
        seen += line
        if not line or needle in line:
            break
    return seen


def case_signals():
    if os.geteuid() != 0 or not shutil.which("ip"):
        print("skip: needs root and iproute2")
        sys.exit(77)
    ns = "pt-cli-sig-%d" % os.getpid()
    if subprocess.run(["ip", "netns", "add", ns]).returncode != 0:
        print("skip: cannot create a network namespace")
        sys.exit(77)
    try:
        subprocess.run(["ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up"], check=True)
        # An idle interface: the loop must still wake up for signals and --stats.
        for sig, mode, wait in ((signal.SIGINT, ["--packets"], 0.7),
                                (signal.SIGTERM, ["--packets"], 0.7), (signal.SIGTERM, [], 0.7),
                                (signal.SIGINT, ["--packets", "--stats", "1"], 1.8)):
            p = subprocess.Popen(["ip", "netns", "exec", ns, EXE, "-i", "lo"] + mode,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 env=dict(os.environ, TZ="UTC"))
            listening = wait_for_line(p.stderr, b"listening on lo", 10)
            time.sleep(wait)
            p.send_signal(sig)
            try:
                out, err = p.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                out, err = p.communicate()
                raise Fail("%s did not stop pcaptrace %s" % (sig.name, mode))
            out, err = out.decode(), listening.decode() + err.decode()
            expect("pcaptrace: listening on lo, link type EN10MB" in err,
                   "%s %s: no 'listening on' line" % (sig.name, mode), out, err)
            expect(p.returncode == 0, "%s %s: exit %d, want 0" % (sig.name, mode, p.returncode),
                   out, err)
            expect("packets read" in err and "dropped by kernel" in err,
                   "%s %s: no statistics" % (sig.name, mode), out, err)
            if "--stats" in mode:
                expect("pcaptrace: stats: 0 packets read" in err, "no periodic statistics", out,
                       err)
    finally:
        subprocess.run(["ip", "netns", "del", ns])


SEND_FRAGMENT = r"""
import socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
payload = struct.pack("!HHHH", 7000, 7001, 8 + 64, 0) + bytes(56)   # first 64 bytes of UDP
hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 0x1234, 0x2000, 64, 17, 0,
                  bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1]))
s.sendto(hdr + payload, ("127.0.0.1", 0))
"""


def case_defrag_idle():
    # One fragment of a datagram whose rest never comes, on an otherwise idle interface: the
    # reassembler gives it up after --defrag-timeout-ms even though no packet follows.
    if os.geteuid() != 0 or not shutil.which("ip"):
        print("skip: needs root and iproute2")
        sys.exit(77)
    ns = "pt-cli-frag-%d" % os.getpid()
    if subprocess.run(["ip", "netns", "add", ns]).returncode != 0:
        print("skip: cannot create a network namespace")
        sys.exit(77)
    try:
        subprocess.run(["ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up"], check=True)
        p = subprocess.Popen(["ip", "netns", "exec", ns, EXE, "-i", "lo", "--immediate",
                              "--decode-only", "--defrag-timeout-ms", "300", "--read-timeout",
                              "100", "udp"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        listening = wait_for_line(p.stderr, b"listening on lo", 10)
        subprocess.run(["ip", "netns", "exec", ns, sys.executable, "-c", SEND_FRAGMENT],
                       check=True)
        time.sleep(1.5)
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=10)
        out, err = out.decode(), listening.decode() + err.decode()
        expect(p.returncode == 0, "exit %d" % p.returncode, out, err)
        expect("1 packets read" in err and "1 fragments (0 datagrams reassembled, 1 fragments "
               "dropped)" in err, "the lone fragment was not expired while idle", out, err)
    finally:
        subprocess.run(["ip", "netns", "del", ns])


def case_permission():
    # Without privileges (root drops to nobody), opening an interface names what is needed.
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        print("skip: needs root and setpriv to drop privileges")
        sys.exit(77)
    p = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                        "--inh-caps=-all", EXE, "-i", "lo", "--packets", "-c", "1"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    out, err = p.stdout.decode(), p.stderr.decode()
    if "Permission denied" in err and "lo:" not in err:
        print("skip: nobody cannot run the binary here")
        sys.exit(77)
    expect(p.returncode == 1, "exit %d, want 1" % p.returncode, out, err)
    expect("root or the CAP_NET_RAW capability" in err, "no privilege advice", out, err)


def case_example():
    # Here EXE is examples/simple_capture: the library API used like node_pcap's README.
    rc, out, err = run("-r", REF, "tcp")
    lines = out.splitlines()
    expect(rc == 0 and len(lines) == 11, "simple_capture printed %d lines" % len(lines), out, err)
    expect(lines[0].startswith("1 ") and "tcp [S]" in lines[0], "first line", out, err)
    expect(lines[3].endswith("len 14 (payload)"), "payload line", out, err)
    expect("11 packets" in err, "packet count on stderr", out, err)


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}


def main():
    global EXE
    if len(sys.argv) != 3 or sys.argv[2] not in CASES:
        print(__doc__ + "cases: " + " ".join(sorted(CASES)), file=sys.stderr)
        return 2
    EXE = sys.argv[1]
    try:
        CASES[sys.argv[2]]()
    except Fail as e:
        print("FAIL:", e)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
