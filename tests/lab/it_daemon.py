"""it_daemon: the daemon tests of the integration suite (issue 10), run by integration.py.

The real daemon (`ip netns exec NS stswatch run -c CONF`) on lab domains with intervals of
seconds, a notify.Listener as its NOTIFY_SOCKET (and WATCHDOG_USEC), check times read
from the database's checks table.

  daemon    READY, STATUS, WATCHDOG; every domain checked at its interval in its phase
            (the hash of its name), from its first check on; a domain the world breaks
            (lab.py mutate) re-checked after retry_interval and its problem told once
            confirmed; SIGHUP adds and removes domains (RELOADING/READY; a removed domain
            leaves the metrics, not the history), an invalid configuration is refused
            (file:line in the log and in STATUS, the old one keeps running); a second
            daemon and run --once refused; the heartbeat and the metrics file (promtool)
            after each cycle; journald priority prefixes (JOURNAL_STREAM is stderr's
            device:inode); SIGTERM: STOPPING, exit 0, db check
  restart   kill -9 and a restart: the kept schedule resumes (each domain's next check at the
            time the database kept), no burst, no duplicate alert; JOURNAL_STREAM naming
            another stream than stderr gives plain lines, no prefixes
  stop      a monitor that cannot keep up pings the heartbeat's /fail; SIGTERM while a check
            is in flight: it finishes and is recorded within shutdown_timeout, or is ended
            at the bound and not recorded; exit 0 and a sound database either way; SIGINT
            stops it the same way
  dvantage  outbound port 25 blocked (lab.py firewall) under the daemon: the first domains
            wait for the verdict, none is CRITICAL and no owner is told; SIGTERM drops a
            domain that waits, unrecorded; the restart checks it again and, too few MX
            addresses tried to tell, judges it on its own after the bound (retry_interval)
"""

import os
import re
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import it_common as C  # noqa: E402
import notify  # noqa: E402
from it_alerts import VANTAGE  # noqa: E402

STATUS_RE = re.compile(r"^\d[\d,]* domains, \d+ CRITICAL, \d+ WARNING(, \d+ UNKNOWN)?"
                       r"(, \d+ not checked yet)?(, \d+ waiting for the port 25 verdict)?; (next check in \d+ s|reloading|stopping); "
                       r"outbox \d+ pending(, \d+ failed)?(; reload refused: .*)?$")


def phase(name, interval):
    """schedule_phase() of agent/schedule.c: FNV-1a 64 of the lower-cased name, folded."""
    h = 1469598103934665603
    for c in name.lower().encode():
        h = ((h ^ c) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    h ^= h >> 29
    return h % interval


class Daemon:
    """stswatch run in the lab's namespace, its NOTIFY_SOCKET a notify.Listener."""

    def __init__(self, ctx, conf, name, watchdog_usec=2000000, journal=None):
        """journal: None, no JOURNAL_STREAM; "stderr", the device and inode of the stream on
        stderr, as systemd sets it; "other", those of another file, as a shell attached to
        the journal leaves it for a daemon whose stderr it redirected to a file."""
        self.ctx = ctx
        self.sock = os.path.join(ctx.lab["notify"]["socket_dir"], name + ".sock")
        self.n = notify.Listener(self.sock).start()
        env = self.n.env(watchdog_usec=watchdog_usec)
        env.pop("JOURNAL_STREAM", None)
        self.err_path = os.path.join(ctx.tmp, name + ".stderr")
        with open(self.err_path, "w") as err:
            if journal:
                st = os.fstat(err.fileno()) if journal == "stderr" else os.stat(conf)
                env["JOURNAL_STREAM"] = "%d:%d" % (st.st_dev, st.st_ino)
            self.p = subprocess.Popen(["ip", "netns", "exec", ctx.ns, ctx.stswatch, "run",
                                       "-c", conf], env=env, stdin=subprocess.DEVNULL,
                                      stdout=subprocess.DEVNULL, stderr=err)
        self.started = time.time()

    def ready(self):
        """Wait for READY=1; a failed test with the daemon's stderr when it does not come."""
        try:
            return self.n.wait("READY", "1", timeout=15)
        except RuntimeError as e:
            self.ctx.require(False, "no READY=1 (exit %s): %s\n%s"
                             % (self.p.poll(), e, self.stderr()[-1500:]))

    def stderr(self):
        with open(self.err_path, errors="replace") as f:
            return f.read()

    def wait_log(self, pattern, timeout):
        return C.wait_for(lambda: re.search(pattern, self.stderr(), re.M), timeout)

    def notes(self, key=None, since=0):
        return [m for m in self.n.messages(key) if m["seq"] > since]

    def seq(self):
        m = self.n.messages()
        return m[-1]["seq"] if m else 0

    def signal(self, sig):
        self.p.send_signal(sig)

    def wait_exit(self, timeout):
        """(exit code or None, seconds it took)."""
        t0 = time.monotonic()
        try:
            rc = self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            rc = None
        return rc, time.monotonic() - t0

    def close(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()
        self.n.close()


def checks(db, domain=None, since=0):
    """[(checked_at, status)] of a domain, or {domain: [...]} of all, checked at or after since."""
    rows = C.query(db, "SELECT domain, checked_at, status FROM checks WHERE checked_at >= ?"
                   " ORDER BY checked_at, id", (since,))
    if domain is not None:
        return [(t, s) for d, t, s in rows if d == domain]
    out = {}
    for d, t, s in rows:
        out.setdefault(d, []).append((t, s))
    return out


def run_checks(db, run_id, domain=None):
    """The check times of one run (a daemon's life), of one domain or of all."""
    return [t for d, t in C.query(db, "SELECT domain, checked_at FROM checks WHERE run_id = ?"
                                  " ORDER BY checked_at, id", (run_id,))
            if domain is None or d == domain]


def near(a, b, slack=1):
    return abs(a - b) <= slack


def in_phase(t, name, interval, slack=1):
    """t is one of the domain's slots: phase + k * interval (the tick may be a second late)."""
    off = (t - phase(name, interval)) % interval
    return off <= slack or off >= interval - slack


# ---- the daemon ---------------------------------------------------------------------------

D1 = ["ok.test", "split.test", "lf.test", "mxcert-expiring15.test", "daemon-flip.test"]
D1_ADDED = ["dual.test", "none.test"]
IV, IV_LF, RETRY = 5, 8, 2


def d1_conf(ctx, conf, db, domains, prom, bad=False):
    ent = ['{ name = "lf.test"; interval = "%ds"; }' % IV_LF if d == "lf.test" else d
           for d in domains]
    settings = ('interval = "%ds";\nretry_interval = "%ds";\nshutdown_timeout = "5s";\n'
                'metrics_file = "%s";\nheartbeat_url = "%s/heartbeat";\n'
                % (IV, RETRY, prom, ctx.lab["webhook"]["https_url"]))
    if bad:
        settings += 'retention_days = "lots";   # the reload must refuse this line\n'
    C.write_conf(ctx, conf, db, [C.webhook_rcv(ctx, "ops", "/dops")], notify=["ops"],
                 settings=settings, domains=ent)


def expect_cadence(ctx, db, domain, interval, since, until, what):
    """Checks of domain in [since, until], its first included: interval apart, in its phase.

    The first check too: a new domain's first check is its phase slot (an interval of a
    minute or less), so the second is an interval later, not the next slot seconds after.
    """
    ts = [t for t, _ in checks(db, domain, since) if t <= until]
    ctx.expect(len(ts) >= 3, "%s: %s checked %d times, want 3 or more: %s"
               % (what, domain, len(ts), ts))
    gaps = [b - a for a, b in zip(ts, ts[1:])]
    ctx.expect(all(near(g, interval) for g in gaps),
               "%s: %s's checks are not %d s apart from the first on: %s"
               % (what, domain, interval, ts))
    ctx.expect(all(in_phase(t, domain, interval) for t in ts),
               "%s: %s's checks %s are not in its phase %d of %d s"
               % (what, domain, ts, phase(domain, interval), interval))
    return ts


def test_daemon(ctx):
    h = C.hooks(ctx)
    h.reset()
    db = os.path.join(ctx.tmp, "daemon.db")
    conf = os.path.join(ctx.tmp, "daemon.conf")
    prom = os.path.join(ctx.tmp, "daemon.prom")
    d1_conf(ctx, conf, db, D1, prom)
    m0 = h.mark()
    d = Daemon(ctx, conf, "d1", watchdog_usec=2000000, journal="stderr")
    try:
        run_daemon(ctx, h, d, db, conf, prom, m0)
    finally:
        d.close()
    C.db_check(ctx, db, "daemon")


def run_daemon(ctx, h, d, db, conf, prom, m0):
    t0 = int(d.started)
    ready = d.ready()
    ctx.expect(ready["pid"] == d.p.pid, "READY came from pid %s, the daemon is %d"
               % (ready.get("pid"), d.p.pid))
    st = d.n.wait("STATUS", timeout=5)["fields"]["STATUS"]
    ctx.expect(STATUS_RE.match(st) and st.startswith("%d domains" % len(D1)) and
               "not checked yet" in st, "first STATUS=%r" % st)

    # a second daemon, and run --once, on the same database are refused
    p = ctx.run([ctx.stswatch, "run", "-c", conf], timeout=30)
    ctx.expect(p.returncode == 1 and "in use by another stswatch run or daemon (pid %d"
               % d.p.pid in p.stderr, "a second daemon: exit %d %s" % (p.returncode, p.stderr))
    p = ctx.sw("run", "--once", "-c", conf, timeout=30)
    ctx.expect(p.returncode == 1 and "in use by another stswatch run or daemon" in p.stderr,
               "run --once beside the daemon: exit %d %s" % (p.returncode, p.stderr))
    p = ctx.sw("status", "-c", conf, ns=False)
    ctx.expect(p.returncode in (0, 1, 2, 3) and "ok.test" in p.stdout,
               "status while the daemon runs: %d %s" % (p.returncode, p.stderr))

    # every domain three times or more at its interval
    def enough():
        c = checks(db, since=t0)
        return all(len(c.get(x, [])) >= 3 for x in D1)
    ctx.require(C.wait_for(enough, 3 * IV_LF + 20, 0.5),
                "not every domain was checked three times within %d s: %s\n%s"
                % (3 * IV_LF + 20, {k: len(v) for k, v in checks(db, since=t0).items()},
                   d.stderr()[-1500:]))
    for x in ("ok.test", "split.test", "lf.test"):
        expect_cadence(ctx, db, x, IV_LF if x == "lf.test" else IV, t0, time.time(), "start")
    firsts = {x: checks(db, x, t0)[0][0] for x in D1}
    ctx.expect(all(t - t0 <= (IV_LF if x == "lf.test" else IV) + 2 for x, t in firsts.items()),
               "not every domain was first checked within its interval: %s (start %d)"
               % (firsts, t0))
    ctx.expect(len({phase(x, IV) for x in D1 if x != "lf.test"}) > 1 and
               len(set(firsts.values())) > 1, "the starts are not spread: %s" % firsts)
    # the WARNING domain: re-checked after retry_interval, its problem told once
    w = checks(db, "mxcert-expiring15.test", t0)
    ctx.expect(len(w) >= 2 and near(w[1][0] - w[0][0], RETRY),
               "mxcert-expiring15.test turned WARNING at its first check: the next came "
               "after %s s, want retry_interval %d: %s"
               % (w[1][0] - w[0][0] if len(w) > 1 else "-", RETRY, w))

    # the metrics file and the heartbeat, after each cycle
    ctx.require(C.wait_for(lambda: os.path.exists(prom), IV + 5), "no metrics file %s" % prom)
    C.promtool_ok(ctx, prom, "metrics file")
    check_metrics(ctx, db, prom)
    p = ctx.sw("metrics", "-c", conf, ns=False)
    mp = os.path.join(ctx.tmp, "daemon-cmd.prom")
    with open(mp, "w") as f:
        f.write(p.stdout)
    ctx.expect(p.returncode == 0, "stswatch metrics: exit %d %s" % (p.returncode, p.stderr))
    C.promtool_ok(ctx, mp, "stswatch metrics")
    beats = h.requests("/heartbeat", m0)
    ctx.expect(len(beats) >= 2 and all(r["method"] == "GET" and r.get("tls") and
                                       r["answer"].get("status") == 200 for r in beats),
               "heartbeat: %s" % [(r["method"], r["path"], r.get("tls")) for r in beats])
    gaps = [b["time"] - a["time"] for a, b in zip(beats, beats[1:])]
    ctx.expect(all(IV - 1.5 <= g <= IV + 1.5 for g in gaps),
               "heartbeat not once per cycle (%d s): gaps %s" % (IV, gaps))
    ctx.expect(h.requests("/heartbeat/fail", m0) == [], "heartbeat /fail from a healthy daemon")

    # the world breaks a domain: re-checked after retry_interval, told when confirmed
    tb = time.time()
    C.mutate(ctx, "daemon-flip-break")
    bad = C.wait_for(lambda: [c for c in checks(db, "daemon-flip.test", int(tb))
                              if c[1] == "CRITICAL"][1:], IV + RETRY + 10, 0.3)
    ctx.require(bad, "daemon-flip.test: no two CRITICAL checks within %d s of the mutation: %s"
                % (IV + RETRY + 10, checks(db, "daemon-flip.test", int(tb))))
    crit = [c for c in checks(db, "daemon-flip.test", int(tb)) if c[1] == "CRITICAL"]
    ctx.expect(near(crit[1][0] - crit[0][0], RETRY),
               "daemon-flip.test turned CRITICAL at %d; re-checked at %d, want retry_interval "
               "%d s later" % (crit[0][0], crit[1][0], RETRY))
    got = C.wait_for(lambda: [r for i, t, r in C.hook_posts(h, "/dops", m0)
                              if r["json"]["data"].get("domain") == "daemon-flip.test"], 10)
    ctx.expect(len(got) == 1 and got[0]["json"]["type"] == "stswatch.problem" and
               got[0]["time"] >= crit[1][0] and got[0]["json"]["data"]["status"] == "CRITICAL",
               "daemon-flip.test: told %s, want one problem after the confirming check at %d"
               % ([(r["json"]["type"], r["time"]) for r in got], crit[1][0]))

    # SIGHUP: split.test goes, dual.test and none.test come
    new = [x for x in D1 if x != "split.test"] + D1_ADDED
    d1_conf(ctx, conf, db, new, prom)
    s0 = d.seq()
    t_hup = time.time()
    d.signal(signal.SIGHUP)
    try:
        rl = d.n.wait("RELOADING", "1", timeout=10, since=s0)
        rd = d.n.wait("READY", "1", timeout=15, since=rl["seq"])
    except RuntimeError as e:
        ctx.require(False, "SIGHUP: %s" % e)
    ctx.expect(rd["time"] >= rl["time"], "READY before RELOADING")
    t_loaded = int(rd["time"])
    ctx.expect(d.wait_log(r"configuration reloaded: %d domains \(%d before; 2 never checked"
                          % (len(new), len(D1)), 5),
               "the reload is not logged:\n%s" % d.stderr()[-800:])

    def added_twice():
        c = checks(db, since=t_loaded)
        return all(len(c.get(x, [])) >= 3 for x in D1_ADDED)
    ok = C.wait_for(added_twice, 3 * IV + 12, 0.5)
    ctx.expect(ok, "added domains not checked three times within %d s of the reload: %s"
               % (3 * IV + 12, {x: checks(db, x, t_loaded) for x in D1_ADDED}))
    for x in D1_ADDED:
        ts = [t for t, _ in checks(db, x, t_loaded)]
        ctx.expect(ts and ts[0] - t_loaded <= min(60, IV) + 2,
                   "%s: first checked %s s after the reload, want within a minute (and its "
                   "interval)" % (x, ts[0] - t_loaded if ts else "never"))
        expect_cadence(ctx, db, x, IV, t_loaded, time.time(), "after SIGHUP")
    late = checks(db, "split.test", int(t_hup) + 2)
    ctx.expect(late == [], "split.test was removed and still checked at %s" % late)
    ctx.expect(len(checks(db, "split.test", t0)) >= 3 and
               C.status(ctx, conf, "split.test").get("split.test"),
               "split.test's history is gone")
    check_removed_metrics(ctx, conf, prom, new, "split.test", t_loaded)

    # an invalid configuration is refused; the daemon goes on with the old one
    d1_conf(ctx, conf, db, new + ["split.test"], prom, bad=True)
    line = C.conf_line(conf, 'retention_days = "lots"')
    s1 = d.seq()
    t_bad = time.time()
    d.signal(signal.SIGHUP)
    want = "%s:%d" % (conf, line)
    stt = C.wait_for(lambda: [m for m in d.notes("STATUS", s1)
                              if "reload refused: " + want in m["fields"]["STATUS"]], 10)
    ctx.expect(stt, "STATUS does not show the refused reload (%s): %s"
               % (want, [m["raw"] for m in d.notes(None, s1)]))
    ctx.expect(d.wait_log(r"^<3>reload refused, still running on the previous configuration: "
                          + re.escape(want) + r".*retention_days", 5),
               "the refused reload is not logged as an error with %s:\n%s"
               % (want, d.stderr()[-800:]))
    ctx.expect(d.notes("RELOADING", s1) == [], "RELOADING=1 for a configuration that was "
               "refused")
    ctx.expect(C.wait_for(lambda: checks(db, "dual.test", int(t_bad) + 1), IV + 3, 0.3) and
               checks(db, "split.test", int(t_hup) + 2) == [],
               "after the refused reload the old configuration does not go on")
    d1_conf(ctx, conf, db, new, prom)
    s2 = d.seq()
    d.signal(signal.SIGHUP)
    try:
        d.n.wait("READY", "1", timeout=15, since=s2)
        last = C.wait_for(lambda: d.notes("STATUS", s2)[-1:], 8)
    except RuntimeError as e:
        last = None
        ctx.expect(False, "the valid reload after a refused one: %s" % e)
    ctx.expect(last and "reload refused" not in last[0]["fields"]["STATUS"],
               "STATUS still shows the refused reload: %s" % (last and last[0]["raw"]))

    # the notify messages over the whole run
    sts = [m["fields"]["STATUS"] for m in d.notes("STATUS")]
    ctx.expect(sts and all(STATUS_RE.match(s) for s in sts if not s.startswith("reloading")
                           and not s.startswith("stopping")),
               "STATUS lines not as documented: %s" % [s for s in sts if not STATUS_RE.match(s)])
    ctx.expect(any(re.match(r"^%d domains, 1 CRITICAL, 1 WARNING; next check in \d+ s; "
                            r"outbox 0 pending" % len(new), s) for s in sts),
               "no STATUS with the counts after the reload: %s" % sts[-6:])
    dogs = [m["time"] for m in d.notes("WATCHDOG")]
    gaps = [b - a for a, b in zip(dogs, dogs[1:])]
    span = time.time() - d.started
    ctx.expect(len(dogs) >= span / 1.0 - 4 and gaps and max(gaps) < 1.9,
               "WATCHDOG=1 every second (half of WATCHDOG_USEC=2 s): %d pings in %.0f s, the "
               "longest gap %.2f s" % (len(dogs), span, max(gaps) if gaps else -1))

    # journald: every line has a syslog priority prefix
    lines = [x for x in d.stderr().splitlines() if x]
    ctx.expect(lines and all(re.match(r"^<[0-7]>", x) for x in lines),
               "with JOURNAL_STREAM set, stderr lines without a <N> prefix: %s"
               % [x for x in lines if not re.match(r"^<[0-7]>", x)][:5])
    ctx.expect(any(x.startswith("<6>") for x in lines) and
               any(x.startswith("<4>") for x in lines) and any(x.startswith("<3>") for x in lines),
               "priorities: want <6> info, <4> warning and <3> error lines: %s" % lines[:8])
    # nothing per healthy check (log_level is not "debug"): ok.test, checked a dozen
    # times, OK every time, is in no line
    ok_checks = checks(db, "ok.test", t0)
    ctx.expect(len(ok_checks) >= 3 and all(s == "OK" for _, s in ok_checks) and
               not [x for x in lines if "ok.test" in x],
               "a healthy domain logged: %d checks %s, lines %s"
               % (len(ok_checks), sorted({s for _, s in ok_checks}),
                  [x for x in lines if "ok.test" in x][:3]))

    # SIGTERM: STOPPING, exit 0
    s3 = d.seq()
    d.signal(signal.SIGTERM)
    rc, secs = d.wait_exit(5 + 5)
    ctx.expect(rc == 0 and secs <= 5 + 2, "SIGTERM: exit %s after %.1f s (shutdown_timeout 5 s)"
               % (rc, secs))
    ctx.expect(d.notes("STOPPING", s3), "no STOPPING=1: %s" % [m["raw"] for m in d.notes(None, s3)])
    ctx.expect(d.wait_log(r"^<6>stopped$", 2), "no \"stopped\" line:\n%s" % d.stderr()[-500:])


def check_metrics(ctx, db, prom):
    with open(prom) as f:
        vals, fams = C.metrics(f.read())
    ctx.expect(not [k for k in vals if k[0] == "unparsed"],
               "metrics: lines not parsed: %s" % [k for k in vals if k[0] == "unparsed"])
    want = ["stswatch_domain_status", "stswatch_domain_fails_at_timestamp_seconds",
            "stswatch_domain_policy_max_age_seconds", "stswatch_domain_policy_mode",
            "stswatch_domain_last_check_timestamp_seconds",
            "stswatch_mx_cert_not_after_timestamp_seconds", "stswatch_domains",
            "stswatch_outbox_notifications", "stswatch_checks_total",
            "stswatch_check_duration_seconds_total", "stswatch_last_cycle_timestamp_seconds",
            "stswatch_build_info"]
    ctx.expect(all(f in fams for f in want), "metrics: families missing: %s"
               % [f for f in want if f not in fams])
    code = {"OK": 0, "WARNING": 1, "CRITICAL": 2, "UNKNOWN": 3}
    rows = C.query(db, "SELECT domain, status, fails_at FROM domains")
    for dom, stv, fa in rows:
        v = vals.get(("stswatch_domain_status", frozenset({("domain", dom)})))
        ctx.expect(v == code[stv], "metrics: %s status %s, the database says %s" % (dom, v, stv))
    counts = {}
    for _, stv, _ in rows:
        counts[stv] = counts.get(stv, 0) + 1
    for s, c in code.items():
        v = vals.get(("stswatch_domains", frozenset({("status", s)})))
        ctx.expect(v == counts.get(s, 0), "metrics: stswatch_domains{status=%s} %s, want %d"
                   % (s, v, counts.get(s, 0)))
    fa = dict((dm, f) for dm, _, f in rows)["mxcert-expiring15.test"]
    v = vals.get(("stswatch_domain_fails_at_timestamp_seconds",
                  frozenset({("domain", "mxcert-expiring15.test")})))
    ctx.expect(v == fa, "metrics: fails_at of mxcert-expiring15.test %s, want %s" % (v, fa))
    na = C.query(db, "SELECT not_after FROM certs WHERE domain = ? AND subject LIKE ?",
                 ("mxcert-expiring15.test", "mx1.mxcert-expiring15.test[%"))
    v = vals.get(("stswatch_mx_cert_not_after_timestamp_seconds",
                  frozenset({("domain", "mxcert-expiring15.test"),
                             ("mx", "mx1.mxcert-expiring15.test")})))
    ctx.expect(na and v == na[0][0], "metrics: MX certificate expiry %s, the database %s" % (v, na))
    ctx.expect(vals.get(("stswatch_domain_policy_max_age_seconds",
                         frozenset({("domain", "ok.test")}))) == 604800 and
               vals.get(("stswatch_domain_policy_mode",
                         frozenset({("domain", "ok.test"), ("mode", "enforce")}))) == 1,
               "metrics: ok.test's policy max_age and mode")
    n = C.query(db, "SELECT count(*) FROM checks")[0][0]
    v = vals.get(("stswatch_checks_total", frozenset()))
    ctx.expect(v is not None and 1 <= v <= n, "metrics: checks_total %s, %d checks recorded"
               % (v, n))
    ctx.expect(vals.get(("stswatch_build_info", frozenset({("version", "0.1.0")}))) == 1,
               "metrics: build_info %s" % [k for k in vals if k[0] == "stswatch_build_info"])
    v = vals.get(("stswatch_last_cycle_timestamp_seconds", frozenset()))
    ctx.expect(v and abs(v - time.time()) < 3 * IV, "metrics: last cycle at %s" % v)


def check_removed_metrics(ctx, conf, prom, domains, gone, t_loaded):
    """After a reload that removed gone: its series vanish from the metrics file and from
    `stswatch metrics` (its rows stay: `status` names it when asked, `history` shows it)."""
    ctx.require(C.wait_for(lambda: os.path.getmtime(prom) >= t_loaded + 1, IV + 5, 0.3),
                "no metrics file written since the reload at %d" % t_loaded)
    out = os.path.join(ctx.tmp, "daemon-reload-cmd.prom")
    p = ctx.sw("metrics", "-c", conf, ns=False)
    with open(out, "w") as f:
        f.write(p.stdout)
    for path, what in ((prom, "metrics file"), (out, "stswatch metrics")):
        C.promtool_ok(ctx, path, what + " after the reload")
        with open(path) as f:
            text = f.read()
        vals, _ = C.metrics(text)
        doms = {v for k in vals for n, v in k[1] if n == "domain"}
        ctx.expect(gone not in text, "%s: %s was removed by the reload and is still exported: %s"
                   % (what, gone, [ln for ln in text.splitlines() if gone in ln][:3]))
        ctx.expect(doms == set(domains), "%s: the domains exported after the reload %s, "
                   "want the configured %s" % (what, sorted(doms), sorted(domains)))
        total = sum(vals.get(("stswatch_domains", frozenset({("status", s)})), 0)
                    for s in ("OK", "WARNING", "CRITICAL", "UNKNOWN"))
        ctx.expect(total == len(domains), "%s: stswatch_domains adds up to %s, %d configured"
                   % (what, total, len(domains)))
    listed = ctx.sw("status", "--format", "json", "-c", conf, ns=False).stdout
    ctx.expect(gone not in listed and all(x in listed for x in domains),
               "status lists the configured domains only: %s" % listed[:300])
    p = ctx.sw("history", gone, "-c", conf, ns=False)
    ctx.expect(p.returncode == 0 and "status changes" in p.stdout,
               "history %s after its removal: exit %d %s" % (gone, p.returncode, p.stderr))


# ---- kill -9 and restart ----------------------------------------------------------------------

D2 = ["ok.test", "split.test", "unknownkeys.test", "wildcard.test", "lf.test", "dual.test",
      "shared-a.test", "shared-b.test", "tlsrpt-note.test", "txt-long.test", "none.test",
      "hist3.test", "null-mx.test", "many-mx.test", "mxcert-expiring15.test", "mx-partial.test"]
IV2 = 12


def test_restart(ctx):
    h = C.hooks(ctx)
    h.reset()
    h.secret("/rops", ctx.lab["webhook"]["secrets"]["/ops"]["secret"])
    db = os.path.join(ctx.tmp, "restart.db")
    conf = os.path.join(ctx.tmp, "restart.conf")
    C.write_conf(ctx, conf, db, [C.webhook_rcv(ctx, "ops", "/rops", secret=True)],
                 notify=["ops"], settings='interval = "%ds";\nretry_interval = "3s";\n' % IV2,
                 domains=D2)
    m0 = h.mark()
    d1 = Daemon(ctx, conf, "r1", watchdog_usec=0, journal="other")
    d2 = None
    try:
        d1.ready()
        t0 = int(d1.started)
        # every domain checked (its next check is then in its phase), the alerts delivered
        ctx.require(C.wait_for(lambda: all(checks(db, x, t0) for x in D2), IV2 + 15, 0.5),
                    "not every domain checked: %s" % {k: len(v) for k, v in
                                                      checks(db, since=t0).items()})
        C.wait_for(lambda: C.query(db, "SELECT count(*) FROM outbox WHERE state = 'sent'")
                   [0][0] == 2, 10)
        told = C.hook_posts(h, "/rops", m0)
        ctx.expect(sorted((t, r["json"]["data"]["domain"]) for _, t, r in told) ==
                   [("stswatch.problem", "mx-partial.test"),
                    ("stswatch.problem", "mxcert-expiring15.test")],
                   "before the kill: told %s" % [(t, r["json"]["data"].get("domain"))
                                                  for _, t, r in told])
        d1.signal(signal.SIGKILL)
        d1.wait_exit(10)
        # JOURNAL_STREAM names another stream than stderr (a file): no priority prefixes
        lines = [x for x in d1.stderr().splitlines() if x]
        ctx.expect(lines and all(x.startswith("stswatch: ") for x in lines),
                   "JOURNAL_STREAM not stderr's device:inode, yet lines without \"stswatch: \""
                   " (journald prefixes in a file?): %s"
                   % [x for x in lines if not x.startswith("stswatch: ")][:5])
        kept = dict(C.query(db, "SELECT domain, next_due FROM schedule"))
        ctx.require(sorted(kept) == sorted(D2), "schedule rows: %s" % sorted(kept))
        t_restart = time.time()
        d2 = Daemon(ctx, conf, "r2", watchdog_usec=0)
        d2.ready()
        ctx.expect(d2.wait_log(r"watching %d domains \(0 never checked" % len(D2), 5),
                   "the restart does not know the domains: %s" % d2.stderr()[:500])
        # no burst: the first seconds see about their share of the interval's checks
        time.sleep(max(0, t_restart + 4 - time.time()))
        run2 = C.query(db, "SELECT max(id) FROM runs")[0][0]
        early = len(run_checks(db, run2))
        ctx.expect(early <= len(D2) * 4 / IV2 + 3,
                   "%d checks in the first 4 s after the restart (%d domains every %d s)"
                   % (early, len(D2), IV2))
        # each domain's next check is the one the database kept (or caught up, if it was due
        # while no daemon ran)
        ctx.require(C.wait_for(lambda: all(run_checks(db, run2, x) for x in D2), IV2 + 15,
                               0.5),
                    "not every domain checked within an interval of the restart: %s"
                    % [x for x in D2 if not run_checks(db, run2, x)])
        resumed = overdue = 0
        for x in D2:
            first = run_checks(db, run2, x)[0]
            if kept[x] >= t_restart + 1:
                resumed += 1
                ctx.expect(near(first, kept[x]), "%s: next due %d (kept), checked at %d after "
                           "the restart" % (x, kept[x], first))
            else:
                overdue += 1
                ctx.expect(first - t_restart <= IV2 + 2, "%s: overdue, caught up only %.0f s "
                           "after the restart" % (x, first - t_restart))
        ctx.expect(resumed >= len(D2) / 2, "only %d of %d domains had a kept next check "
                   "after the restart: the test proved little" % (resumed, len(D2)))
        C.wait_for(lambda: C.query(db, "SELECT count(*) FROM outbox WHERE state = 'pending'")
                   [0][0] == 0, 5)
        time.sleep(1)
        all_told = C.hook_posts(h, "/rops", m0)
        ids = [i for i, _, _ in all_told]
        ctx.expect(len(all_told) == len(told) and len(set(ids)) == len(ids),
                   "after the restart: told %s (webhook-ids %s), want nothing new"
                   % ([(t, r["json"]["data"].get("domain")) for _, t, r in all_told], ids))
        d2.signal(signal.SIGTERM)
        rc, secs = d2.wait_exit(15)
        ctx.expect(rc == 0, "SIGTERM after the restart: exit %s" % rc)
        ctx.expect(d2.stderr().startswith("stswatch: "), "without JOURNAL_STREAM the lines "
                   "start with \"stswatch: \": %r" % d2.stderr()[:80])
    finally:
        d1.close()
        if d2:
            d2.close()
    C.db_check(ctx, db, "restart")


# ---- a monitor that cannot keep up; SIGTERM during checks --------------------------------------

SLOW = ["fetch-timeout.test", "mx-silent.test", "slow.test", "timeout.test"]
BLACKHOLE = "10.80.0.3:443"  # fetch-timeout.test's policy host: takes TCP, never answers


def test_stop(ctx):
    h = C.hooks(ctx)
    h.reset()
    db = os.path.join(ctx.tmp, "stop.db")
    conf = os.path.join(ctx.tmp, "stop.conf")

    def conf_with(timeout, domains):
        C.write_conf(ctx, conf, db, settings='interval = "5s";\nconcurrency = 1;\n'
                     'shutdown_timeout = "%ds";\nheartbeat_url = "%s/hb3";\n'
                     % (timeout, ctx.lab["webhook"]["https_url"]), domains=domains)

    # 1: a check at a time, each 3 to 6 s, four domains every 5 s: each waits longer than
    # an interval for its turn, and the heartbeat says /fail
    conf_with(8, SLOW)
    m0 = h.mark()
    d = Daemon(ctx, conf, "s1", watchdog_usec=0)
    try:
        d.ready()
        fail = C.wait_for(lambda: h.requests("/hb3/fail", m0), 30, 0.5)
        ctx.expect(fail and fail[0]["method"] == "GET",
                   "heartbeat: no /fail from a monitor that cannot keep up within 30 s: %s"
                   % [r["path"] for r in h.requests(None, m0)])
        ctx.expect(d.wait_log(r"cycle: \d+ checks, 0 not recorded, [1-9]\d* overdue", 2),
                   "the cycle line does not say overdue:\n%s" % d.stderr()[-800:])
        # SIGTERM while fetch-timeout.test waits for its policy host: it finishes (6 s at
        # most) within shutdown_timeout (8 s) and is recorded
        ctx.require(C.wait_for(lambda: C.ns_connections(ctx, d.p.pid, BLACKHOLE), 40, 0.2),
                    "fetch-timeout.test's check never started")
        before = len(checks(db, "fetch-timeout.test"))
        s0 = d.seq()
        d.signal(signal.SIGTERM)
        rc, secs = d.wait_exit(8 + 5)
        ctx.expect(rc == 0 and secs <= 8 + 1.5,
                   "SIGTERM with a check in flight: exit %s after %.1f s (shutdown_timeout 8 s)"
                   % (rc, secs))
        ctx.expect(d.notes("STOPPING", s0), "no STOPPING=1")
        ctx.expect(len(checks(db, "fetch-timeout.test")) == before + 1 and
                   "did not finish" not in d.stderr(),
                   "the check in flight at SIGTERM was not let finish and recorded: %d -> %d\n%s"
                   % (before, len(checks(db, "fetch-timeout.test")), d.stderr()[-600:]))
    finally:
        d.close()
    C.db_check(ctx, db, "stop, drained")

    # 2: shutdown_timeout 1 s: the check in flight is ended, not recorded, exit 0 at the bound
    conf_with(1, SLOW[:1])
    d = Daemon(ctx, conf, "s2", watchdog_usec=0)
    try:
        d.ready()
        ctx.require(C.wait_for(lambda: C.ns_connections(ctx, d.p.pid, BLACKHOLE), 20, 0.2),
                    "fetch-timeout.test's check never started")
        before = len(checks(db, "fetch-timeout.test"))
        d.signal(signal.SIGTERM)
        rc, secs = d.wait_exit(10)
        ctx.expect(rc == 0 and 0.8 <= secs <= 1 + 1.5,
                   "SIGTERM, shutdown_timeout 1 s: exit %s after %.1f s" % (rc, secs))
        ctx.expect(re.search(r"did not finish within 1 s: ended, not recorded", d.stderr()),
                   "the ended check is not logged:\n%s" % d.stderr()[-600:])
        ctx.expect(len(checks(db, "fetch-timeout.test")) == before,
                   "a check ended by the stop was recorded")
    finally:
        d.close()
    C.db_check(ctx, db, "stop, ended")

    p = ctx.sw("status", "-c", conf, ns=False)
    ctx.expect(p.returncode in (0, 1, 2, 3) and "fetch-timeout.test" in p.stdout,
               "status after the stops: %s" % p.stderr)

    # 3: SIGINT (a terminal's ^C) stops it as SIGTERM does
    conf_with(5, ["ok.test"])
    d = Daemon(ctx, conf, "s3", watchdog_usec=0)
    try:
        d.ready()
        ctx.require(C.wait_for(lambda: checks(db, "ok.test"), 20, 0.2), "ok.test never checked")
        s0 = d.seq()
        d.signal(signal.SIGINT)
        rc, secs = d.wait_exit(10)
        ctx.expect(rc == 0 and secs <= 5 + 1.5 and d.notes("STOPPING", s0),
                   "SIGINT: exit %s after %.1f s, STOPPING %s" % (rc, secs,
                                                                 bool(d.notes("STOPPING", s0))))
    finally:
        d.close()
    C.db_check(ctx, db, "stop, SIGINT")


# ---- the monitor's own vantage point under the daemon -------------------------------------------

def test_dvantage(ctx):
    h = C.hooks(ctx)
    h.reset()
    db = os.path.join(ctx.tmp, "dvantage.db")
    conf = os.path.join(ctx.tmp, "dvantage.conf")
    # confirm = 1: a check that wrongly said CRITICAL would tell the owners at once
    C.write_conf(ctx, conf, db, [C.webhook_rcv(ctx, "owners", "/dv-owners"),
                                 C.webhook_rcv(ctx, "operator", "/dv-operator")],
                 notify=["owners"], alerts={"operator": '"operator"', "confirm": "1"},
                 settings='interval = "20s";\nretry_interval = "15s";\nlog_level = "debug";\n',
                 domains=VANTAGE)
    db2 = os.path.join(ctx.tmp, "dvantage2.db")
    conf2 = os.path.join(ctx.tmp, "dvantage2.conf")

    def conf2_with(hold):
        C.write_conf(ctx, conf2, db2, settings='interval = "10s";\nretry_interval = "%ds";\n'
                     'log_level = "debug";\n' % hold, domains=["ok.test"])

    m0 = h.mark()
    C.lab_cmd(ctx, "firewall", ctx.dir, "block-smtp")
    d = d2 = None
    try:
        # 1: twelve domains, never checked, due within the first 20 s
        d = Daemon(ctx, conf, "v1", watchdog_usec=0)
        d.ready()
        ctx.require(C.wait_for(lambda: all(checks(db, x) for x in VANTAGE), 45, 0.5),
                    "not every domain recorded within 45 s: %s\n%s"
                    % ([x for x in VANTAGE if not checks(db, x)], d.stderr()[-1500:]))
        first = {x: checks(db, x)[0][1] for x in VANTAGE}
        ctx.expect(all(s == "UNKNOWN" for s in first.values()),
                   "blocked: first checks %s, want every one UNKNOWN"
                   % {x: s for x, s in first.items() if s != "UNKNOWN"})
        ctx.expect(re.search(r"no MX address accepted a connection; waiting up to 15 s for the "
                             r"verdict", d.stderr()),
                   "blocked: no domain waited for the verdict:\n%s" % d.stderr()[-1500:])
        opened = C.query(db, "SELECT domain, code FROM findings WHERE code LIKE 'mx.%'")
        ctx.expect(opened == [], "blocked: MX findings opened: %s" % opened)
        C.wait_for(lambda: C.hook_posts(h, "/dv-operator", m0), 10, 0.2)
        d.signal(signal.SIGTERM)
        rc, _ = d.wait_exit(15)
        ctx.expect(rc == 0, "blocked, SIGTERM: exit %s" % rc)
        ctx.expect(C.hook_posts(h, "/dv-owners", m0) == [],
                   "blocked: the owners were told: %s"
                   % [(t, r["json"]["data"].get("domain")) for _, t, r in
                      C.hook_posts(h, "/dv-owners", m0)])
        op = [t for _, t, _ in C.hook_posts(h, "/dv-operator", m0)]
        ctx.expect(op == ["stswatch.inconclusive"], "blocked: the operator got %s" % op)
        C.db_check(ctx, db, "dvantage")

        # 2: one domain (two MX addresses: too few to tell) waits; SIGTERM drops it
        conf2_with(10)
        d2 = Daemon(ctx, conf2, "v2", watchdog_usec=0)
        d2.ready()
        ctx.require(d2.wait_log(r"ok\.test: no MX address accepted a connection; waiting up "
                                r"to 10 s", 20),
                    "ok.test did not wait:\n%s" % d2.stderr()[-1000:])
        # systemctl status shows that it waits (it is neither checked nor due)
        waiting = C.wait_for(lambda: [m["fields"]["STATUS"] for m in d2.notes("STATUS")
                                      if "1 waiting for the port 25 verdict" in
                                      m["fields"]["STATUS"]], 6, 0.2)
        ctx.expect(waiting and re.match(r"^1 domains, 0 CRITICAL, 0 WARNING, 1 not checked yet, "
                                        r"1 waiting for the port 25 verdict(; next check in "
                                        r"\d+ s)?; outbox 0 pending$", waiting[0]),
                   "no STATUS= names the domain that waits: %s"
                   % [m["fields"]["STATUS"] for m in d2.notes("STATUS")][-4:])
        d2.signal(signal.SIGTERM)
        rc, secs = d2.wait_exit(15)
        ctx.expect(rc == 0 and secs < 5, "SIGTERM while ok.test waits: exit %s after %.1f s"
                   % (rc, secs))
        ctx.expect("1 checked domain that waited for the verdict on port 25 was not recorded"
                   in d2.stderr(), "the drop is not logged:\n%s" % d2.stderr()[-800:])
        ctx.expect(checks(db2, "ok.test") == [], "the domain that waited was recorded: %s"
                   % checks(db2, "ok.test"))
        d2.close()
        # the restart checks it again (it is still due); the bound passes and it is judged
        # on its own: what two addresses show cannot be told from a dead domain
        conf2_with(2)
        d2 = Daemon(ctx, conf2, "v3", watchdog_usec=0)
        d2.ready()
        ctx.require(C.wait_for(lambda: checks(db2, "ok.test"), 20, 0.2),
                    "ok.test not recorded after the restart:\n%s" % d2.stderr()[-1000:])
        ctx.expect(checks(db2, "ok.test")[0][1] == "CRITICAL" and
                   re.search(r"ok\.test: judged on its own after [23] s: only 2 MX addresses "
                             r"were tried", d2.stderr()),
                   "after the restart: %s\n%s" % (checks(db2, "ok.test"), d2.stderr()[-1000:]))
        d2.signal(signal.SIGTERM)
        rc, _ = d2.wait_exit(15)
        ctx.expect(rc == 0, "the restart, SIGTERM: exit %s" % rc)
        C.db_check(ctx, db2, "dvantage, restart")
    finally:
        C.lab_cmd(ctx, "firewall", ctx.dir, "unblock")
        for x in (d, d2):
            if x:
                x.close()


TESTS = [("daemon", test_daemon), ("restart", test_restart), ("stop", test_stop),
         ("dvantage", test_dvantage)]
