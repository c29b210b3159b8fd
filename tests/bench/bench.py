#!/usr/bin/python3
"""bench: stswatch check against mailauth's getPolicy on generated healthy domains, in the lab.

  bench.py [--domains N] [--delay-ms D] [--repeat R] [--keep]
           [--stswatch BIN] [--dir DIR] [--ns NS]

Brings up the lab (tests/lab/lab.py up DIR --bench N: N healthy domains b0001.test ...
sharing a pool of 20 MX hosts) in namespace NS (default stswbench; never $LAB_NS, so a
lab kept up for work is not torn down), DIR build/bench, and measures, R times each (the median is printed):

  stswatch   build/stswatch check --format json --domains-file F (DNS, policy fetch,
             TLS-RPT, STARTTLS on every MX address), at its default concurrency and with
             every domain in flight (--concurrency N)
  mailauth   tests/bench/peer-mailauth.js: mailauth's MTA-STS getPolicy (TXT, A, policy
             fetch), every domain in flight at once

each under /usr/bin/time -v (CPU = user + system seconds, peak RSS = maximum resident set
size), twice: "direct", run inside the lab's namespace, and "+RTT", run in a second
namespace where tests/bench/latency_proxy.py holds the servers' addresses and forwards
to the real servers with D ms added in each direction (see its docstring for exactly
what is delayed). Every run must come back all OK, or the benchmark fails. Performance is
reported, not asserted. The lab is always torn down; nothing is left running.
Python standard library only; run as root (make bench does the rest).
"""

import argparse
import json
import os
import platform
import re
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
PROXY = os.path.join(HERE, "latency_proxy.py")
PEER = os.path.join(HERE, "peer-mailauth.js")
TIME = "/usr/bin/time"


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


def udp_rcvbuf_errors(ns):
    """The namespace's UDP RcvbufErrors counter: datagrams dropped because a receiving
    socket's buffer was full (here: DNS answers the tool never saw, retried on timeout)."""
    out = run(["ip", "netns", "exec", ns, "cat", "/proc/net/snmp"]).stdout.decode().splitlines()
    rows = [line.split() for line in out if line.startswith("Udp:")]
    return int(rows[1][rows[0].index("RcvbufErrors")])


def cpu_of(pids):
    """user + system seconds of pids and their reaped children, from /proc."""
    tck = os.sysconf("SC_CLK_TCK")
    total = 0
    for p in pids:
        try:
            with open("/proc/%d/stat" % p) as f:
                f = f.read().rsplit(")", 1)[1].split()
            total += sum(int(x) for x in f[11:15])
        except (OSError, IndexError, ValueError):
            pass
    return total / tck


def ns_pids(ns):
    out = run(["ip", "netns", "pids", ns], check=False).stdout.decode().split()
    return [int(x) for x in out]


def parse_time_v(path):
    t = {}
    with open(path) as f:
        for line in f:
            k, _, v = line.strip().rpartition(": ")
            t[k] = v
    return {"cpu": float(t["User time (seconds)"]) + float(t["System time (seconds)"]),
            "rss_kib": int(t["Maximum resident set size (kbytes)"])}


def tool_versions(stswatch):
    v = {}
    v["stswatch"] = run([stswatch, "version"], check=False).stdout.decode().strip()
    v["node"] = run(["node", "--version"], check=False).stdout.decode().strip()
    try:
        with open(os.path.join(HERE, "node_modules", "mailauth", "package.json")) as f:
            v["mailauth"] = json.load(f)["version"]
    except (OSError, ValueError, KeyError):
        v["mailauth"] = "?"
    v["openssl"] = run(["openssl", "version"], check=False).stdout.decode().strip()
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    v["machine"] = "%d cores (%s), %s, Linux %s" % (os.cpu_count(), cpu,
                                                    "%.0f GiB" % mem_gib(), platform.release())
    return v


def mem_gib():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / (1 << 20)
    return 0


class Bench:
    def __init__(self, a):
        self.a = a
        self.dir = os.path.abspath(a.dir)
        self.ns = a.ns
        self.far = self.ns + "-far"  # the client namespace behind the latency proxy
        self.stswatch = os.path.abspath(a.stswatch)
        self.proxy = None
        self.results = []
        self.failures = []

    # ---- setup ----------------------------------------------------------------------------

    def npm_install(self):
        if os.path.exists(os.path.join(HERE, "node_modules", "mailauth", "package.json")):
            return
        log("npm install --no-package-lock (mailauth, into tests/bench/node_modules)")
        run(["npm", "install", "--no-package-lock", "--no-audit", "--no-fund", "--silent"],
            cwd=HERE, timeout=600)
        if os.path.exists(os.path.join(HERE, "package-lock.json")):
            os.unlink(os.path.join(HERE, "package-lock.json"))

    def lab_up(self):
        env = dict(os.environ, LAB_NS=self.ns)
        p = subprocess.run([PYTHON, LAB, "up", self.dir, "--bench", str(self.a.domains)], env=env)
        if p.returncode != 0:
            raise BenchError("lab.py up failed")
        with open(os.path.join(self.dir, "lab.json")) as f:
            self.lab = json.load(f)
        self.ca = self.lab["ca_file"]
        self.resolver = self.lab["resolver"]
        self.domains = S.bench_domains(self.a.domains)
        self.domains_file = os.path.join(self.dir, "domains.txt")
        with open(self.domains_file, "w") as f:
            f.write("\n".join(self.domains) + "\n")
        self.conf = os.path.join(self.dir, "bench.conf")
        with open(self.conf, "w") as f:
            f.write("# generated by tests/bench/bench.py: stswatch's defaults, except these\n"
                    'ehlo_name = "probe.bench.test";\n'
                    "# never created: check reads a database only when it exists\n"
                    'database = "%s/no-history.db";\n' % self.dir)

    def far_up(self):
        """The client namespace: the servers' addresses on its lo, held by the proxy."""
        if ns_exists(self.far):
            run(["ip", "netns", "del", self.far])
        run(["ip", "netns", "add", self.far])
        targets = [("udp", S.DNS_V4, 53), ("tcp", S.DNS_V4, 53), ("tcp", S.NGINX_V4, 443)]
        targets += [("tcp", ip, 25) for _, ip in S.bench_pool()]
        addrs = sorted({t[1] for t in targets})
        batch = ["link set lo up"] + ["addr add %s/32 dev lo" % x for x in addrs]
        run(["ip", "-n", self.far, "-batch", "-"], input="\n".join(batch).encode())
        specs = ["%s:%s:%d=%s:%d" % (p, ip, port, ip, port) for p, ip, port in targets]
        self.proxy_log = open(os.path.join(self.dir, "log", "latency-proxy.log"), "wb")
        self.proxy = subprocess.Popen(
            ["ip", "netns", "exec", self.far, PYTHON, PROXY, "--upstream-netns", self.ns,
             str(self.a.delay_ms)] + specs,
            stdout=subprocess.PIPE, stderr=self.proxy_log, start_new_session=True)
        line = self.proxy.stdout.readline().decode().strip()
        if line != "ready":
            raise BenchError("latency proxy did not start (see %s/log/latency-proxy.log)"
                             % self.dir)

    # ---- runs -----------------------------------------------------------------------------

    def cmd_stswatch(self, concurrency):
        argv = [self.stswatch, "check", "--format", "json", "--resolver", self.resolver,
                "--ca-file", self.ca, "-c", self.conf, "--domains-file", self.domains_file]
        if concurrency:
            argv += ["--concurrency", str(concurrency)]
        return argv

    def cmd_peer(self):
        return ["node", PEER, self.resolver, self.domains_file]

    def measure(self, net, ns, tool, argv, env=None):
        tfile = os.path.join(self.dir, "time.txt")
        out = os.path.join(self.dir, "out-%s.txt" % re.sub("[^a-z0-9]+", "-",
                                                           (net + " " + tool).lower()))
        drops0 = udp_rcvbuf_errors(ns)
        others = ns_pids(self.ns) + ns_pids(self.far)
        cpu0 = cpu_of(others)
        t0 = time.monotonic()
        with open(out, "wb") as fo:
            p = subprocess.run(["ip", "netns", "exec", ns, TIME, "-v", "-o", tfile] + argv,
                               stdout=fo, stderr=subprocess.PIPE, env=env, timeout=900)
        wall = time.monotonic() - t0
        others_cpu = cpu_of(others) - cpu0
        drops = udp_rcvbuf_errors(ns) - drops0
        if not os.path.exists(tfile) or os.path.getsize(tfile) == 0:
            raise BenchError("%s: no /usr/bin/time report: %s" % (tool, p.stderr.decode()[-800:]))
        t = parse_time_v(tfile)
        os.unlink(tfile)
        ok, detail = self.verdicts(tool, out, p.returncode)
        r = {"net": net, "tool": tool, "wall": wall, "cpu": t["cpu"], "rss_kib": t["rss_kib"],
             "ok": ok, "detail": detail, "udp_drops": drops, "others_cpu": others_cpu,
             "exit": p.returncode}
        if ok != len(self.domains):
            self.failures.append("%s, %s: %d of %d OK (%s); stderr: %s" % (
                net, tool, ok, len(self.domains), detail, p.stderr.decode()[-500:]))
        log("%-11s %-34s %6.2f s  %7.0f domains/s  CPU %5.2f s  RSS %6.1f MiB  OK %d/%d%s" % (
            net, tool, wall, len(self.domains) / wall, t["cpu"], t["rss_kib"] / 1024, ok,
            len(self.domains), "" if ok == len(self.domains) else "  (%s)" % detail))
        return r

    def verdicts(self, tool, out, rc):
        """How many domains came back OK, and a summary of the rest."""
        with open(out, "rb") as f:
            lines = f.read().decode(errors="replace").splitlines()
        if tool.startswith("stswatch"):
            count = {}
            seen = set()
            for line in lines:
                try:
                    j = json.loads(line)
                except ValueError:
                    count["unparsable"] = count.get("unparsable", 0) + 1
                    continue
                seen.add(j.get("domain"))
                key = j.get("status", "?")
                if key != "OK":
                    codes = ",".join(sorted({x.get("code", "?") for x in j.get("findings", [])}))
                    key += "(" + codes + ")"
                count[key] = count.get(key, 0) + 1
            ok = count.get("OK", 0) if seen == set(self.domains) and rc == 0 else 0
            return ok, ", ".join("%s %d" % kv for kv in sorted(count.items()))
        try:
            j = json.loads(lines[-1])
        except (ValueError, IndexError):
            return 0, "no result line (exit %d)" % rc
        ok = j.get("ok", 0) if j.get("domains") == len(self.domains) and rc == 0 else 0
        return ok, ", ".join("%s %d" % kv for kv in sorted(j.get("statuses", {}).items()))

    def runs(self):
        n = len(self.domains)
        peer_env = dict(os.environ, NODE_EXTRA_CA_CERTS=self.ca)
        tools = [("stswatch (default concurrency)", self.cmd_stswatch(0), None),
                 ("stswatch --concurrency %d" % n, self.cmd_stswatch(n), None),
                 ("mailauth getPolicy (all in flight)", self.cmd_peer(), peer_env)]
        nets = [("direct", self.ns), ("+%d ms RTT" % (2 * self.a.delay_ms), self.far)]
        self.commands = {name: argv for name, argv, _ in tools}
        for rep in range(self.a.repeat):
            for net, ns in nets:
                for name, argv, env in tools:
                    self.results.append(self.measure(net, ns, name, argv, env))

    # ---- report ---------------------------------------------------------------------------

    def summary(self):
        rows = []
        keys = []
        for r in self.results:
            if (r["net"], r["tool"]) not in keys:
                keys.append((r["net"], r["tool"]))
        for net, tool in keys:
            rs = [r for r in self.results if r["net"] == net and r["tool"] == tool]
            wall = statistics.median(r["wall"] for r in rs)
            rows.append({"net": net, "tool": tool, "runs": len(rs), "wall": wall,
                         "rate": len(self.domains) / wall,
                         "cpu": statistics.median(r["cpu"] for r in rs),
                         "rss_mib": statistics.median(r["rss_kib"] for r in rs) / 1024,
                         "ok": min(r["ok"] for r in rs),
                         "udp_drops": statistics.median(r["udp_drops"] for r in rs),
                         "others_cpu": statistics.median(r["others_cpu"] for r in rs),
                         "walls": [round(r["wall"], 2) for r in rs]})
        return rows

    def report(self, versions):
        rows = self.summary()
        n = len(self.domains)
        lines = ["", "## stswatch vs mailauth: %d healthy domains, %d MX hosts shared, "
                 "median of %d runs" % (n, S.BENCH_POOL, self.a.repeat), ""]
        lines.append("| network | tool | domains/s | wall s | CPU s | peak RSS MiB | OK "
                     "| UDP drops | lab CPU s |")
        lines.append("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for r in rows:
            lines.append("| %s | %s | %.0f | %.2f | %.2f | %.1f | %d/%d | %d | %.2f |" % (
                r["net"], r["tool"], r["rate"], r["wall"], r["cpu"], r["rss_mib"], r["ok"], n,
                r["udp_drops"], r["others_cpu"]))
        lines.append("")
        for net in dict.fromkeys(r["net"] for r in rows):
            peer = [r for r in rows if r["net"] == net and r["tool"].startswith("mailauth")]
            if not peer:
                continue
            peer = peer[0]
            for r in rows:
                if r["net"] != net or not r["tool"].startswith("stswatch"):
                    continue
                lines.append("%s, %s: %.2fx the peer's domains/s, %.2fx its CPU, %.2fx its "
                             "peak RSS: %s, %s" % (
                                 net, r["tool"], r["rate"] / peer["rate"], r["cpu"] / peer["cpu"],
                                 r["rss_mib"] / peer["rss_mib"],
                                 "faster" if r["rate"] > peer["rate"] else "SLOWER",
                                 "less memory" if r["rss_mib"] < peer["rss_mib"]
                                 else "MORE MEMORY"))
        lines += ["",
                  "wall runs (s): " + "; ".join("%s / %s: %s" % (r["net"], r["tool"],
                                                   " ".join("%.2f" % w for w in r["walls"]))
                                                   for r in rows),
                  "",
                  "CPU s = user + system of the tool (threads included), peak RSS = maximum "
                  "resident set size, both from /usr/bin/time -v; domains/s = domains / wall "
                  "time; UDP drops = the namespace's UdpRcvbufErrors during the run (DNS "
                  "answers lost at a full socket buffer, retried after a timeout); lab CPU s "
                  "= what the servers (unbound, nginx, postfix) and the latency proxy used "
                  "meanwhile, on the same %d cores." % os.cpu_count(),
                  "+RTT: latency_proxy.py adds %d ms to every datagram and every TCP chunk in "
                  "each direction (DNS, HTTPS, SMTP), and charges each TCP handshake's round "
                  "trip to the first bytes." % self.a.delay_ms,
                  "",
                  "machine: " + versions["machine"],
                  "versions: %s; mailauth %s on node %s; %s" % (
                      versions["stswatch"], versions["mailauth"], versions["node"],
                      versions["openssl"]),
                  "",
                  "reproduce: make bench   (or: %s tests/bench/bench.py --domains %d "
                  "--delay-ms %d --repeat %d)" % (PYTHON, n, self.a.delay_ms, self.a.repeat),
                  "one run by hand, with the lab kept up (bench.py --keep; the latency "
                  "proxy is not kept):",
                  "  ip netns exec %s %s -v %s" % (self.ns, TIME, " ".join(
                      os.path.relpath(x, ROOT) if x.startswith(ROOT) else x
                      for x in self.commands["stswatch --concurrency %d" % n])),
                  "  NODE_EXTRA_CA_CERTS=%s ip netns exec %s %s -v %s" % (
                      os.path.relpath(self.ca, ROOT), self.ns, TIME, " ".join(
                          os.path.relpath(x, ROOT) if x.startswith(ROOT) else x
                          for x in self.commands["mailauth getPolicy (all in flight)"]))]
        text = "\n".join(lines) + "\n"
        print(text, flush=True)
        with open(os.path.join(self.dir, "results.md"), "w") as f:
            f.write(text)
        with open(os.path.join(self.dir, "results.json"), "w") as f:
            json.dump({"summary": rows, "runs": self.results, "versions": versions,
                       "domains": n, "delay_ms": self.a.delay_ms}, f, indent=1)

    # ---- teardown -------------------------------------------------------------------------

    def down(self):
        problems = []
        if self.proxy is not None:
            try:
                os.killpg(self.proxy.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proxy.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proxy.pid, signal.SIGKILL)
                self.proxy.wait(5)
            self.proxy.stdout.close()
            self.proxy_log.close()
        if ns_exists(self.far):
            left = ns_pids(self.far)
            for p in left:
                try:
                    os.kill(p, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            run(["ip", "netns", "del", self.far], check=False)
            if ns_exists(self.far):
                problems.append("namespace %s still exists" % self.far)
        if self.a.keep:
            log("kept: the lab in %s (namespace %s); %s %s down %s" % (
                self.dir, self.ns, PYTHON, LAB, self.dir))
            return problems
        if os.path.isdir(os.path.join(self.dir, "run")):
            p = subprocess.run([PYTHON, LAB, "down", self.dir],
                               env=dict(os.environ, LAB_NS=self.ns))
            if p.returncode != 0:
                problems.append("lab.py down failed")
        return problems


def main():
    ap = argparse.ArgumentParser(description="stswatch check vs mailauth getPolicy in the lab")
    ap.add_argument("--domains", type=int, default=1000, help="generated domains (default 1000)")
    ap.add_argument("--delay-ms", type=int, default=50,
                    help="one-way delay of the +RTT runs (default 50: 100 ms more per round trip)")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each (default 3; medians)")
    ap.add_argument("--keep", action="store_true", help="leave the lab up afterwards")
    ap.add_argument("--stswatch", default=os.path.join(ROOT, "build", "stswatch"),
                    help="the binary (default build/stswatch)")
    ap.add_argument("--dir", default=os.path.join(ROOT, "build", "bench"),
                    help="the lab's directory (default build/bench)")
    ap.add_argument("--ns", default="stswbench", help="the lab's namespace (default stswbench)")
    a = ap.parse_args()
    if os.geteuid() != 0:
        log("must run as root (network namespaces)")
        return 1
    for tool in ("node", "npm", TIME):
        if not shutil.which(tool):
            log("%s not found: scripts/deps.sh bench installs it" % tool)
            return 1
    b = Bench(a)
    if not os.access(b.stswatch, os.X_OK):
        log("%s not found: make first" % b.stswatch)
        return 1
    rc = 0
    try:
        b.npm_install()
        versions = tool_versions(b.stswatch)
        log("lab up: %d generated domains, namespace %s" % (a.domains, b.ns))
        b.lab_up()
        b.far_up()
        b.runs()
        b.report(versions)
        if b.failures:
            rc = 1
            for f in b.failures:
                log("FAILED: " + f)
    except (BenchError, subprocess.TimeoutExpired, OSError) as e:
        log(str(e))
        rc = 1
    except KeyboardInterrupt:
        rc = 130
    finally:
        problems = b.down()
        for p in problems:
            log("teardown: " + p)
            rc = rc or 1
    return rc


if __name__ == "__main__":
    sys.exit(main())
