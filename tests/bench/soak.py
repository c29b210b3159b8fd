#!/usr/bin/python3
"""soak: the scheduler daemon on many lab domains for a long while; is it flat?

  soak.py [--domains N] [--minutes M] [--interval S] [--concurrency C]
          [--stswatch BIN] [--dir DIR] [--ns NS] [--keep]

Brings up the lab (tests/lab/lab.py up DIR --bench N: N generated healthy domains
b0001.test ... sharing a pool of 20 MX hosts) in namespace NS (default stswsoak; never
$LAB_NS), starts `stswatch run` (the daemon) on those N domains with interval S (default
60 s), and every minute prints the daemon's resident memory (VmRSS), its open file
descriptors, its CPU seconds in that minute, the database's size (with its -wal), the
checks recorded and the checks due by then (each domain's first check within a minute of
the start, at its phase when the interval is a minute or less, then one per interval at
its phase, as agent/schedule.c computes them from the hash of the name), and the daemon's STATUS= line. Defaults: N 10000, M 30 (or
$SOAK_MINUTES). After M minutes: SIGTERM (the daemon must exit 0), `stswatch db check`,
the lab down, nothing left running.

Memory and descriptors must be flat after the first cycles: the samples from minute 3 on
are compared with the last ones; the soak fails when they clearly grow (resident memory
up by half and more than 20 MiB, or 50 descriptors more), when the daemon dies, exits
non-zero or leaves a damaged database, or when it recorded less than 90% of the checks due.
The curve goes to stdout, DIR/soak.json and DIR/soak.md. Python 3 standard library
only; run as root (make bench-soak does the rest).
"""

import argparse
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "lab"))
import notify  # noqa: E402
import scenarios as S  # noqa: E402

PYTHON = "/usr/bin/python3"
LAB = os.path.join(ROOT, "tests", "lab", "lab.py")
NEW_WINDOW = 60  # schedule_opts_defaults(): a domain never checked is due within a minute


def log(msg):
    print("soak: " + msg, file=sys.stderr, flush=True)


def name_hash(name):
    """name_hash() of agent/schedule.c: FNV-1a 64 of the lower-cased name, folded."""
    h = 1469598103934665603
    for c in name.lower().encode():
        h = ((h ^ c) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return h ^ (h >> 29)


def due_plan(domains, interval, start):
    """[(first due, phase)] per domain, as the daemon schedules a fresh database.

    schedule_first_due(): within NEW_WINDOW of the start by the hash; when the window is as
    long as the interval, the domain's first slot (phase + k * interval) from the start on.
    """
    plan = []
    for d in domains:
        h = name_hash(d)
        ph = h % interval
        if NEW_WINDOW >= interval:
            first = start + (ph - start) % interval
        else:
            first = start + h % NEW_WINDOW
        plan.append((first, ph))
    return plan


def due_by(plan, interval, t):
    """Checks due by time t: the first, then every slot phase + k * interval after it."""
    n = 0
    for first, ph in plan:
        if t < first:
            continue
        n += 1 + max(0, (int(t) - ph) // interval - (int(first) - ph) // interval)
    return n


def proc_stat(pid):
    """(VmRSS KiB, open descriptors, CPU seconds) of a live process."""
    rss = 0
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
    fds = len(os.listdir("/proc/%d/fd" % pid))
    with open("/proc/%d/stat" % pid) as f:
        parts = f.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    cpu = (int(parts[11]) + int(parts[12])) / tick
    return rss, fds, cpu


def db_size(db):
    return sum(os.path.getsize(p) for p in (db, db + "-wal", db + "-shm") if os.path.exists(p))


def count_checks(db):
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=30)
    try:
        return con.execute("SELECT count(*) FROM checks").fetchone()[0]
    finally:
        con.close()


def write_conf(path, lab_conf, db, prom, domains, interval, concurrency):
    with open(lab_conf) as f:
        head = f.read()
    head = head[:head.index("domains = (")]
    keep = []
    for line in head.splitlines():
        if line.split(" = ")[0] in ("database", "concurrency", "interval"):
            continue
        keep.append(line)
    text = "\n".join(keep) + "\n"
    text += ('database = "%s";\nconcurrency = %d;\ninterval = "%ds";\nmetrics_file = "%s";\n'
             % (db, concurrency, interval, prom))
    text += "domains = (\n%s\n);\n" % ",\n".join('  "%s"' % d for d in domains)
    with open(path, "w") as f:
        f.write(text)


def flat_verdict(samples, warm):
    """Problems with the curve after warm-up minutes: clear growth of memory or descriptors."""
    after = [s for s in samples if s["minute"] >= warm]
    if len(after) < 2:
        return ["too few samples after minute %d to judge" % warm]
    base, tail = after[0], after[-max(1, len(after) // 3):]
    rss_end = min(s["rss_kib"] for s in tail)  # the lowest of the last third: no spike
    fds_end = min(s["fds"] for s in tail)
    out = []
    if rss_end > base["rss_kib"] * 1.5 and rss_end - base["rss_kib"] > 20 * 1024:
        out.append("resident memory grew from %.1f MiB at minute %d to %.1f MiB"
                   % (base["rss_kib"] / 1024, base["minute"], rss_end / 1024))
    if fds_end > base["fds"] + 50:
        out.append("open descriptors grew from %d at minute %d to %d"
                   % (base["fds"], base["minute"], fds_end))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--domains", type=int, default=10000)
    ap.add_argument("--minutes", type=float,
                    default=float(os.environ.get("SOAK_MINUTES") or 30))
    ap.add_argument("--interval", type=int, default=60)
    ap.add_argument("--concurrency", type=int, default=500)
    ap.add_argument("--stswatch", default=os.path.join(ROOT, "build", "stswatch"))
    ap.add_argument("--dir", default=os.path.join(ROOT, "build", "soak"))
    ap.add_argument("--ns", default="stswsoak")
    ap.add_argument("--keep", action="store_true", help="leave the lab up at the end")
    a = ap.parse_args()
    if os.geteuid() != 0:
        log("needs root (network namespaces)")
        return 1
    if not os.access(a.stswatch, os.X_OK):
        log("%s is missing: build first" % a.stswatch)
        return 1
    if a.ns == os.environ.get("LAB_NS"):
        log("--ns %s is $LAB_NS: pick another namespace, a lab kept up there would go" % a.ns)
        return 1
    d = os.path.abspath(a.dir)
    env = dict(os.environ, LAB_NS=a.ns)
    problems = []
    daemon = listener = None
    samples = []
    t_up = time.monotonic()
    p = subprocess.run([PYTHON, LAB, "up", d, "--bench", str(a.domains)], env=env)
    if p.returncode != 0:
        log("lab.py up failed")
        subprocess.run([PYTHON, LAB, "down", d], env=env)
        return 1
    t_up = time.monotonic() - t_up
    try:
        with open(os.path.join(d, "lab.json")) as f:
            lab = json.load(f)
        domains = S.bench_domains(a.domains)
        db = os.path.join(d, "soak.db")
        prom = os.path.join(d, "soak.prom")
        conf = os.path.join(d, "soak.conf")
        for f in (db, db + "-wal", db + "-shm", prom):
            if os.path.exists(f):
                os.unlink(f)
        write_conf(conf, lab["config"], db, prom, domains, a.interval, a.concurrency)
        listener = notify.Listener(os.path.join(d, "run", "soak-notify.sock")).start()
        err = open(os.path.join(d, "soak.log"), "w")
        start = time.time()
        daemon = subprocess.Popen(["ip", "netns", "exec", a.ns, a.stswatch, "run", "-c", conf],
                                  env=listener.env(watchdog_usec=30000000),
                                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=err)
        err.close()
        try:
            listener.wait("READY", "1", timeout=120)
        except RuntimeError as e:
            raise SystemExit("soak: the daemon did not get ready: %s" % e)
        # the schedule starts when the daemon's run does (build_schedule, its loop's clock)
        con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=30)
        begun = con.execute("SELECT started_at FROM runs ORDER BY id DESC LIMIT 1").fetchone()
        con.close()
        plan = due_plan(domains, a.interval, begun[0] if begun else int(start))
        log("daemon pid %d on %d domains, interval %d s, for %.0f minutes (lab up in %.0f s)"
            % (daemon.pid, a.domains, a.interval, a.minutes, t_up))
        print("%6s %9s %5s %8s %9s %9s %9s %6s  %s" % ("minute", "RSS MiB", "fds", "CPU s",
                                                      "DB MiB", "checks", "due", "done%",
                                                      "STATUS"), flush=True)
        last_cpu = 0.0
        minute = 0
        while minute < a.minutes:
            minute += 1
            time.sleep(max(0, start + minute * 60 - time.time()))
            if daemon.poll() is not None:
                problems.append("the daemon exited (%s) at minute %d" % (daemon.returncode,
                                                                          minute))
                break
            rss, fds, cpu = proc_stat(daemon.pid)
            done = count_checks(db)
            due = due_by(plan, a.interval, time.time())
            sts = listener.messages("STATUS")
            s = {"minute": minute, "t": round(time.time() - start, 1), "rss_kib": rss,
                 "fds": fds, "cpu_s": round(cpu - last_cpu, 2), "db_bytes": db_size(db),
                 "checks": done, "due": due,
                 "status": sts[-1]["fields"]["STATUS"] if sts else ""}
            last_cpu = cpu
            samples.append(s)
            print("%6d %9.1f %5d %8.1f %9.1f %9d %9d %6.1f  %s"
                  % (minute, rss / 1024, fds, s["cpu_s"], s["db_bytes"] / 2 ** 20, done, due,
                     100.0 * done / due if due else 0, s["status"]), flush=True)
        if daemon.poll() is None:
            t0 = time.monotonic()
            daemon.send_signal(signal.SIGTERM)
            try:
                rc = daemon.wait(timeout=60)
            except subprocess.TimeoutExpired:
                rc = None
            log("SIGTERM: exit %s after %.1f s" % (rc, time.monotonic() - t0))
            if rc != 0:
                problems.append("SIGTERM: exit %s" % rc)
        c = subprocess.run([a.stswatch, "db", "check", "--db", db], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
        if c.returncode != 0:
            problems.append("db check: %s" % c.stdout.strip())
        if samples:
            last = samples[-1]
            if last["due"] and last["checks"] < 0.9 * last["due"]:
                problems.append("recorded %d checks of %d due (%.0f%%)" % (
                    last["checks"], last["due"], 100.0 * last["checks"] / last["due"]))
            problems += flat_verdict(samples, warm=min(3, max(1, len(samples) - 2)))
        result = {"domains": a.domains, "interval": a.interval, "minutes": a.minutes,
                  "concurrency": a.concurrency, "samples": samples, "problems": problems,
                  "stswatch": a.stswatch}
        with open(os.path.join(d, "soak.json"), "w") as f:
            json.dump(result, f, indent=1)
        with open(os.path.join(d, "soak.md"), "w") as f:
            f.write("| minute | RSS MiB | fds | CPU s | DB MiB | checks | due |\n"
                    "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
            for s in samples:
                f.write("| %d | %.1f | %d | %.1f | %.1f | %d | %d |\n"
                        % (s["minute"], s["rss_kib"] / 1024, s["fds"], s["cpu_s"],
                           s["db_bytes"] / 2 ** 20, s["checks"], s["due"]))
    finally:
        if daemon is not None and daemon.poll() is None:
            daemon.kill()
            daemon.wait()
        if listener is not None:
            listener.close()
        if not a.keep:
            if subprocess.run([PYTHON, LAB, "down", d], env=env).returncode != 0:
                problems.append("lab.py down failed")
    for pr in problems:
        log("FAIL: " + pr)
    log("%s: %d domains, %d samples; %s/soak.md" % ("failed" if problems else "ok", a.domains,
                                                    len(samples), d))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
