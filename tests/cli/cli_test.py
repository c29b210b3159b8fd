#!/usr/bin/python3
"""cli_test: the real stswatch binary against hostile arguments, files and environments.

    tests/cli/cli_test.py BUILD [CASE...]
    tests/cli/cli_test.py --list

No root and no network: the only resolver given is 127.0.0.1:9, where nothing listens
(every question is refused at once). Each case runs the binary and asserts on its exit
status, its output and the time it took; every case of issue 11 here failed before its
fix. Exit 0 when every case passed. Python 3 standard library only.
"""
import os
import re
import subprocess
import sys
import tempfile
import time

RESOLVER = "127.0.0.1:9"
USAGE_LINES = 4		# check_mta_sts's usage after a usage error


class Ctx:
    def __init__(self, build, tmp):
        self.stswatch = os.path.join(os.path.abspath(build), "stswatch")
        self.plugin = os.path.join(os.path.abspath(build), "check_mta_sts")
        self.tmp = tmp
        self.errors = []
        self.n = 0

    def expect(self, cond, msg):
        self.n += 1
        if not cond:
            self.errors.append(msg)
        return cond

    def run(self, argv, input=None, timeout=30, env=None):
        e = {k: v for k, v in os.environ.items() if k != "SSLKEYLOGFILE"}
        e.update(env or {})
        t0 = time.monotonic()
        try:
            p = subprocess.run(argv, input=input, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               timeout=timeout, env=e)
        except subprocess.TimeoutExpired:
            self.errors.append("%r: no exit within %d s" % (argv, timeout))
            return None, timeout
        return p, time.monotonic() - t0

    def path(self, name, data=b""):
        p = os.path.join(self.tmp, name)
        with open(p, "wb") as f:
            f.write(data)
        return p


def text(b):
    return b.decode("utf-8", "replace")


# ---- the plugin's usage errors -------------------------------------------------------

def case_plugin_escape(ctx):
    """issue 11: usage errors echoed raw bytes: -H $'a|b\\nWARNING fake' gave a second
    output line and a fake perfdata separator."""
    evil = "a|b\nWARNING fake"
    for argv in (["-H", evil], ["-H", "ok.test", "-w", evil], ["-H", "ok.test", "-c", evil],
                 ["-H", "ok.test", "-t", evil], ["-H", "ok.test", "--timeout-result", evil],
                 ["-H", "ok.test", "--resolver", evil], ["-H", "ok.test", evil],
                 ["-H", "ok.test", "--" + evil], ["-H", "ok.test", "--config", "/nonexistent/" + evil],
                 ["-H", "ok.test", "--ca-file", "/nonexistent/" + evil, "--resolver", RESOLVER]):
        p, _ = ctx.run([ctx.plugin] + argv)
        if p is None:
            continue
        out = text(p.stdout)
        lines = out.split("\n")
        first = lines[0]
        what = "check_mta_sts %r" % argv
        ctx.expect(p.returncode == 3, "%s: exit %d, want 3" % (what, p.returncode))
        ctx.expect(first.startswith("MTA-STS UNKNOWN - "), "%s: first line %r" % (what, first))
        ctx.expect("|" not in first, "%s: a raw '|' in the first line %r" % (what, first))
        ctx.expect(not any(l.startswith("WARNING") for l in lines),
                   "%s: the argument made a line of its own: %r" % (what, out))
        ctx.expect(len(lines) <= 1 + USAGE_LINES + 1,
                   "%s: %d lines of output: %r" % (what, len(lines), out))
        ctx.expect("\\x0a" in first or "\\n" in first,
                   "%s: the newline is not shown quoted: %r" % (what, first))


def case_check_escape(ctx):
    """stswatch's own errors quote control bytes of what the user gave, on one line."""
    for argv in (["check", "--format", "x\ny"], ["check", "--resolver", RESOLVER, "a\nb.example"],
                 ["check", "--resolver", RESOLVER, "--domains-file", "/nonexistent/a\nb"],
                 ["config", "check", "-c", "/nonexistent/a\nb"]):
        p, _ = ctx.run([ctx.stswatch] + argv)
        if p is None:
            continue
        err = text(p.stderr).rstrip("\n")
        ctx.expect(p.returncode != 0, "%r: exit 0" % argv)
        ctx.expect(err and "\n" not in err.split("\nusage:")[0],
                   "%r: the error is not one line: %r" % (argv, err))


# ---- the plugin's deadline over its set-up -----------------------------------------------

def case_plugin_deadline_config(ctx):
    """issue 11: -t did not cover loading the configuration. A FIFO that nobody writes keeps
    the open blocked forever: the deadline must still end the plugin, naming the step."""
    fifo = os.path.join(ctx.tmp, "stswatch.conf.fifo")
    os.mkfifo(fifo)
    for extra, rc, state in (([], 3, "UNKNOWN"), (["--timeout-result", "critical"], 2, "CRITICAL")):
        p, wall = ctx.run([ctx.plugin, "-H", "ok.test", "-t", "1", "--config", fifo] + extra,
                          timeout=10)
        if p is None:
            continue
        first = text(p.stdout).split("\n")[0]
        ctx.expect(p.returncode == rc, "-t 1 --config FIFO %s: exit %d, want %d"
                   % (extra, p.returncode, rc))
        ctx.expect(first == "MTA-STS %s - ok.test: check.timeout: the deadline of 1 s passed "
                   "while loading the configuration" % state,
                   "-t 1 --config FIFO %s: first line %r" % (extra, first))
        ctx.expect(0.9 <= wall <= 3, "-t 1 --config FIFO: ended after %.1f s" % wall)


# ---- the configuration's size -----------------------------------------------------------------

def case_config_size(ctx):
    """issue 11: a file that is one huge comment kept libconfig busy for minutes. Over
    10 MB it is refused unread, naming the file and its size; under it, it is quick."""
    big = ctx.path("big.conf", b"# " + b"x" * (10 * 1024 * 1024 - 2) + b"\n")
    p, wall = ctx.run([ctx.stswatch, "config", "check", "-c", big])
    if p is not None:
        err = text(p.stderr)
        ctx.expect(p.returncode == 1 and "%s: 10485761 bytes, larger than the 10485760" % big
                   in err, "config check of 10 MB + 1: exit %d %r" % (p.returncode, err))
        ctx.expect(wall < 2, "config check of 10 MB + 1 took %.1f s" % wall)
    # just under the limit: a comment and a string that libconfig's file reading took
    # most of a minute for are parsed from memory in well under a second or two
    almost = ctx.path("almost.conf", b"# " + b"x" * (10 * 1024 * 1024 - 100) + b"\n"
                      b"concurrency = 3;\n")
    p, wall = ctx.run([ctx.stswatch, "config", "check", "-c", almost], timeout=60)
    if p is not None:
        ctx.expect(p.returncode == 0, "config check of a 10 MB comment: exit %d %r"
                   % (p.returncode, text(p.stderr)))
        ctx.expect(wall < 5, "config check of a 10 MB comment took %.1f s" % wall)
    p, wall = ctx.run([ctx.plugin, "-H", "ok.test", "-t", "2", "--config", big])
    if p is not None:
        first = text(p.stdout).split("\n")[0]
        ctx.expect(p.returncode == 3 and "10485761 bytes" in first,
                   "check_mta_sts --config of 10 MB + 1: exit %d %r" % (p.returncode, first))


# ---- domain lists, names and resolvers --------------------------------------------------

def check_file(ctx, data, *extra, input=None):
    path = ctx.path("domains.txt", data) if data is not None else "-"
    return ctx.run([ctx.stswatch, "check", "--resolver", RESOLVER, "--format", "json",
                    "--domains-file", path] + list(extra), input=input, timeout=60)


def case_domains_file(ctx):
    """issue 11: a NUL byte truncated a line (ok.test\\0evil.test became ok.test), 1.2.3.4
    was a mail domain, and --domains-file /etc/shadow printed the file's first line."""
    rows = [
        (b"first.example\nok.test\0evil.test\n", r":2: a NUL byte in the line", b"evil"),
        (b"1.2.3.4\n", r":1: not a domain name: an IPv4 address", b"1.2.3.4"),
        (b"ok.example\nexample.42\n", r":2: not a domain name: its last label is all digits",
         b"example.42"),
        (b"root:$y$j9T$QvGdQ0U5:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n",
         r":1: not a domain name: a byte that is not", b"root"),
    ]
    for data, want, secret in rows:
        p, _ = check_file(ctx, data)
        if p is None:
            continue
        err = text(p.stderr)
        ctx.expect(p.returncode == 3, "%r: exit %d, want 3" % (data, p.returncode))
        ctx.expect(re.search(want, err), "%r: stderr %r lacks /%s/" % (data, err, want))
        ctx.expect(secret not in p.stderr and secret not in p.stdout,
                   "%r: the line's content is printed: %r" % (data, err))
        ctx.expect(p.stdout == b"", "%r: a file with a bad line was checked: %r"
                   % (data, p.stdout[:200]))
    # from a pipe: what comes before the bad line is checked, then the error
    p, _ = check_file(ctx, None, input=b"a.example\nb.example\n10.0.0.1\nc.example\n")
    if p is not None:
        doms = [l.split(b'"domain":"')[1].split(b'"')[0] for l in p.stdout.splitlines()
                if b'"domain":"' in l]
        ctx.expect(doms == [b"a.example", b"b.example"],
                   "stdin with a bad third line: checked %r" % doms)
        ctx.expect(p.returncode == 3 and b"-:3: not a domain name" in p.stderr,
                   "stdin with a bad third line: exit %d %r" % (p.returncode, p.stderr))
    # a name listed twice is checked twice; comments and blank lines are skipped
    p, _ = check_file(ctx, b"# list\n\nA.example.\na.example  # again\n")
    if p is not None:
        ctx.expect(p.stdout.count(b'"domain":"a.example"') == 2,
                   "a name listed twice: %r" % p.stdout[:300])
    for argv in (["1.2.3.4"], ["example.123"]):
        p, _ = ctx.run([ctx.stswatch, "check", "--resolver", RESOLVER] + argv)
        if p is not None:
            ctx.expect(p.returncode == 3 and b"not a domain name" in p.stderr,
                       "check %s: exit %d %r" % (argv, p.returncode, p.stderr))
    p, _ = ctx.run([ctx.plugin, "-H", "1.2.3.4"])
    if p is not None:
        ctx.expect(p.returncode == 3 and b"not a domain name" in p.stdout,
                   "check_mta_sts -H 1.2.3.4: exit %d %r" % (p.returncode, p.stdout[:200]))


def case_resolvers(ctx):
    """issue 11: 0.0.0.0, 255.255.255.255 and 224.0.0.1 were accepted as resolvers."""
    for r, why in (("0.0.0.0", "unspecified"), ("255.255.255.255", "broadcast"),
                   ("224.0.0.1", "multicast"), ("[::]:53", "unspecified"),
                   ("ff02::1", "multicast")):
        p, _ = ctx.run([ctx.stswatch, "check", "--resolver", r, "ok.example"])
        if p is not None:
            ctx.expect(p.returncode == 3 and why.encode() in p.stderr,
                       "--resolver %s: exit %d %r" % (r, p.returncode, p.stderr))
        p, _ = ctx.run([ctx.plugin, "-H", "ok.example", "--resolver", r])
        if p is not None:
            ctx.expect(p.returncode == 3 and why.encode() in p.stdout,
                       "check_mta_sts --resolver %s: exit %d %r" % (r, p.returncode, p.stdout))
    conf = ctx.path("resolver.conf", b'resolver = "224.0.0.1";\n')
    p, _ = ctx.run([ctx.stswatch, "config", "check", "-c", conf])
    if p is not None:
        ctx.expect(p.returncode == 1 and b":1: resolver" in p.stderr
                   and b"multicast" in p.stderr, "config resolver 224.0.0.1: %r" % p.stderr)


def case_ca_file(ctx):
    """check_mta_sts --ca-file /nonexistent said "the check did not run", then "(null)":
    it says why, as check does."""
    junk = ctx.path("junk.pem", b"not a certificate\n")
    for argv, out in (([ctx.plugin, "-H", "ok.example", "--ca-file", "/nonexistent"], "stdout"),
                      ([ctx.stswatch, "check", "--ca-file", "/nonexistent", "ok.example"],
                       "stderr"),
                      ([ctx.plugin, "-H", "ok.example", "--resolver", RESOLVER, "--ca-file",
                        junk], "stdout")):
        p, _ = ctx.run(argv)
        if p is None:
            continue
        said = text(getattr(p, out))
        ctx.expect(p.returncode == 3, "%r: exit %d" % (argv, p.returncode))
        ctx.expect(re.search(r"cannot read it: No such file or directory|cannot load CA "
                             r"certificates: no certificate", said) and "(null)" not in said,
                   "%r: %r does not say why" % (argv, said[:300]))


def case_config_receivers(ctx):
    """issue 9: config check warns when every mail recipient of a receiver is in a watched
    domain (the failure reported can stop the alert mail), and refuses a route to a
    receiver that is not defined, with file, line and setting."""
    def conf(to, notify='[ "mail" ]'):
        return ('database = "%s";\n'
                'receivers = (\n'
                '  { name = "mail"; type = "email"; url = "smtps://smtp.example.net:465";\n'
                '    from = "stswatch@example.net"; to = [ %s ]; }\n'
                ');\n'
                'notify = %s;\n'
                'domains = ( "example.org", "example.com" );\n'
                % (os.path.join(ctx.tmp, "r.db"), ", ".join('"%s"' % t for t in to),
                   notify)).encode()
    warn = b"every recipient of receiver mail is in a watched domain"
    for to in (["postmaster@example.org"], ["noc@mail.example.org", "ops@example.com"]):
        path = ctx.path("inside.conf", conf(to))
        p, _ = ctx.run([ctx.stswatch, "config", "check", "-c", path])
        if p is not None:
            ctx.expect(p.returncode == 0 and (path + ":3: warning: ").encode() in p.stdout and
                       warn in p.stdout, "config check, recipients %s: exit %d %r %r"
                       % (to, p.returncode, p.stdout, p.stderr))
    path = ctx.path("outside.conf", conf(["postmaster@example.org", "noc@example.net"]))
    p, _ = ctx.run([ctx.stswatch, "config", "check", "-c", path])
    if p is not None:
        ctx.expect(p.returncode == 0 and warn not in p.stdout and warn not in p.stderr,
                   "config check, a recipient outside: exit %d %r" % (p.returncode, p.stdout))
    path = ctx.path("unknown.conf", conf(["noc@example.net"], notify='[ "mail", "nosuch" ]'))
    p, _ = ctx.run([ctx.stswatch, "config", "check", "-c", path])
    if p is not None:
        ctx.expect(p.returncode == 1 and (path + ":6: notify").encode() in p.stderr and
                   b"not a receiver" in p.stderr,
                   "config check, notify names an unknown receiver: exit %d %r"
                   % (p.returncode, p.stderr))


CASES = [("plugin-escape", case_plugin_escape), ("ca-file", case_ca_file), ("check-escape", case_check_escape),
         ("plugin-deadline-config", case_plugin_deadline_config),
         ("config-size", case_config_size), ("domains-file", case_domains_file),
         ("resolvers", case_resolvers), ("config-receivers", case_config_receivers)]


def main(argv):
    if len(argv) >= 2 and argv[1] == "--list":
        for name, fn in CASES:
            print("%-24s %s" % (name, fn.__doc__.split("\n")[0]))
        return 0
    if len(argv) < 2:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    want = argv[2:] or [n for n, _ in CASES]
    failed = 0
    with tempfile.TemporaryDirectory(prefix="stswatch-cli-") as tmp:
        ctx = Ctx(argv[1], tmp)
        for b in (ctx.stswatch, ctx.plugin):
            if not os.access(b, os.X_OK):
                print("cli: %s is missing: build first" % b, file=sys.stderr)
                return 2
        for name, fn in CASES:
            if name not in want:
                continue
            ctx.errors, ctx.n = [], 0
            t0 = time.monotonic()
            fn(ctx)
            dt = time.monotonic() - t0
            if ctx.errors:
                failed += 1
                print("FAIL %-24s %d of %d expectations failed (%.1f s)"
                      % (name, len(ctx.errors), ctx.n, dt))
                for e in ctx.errors:
                    print("     - " + e.replace("\n", "\n       "))
            else:
                print("ok   %-24s %3d expectations (%.1f s)" % (name, ctx.n, dt))
    print("cli: %d cases, %d failed" % (len(want), failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
