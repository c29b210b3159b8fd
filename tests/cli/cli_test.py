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
import sqlite3
import subprocess
import sys
import socket
import tempfile
import threading
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


# ---- one domain that cannot be recorded ----------------------------------------------------

def case_record_alone(ctx):
    """issue 11: one domain that could not be recorded made run --once record no domain and
    check --record print nothing after it. Now each domain is its own transaction: a
    domain whose write fails (a trigger here) is logged and counted, the others are
    recorded and, for check, printed."""
    db = os.path.join(ctx.tmp, "alone", "stswatch.db")
    doms = ["d%d.example" % i for i in range(4)]
    conf = ctx.path("alone.conf", (
        'resolver = "%s";\ndatabase = "%s";\ntimeouts = { dns = "300ms"; dns_tries = 1; };\n'
        "domains = (%s);\n" % (RESOLVER, db, ", ".join('"%s"' % d for d in doms))).encode())

    def checks():
        con = sqlite3.connect(db)
        try:
            return dict(con.execute("SELECT domain, count(*) FROM checks GROUP BY domain"))
        finally:
            con.close()

    p, _ = ctx.run([ctx.stswatch, "run", "--once", "--all", "-q", "-c", conf])
    if p is None or not ctx.expect(p.returncode == 0, "first run: exit %d %r"
                                   % (p.returncode, text(p.stderr)[-300:])):
        return
    con = sqlite3.connect(db)
    con.execute("CREATE TRIGGER refuse_d1 BEFORE INSERT ON checks WHEN NEW.domain = "
                "'d1.example' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END")
    con.commit()
    con.close()
    before = checks()
    p, _ = ctx.run([ctx.stswatch, "run", "--once", "--all", "-q", "-c", conf])
    if p is not None:
        err, after = text(p.stderr), checks()
        ctx.expect(p.returncode == 1, "run --once with d1 unrecordable: exit %d, want 1"
                   % p.returncode)
        ctx.expect(re.search(r"d1\.example: not recorded: .*refused by the test", err) and
                   "1 of 4 checked domains were not recorded" in err,
                   "run --once: the unrecorded domain is not named: %r" % err[-500:])
        ctx.expect(all(after.get(d, 0) == before.get(d, 0) + (d != "d1.example") for d in doms),
                   "run --once: checks per domain %s -> %s, want one more for all but d1"
                   % (before, after))
    before = checks()
    p, _ = ctx.run([ctx.stswatch, "check", "--record", "--format", "json", "-c", conf] + doms)
    if p is not None:
        err, after = text(p.stderr), checks()
        printed = re.findall(r'"domain":"([^"]+)"', text(p.stdout))
        ctx.expect(printed == doms, "check --record printed %s, want %s" % (printed, doms))
        ctx.expect(p.returncode != 0 and "1 of 4 domains were not recorded" in err,
                   "check --record: exit %d %r" % (p.returncode, err[-400:]))
        ctx.expect(all(after.get(d, 0) == before.get(d, 0) + (d != "d1.example") for d in doms),
                   "check --record: checks per domain %s -> %s, want one more for all but d1"
                   % (before, after))


# ---- memory of a long domain list -----------------------------------------------------------

def peak_rss_kib(ctx, argv, env, timeout=120):
    """Run argv to its end: its exit status and its own peak RSS in KiB (None, None when it
    did not end within timeout). os.wait4 reaps it, so the usage is this child's alone."""
    e = {k: v for k, v in os.environ.items() if k != "SSLKEYLOGFILE"}
    e.update(env)
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=e)
    deadline = time.monotonic() + timeout
    while True:
        pid, status, ru = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return proc.returncode, ru.ru_maxrss
        if time.monotonic() > deadline:
            proc.kill()
            proc.wait()
            ctx.errors.append("%r: no exit within %d s" % (argv[:4], timeout))
            return None, None
        time.sleep(0.05)


def case_list_memory(ctx):
    """issue 11: memory grew by about 125 bytes per domain of the list. check
    --domains-file streams it: the peak RSS of 40,000 names is that of 2,000 (within 2 MiB;
    the same names on the command line, held whole, take about 8 MiB more)."""
    # ASan keeps freed memory in quarantine, which would grow with the names checked
    env = {"ASAN_OPTIONS": ":".join(x for x in (os.environ.get("ASAN_OPTIONS", ""),
                                                 "quarantine_size_mb=0") if x)}
    rss = {}
    for n in (2000, 40000):
        path = ctx.path("list%d.txt" % n, "".join("d%07d.example\n" % i
                                                  for i in range(n)).encode())
        rc, kib = peak_rss_kib(ctx, [ctx.stswatch, "check", "--resolver", RESOLVER, "--format",
                                     "json", "--domains-file", path], env)
        ctx.expect(rc == 3 and kib, "check --domains-file of %d names: exit %s" % (n, rc))
        rss[n] = kib or 0
    ctx.expect(rss[40000] - rss[2000] < 2048,
               "peak RSS %d KiB for 2,000 names, %d KiB for 40,000: the list is held, not "
               "streamed" % (rss[2000], rss[40000]))


# ---- the schema migration -----------------------------------------------------------------

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def shipped_schema(version):
    """The SQL of migration version - 1 -> version, as agent/store.c ships it (its C string
    literals joined), and the schema version this tree writes (agent/store.h)."""
    with open(os.path.join(ROOT, "agent", "store.c")) as f:
        src = f.read()
    start = src.index("/* %d -> %d" % (version - 1, version))
    end = src.find("/* %d -> %d" % (version, version + 1), start)
    block = src[start:end if end > 0 else src.index("};", start)]
    sql = "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', block))
    with open(os.path.join(ROOT, "agent", "store.h")) as f:
        current = int(re.search(r"#define STORE_SCHEMA_VERSION (\d+)", f.read()).group(1))
    return sql, current


def case_migrate_v1(ctx):
    """issue 8: a schema change is a migration (PRAGMA user_version). A database made at
    version 1 is read as such by status, migrated in place by run --once, keeps its rows,
    and passes db check at the current version."""
    sql, current = shipped_schema(1)
    d = os.path.join(ctx.tmp, "v1")
    os.makedirs(d)
    db = os.path.join(d, "stswatch.db")
    con = sqlite3.connect(db)
    con.executescript(sql)
    con.execute("PRAGMA user_version = 1")
    # an hour ago: within any retention, so the run's pruning keeps it
    t = int(time.time()) - 3600
    con.execute("INSERT INTO runs(kind, started_at, finished_at) VALUES ('v1', ?, ?)", (t, t + 1))
    con.commit()
    con.close()
    conf = ctx.path("v1.conf", ('resolver = "%s";\ndatabase = "%s";\ntimeouts = { dns = '
                                '"300ms"; dns_tries = 1; };\ndomains = ("d0.example");\n'
                                % (RESOLVER, db)).encode())
    if current > 1:
        p, _ = ctx.run([ctx.stswatch, "status", "-c", conf])
        if p is not None:
            ctx.expect(p.returncode != 0 and "schema version 1, this stswatch reads %d" % current
                       in text(p.stderr), "status of a version 1 database: exit %d %r"
                       % (p.returncode, text(p.stderr)[-300:]))
    p, _ = ctx.run([ctx.stswatch, "run", "--once", "--all", "-q", "-c", conf])
    if p is None or not ctx.expect(p.returncode == 0, "run --once on a version 1 database: "
                                   "exit %d %r" % (p.returncode, text(p.stderr)[-300:])):
        return
    con = sqlite3.connect(db)
    version = con.execute("PRAGMA user_version").fetchone()[0]
    kept = con.execute("SELECT count(*) FROM runs WHERE kind = 'v1'").fetchone()[0]
    checked = con.execute("SELECT count(*) FROM checks WHERE domain = 'd0.example'").fetchone()[0]
    con.close()
    ctx.expect(version == current, "after run --once: user_version %d, want %d"
               % (version, current))
    ctx.expect(kept == 1 and checked == 1, "after the migration: %d of the version 1 run rows, "
               "%d checks of d0.example" % (kept, checked))
    p, _ = ctx.run([ctx.stswatch, "db", "check", "-c", conf])
    if p is not None:
        ctx.expect(p.returncode == 0 and "schema version %d" % current in text(p.stdout),
                   "db check after the migration: exit %d %r" % (p.returncode, text(p.stdout)))


# ---- proxies for alert delivery ---------------------------------------------------------------

def http_recorder(name, seen):
    """A listener on 127.0.0.1 that answers 200 to whatever it is sent and appends (name,
    request line) to seen; returns its port. It ends with the process."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)

    def serve():
        while True:
            c, _ = srv.accept()
            with c:
                c.settimeout(5)
                data = b""
                try:
                    while b"\r\n\r\n" not in data:
                        chunk = c.recv(4096)
                        if not chunk:
                            break
                        data += chunk
                    seen.append((name, data.split(b"\r\n")[0].decode("latin-1")))
                    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close"
                              b"\r\n\r\n")
                except OSError:
                    pass

    threading.Thread(target=serve, daemon=True).start()
    return srv.getsockname()[1]


def case_delivery_proxy(ctx):
    """issue 11: proxy variables are not obeyed; a proxy for alert delivery is configured
    explicitly per receiver. With https_proxy, http_proxy and ALL_PROXY pointing at a
    listener, "alerts test" sends a receiver with proxy = ... through that proxy and one
    without directly; the variables' listener sees nothing."""
    seen = []
    explicit = http_recorder("explicit", seen)
    env_proxy = http_recorder("environment", seen)
    direct = http_recorder("direct", seen)
    conf = ctx.path("proxy.conf", (
        'resolver = "%s";\ndatabase = "%s";\nreceivers = (\n'
        '  { name = "viaproxy"; type = "webhook"; url = "http://hook.test:%d/via"; '
        'proxy = "http://127.0.0.1:%d"; },\n'
        '  { name = "direct"; type = "webhook"; url = "http://127.0.0.1:%d/direct"; } );\n'
        'domains = ("d0.example");\n' % (RESOLVER, os.path.join(ctx.tmp, "proxy.db"), direct,
                                          explicit, direct)).encode())
    env = {v: "http://127.0.0.1:%d" % env_proxy for v in
           ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY", "ALL_PROXY", "all_proxy")}
    env["no_proxy"] = env["NO_PROXY"] = ""
    for receiver in ("viaproxy", "direct"):
        p, _ = ctx.run([ctx.stswatch, "alerts", "test", receiver, "-c", conf], env=env)
        if p is not None:
            ctx.expect(p.returncode == 0 and "took it: HTTP 200" in text(p.stdout),
                       "alerts test %s: exit %d %r" % (receiver, p.returncode,
                                                       text(p.stdout + p.stderr)[-300:]))
    time.sleep(0.2)
    ctx.expect(("explicit", "POST http://hook.test:%d/via HTTP/1.1" % direct) in seen,
               "the receiver's proxy did not carry its request: %s" % seen)
    ctx.expect(("direct", "POST /direct HTTP/1.1") in seen,
               "the receiver without a proxy was not reached directly: %s" % seen)
    ctx.expect(not [x for x in seen if x[0] == "environment"],
               "the proxy variables' listener was used: %s" % seen)


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
         ("resolvers", case_resolvers), ("record-alone", case_record_alone),
         ("list-memory", case_list_memory), ("migrate-v1", case_migrate_v1),
         ("delivery-proxy", case_delivery_proxy), ("config-receivers", case_config_receivers)]


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
