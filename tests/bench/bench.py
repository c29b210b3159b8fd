#!/usr/bin/python3
"""bench: stswatch check against mailauth's getPolicy on generated healthy domains, in the lab.

  bench.py [--sizes 1000,10000] [--rtt 0,30] [--repeat 3] [--concurrency 0[,C...]]
           [--pool 200] [--world N] [--tools stswatch,peer] [--peer-in-flight K]
           [--peer-max N] [--quick] [--no-capacity] [--keep]
           [--stswatch BIN] [--proxy BIN] [--load BIN] [--dir DIR] [--ns NS]

Brings up the lab (tests/lab/lab.py up DIR --bench W --mx-pool P: W = the largest size,
healthy domains b00001.test ... with TXT, TLS-RPT, two MX hosts each out of a shared pool
of P postfix smtpd hosts and an enforce policy on nginx) in namespace NS (default
stswbench), DIR build/bench, and measures, R times each, on the same domain lists (the
first S domains of the world for each size S):

  stswatch   build/stswatch check --format json --domains-file F: DNS (TXT, TLS-RPT, MX,
             A/AAAA of the policy host and of every MX host), the policy fetch, a STARTTLS
             probe of every MX address (each pool host once per run), the judge; at its
             default concurrency and once more for every C of --concurrency
  mailauth   tests/bench/peer-mailauth.js: mailauth's MTA-STS getPolicy (TXT, A, the
             policy fetch); --peer-in-flight K domains at once (default 2000; 0 = all)

each under /usr/bin/time -v (CPU = user + system seconds, peak RSS = maximum resident set
size), for every added round trip of --rtt: 0 = "direct", run inside the lab's namespace;
else run in a second namespace, NS-far, where latency_proxy (tests/bench/latency_proxy.c)
holds the servers' addresses and forwards to the real servers with RTT/2 added in each
direction. The proxy reports its own CPU and how late it delivered; latency_load then
measures what it sustains (--no-capacity skips that). The table gives the median with min
and max of the runs; build/bench/results.md and results.json keep everything.

Exit status 1 when any domain of any run was not OK (after printing everything), or the
harness failed; speed is reported, never asserted. The lab and the proxy are torn down
unless --keep (then: bench.py --down to tear down). Run as root (make bench does the rest).
"""

import argparse
import json
import os
import platform
import re
import select
import shutil
import signal
import statistics
import subprocess
import sys
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "lab"))
import scenarios as S  # noqa: E402

PYTHON = "/usr/bin/python3"
LAB = os.path.join(ROOT, "tests", "lab", "lab.py")
PEER = os.path.join(HERE, "peer-mailauth.js")
TIME = "/usr/bin/time"
CAP_ADDR = "10.199.0.1"  # the capacity test's echo address, in both namespaces only
# a tool connects to the same few server addresses thousands of times a minute, where on
# the Internet it would reach thousands of different ones: let ports be reused
SYSCTLS = ["net.ipv4.tcp_tw_reuse=1", "net.ipv4.ip_local_port_range=1024 65535",
           "net.core.somaxconn=65535"]
UDP_RATES = [10000, 20000, 50000, 100000, 200000]
TCP_RATES = [500, 1000, 2000, 4000, 8000]
CAP_SECONDS = 3


def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


class BenchError(Exception):
    pass


def run(argv, check=True, **kw):
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)
    if check and p.returncode != 0:
        raise BenchError("%s failed (exit %d): %s" % (" ".join(argv), p.returncode,
                         (p.stderr or p.stdout).decode(errors="replace").strip()[-1500:]))
    return p


def ns_exists(ns):
    out = run(["ip", "netns", "list"], check=False).stdout.decode()
    return any(line.split()[0] == ns for line in out.splitlines() if line.strip())


def ns_pids(ns):
    out = run(["ip", "netns", "pids", ns], check=False).stdout.decode().split()
    return [int(x) for x in out]


def udp_rcvbuf_errors(ns):
    """The namespace's UDP RcvbufErrors: datagrams dropped at a full receive buffer."""
    out = run(["ip", "netns", "exec", ns, "cat", "/proc/net/snmp"]).stdout.decode().splitlines()
    rows = [line.split() for line in out if line.startswith("Udp:")]
    return int(rows[1][rows[0].index("RcvbufErrors")])


def cpu_snapshot(pids):
    """{pid: user + system seconds of it and its reaped children}, from /proc."""
    tck = os.sysconf("SC_CLK_TCK")
    out = {}
    for p in pids:
        try:
            with open("/proc/%d/stat" % p) as f:
                fs = f.read().rsplit(")", 1)[1].split()
            out[p] = sum(int(x) for x in fs[11:15]) / tck
        except (OSError, IndexError, ValueError):
            pass
    return out


def cpu_delta(before, after):
    return sum(v - before.get(p, 0) for p, v in after.items())


def parse_time_v(path):
    t = {}
    with open(path) as f:
        for line in f:
            k, _, v = line.strip().rpartition(": ")
            t[k] = v
    return {"cpu": float(t["User time (seconds)"]) + float(t["System time (seconds)"]),
            "user": float(t["User time (seconds)"]), "sys": float(t["System time (seconds)"]),
            "rss_kib": int(t["Maximum resident set size (kbytes)"])}


def rel(x):
    return os.path.relpath(x, ROOT) if isinstance(x, str) and x.startswith(ROOT + "/") else x


def shell_join(argv):
    out = []
    for a in argv:
        a = rel(a)
        out.append(a if re.fullmatch(r"[A-Za-z0-9_./:=,+@%-]+", a) else "'%s'" % a)
    return " ".join(out)


def machine():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as f:
            mem = int(f.readline().split()[1]) / (1 << 20)
    except (OSError, ValueError, IndexError):
        mem = 0
    return "%d cores (%s), %.0f GiB, Linux %s" % (os.cpu_count(), cpu, mem, platform.release())


def load_average():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


# ---- what a run's output says --------------------------------------------------------------

DNS_DETAIL = {"no answer from the resolver before the timeout": "timeout",
              "the resolver answered SERVFAIL": "SERVFAIL",
              "the resolver refused the query": "REFUSED"}


def reason_of(f):
    """A short reason for one finding: its code, and for DNS and fetch errors what failed."""
    code, msg = f.get("code", "?"), f.get("message", "")
    if code == "dns.error":
        m = re.search(r"DNS lookup of (.+?) failed \((.+?)\);", msg)
        if m:
            detail = DNS_DETAIL.get(m.group(2), m.group(2)[:40])
            return "dns.error %s: %s" % (m.group(1), detail)
    if code in ("policy.fetch", "mx.connect", "mx.tls_handshake"):
        m = re.search(r"failed \(([a-z ]+)", msg) or re.search(r"\(([a-z]+)[ :]", msg)
        if m:
            return "%s (%s)" % (code, m.group(1).strip())
    return code


def stswatch_verdicts(lines, domains, rc):
    """(OK count, {"STATUS reason + reason": domains}) of stswatch's JSON lines."""
    ok, wrong, seen = 0, {}, set()
    for line in lines:
        try:
            j = json.loads(line)
        except ValueError:
            wrong["unparsable output line"] = wrong.get("unparsable output line", 0) + 1
            continue
        seen.add(j.get("domain"))
        status = j.get("status", "?")
        if status == "OK":
            ok += 1
            continue
        sev = [f for f in j.get("findings", []) if f.get("severity") == status] or \
            j.get("findings", [])
        key = status + " " + " + ".join(sorted({reason_of(f) for f in sev}) or ["no finding"])
        wrong[key] = wrong.get(key, 0) + 1
    missing = len(set(domains) - seen)
    if missing:
        wrong["missing from the output (exit %d)" % rc] = missing
    return ok, wrong


def peer_verdicts(lines, domains, rc):
    try:
        j = json.loads(lines[-1])
    except (ValueError, IndexError):
        return 0, {"no result line (exit %d)" % rc: len(domains)}
    wrong = {k: v for k, v in j.get("statuses", {}).items() if k != "ok"}
    if j.get("domains") != len(domains):
        wrong["domains counted: %s" % j.get("domains")] = len(domains)
    return j.get("ok", 0), wrong


class Proxy:
    """latency_proxy in the client namespace, with its stats line on SIGUSR1."""

    def __init__(self, binary, far, ns, rtt_ms, specs, logpath, realtime, in_flight=0):
        self.log = open(logpath, "ab")
        self.argv = ["ip", "netns", "exec", far, binary, "--upstream-netns", ns] + \
            (["--realtime"] if realtime else []) + \
            (["--udp-in-flight", str(in_flight)] if in_flight else []) + ["%g" % (rtt_ms / 2.0)]
        self.p = subprocess.Popen(
            self.argv + specs, stdout=subprocess.PIPE, stderr=self.log, start_new_session=True)
        self.rtt = rtt_ms
        if self.readline(10) != "ready":
            self.stop()
            raise BenchError("latency proxy did not start (see %s)" % logpath)

    def readline(self, timeout):
        r, _, _ = select.select([self.p.stdout], [], [], timeout)
        if not r:
            return None
        return self.p.stdout.readline().decode().strip()

    def stats(self):
        os.kill(self.p.pid, signal.SIGUSR1)
        line = self.readline(10)
        if not line:
            raise BenchError("latency proxy: no stats line (exit %s)" % self.p.poll())
        return json.loads(line)

    def stop(self):
        last = None
        if self.p.poll() is None:
            try:
                os.kill(self.p.pid, signal.SIGTERM)
                line = self.readline(5)
                last = json.loads(line) if line else None
            except (ProcessLookupError, ValueError):
                pass
            try:
                self.p.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(self.p.pid, signal.SIGKILL)
                self.p.wait(5)
        self.p.stdout.close()
        self.log.close()
        return last


def proxy_delta(a, b, wall):
    d = {k: b[k] - a[k] for k in ("udp_in", "udp_out", "udp_dropped_queue", "udp_dropped_send",
                                    "udp_dropped_flows", "udp_sock_drops", "tcp_accepted",
                                    "tcp_connect_failed", "tcp_aborted", "tcp_accept_errors")}
    d["cpu"] = (b["cpu_user"] + b["cpu_sys"]) - (a["cpu_user"] + a["cpu_sys"])
    d["busy"] = d["cpu"] / wall if wall > 0 else 0
    d["queries_per_s"] = d["udp_in"] / wall if wall > 0 else 0  # datagrams from the tool
    d["conns_per_s"] = d["tcp_accepted"] / wall if wall > 0 else 0
    for k in ("late_n", "late_mean_us", "late_max_us", "late_p50_us", "late_p99_us",
              "late_p999_us", "tcp_peak", "queued_peak"):
        d[k] = b[k]  # since the previous stats line: this run
    # a reset is a peer's doing (a client closed with bytes still coming), not a loss
    d["drops"] = sum(d[k] for k in ("udp_dropped_queue", "udp_dropped_send", "udp_dropped_flows",
                                    "udp_sock_drops", "tcp_connect_failed", "tcp_accept_errors"))
    return d


class Bench:
    def __init__(self, a):
        self.a = a
        self.dir = os.path.abspath(a.dir)
        self.ns = a.ns
        self.far = self.ns + "-far"
        self.stswatch = os.path.abspath(a.stswatch)
        self.proxy = None
        self.results = []
        self.capacity = []
        self.failures = []
        self.rows = {}  # key -> {"label", "argv", "ns", "reproduce"}

    # ---- set-up ---------------------------------------------------------------------------

    def npm_install(self):
        if os.path.exists(os.path.join(HERE, "node_modules", "mailauth", "package.json")):
            return
        log("npm install --no-package-lock (mailauth, into tests/bench/node_modules)")
        run(["npm", "install", "--no-package-lock", "--no-audit", "--no-fund", "--silent"],
            cwd=HERE, timeout=600)
        if os.path.exists(os.path.join(HERE, "package-lock.json")):
            os.unlink(os.path.join(HERE, "package-lock.json"))

    def versions(self):
        v = {"stswatch": run([self.stswatch, "version"], check=False).stdout.decode().strip(),
             "node": run(["node", "--version"], check=False).stdout.decode().strip(),
             "openssl": run(["openssl", "version"], check=False).stdout.decode().strip(),
             "machine": machine()}
        try:
            with open(os.path.join(HERE, "node_modules", "mailauth", "package.json")) as f:
                v["mailauth"] = json.load(f)["version"]
        except (OSError, ValueError, KeyError):
            v["mailauth"] = "?"
        try:
            v["commit"] = run(["git", "-C", ROOT, "log", "-1", "--format=%h %s"],
                              check=False).stdout.decode().strip()
        except OSError:
            v["commit"] = "?"
        h = run([self.stswatch, "check", "--help"], check=False).stdout.decode()
        m = re.search(r"--concurrency N.*\(default (\d+)\)", h)
        v["default_concurrency"] = int(m.group(1)) if m else None
        return v

    def lab_up(self):
        env = dict(os.environ, LAB_NS=self.ns)
        t0 = time.monotonic()
        p = subprocess.run([PYTHON, LAB, "up", self.dir, "--bench", str(self.world),
                            "--mx-pool", str(self.a.pool)], env=env)
        if p.returncode != 0:
            raise BenchError("lab.py up failed")
        self.lab_up_s = time.monotonic() - t0
        with open(os.path.join(self.dir, "lab.json")) as f:
            self.lab = json.load(f)
        self.ca = self.lab["ca_file"]
        self.resolver = self.lab["resolver"]
        every = S.bench_domains(self.world)
        self.lists = {}
        for n in self.sizes:
            path = os.path.join(self.dir, "domains-%d.txt" % n)
            with open(path, "w") as f:
                f.write("\n".join(every[:n]) + "\n")
            self.lists[n] = (path, every[:n])
        self.conf = os.path.join(self.dir, "bench.conf")
        with open(self.conf, "w") as f:
            f.write("# generated by tests/bench/bench.py: stswatch's defaults, except these\n"
                    'ehlo_name = "probe.bench.test";\n'
                    "# never created: check reads a database only when it exists\n"
                    'database = "%s/no-history.db";\n' % self.dir)
        self.sysctls(self.ns)
        run(["ip", "-n", self.ns, "addr", "add", CAP_ADDR + "/32", "dev", "lo"])

    def sysctls(self, ns):
        run(["ip", "netns", "exec", ns, "sysctl", "-q", "-w"] + SYSCTLS)

    def far_up(self):
        """The client namespace: the servers' addresses on its lo, held by the proxy."""
        if ns_exists(self.far):
            self.far_down()
        run(["ip", "netns", "add", self.far])
        self.targets = [("udp", S.DNS_V4, 53), ("tcp", S.DNS_V4, 53), ("tcp", S.NGINX_V4, 443)]
        self.targets += [("tcp", ip, 25) for _, ip in S.bench_pool(self.a.pool)]
        self.targets += [("udp", CAP_ADDR, 7), ("tcp", CAP_ADDR, 7)]
        addrs = sorted({t[1] for t in self.targets})
        batch = ["link set lo up"] + ["addr add %s/32 dev lo" % x for x in addrs]
        run(["ip", "-n", self.far, "-batch", "-"], input="\n".join(batch).encode())
        self.sysctls(self.far)

    def proxy_start(self, rtt, in_flight=0):
        specs = ["%s:%s:%d=%s:%d" % (p, ip, port, ip, port) for p, ip, port in self.targets]
        self.proxy = Proxy(self.a.proxy, self.far, self.ns, rtt, specs,
                           os.path.join(self.dir, "log", "latency-proxy.log"),
                           self.a.proxy_priority == "realtime", in_flight)

    def proxy_stop(self):
        if self.proxy is not None:
            self.proxy.stop()
            self.proxy = None

    # ---- runs -----------------------------------------------------------------------------

    def cmd_stswatch(self, n, concurrency):
        argv = [self.stswatch, "check", "--format", "json", "--resolver", self.resolver,
                "--ca-file", self.ca, "-c", self.conf, "--domains-file", self.lists[n][0]]
        if concurrency:
            argv += ["--concurrency", str(concurrency)]
        return argv

    def cmd_peer(self, n):
        argv = ["node", PEER, self.resolver, self.lists[n][0]]
        if self.a.peer_in_flight:
            argv.append(str(self.a.peer_in_flight))
        return argv

    def setting(self, rtt, busy=0):
        if busy:
            return "+%g ms RTT, DNS room %d" % (rtt, busy)
        return "direct" if rtt == 0 else "+%g ms RTT" % rtt

    def tools_for(self, n):
        out = []
        if "stswatch" in self.a.tools:
            for c in self.concurrencies:
                label = ("stswatch (default concurrency %s)" % self.default_conc if c == 0
                         else "stswatch --concurrency %d" % c)
                out.append(("stswatch", c, label, self.cmd_stswatch(n, c), None))
        if "peer" in self.a.tools and n <= self.a.peer_max:
            k = self.a.peer_in_flight
            label = "mailauth getPolicy (%s)" % (
                "%d in flight" % k if 0 < k < n else "all in flight")
            out.append(("peer", 0, label, self.cmd_peer(n),
                        dict(os.environ, NODE_EXTRA_CA_CERTS=self.ca)))
        return out

    def reproduce(self, rtt, n, kind, c, busy=0):
        if busy:
            return shell_join([PYTHON, "tests/bench/bench.py", "--world", str(self.world),
                               "--pool", str(self.a.pool), "--sizes", str(n), "--rtt", "%g" % rtt,
                               "--tools", "stswatch", "--repeat", "1", "--no-capacity",
                               "--busy-only", "--busy", str(busy), "--busy-concurrency", str(c)])
        argv = [PYTHON, "tests/bench/bench.py", "--world", str(self.world), "--pool",
                str(self.a.pool), "--sizes", str(n), "--rtt", "%g" % rtt, "--tools",
                "stswatch" if kind == "stswatch" else "peer", "--repeat", str(self.a.repeat),
                "--no-capacity"]
        if kind == "stswatch":
            argv += ["--concurrency", str(c)]
        elif self.a.peer_in_flight:
            argv += ["--peer-in-flight", str(self.a.peer_in_flight)]
        return shell_join(argv)

    def measure(self, rtt, n, kind, conc, label, argv, env, busy=0):
        ns = self.ns if rtt == 0 else self.far
        key = (rtt, n, label)
        self.rows.setdefault(key, {"label": label, "kind": kind, "argv": argv, "ns": ns,
                                   "rtt": rtt, "n": n, "env": env is not None, "busy": busy,
                                   "reproduce": self.reproduce(rtt, n, kind, conc, busy)})
        tfile = os.path.join(self.dir, "time.txt")
        out = os.path.join(self.dir, "out-%s-%d-%s.txt" % (
            "direct" if rtt == 0 else "rtt%g" % rtt, n, re.sub("[^a-z0-9]+", "-", label.lower())))
        drops0 = udp_rcvbuf_errors(ns)
        lab0 = cpu_snapshot(ns_pids(self.ns))
        px0 = self.proxy.stats() if self.proxy else None
        load0 = load_average()
        t0 = time.monotonic()
        with open(out, "wb") as fo:
            p = subprocess.run(["ip", "netns", "exec", ns, TIME, "-v", "-o", tfile] + argv,
                               stdout=fo, stderr=subprocess.PIPE, env=env,
                               timeout=self.a.timeout)
        wall = time.monotonic() - t0
        px1 = self.proxy.stats() if self.proxy else None
        lab_cpu = cpu_delta(lab0, cpu_snapshot(ns_pids(self.ns)))
        drops = udp_rcvbuf_errors(ns) - drops0
        if not os.path.exists(tfile) or os.path.getsize(tfile) == 0:
            raise BenchError("%s: no /usr/bin/time report: %s" % (label, p.stderr.decode()[-800:]))
        t = parse_time_v(tfile)
        os.unlink(tfile)
        with open(out, "rb") as f:
            lines = f.read().decode(errors="replace").splitlines()
        domains = self.lists[n][1]
        ok, wrong = (stswatch_verdicts if kind == "stswatch" else peer_verdicts)(
            lines, domains, p.returncode)
        r = {"setting": self.setting(rtt, busy), "rtt": rtt, "busy": busy, "domains": n,
             "tool": label,
             "kind": kind, "wall": wall, "rate": n / wall, "cpu": t["cpu"], "user": t["user"],
             "sys": t["sys"], "rss_kib": t["rss_kib"], "ok": ok, "wrong": len(domains) - ok,
             "wrong_reasons": wrong, "udp_rcvbuf_errors": drops, "lab_cpu": lab_cpu,
             "exit": p.returncode, "load_before": load0,
             "proxy": proxy_delta(px0, px1, wall) if px0 else None,
             "stderr_tail": p.stderr.decode(errors="replace")[-300:]}
        self.results.append(r)
        if busy and self.proxy:
            r["dns_dropped"] = px1.get("udp_dropped_busy", 0) - px0.get("udp_dropped_busy", 0)
            m = re.search(r"dns: .*", p.stderr.decode(errors="replace"))
            r["dns_pace"] = m.group(0) if m else ""
        if ok != n:
            self.failures.append("%s, %d domains, %s: %d of %d OK (%s)" % (
                r["setting"], n, label, ok, n, "; ".join("%s %d" % kv for kv in wrong.items())))
        px = r["proxy"]
        log("%-11s %6d  %-40s %7.2f s %6.0f/s  CPU %6.2f s  RSS %6.1f MiB  wrong %d%s" % (
            r["setting"], n, label, wall, n / wall, t["cpu"], t["rss_kib"] / 1024, n - ok,
            "  proxy CPU %.2f s, late p99 %s us" % (px["cpu"], px["late_p99_us"]) if px else ""))
        return r

    def warm_up(self):
        """One untimed run, so that every pool host's smtpd exists before the first figure."""
        if "stswatch" not in self.a.tools:
            return
        n = min(1000, self.world)
        path = os.path.join(self.dir, "domains-warm-up.txt")
        with open(path, "w") as f:
            f.write("\n".join(S.bench_domains(self.world)[:n]) + "\n")
        argv = self.cmd_stswatch(min(self.sizes), 0)
        argv[argv.index("--domains-file") + 1] = path
        p = subprocess.run(["ip", "netns", "exec", self.ns] + argv, stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, timeout=self.a.timeout)
        ok, wrong = stswatch_verdicts(p.stdout.decode(errors="replace").splitlines(),
                                      S.bench_domains(self.world)[:n], p.returncode)
        log("warm-up: stswatch on %d domains, direct, exit %d, %d OK (not counted)"
            % (n, p.returncode, ok))
        if ok != n:  # a sick lab measures nothing: say so instead of a table of failures
            raise BenchError("the lab is not healthy: the warm-up run had %d of %d OK (%s); see "
                             "%s/log/" % (ok, n, "; ".join("%s %d" % kv for kv in wrong.items()),
                                          rel(self.dir)))

    def runs(self):
        for rep in range(self.a.repeat):
            for rtt in self.rtts:
                if rtt:
                    self.proxy_start(rtt)
                try:
                    for n in self.sizes:
                        tools = self.tools_for(n)
                        if rep % 2:  # alternate the order, so neither always goes first
                            tools = tools[::-1]
                        for kind, conc, label, argv, env in tools:
                            self.measure(rtt, n, kind, conc, label, argv, env)
                finally:
                    self.proxy_stop()

    def busy_runs(self):
        """stswatch through a path that drops what a resolver with room for K questions
        at once would (latency_proxy --udp-in-flight K), at each busy concurrency: wrong
        answers here are the false UNKNOWN of issue 14."""
        if not self.a.busy or "stswatch" not in self.a.tools:
            return
        rtt, n = self.a.busy_rtt, max(self.sizes)
        self.proxy_start(rtt, self.a.busy)
        try:
            for c in self.a.busy_concurrency:
                label = "stswatch --concurrency %d" % c
                argv = self.cmd_stswatch(n, c)
                argv = argv[:1] + ["--log-level", "debug"] + argv[1:]  # the DNS window's record
                self.measure(rtt, n, "stswatch", c, label + " (busy DNS)", argv, None,
                             busy=self.a.busy)
        finally:
            self.proxy_stop()

    def measure_floor(self):
        """tls_floor, direct: the least CPU a policy fetch costs with this OpenSSL here,
        with one SSL_CTX for all and with one per fetch (as libcurl makes them)."""
        if not self.a.floor or "stswatch" not in self.a.tools:
            return
        width = max(4, len(str(self.world)))
        fmt = "mta-sts.b%%0%dd.test" % width
        n = min(3000, self.world)
        for new_ctx in (False, True):
            argv = ["ip", "netns", "exec", self.ns, self.a.floor] + \
                (["--new-ctx"] if new_ctx else []) + \
                [str(n), self.ca, S.NGINX_V4, fmt, str(self.world)]
            runs = []
            for _ in range(self.a.repeat):
                p = run(argv, timeout=600)
                runs.append(json.loads(p.stdout.decode().strip().splitlines()[-1]))
            ms = [r["cpu_ms_per_fetch"] for r in runs]
            self.floor.append({"new_ctx": new_ctx, "fetches": n, "runs": runs,
                               "cpu_ms": {"median": statistics.median(ms), "min": min(ms),
                                          "max": max(ms)},
                               "command": shell_join(argv)})
            log("floor: %d fetches, %s SSL_CTX: %.3f ms CPU a fetch (median of %d)" % (
                n, "a new" if new_ctx else "one", statistics.median(ms), len(ms)))

    # ---- the emulator's capacity ------------------------------------------------------------

    def load_step(self, mode, rate):
        px0 = self.proxy.stats()
        p = run(["ip", "netns", "exec", self.far, self.a.load, "--upstream-netns", self.ns,
                 mode, "%s:7" % CAP_ADDR, str(rate), str(CAP_SECONDS)], timeout=60)
        j = json.loads(p.stdout.decode().strip().splitlines()[-1])
        px = proxy_delta(px0, self.proxy.stats(), CAP_SECONDS)
        expect = self.proxy.rtt * (1 if mode == "udp" else 2)  # TCP: handshake + data
        j["proxy_cpu"] = px["cpu"]
        j["proxy_busy"] = px["busy"]
        j["proxy_late_p99_us"] = px["late_p99_us"]
        j["expected_rtt_ms"] = expect
        # the proxy's own lateness decides: the load tool runs at normal priority and
        # waits for a CPU like everything else here, which its round trips show
        j["pass"] = (j["failed"] == 0 and j["lost"] <= j["started"] * 0.001
                     and 0 <= px["late_p99_us"] <= 5000)
        return j

    def measure_capacity(self):
        for rtt in [r for r in self.rtts if r]:
            self.proxy_start(rtt)
            try:
                for mode, rates in (("udp", UDP_RATES), ("tcp", TCP_RATES)):
                    for rate in rates:
                        j = self.load_step(mode, rate)
                        j["rtt"] = rtt
                        self.capacity.append(j)
                        log("capacity +%g ms: %s %6d/s: %s, RTT p50 %.1f p99 %.1f ms, lost %d, "
                            "proxy CPU %.0f%%" % (rtt, mode, rate, "ok" if j["pass"] else "FAIL",
                                                  j["rtt_p50_ms"], j["rtt_p99_ms"], j["lost"],
                                                  100 * j["proxy_busy"]))
                        if not j["pass"]:
                            break
            finally:
                self.proxy_stop()

    # ---- report ---------------------------------------------------------------------------

    def summary(self):
        rows = []
        for key, row in self.rows.items():
            rtt, n, label = key
            rs = [r for r in self.results if (r["rtt"], r["domains"], r["tool"]) == key]
            if not rs:
                continue

            def mmm(xs):
                xs = list(xs)
                return {"median": statistics.median(xs), "min": min(xs), "max": max(xs)}
            wrong = {}
            for r in rs:
                for k, v in r["wrong_reasons"].items():
                    wrong[k] = wrong.get(k, 0) + v
            s = {"setting": self.setting(rtt, row.get("busy", 0)), "rtt": rtt,
                 "busy": row.get("busy", 0), "domains": n, "tool": label,
                 "kind": row["kind"], "runs": len(rs),
                 "rate": mmm(r["rate"] for r in rs), "wall": mmm(r["wall"] for r in rs),
                 "cpu": mmm(r["cpu"] for r in rs),
                 "cpu_ms_per_domain": mmm(1000 * r["cpu"] / n for r in rs),
                 "rss_mib": mmm(r["rss_kib"] / 1024 for r in rs),
                 "wrong": mmm(r["wrong"] for r in rs), "wrong_runs": [r["wrong"] for r in rs],
                 "wrong_reasons_all_runs": wrong,
                 "udp_rcvbuf_errors": [r["udp_rcvbuf_errors"] for r in rs],
                 "lab_cpu": mmm(r["lab_cpu"] for r in rs),
                 "command": "ip netns exec %s %s -v %s" % (row["ns"], TIME,
                                                          shell_join(row["argv"])),
                 "env": "NODE_EXTRA_CA_CERTS=%s" % rel(self.ca) if row["env"] else "",
                 "reproduce": row["reproduce"],
                 "dns_dropped": sum(r.get("dns_dropped", 0) for r in rs),
                 "dns_pace": rs[-1].get("dns_pace", "")}
            if rs[0]["proxy"]:
                s["proxy"] = {"cpu": mmm(r["proxy"]["cpu"] for r in rs),
                              "busy": mmm(r["proxy"]["busy"] for r in rs),
                              "queries_per_s": max(r["proxy"]["queries_per_s"] for r in rs),
                              "conns_per_s": max(r["proxy"]["conns_per_s"] for r in rs),
                              "tcp_peak": max(r["proxy"]["tcp_peak"] for r in rs),
                              "late_p99_us": max(r["proxy"]["late_p99_us"] for r in rs),
                              "late_max_us": max(r["proxy"]["late_max_us"] for r in rs),
                              "drops": sum(r["proxy"]["drops"] for r in rs),
                              "resets": sum(r["proxy"]["tcp_aborted"] for r in rs)}
            rows.append(s)
        return rows

    def report(self, v):
        rows_all = self.summary()
        rows = [r for r in rows_all if not r["busy"]]
        busy = [r for r in rows_all if r["busy"]]
        def fmt(m, f):
            return "%s (%s–%s)" % (f % m["median"], f % m["min"], f % m["max"])
        L = ["", "## stswatch vs mailauth: healthy domains, %d MX hosts shared, median (min–max) "
             "of %d runs" % (self.a.pool, self.a.repeat), ""]
        L.append("| setting | domains | tool | domains/s | CPU s | CPU ms/domain | peak RSS MiB "
                 "| wrong answers |")
        L.append("| --- | ---: | --- | ---: | ---: | ---: | ---: | --- |")
        for r in rows:
            w = r["wrong"]
            wrong = "0" if w["max"] == 0 else "**%g** (%g–%g)%s" % (
                w["median"], w["min"], w["max"], " ¹" if r["wrong_reasons_all_runs"] else "")
            L.append("| %s | %d | %s | %s | %s | %s | %s | %s |" % (
                r["setting"], r["domains"], r["tool"], fmt(r["rate"], "%.0f"),
                fmt(r["cpu"], "%.1f"), fmt(r["cpu_ms_per_domain"], "%.2f"),
                fmt(r["rss_mib"], "%.0f"), wrong))
        L.append("")
        # the targets, read off the table (never asserted)
        for rtt in self.rtts:
            for n in self.sizes:
                here = [r for r in rows if r["rtt"] == rtt and r["domains"] == n]
                peer = [r for r in here if r["kind"] == "peer"]
                for r in here:
                    if r["kind"] != "stswatch" or not peer:
                        continue
                    pr = peer[0]
                    L.append("- %s, %d domains, %s: %.2fx the peer's domains/s (target 3x), "
                             "%.2fx its CPU, %.2fx its peak RSS" % (
                                 r["setting"], n, r["tool"],
                                 r["rate"]["median"] / pr["rate"]["median"],
                                 r["cpu"]["median"] / pr["cpu"]["median"],
                                 r["rss_mib"]["median"] / pr["rss_mib"]["median"]))
        wrong_rows = [r for r in rows if r["wrong_reasons_all_runs"]]
        if wrong_rows:
            L += ["", "¹ Wrong answers (domains not OK), per run and by reason over all runs:"]
            for r in wrong_rows:
                L.append("- %s, %d domains, %s: runs %s; %s" % (
                    r["setting"], r["domains"], r["tool"],
                    " ".join(str(x) for x in r["wrong_runs"]),
                    "; ".join("%s: %d" % kv for kv in sorted(
                        r["wrong_reasons_all_runs"].items(), key=lambda kv: -kv[1]))))
        if busy:
            L += ["", "### A resolver that drops questions under load", "",
                  "The same domains at +%g ms, through a path that drops every DNS question "
                  "arriving while %d are on their way (`latency_proxy --udp-in-flight %d`, as "
                  "a resolver with %d places for requests drops the rest): stswatch must slow "
                  "down and ask again, and say no false UNKNOWN." % (
                      self.a.busy_rtt, self.a.busy, self.a.busy, self.a.busy), ""]
            L.append("| domains | tool | domains/s | CPU s | peak RSS MiB | questions dropped "
                     "| wrong answers | stswatch's DNS record (last run) |")
            L.append("| ---: | --- | ---: | ---: | ---: | ---: | --- | --- |")
            for r in busy:
                w = r["wrong"]
                L.append("| %d | %s | %s | %s | %s | %d | %s | %s |" % (
                    r["domains"], r["tool"], fmt(r["rate"], "%.0f"), fmt(r["cpu"], "%.1f"),
                    fmt(r["rss_mib"], "%.0f"), r["dns_dropped"],
                    "0" if w["max"] == 0 else "**%g**" % w["median"],
                    r["dns_pace"].replace("|", "/") or "-"))
            for r in busy:
                if r["wrong_reasons_all_runs"]:
                    L.append("- %s: %s" % (r["tool"], "; ".join(
                        "%s: %d" % kv for kv in r["wrong_reasons_all_runs"].items())))
        if self.floor:
            L += ["", "### The least a fetch costs here", "",
                  "`tls_floor` (tests/bench/tls_floor.c), direct: %d fetches one after the "
                  "other, each a TCP connection, a TLS handshake verifying chain and name, a "
                  "GET and the answer read, with OpenSSL alone: no DNS, no event loop, no MX, "
                  "no judging, no output. Its CPU per fetch (user + system, median (min–max) "
                  "of %d runs):" % (self.floor[0]["fetches"], self.a.repeat), ""]
            L.append("| SSL_CTX | CPU ms a fetch | command |")
            L.append("| --- | ---: | --- |")
            for f in self.floor:
                L.append("| %s | %s | `%s` |" % (
                    "one per fetch (as libcurl 7.88 makes them)" if f["new_ctx"]
                    else "one for all", fmt(f["cpu_ms"], "%.3f"), f["command"]))
            one = [f for f in self.floor if not f["new_ctx"]][0]["cpu_ms"]["median"]
            for r in rows:
                if r["kind"] == "peer":
                    L.append("- %s, %d domains: 3x the peer's domains/s needs at most %.2f ms "
                             "of CPU a domain on one core; OpenSSL alone takes %.2f" % (
                                 r["setting"], r["domains"],
                                 r["cpu_ms_per_domain"]["median"] / 3, one))
        prow = [r for r in rows if r.get("proxy")]
        if prow or self.capacity:
            L += ["", "### The latency emulator (tests/bench/latency_proxy.c)", ""]
        if prow:
            L.append("| setting | domains | tool | proxy CPU s | busy (of one core) | busiest: "
                     "UDP queries/s | busiest: connections/s | open at once | late p99 / max | "
                     "drops | resets |")
            L.append("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
            for r in prow:
                px = r["proxy"]
                L.append("| %s | %d | %s | %s | %s | %.0f | %.0f | %d | %s / %.1f ms | %d | %d |" % (
                    r["setting"], r["domains"], r["tool"], fmt(px["cpu"], "%.2f"),
                    fmt({k: 100 * x for k, x in px["busy"].items()}, "%.0f%%"),
                    px["queries_per_s"], px["conns_per_s"], px["tcp_peak"],
                    "≤%.1f ms" % (px["late_p99_us"] / 1000) if px["late_p99_us"] >= 0
                    else ">100 ms", px["late_max_us"] / 1000, px["drops"], px["resets"]))
            L += ["", "busy = proxy CPU / wall time of the run; busiest = the run with the most "
                  "UDP datagrams from the tool (DNS queries, each answered) or accepted "
                  "connections per second; late = how long after "
                  "its due time a datagram, a chunk or a connect went out (p99 as a histogram "
                  "bucket's upper edge, over all runs of the row); drops = datagrams the proxy "
                  "lost or refused, failed upstream connects, accept errors (all counted by the "
                  "proxy, over all runs); resets = connections closed because one side had gone "
                  "while bytes for it were under way (a client that closes after QUIT or after "
                  "its response: the peer's doing, not a loss)."]
        if self.capacity:
            L += ["", "Capacity (latency_load through the same proxy, open loop, %d s a step; a "
                  "step passes with no loss over 0.1%%, no failed connection and the proxy's own "
                  "p99 lateness at most 5 ms; the round trips are the load tool's, which runs at "
                  "normal priority):" % CAP_SECONDS, ""]
            L.append("| RTT | kind | offered/s | answered/s | RTT p50 / p99 ms | lost | proxy "
                     "CPU (of one core) | load tool CPU s | pass |")
            L.append("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
            for j in self.capacity:
                L.append("| %g ms | %s | %d | %.0f | %.1f / %.1f | %d | %.0f%% | %.2f | %s |" % (
                    j["rtt"], "UDP queries" if j["mode"] == "udp" else "TCP connections",
                    j["rate"], j["achieved_per_s"], j["rtt_p50_ms"], j["rtt_p99_ms"], j["lost"],
                    100 * j["proxy_busy"], j["cpu"], "yes" if j["pass"] else "no"))
            for rtt in sorted({j["rtt"] for j in self.capacity}):
                for mode in ("udp", "tcp"):
                    ok = [j["rate"] for j in self.capacity
                          if j["rtt"] == rtt and j["mode"] == mode and j["pass"]]
                    top = max(ok) if ok else 0
                    last = [j for j in self.capacity if j["rtt"] == rtt and j["mode"] == mode]
                    capped = last and last[-1]["pass"]
                    need = max([r["proxy"]["queries_per_s" if mode == "udp" else "conns_per_s"]
                                for r in prow if r["rtt"] == rtt] or [0])
                    L.append("- +%g ms: sustains %s%d %s/s; the busiest benchmark run needed %.0f/s "
                             "(%.0fx headroom)" % (
                                 rtt, "at least " if capped else "" if top else "less than ",
                                 top or last[0]["rate"],
                                 "UDP queries (each answered: twice the datagrams)"
                                 if mode == "udp" else "TCP connections", need,
                                 top / need if need else 0))
        L += ["", "### Commands", "",
              "Each row, by hand (the lab up with `bench.py --keep`; a +RTT row also needs the "
              "proxy, which `bench.py --keep` leaves running at the last RTT measured), and the "
              "bench.py line that reproduces it alone (lab up, the row's runs, lab down):", ""]
        for r in rows + busy:
            L += ["- %s, %d domains, %s:" % (r["setting"], r["domains"], r["tool"]),
                  "  `%s%s`" % (r["env"] + " " if r["env"] else "", r["command"]),
                  "  `%s`" % r["reproduce"]]
        if self.proxy_cmd_example:
            L.append("- the proxy at +%g ms RTT: `%s`" % self.proxy_cmd_example)
        L += ["", "CPU s = user + system of the tool (all its threads), peak RSS = maximum "
              "resident set size, both from /usr/bin/time -v; domains/s = domains / wall time; "
              "CPU ms/domain = CPU s / domains. The lab's servers (unbound, nginx, postfix) and "
              "the proxy share the same %d cores with the tool: lab server CPU s per run (median) "
              "%s." % (os.cpu_count(), ", ".join("%s %d %s: %.1f" % (
                  r["setting"], r["domains"], r["kind"], r["lab_cpu"]["median"]) for r in rows)),
              "",
              "machine: %s; load average before the first run: %s (other work on the machine "
              "makes the figures noisy)" % (v["machine"], self.load_start),
              "versions: %s (%s); mailauth %s on node %s; %s" % (
                  v["stswatch"], v["commit"], v["mailauth"], v["node"], v["openssl"]),
              "world: %d domains, %d MX hosts, lab up in %.1f s" % (
                  self.world, self.a.pool, self.lab_up_s),
              "reproduce everything: make bench%s   (%s)" % (
                  "" if self.sizes == [1000, 10000] else " BENCH_N=%s" % ",".join(
                      str(x) for x in self.sizes), shell_join(self.argv))]
        text = "\n".join(L) + "\n"
        print(text, flush=True)
        with open(os.path.join(self.dir, "results.md"), "w") as f:
            f.write(text)
        with open(os.path.join(self.dir, "results.json"), "w") as f:
            json.dump({"summary": rows, "runs": self.results, "capacity": self.capacity, "floor": self.floor,
                       "versions": v, "world": self.world, "pool": self.a.pool,
                       "sizes": self.sizes, "rtts": self.rtts, "repeat": self.a.repeat,
                       "argv": self.argv, "load_average_start": self.load_start}, f, indent=1)

    # ---- teardown -------------------------------------------------------------------------

    def far_down(self):
        if not ns_exists(self.far):
            return []
        for p in ns_pids(self.far):
            try:
                os.kill(p, signal.SIGTERM)
            except ProcessLookupError:
                pass
        time.sleep(0.2)
        for p in ns_pids(self.far):
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
        run(["ip", "netns", "del", self.far], check=False)
        return ["namespace %s still exists" % self.far] if ns_exists(self.far) else []

    def down(self):
        if self.a.keep:
            log("kept: the lab in %s (namespace %s)%s; tear down with: %s --down --dir %s --ns %s"
                % (self.dir, self.ns, ", the proxy in %s" % self.far if self.proxy else "",
                   shell_join([PYTHON, os.path.join(HERE, "bench.py")]), rel(self.dir), self.ns))
            if self.proxy:  # let it run on its own
                self.proxy.p.stdout.close()
                self.proxy.log.close()
            return []
        self.proxy_stop()
        problems = self.far_down()
        if os.path.isdir(os.path.join(self.dir, "run")):
            p = subprocess.run([PYTHON, LAB, "down", self.dir],
                               env=dict(os.environ, LAB_NS=self.ns))
            if p.returncode != 0:
                problems.append("lab.py down failed")
        return problems


def csv_ints(s):
    return [int(x) for x in s.split(",") if x.strip()]


def csv_floats(s):
    return [float(x) for x in s.split(",") if x.strip()]


def main():
    ap = argparse.ArgumentParser(description="stswatch check vs mailauth getPolicy in the lab")
    ap.add_argument("--sizes", type=csv_ints, default=[1000, 10000],
                    help="domain list sizes (default 1000,10000)")
    ap.add_argument("--world", type=int, default=0,
                    help="domains in the lab (default: the largest size)")
    ap.add_argument("--pool", type=int, default=200, help="shared MX hosts (default 200)")
    ap.add_argument("--rtt", type=csv_floats, default=[0, 30],
                    help="added round trips in ms, 0 = direct (default 0,30; e.g. 0,30,100)")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each row (default 3)")
    ap.add_argument("--concurrency", type=csv_ints, default=[0],
                    help="stswatch rows: 0 = its default, C = --concurrency C (default 0)")
    ap.add_argument("--tools", default="stswatch,peer", help="stswatch,peer (default both)")
    # all 10,000 at once need 20,000 descriptors in the proxy, past this machine's limit
    # (docs/BENCHMARKS.md); 2,000 was the peer's fastest in a sweep of 1,000 to 5,000
    ap.add_argument("--peer-in-flight", type=int, default=2000,
                    help="the peer's domains at once, 0 = all (default 2000)")
    ap.add_argument("--peer-max", type=int, default=10000,
                    help="skip the peer for larger lists (default 10000)")
    ap.add_argument("--busy", type=int, default=256,
                    help="DNS questions the busy path lets through at once; 0 = no such runs "
                    "(default 256)")
    ap.add_argument("--busy-concurrency", type=csv_ints, default=[50, 500, 2000],
                    help="stswatch's concurrency on the busy path (default 50,500,2000)")
    ap.add_argument("--busy-rtt", type=float, default=30,
                    help="added round trip on the busy path in ms (default 30)")
    ap.add_argument("--busy-only", action="store_true",
                    help="only the busy-path runs (and no peer)")
    ap.add_argument("--quick", action="store_true", help="1000 domains, one run, development")
    ap.add_argument("--no-capacity", action="store_true", help="skip the proxy's capacity test")
    ap.add_argument("--proxy-priority", choices=("realtime", "normal"), default="realtime",
                    help="run the proxy under SCHED_FIFO (default) or as everything else")
    ap.add_argument("--timeout", type=int, default=3600, help="seconds a run may take")
    ap.add_argument("--keep", action="store_true", help="leave the lab (and the proxy) up")
    ap.add_argument("--down", action="store_true", help="only tear down a kept bench")
    ap.add_argument("--stswatch", default=os.path.join(ROOT, "build", "stswatch"))
    ap.add_argument("--proxy", default=os.path.join(ROOT, "build", "bench-tools", "latency_proxy"))
    ap.add_argument("--load", default=os.path.join(ROOT, "build", "bench-tools", "latency_load"))
    ap.add_argument("--floor", default=os.path.join(ROOT, "build", "bench-tools", "tls_floor"),
                    help="tls_floor, the least a fetch costs; '' skips it")
    ap.add_argument("--dir", default=os.path.join(ROOT, "build", "bench"))
    ap.add_argument("--ns", default="stswbench", help="the lab's namespace (default stswbench)")
    a = ap.parse_args()
    if os.geteuid() != 0:
        log("must run as root (network namespaces)")
        return 1
    b = Bench(a)
    if a.down:
        a.keep = False
        return 1 if b.down() else 0
    if a.quick:
        a.sizes, a.repeat, a.busy = [1000], 1, 0
    b.sizes = sorted(set(a.sizes))
    b.rtts = sorted(set(a.rtt))
    b.world = max([a.world] + b.sizes)
    b.concurrencies = list(dict.fromkeys(a.concurrency))
    b.argv = [PYTHON, "tests/bench/bench.py"] + sys.argv[1:]
    a.tools = ["stswatch"] if a.busy_only else a.tools.split(",")
    a.proxy, a.load = os.path.abspath(a.proxy), os.path.abspath(a.load)
    need = [TIME] + (["node", "npm"] if "peer" in a.tools else [])
    for tool in need:
        if not shutil.which(tool):
            log("%s not found: scripts/deps.sh bench installs it" % tool)
            return 1
    for binary in [b.stswatch] + ([a.proxy, a.load] if any(b.rtts) or a.busy else []):
        if not os.access(binary, os.X_OK):
            log("%s not found: make bench builds it" % binary)
            return 1
    b.proxy_cmd_example = None
    rc = 0
    try:
        if "peer" in a.tools:
            b.npm_install()
        v = b.versions()
        b.default_conc = v["default_concurrency"] or "?"
        b.load_start = load_average()
        log("lab up: %d generated domains, %d MX hosts, namespace %s" % (b.world, a.pool, b.ns))
        b.lab_up()
        if any(b.rtts) or a.busy:
            b.far_up()
            rtt = max(b.rtts)
            b.proxy_cmd_example = (rtt, shell_join(
                ["ip", "netns", "exec", b.far, a.proxy, "--upstream-netns", b.ns,
                 "--realtime", "%g" % (rtt / 2.0), "udp:%s:53=%s:53" % (S.DNS_V4, S.DNS_V4),
                 "..."]))
        b.warm_up()
        b.floor = []
        if not a.busy_only:
            b.measure_floor()
        if not a.busy_only:
            b.runs()
        b.busy_runs()
        if any(b.rtts) and not a.no_capacity:
            b.measure_capacity()
        b.report(v)
        if a.keep and any(b.rtts):
            b.proxy_start(max(b.rtts))
        if b.failures:
            rc = 1
            for f in b.failures:
                log("NOT OK: " + f)
    except (BenchError, subprocess.TimeoutExpired, OSError) as e:
        log(str(e))
        rc = 1
    except KeyboardInterrupt:
        rc = 130
    finally:
        for p in b.down():
            log("teardown: " + p)
            rc = rc or 1
    return rc


if __name__ == "__main__":
    sys.exit(main())
