#!/usr/bin/python3
"""integration: the real stswatch binary against the lab's real servers.

    tests/lab/integration.py BUILD LABDIR [TEST...]

Brings the lab up in LABDIR (namespace $LAB_NS, default stswlab), runs the tests in the
order below (the history tests change the world, so they come after the scenario checks),
and always brings the lab down. TEST names a subset (see --list). Each test makes many
expectations; a test fails when one of them fails, and all failed expectations are
printed. Exit 0 when every test passed, 1 otherwise. Python 3 standard library only.

What it shows (docs/LAB.md has the world):
  cli       usage errors, config check with file:line, lint of TXT and policy input
  check     every scenario: status, expected finding codes, nothing worse than expected
            on the healthy rows, the JSON contract, exit code; every single-run finding
            code of the catalogue is produced by some scenario
  details   redirect Location, SERVFAIL versus timeout, fails_at of an expiring MX
            certificate, IPv4 and IPv6 addresses, the text output, the shared MX pool
            probed once per sweep (counted in postfix's log), a descriptor limit far
            below the concurrency costs no healthy domain
  senders   where senders read a record or policy differently (checks/senders.h): the
            live WARNING and its wording naming who ignores it, the JSON senders field,
            the plugin's state, lint strict (exit 2) and --lenient (exit 0) of the same
  plugin    check_mta_sts states, perfdata syntax, its own deadline, -h and usage
  env       proxy variables and SSLKEYLOGFILE are ignored; --tls-keylog writes a 0600 file
  engines   Nagios 4 and Icinga 2 run check_mta_sts against a lab domain (e2e.sh)
  history   run, mutate the world (lab.py mutate), run again: change detection,
            cache.stale_policy, fails_at, the cached policy senders keep when the host
            answers 404 and when protection ends, findings opened and closed, history
  crash     kill -9 during runs of many domains; db check passes, each domain shows
            its previous check or its new one whole (one transaction per domain), what
            a killed run checked before the kill is kept, a reader works during a run
  alerts, delivery, killdeliv, silence, vantage, renewal
            the alerts of issue 9 against the lab's webhook receiver, Alertmanager and
            mail server (tests/lab/it_alerts.py says what each shows)
  daemon, restart, stop, dvantage
            the scheduler daemon of issue 10 under a NOTIFY_SOCKET listener
            (tests/lab/it_daemon.py)
"""
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import traceback

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import it_alerts  # noqa: E402
import it_daemon  # noqa: E402
PYTHON = "/usr/bin/python3"
STATUS_RC = {"OK": 0, "WARNING": 1, "CRITICAL": 2, "UNKNOWN": 3}
RANK = {"OK": 0, "WARNING": 1, "UNKNOWN": 2, "CRITICAL": 3}
# codes that need the history of an earlier run (the history test makes them), or that
# only the plugin's own deadline makes (the plugin test), or that signal our own bug or
# shortage (check.resources: no descriptor left for a socket; the unit tests make it)
NOT_SINGLE_RUN = {
    "sts.txt.removed", "sts.id.changed", "sts.id.stale", "sts.id.reused", "policy.gone",
    "policy.cert.renewed", "mx.cert.renewed", "mx.changed", "cache.stale_policy",
    "check.timeout", "internal.unknown_code", "check.vantage", "check.resources",
}


class Failed(Exception):
    pass


class Ctx:
    def __init__(self, build, labdir):
        self.build = os.path.abspath(build)
        self.stswatch = os.path.join(self.build, "stswatch")
        self.plugin = os.path.join(self.build, "check_mta_sts")
        self.dir = os.path.abspath(labdir)
        self.ns = os.environ.get("LAB_NS", "stswlab")
        self.lab = None
        self.tmp = None
        self.errors = []
        self.n = 0

    def expect(self, cond, msg):
        self.n += 1
        if not cond:
            self.errors.append(msg)
        return cond

    def require(self, cond, msg):
        """An expectation the rest of the test cannot do without."""
        if not self.expect(cond, msg):
            raise Failed(msg)

    def run(self, argv, ns=True, input=None, timeout=180, env=None):
        full = (["ip", "netns", "exec", self.ns] if ns else []) + list(argv)
        e = dict(os.environ)
        e.update(env or {})
        try:
            return subprocess.run(full, input=input, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, timeout=timeout, text=True, env=e)
        except subprocess.TimeoutExpired:
            raise Failed("%s: no exit within %d s" % (" ".join(argv), timeout))

    def sw(self, *args, **kw):
        return self.run([self.stswatch] + list(args), **kw)

    def lab_args(self):
        return ["--resolver", self.lab["resolver"], "--ca-file", self.lab["ca_file"]]

    def write_conf(self, path, domains, db):
        """The lab's configuration with another domain list and database."""
        with open(self.lab["config"]) as f:
            text = f.read()
        text = text[:text.index("domains = (")]
        text = re.sub(r'(?m)^database = .*$', 'database = "%s";' % db, text)
        text += "domains = (\n%s\n);\n" % ",\n".join('  "%s"' % d for d in domains)
        with open(path, "w") as f:
            f.write(text)
        return path


def json_lines(ctx, text, what):
    out = []
    for i, line in enumerate(text.splitlines()):
        try:
            out.append(json.loads(line))
        except ValueError as e:
            raise Failed("%s: line %d is not JSON (%s): %.200s" % (what, i + 1, e, line))
    return out


def catalogue():
    with open(os.path.join(ROOT, "checks", "findings.c")) as f:
        src = f.read()
    return set(re.findall(r'"([a-z]+(?:\.[a-z_]+)+)"', src)) - {"findings.h"}


# ---- cli ------------------------------------------------------------------------------------

def test_cli(ctx):
    p = ctx.sw("--version", ns=False)
    ctx.expect(p.returncode == 0 and re.search(r"\d+\.\d+\.\d+", p.stdout),
               "--version: rc %d, %r" % (p.returncode, p.stdout))
    p = ctx.sw("check", "--concurrency", "many", "ok.test", ns=False)
    ctx.expect(p.returncode == 3 and "--concurrency" in p.stderr,
               "check --concurrency many: want rc 3 naming the option, got %d %r"
               % (p.returncode, p.stderr))
    p = ctx.sw("frobnicate", ns=False)
    ctx.expect(p.returncode == 3 and "frobnicate" in p.stderr,
               "unknown command: rc %d %r" % (p.returncode, p.stderr))

    bad = os.path.join(ctx.tmp, "bad.conf")
    with open(bad, "w") as f:
        f.write('resolver = "10.53.0.1";\nconcurrency = 100;\ntimeouts = {\n'
                '  policy = "forever";\n};\ndomains = ( "ok.test" );\n')
    p = ctx.sw("config", "check", "-c", bad, ns=False)
    ctx.expect(p.returncode != 0 and re.search(re.escape(bad) + r":4\b", p.stderr)
               and "policy" in p.stderr,
               "config check of a bad duration: want %s:4 and the setting, got rc %d %r"
               % (bad, p.returncode, p.stderr))
    with open(bad, "w") as f:
        f.write('resolver = "10.53.0.1";\nconcurrency = ;\ndomains = ( "ok.test" );\n')
    p = ctx.sw("config", "check", "-c", bad, ns=False)
    ctx.expect(p.returncode != 0 and (bad + ":2") in p.stderr,
               "config check of a syntax error: rc %d %r" % (p.returncode, p.stderr))
    p = ctx.sw("config", "check", "-c", ctx.lab["config"], ns=False)
    ctx.expect(p.returncode == 0, "config check of the lab's configuration: rc %d %r"
               % (p.returncode, p.stderr))

    p = ctx.sw("lint", "txt", "--format", "json", "v=STSv1; id=abc", "v=STSv1; id=def",
               ns=False)
    codes = [f["code"] for o in json_lines(ctx, p.stdout, "lint txt") for f in o["findings"]]
    ctx.expect(p.returncode == 2 and "sts.txt.multiple" in codes,
               "lint txt of two records: rc %d codes %s" % (p.returncode, codes))
    fs = [f for o in json_lines(ctx, p.stdout, "lint txt") for f in o["findings"]]
    ctx.expect(fs and all(all(k in f for k in FINDING_FIELDS) and finding_joined(f) for f in fs),
               "lint txt --format json: findings without their parts: %s" % fs)
    # the same identity twice is one finding: two bad lines, a repeated max_age
    pol = ("version: STSv1\r\nmode: enforce\r\nmx: mx1.example\r\nmax_age: 604800\r\n"
           "max_age: 86400\r\nmax_age: 60\r\nbad line\r\nworse line\r\n")
    p = ctx.sw("lint", "policy", "-", "--format", "json", input=pol, ns=False)
    fs = [f for o in json_lines(ctx, p.stdout, "lint policy") for f in o["findings"]]
    codes = sorted(f["code"] for f in fs)
    inv = [f for f in fs if f["code"] == "policy.invalid"]
    ctx.expect(p.returncode == 2 and codes == ["policy.invalid", "policy.note"] and
               "line 7" in inv[0]["message"] and "line 8" in inv[0]["message"],
               "lint policy with two bad lines and max_age thrice: rc %d findings %s"
               % (p.returncode, fs))
    p = ctx.sw("lint", "txt", "v=STSv1; id=20240101T000000", ns=False)
    ctx.expect(p.returncode == 0, "lint txt of a valid record: rc %d %r" % (p.returncode, p.stdout))
    # where senders differ lint is strict by default, --lenient reads as most senders do
    p = ctx.sw("lint", "txt", "v=STSv1; id=policy1 ", ns=False)
    ctx.expect(p.returncode == 2 and IGNORED in p.stdout and TRAILING_WHO in p.stdout,
               "lint txt with a trailing space: rc %d %r" % (p.returncode, p.stdout))
    p = ctx.sw("lint", "txt", "--lenient", "v=STSv1; id=policy1 ", ns=False)
    ctx.expect(p.returncode == 0 and "valid, id policy1" in p.stdout,
               "lint --lenient txt with a trailing space: rc %d %r" % (p.returncode, p.stdout))
    pol = "version: STSv1\n\nmode: enforce\nmx: mx1.example\nmax_age: 604800\n"
    p = ctx.sw("lint", "policy", "-", input=pol, ns=False)
    ctx.expect(p.returncode == 2 and BLANK_WHO in p.stdout,
               "lint policy with a blank line: rc %d %r" % (p.returncode, p.stdout))
    p = ctx.sw("lint", "policy", "-", "--lenient", input=pol, ns=False)
    ctx.expect(p.returncode == 0, "lint --lenient policy with a blank line: rc %d %r"
               % (p.returncode, p.stdout))
    pol = "version: STSv1\nmode: enforce\nmx: *.xn--aca-6ma.example\nmax_age: 604800\n"
    p = ctx.sw("lint", "policy", "-", "--mx", "mx.\u00f1aca.example", input=pol, ns=False)
    ctx.expect(p.returncode == 0 and "(as mx.xn--aca-6ma.example): covered" in p.stdout,
               "lint --mx with a U-label host: rc %d %r" % (p.returncode, p.stdout))

    pol = "version: STSv1\r\nmode: enforce\r\nmx: *.mail.example\r\nmax_age: 604800\r\n"
    p = ctx.sw("lint", "policy", "-", "--mx", "a.b.mail.example", "--mx", "x.mail.example",
               input=pol, ns=False)
    ctx.expect(p.returncode == 2 and "one label" in p.stdout and "x.mail.example" in p.stdout,
               "lint policy with an uncovered MX: rc %d %r" % (p.returncode, p.stdout))
    p = ctx.sw("lint", "policy", "-", input="version: STSv1\nmode: enforce\nmax_age: 86400\n",
               ns=False)
    ctx.expect(p.returncode == 2 and "policy.mx_missing" in p.stdout,
               "lint policy without mx: rc %d %r" % (p.returncode, p.stdout))


# ---- check: every scenario ------------------------------------------------------------------

FINDING_FIELDS = ("code", "severity", "subject", "message", "what", "evidence", "consequence",
                  "fix")


def finding_joined(f):
    """The message is the parts joined: what (evidence); consequence; fix."""
    if not all(isinstance(f.get(k), str) for k in FINDING_FIELDS[3:]):
        return False
    m = f["what"]
    if f["evidence"]:
        m = "%s (%s)" % (m, f["evidence"]) if m else f["evidence"]
    for k in ("consequence", "fix"):
        if f[k]:
            m = "%s; %s" % (m, f[k]) if m else f[k]
    return f["message"] == m


def check_contract(ctx, o):
    """The JSON fields DESIGN.md and the issue promise."""
    d = o.get("domain", "?")
    for k in ("domain", "status", "mode", "txt_id", "fails_at", "checked_at", "findings",
              "policy", "mx"):
        ctx.expect(k in o, "%s: JSON lacks %s" % (d, k))
    ctx.expect(o.get("status") in STATUS_RC, "%s: status %r" % (d, o.get("status")))
    ctx.expect(re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", o.get("checked_at") or ""),
               "%s: checked_at %r" % (d, o.get("checked_at")))
    seen = set()
    for f in o.get("findings", []):
        ctx.expect(all(k in f for k in FINDING_FIELDS), "%s: finding lacks fields: %s" % (d, f))
        ctx.expect(finding_joined(f), "%s: message is not what (evidence); consequence; fix: %s"
                   % (d, f))
        ctx.expect((f.get("code"), f.get("subject")) not in seen,
                   "%s: two findings %s for %s" % (d, f.get("code"), f.get("subject")))
        seen.add((f.get("code"), f.get("subject")))
    for m in o.get("mx") or []:
        ctx.expect(all(k in m for k in ("host", "matched", "addresses")),
                   "%s: mx entry lacks fields: %s" % (d, m))
        for a in m.get("addresses") or []:
            ctx.expect(all(k in a for k in ("ip", "starttls", "tls_version", "cert_not_after",
                                            "error")),
                       "%s: address entry lacks fields: %s" % (d, a))


def test_check(ctx):
    p = ctx.sw("check", "--format", "json", "-c", ctx.lab["config"])
    out = json_lines(ctx, p.stdout, "check")
    scen = ctx.lab["scenarios"]
    got = {o["domain"]: o for o in out}
    ctx.require(sorted(got) == sorted(scen),
                "check: domains %s, want %s" % (sorted(got), sorted(scen)))
    ctx.expect([o["domain"] for o in out] == list(ctx.lab["domain_order"]),
               "check: output is not in configuration order")
    # CRITICAL ranks above UNKNOWN (docs/ARCHITECTURE.md): the exit code is the worst's
    worst = max((o["status"] for o in out), key=lambda s: RANK[s])
    ctx.expect(p.returncode == STATUS_RC[worst],
               "check: exit %d, want %d (worst %s)" % (p.returncode, STATUS_RC[worst], worst))
    seen = set()
    for dom, s in sorted(scen.items()):
        o = got[dom]
        check_contract(ctx, o)
        codes = [f["code"] for f in o["findings"]]
        seen |= set(codes)
        ctx.expect(o["status"] == s["status"],
                   "%s: status %s, want %s (%s); findings %s"
                   % (dom, o["status"], s["status"], s["purpose"], codes))
        for c in s["expect"]:
            ctx.expect(c in codes, "%s: %s missing (%s); got %s" % (dom, c, s["purpose"], codes))
        # nothing at or above the expected status that the row did not ask for
        for f in o["findings"]:
            if f["severity"] in RANK and f["code"] not in s["expect"]:
                ctx.expect(RANK[f["severity"]] < max(RANK[s["status"]], 1),
                           "%s: unexpected %s %s: %s" % (dom, f["severity"], f["code"],
                                                         f["message"]))
    missing = sorted(catalogue() - NOT_SINGLE_RUN - seen)
    ctx.expect(not missing, "single-run finding codes no scenario produced: %s" % missing)


# ---- details --------------------------------------------------------------------------------

def check_one(ctx, *domains, fmt="json", extra=()):
    p = ctx.sw("check", "--format", fmt, "-c", ctx.lab["config"], *(list(extra) + list(domains)))
    if fmt != "json":
        return p, None
    return p, {o["domain"]: o for o in json_lines(ctx, p.stdout, "check")}


def finding(o, code):
    return [f for f in o["findings"] if f["code"] == code]


def ts(s):
    return time.mktime(time.strptime(s, "%Y-%m-%dT%H:%M:%SZ")) - time.timezone


def smtpd_connects(ctx, host):
    path = os.path.join(ctx.dir, "log", "postfix.log")
    try:
        with open(path, errors="replace") as f:
            return len(re.findall(r"postfix/%s/smtpd\[\d+\]: connect from" % re.escape(host),
                                  f.read()))
    except OSError:
        return 0


def test_details(ctx):
    _, r = check_one(ctx, "redirect.test", "servfail.test", "timeout.test",
                     "mxcert-expiring.test", "dual.test")
    red = finding(r["redirect.test"], "policy.redirect")
    ctx.expect(red and "https://www.redirect.test/.well-known/mta-sts.txt" in red[0]["message"],
               "redirect: the finding should name the Location: %s" % red)
    ctx.expect(r["redirect.test"]["policy"].get("location") ==
               "https://www.redirect.test/.well-known/mta-sts.txt",
               "redirect: policy.location %r" % r["redirect.test"]["policy"].get("location"))
    sf = " ".join(f["message"] for f in finding(r["servfail.test"], "dns.error"))
    to = " ".join(f["message"] for f in finding(r["timeout.test"], "dns.error"))
    ctx.expect(re.search(r"(?i)servfail|server failure", sf) and not re.search(r"(?i)timeout|timed out", sf),
               "servfail.test: dns.error should say SERVFAIL: %.300s" % sf)
    ctx.expect(re.search(r"(?i)timeout|timed out", to) and not re.search(r"(?i)servfail", to),
               "timeout.test: dns.error should say timeout: %.300s" % to)
    for d in ("servfail.test", "timeout.test"):
        ctx.expect(not finding(r[d], "sts.txt.missing"),
                   "%s: a failed lookup must not read as 'no record'" % d)
    e = r["mxcert-expiring.test"]
    left = (ts(e["fails_at"]) - ts(e["checked_at"])) / 86400 if e.get("fails_at") else None
    ctx.expect(left is not None and 4.9 < left < 5.2,
               "mxcert-expiring.test: fails_at %s, want about 5 days after %s"
               % (e.get("fails_at"), e.get("checked_at")))
    fam = sorted(a.get("family") for m in r["dual.test"]["mx"] for a in m["addresses"])
    ctx.expect(fam == [4, 6], "dual.test: address families %s, want [4, 6]" % fam)
    ctx.expect(all(a["starttls"] and a["tls_version"] in ("TLSv1.2", "TLSv1.3")
                   for m in r["dual.test"]["mx"] for a in m["addresses"]),
               "dual.test: every address should have done STARTTLS: %s" % r["dual.test"]["mx"])

    p, _ = check_one(ctx, "ok.test", "mxcert-expiring15.test", fmt="text")
    t = p.stdout
    ctx.expect(p.returncode == 1, "text check: rc %d, want 1" % p.returncode)
    for want in ("ok.test", "mx1.ok.test", "10.25.1.1", "TLSv1.3", "enforce",
                 "20240101T000000", "mx.cert.expiring", "Lab Intermediate"):
        ctx.expect(want in t, "text check: %r not in output:\n%s" % (want, t))
    ctx.expect(re.search(r"(?m)^OK\s+1\b", t) and re.search(r"(?m)^WARNING\s+1\b", t),
               "text check: want summary lines 'OK 1' and 'WARNING 1':\n%s" % t[-600:])

    # the pool mx1/mx2.pool.test serves shared-a.test and shared-b.test: one probe each
    before = {h: smtpd_connects(ctx, h) for h in ("mx1.pool.test", "mx2.pool.test")}
    _, r = check_one(ctx, "shared-a.test", "shared-b.test")
    ctx.expect(all(o["status"] == "OK" for o in r.values()), "shared pool: %s"
               % {d: o["status"] for d, o in r.items()})
    deadline = time.monotonic() + 5
    while True:  # postfix writes its log through postlogd: give it a moment
        after = {h: smtpd_connects(ctx, h) for h in before}
        if all(after[h] - before[h] >= 1 for h in before) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    time.sleep(0.5)
    after = {h: smtpd_connects(ctx, h) for h in before}
    ctx.expect(all(after[h] - before[h] == 1 for h in before),
               "shared pool: want one SMTP connection per MX host, postfix saw %s"
               % {h: after[h] - before[h] for h in before})

    # 40 open files cannot hold every healthy domain in flight at once: the concurrency
    # is lowered at start (with a warning), and no domain pays for our own limit
    healthy = [d for d in ctx.lab["domain_order"] if ctx.lab["scenarios"][d]["status"] == "OK"]
    p = ctx.run(["prlimit", "--nofile=40:40", "--", ctx.stswatch, "check", "--format", "json",
                 "-c", ctx.lab["config"], "--concurrency", "500"] + healthy)
    r = {o["domain"]: o for o in json_lines(ctx, p.stdout, "check under a low limit")}
    bad = {d: (o["status"], [f["code"] for f in o["findings"] if f["severity"] != "INFO"])
           for d, o in r.items() if o["status"] != "OK"}
    ctx.expect(p.returncode == 0 and len(r) == len(healthy) and not bad,
               "check of %d healthy domains with 40 open files: exit %d, %d results, not OK: %s"
               % (len(healthy), p.returncode, len(r), bad))
    ctx.expect(re.search(r"concurrency lowered from 500 to \d+", p.stderr),
               "check with 40 open files should say it lowered the concurrency: %r" % p.stderr)


# ---- environment ----------------------------------------------------------------------------

# Inside the namespace: accept on 127.0.0.1:PORT for SECONDS, say "conn" for every
# connection, answer nothing.
PROXY_TRAP = r"""
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(64); s.settimeout(0.2)
print("ready", flush=True)
end = time.monotonic() + float(sys.argv[2])
while time.monotonic() < end:
    try:
        c, _ = s.accept()
    except socket.timeout:
        continue
    print("conn", flush=True)
    c.close()
"""


def test_env(ctx):
    """issue 11: the policy fetch obeyed proxy variables; SSLKEYLOGFILE wrote session keys
    to a world-readable file. Neither is obeyed; --tls-keylog FILE is the debug option."""
    proxy_vars = ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY", "ALL_PROXY",
                  "all_proxy")
    trap = subprocess.Popen(["ip", "netns", "exec", ctx.ns, PYTHON, "-c", PROXY_TRAP, "3128",
                             "15"], stdout=subprocess.PIPE, text=True)
    try:
        ctx.require(trap.stdout.readline().strip() == "ready", "the proxy trap did not start")
        env = {v: "http://127.0.0.1:3128" for v in proxy_vars}
        env["no_proxy"] = ""
        p = ctx.sw("check", "--format", "json", "-c", ctx.lab["config"], "ok.test",
                   "mx-partial.test", env=env)
        r = {o["domain"]: o for o in json_lines(ctx, p.stdout, "check with proxy variables")}
        ctx.expect(r.get("ok.test", {}).get("status") == "OK" and
                   r["ok.test"]["policy"]["fetch"] == "ok",
                   "check with every proxy variable set: ok.test %s"
                   % {k: r.get("ok.test", {}).get(k) for k in ("status", "policy")})
        p = ctx.run([ctx.plugin, "-H", "ok.test"] + ctx.lab_args(), env=env)
        ctx.expect(p.returncode == 0, "check_mta_sts with proxy variables: exit %d %r"
                   % (p.returncode, p.stdout[:300]))
    finally:
        trap.terminate()
        try:
            out, _ = trap.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            trap.kill()
            out = "(no answer)"
    ctx.expect("conn" not in out, "the proxy listener saw %d connections" % out.count("conn"))

    keys = os.path.join(ctx.tmp, "keys", "sslkeylog.txt")
    os.makedirs(os.path.dirname(keys), exist_ok=True)
    p = ctx.sw("check", "-c", ctx.lab["config"], "ok.test", env={"SSLKEYLOGFILE": keys})
    ctx.expect(p.returncode == 0, "check with SSLKEYLOGFILE: exit %d %s" % (p.returncode, p.stderr))
    ctx.expect(not os.path.exists(keys), "SSLKEYLOGFILE was obeyed: %s exists" % keys)
    p = ctx.run([ctx.plugin, "-H", "ok.test"] + ctx.lab_args(), env={"SSLKEYLOGFILE": keys})
    ctx.expect(not os.path.exists(keys), "check_mta_sts obeyed SSLKEYLOGFILE: %s exists" % keys)

    # the debug option: a 0600 file with the secrets of the policy fetch and both MX hosts
    old = os.umask(0)
    try:
        p = ctx.sw("--tls-keylog", keys, "check", "-c", ctx.lab["config"], "ok.test")
    finally:
        os.umask(old)
    ctx.expect(p.returncode == 0 and "writing TLS session keys" in p.stderr,
               "--tls-keylog: exit %d %r" % (p.returncode, p.stderr))
    mode = os.stat(keys).st_mode & 0o777 if os.path.exists(keys) else None
    ctx.expect(mode == 0o600, "--tls-keylog: the file's mode is %s, want 0600"
               % (oct(mode) if mode is not None else "none (no file)"))
    randoms = set()
    if os.path.exists(keys):
        with open(keys) as f:
            for line in f:
                parts = line.split()
                if len(parts) == 3:
                    randoms.add(parts[1])
    ctx.expect(len(randoms) >= 3, "--tls-keylog: keys of %d sessions, want 3 (the policy "
               "fetch, mx1 and mx2 of ok.test)" % len(randoms))


# ---- plugin ---------------------------------------------------------------------------------

PERF_ITEM = re.compile(r"^('[^'=]+'|[^'= ]+)=-?[\d.]+(s|%|B|KB|MB|c)?"
                       r"(;[@~\d.:-]*){0,4}$")


# ---- senders: where readings differ -----------------------------------------------------------

IGNORED = "some senders ignore your policy, so mail from them is not protected"
TRAILING_WHO = ("rejected by the RFC 8461 grammar, postfix-tlspol and mox; accepted by "
                "postfix-mta-sts-resolver, maddy (go-mtasts), Stalwart, mailauth and Halon; "
                "Google and Microsoft: unknown")
BLANK_WHO = ("rejected by the RFC 8461 grammar, postfix-tlspol, maddy (go-mtasts) and mox; "
             "accepted by postfix-mta-sts-resolver, Stalwart, mailauth and Halon; Google and "
             "Microsoft: unknown")
# domain: (code, the words that name who rejects and accepts, the JSON reject list)
SENDER_CASES = {
    "txt-trailing.test": ("sts.txt.note", TRAILING_WHO, ["rfc", "tlspol", "mox"]),
    "pol-blank.test": ("policy.note", BLANK_WHO, ["rfc", "tlspol", "gomtasts", "mox"]),
    "pol-mxip.test": ("policy.note", "rejected by postfix-tlspol and mox; accepted by the RFC "
                      "8461 grammar, postfix-mta-sts-resolver, maddy (go-mtasts), Stalwart, "
                      "mailauth and Halon", ["tlspol", "mox"]),
    "txt-note.test": ("sts.txt.note", "rejected by Halon;", ["halon"]),
    "ctype-html.test": ("policy.content_type", "rejected by the RFC 8461 grammar, "
                        "postfix-mta-sts-resolver, postfix-tlspol and maddy (go-mtasts); "
                        "accepted by mox, Stalwart, mailauth and Halon",
                        ["rfc", "pmsr", "tlspol", "gomtasts"]),
}


def test_senders(ctx):
    _, r = check_one(ctx, *SENDER_CASES)
    for dom, (code, who, reject) in SENDER_CASES.items():
        o = r[dom]
        fs = finding(o, code)
        ctx.expect(o["status"] == "WARNING", "%s: status %s, want WARNING" % (dom, o["status"]))
        ctx.expect(fs and fs[0]["severity"] == "WARNING" and IGNORED in fs[0]["consequence"]
                   and who in fs[0]["consequence"],
                   "%s: %s should be a WARNING saying '%s: %s...': %s"
                   % (dom, code, IGNORED, who, fs))
        sn = fs[0].get("senders") if fs else None
        ctx.expect(sn and sn.get("reject") == reject and
                   set(sn.get("unknown", [])) >= {"google", "microsoft"} and sn.get("rules"),
                   "%s: JSON senders %s, want reject %s" % (dom, sn, reject))
        # the record or policy stays in force for the senders that read it: paths judged
        ctx.expect(o["mode"] == "enforce" and o["valid_paths"] == 1 and o["fails_at"],
                   "%s: the policy should stay in force (mode %s, %s valid paths, fails_at %s)"
                   % (dom, o["mode"], o["valid_paths"], o["fails_at"]))
        # findings without a profile carry none
        ctx.expect(all("senders" not in f for f in o["findings"] if f["code"] != code),
                   "%s: senders on a finding without a profile: %s" % (dom, o["findings"]))
    p = ctx.sw("check", "-c", ctx.lab["config"], "pol-blank.test")
    ctx.expect(p.returncode == 1 and "WARNING  policy.note" in p.stdout and
               IGNORED + ": " + BLANK_WHO in " ".join(p.stdout.split()),
               "text check of pol-blank.test: rc %d %r" % (p.returncode, p.stdout[:1500]))
    a = ["--resolver", ctx.lab["resolver"], "--ca-file", ctx.lab["ca_file"]]
    p = plugin(ctx, "-H", "txt-trailing.test", *a)
    first = check_plugin_output(ctx, p, "check_mta_sts -H txt-trailing.test")
    ctx.expect(p.returncode == 1 and first.startswith("MTA-STS WARNING - txt-trailing.test: "
                                                      "sts.txt.note"),
               "check_mta_sts -H txt-trailing.test: exit %d, %r" % (p.returncode, first))
    ctx.expect(IGNORED in p.stdout, "check_mta_sts long output should say who ignores it: %r"
               % p.stdout[:1500])


def plugin(ctx, *args, timeout=120):
    return ctx.run([ctx.plugin] + list(args), timeout=timeout)


def check_plugin_output(ctx, p, what):
    out = p.stdout
    first = out.split("\n", 1)[0]
    ctx.expect(len(out.encode()) <= 8192, "%s: output %d bytes" % (what, len(out.encode())))
    ctx.expect(re.match(r"^MTA-STS (OK|WARNING|CRITICAL|UNKNOWN) - ", first),
               "%s: first line %r" % (what, first))
    if "|" in first:
        for item in first.split("|", 1)[1].split():
            ctx.expect(PERF_ITEM.match(item), "%s: perfdata item %r" % (what, item))
    return first


def test_plugin(ctx):
    a = ["--resolver", ctx.lab["resolver"], "--ca-file", ctx.lab["ca_file"]]
    cases = [
        ("ok.test", [], 0, r"^MTA-STS OK - ok\.test"),
        ("mxcert-expiring15.test", ["-w", "21", "-c", "7"], 1, r"mx\.cert\.expiring"),
        ("mxcert-expiring15.test", ["-w", "10", "-c", "7"], 0, r"^MTA-STS OK"),
        ("mxcert-expiring15.test", ["-w", "30", "-c", "20"], 2, r"^MTA-STS CRITICAL"),
        ("mxcert-expiring.test", [], 2, r"mx\.cert\.expiring"),
        ("mx-unmatched.test", [], 2, r"mx\.unmatched"),
        ("redirect.test", [], 2, r"policy\.redirect"),
        ("timeout.test", [], 3, r"^MTA-STS UNKNOWN"),
        ("mx-connect.test", ["--policy-only"], 0, r"^MTA-STS OK"),
        ("pcert-expired.test", ["--mx-only"], 0, r"^MTA-STS OK"),
        # the record is whole in the first line, ';' and all (Nagios' quotes removed)
        ("txt-invalid.test", ["--policy-only"], 2,
         r"sts\.txt\.invalid _mta-sts\.txt-invalid\.test: id not valid! contains a space at "
         r"position 4 \(TXT record v=STSv1; id=not valid!; "),
    ]
    for dom, extra, want, rx in cases:
        p = plugin(ctx, "-H", dom, *(a + extra))
        what = "check_mta_sts -H %s %s" % (dom, " ".join(extra))
        first = check_plugin_output(ctx, p, what)
        ctx.expect(p.returncode == want, "%s: exit %d, want %d: %s" % (what, p.returncode,
                                                                      want, first))
        ctx.expect(re.search(rx, first), "%s: first line %r does not match %s"
                   % (what, first, rx))
    p = plugin(ctx, "-H", "ok.test", "-v", *a)
    ctx.expect("'mx_cert_days_mx1.ok.test'" in p.stdout or "mx_cert_days_mx1.ok.test" in p.stdout,
               "-v: per-MX perfdata missing: %s" % p.stdout[:400])
    ctx.expect(re.search(r"\bmx_cert_days=[\d.]+;21:;7:", p.stdout),
               "perfdata without -w/-c should carry the default thresholds: %s"
               % p.stdout.split("\n")[0])
    for label in ("policy_cert_days", "mx_cert_days", "max_age", "mx_hosts", "valid_paths",
                  "mx_unmatched", "policy_fetch_time"):
        ctx.expect(re.search(r"\b%s=" % label, p.stdout), "perfdata lacks %s" % label)
    # the plugin's own deadline: the policy host never answers, -t 2 ends it first
    p = plugin(ctx, "-H", "fetch-timeout.test", "-t", "2", *a, timeout=30)
    first = check_plugin_output(ctx, p, "-t 2")
    ctx.expect(p.returncode == 3 and re.search(r"check\.timeout.*still pending: policy fetch",
                                                first),
               "-t 2 on a silent policy host: want UNKNOWN naming the pending fetch in the "
               "first line; exit %d, %r" % (p.returncode, p.stdout[:400]))
    p = plugin(ctx, "-H", "fetch-timeout.test", "-t", "2", "--timeout-result", "critical", *a,
               timeout=30)
    ctx.expect(p.returncode == 2, "--timeout-result critical: exit %d" % p.returncode)
    # issue 11: "16 of 16 MX hosts valid" when more exist than are probed
    p = plugin(ctx, "-H", "many-mx.test", *a)
    first = check_plugin_output(ctx, p, "many-mx.test")
    ctx.expect(p.returncode == 0 and "16 of 18 MX hosts valid (16 probed)" in first
               and re.search(r"\bmx_hosts=18\b", first),
               "many-mx.test: want \"16 of 18 MX hosts valid (16 probed)\" and mx_hosts=18: "
               "exit %d, %r" % (p.returncode, first))
    # issue 11: at the deadline a pending STARTTLS probe was blamed on DNS ("DNS lookup of
    # A/AAAA of the MX failed (not asked)") with valid_paths=0 fails_in=0s in perfdata
    p = plugin(ctx, "-H", "mx-silent.test", "-t", "2", "-v", *a, timeout=30)
    first = check_plugin_output(ctx, p, "-t 2 on a silent MX")
    ctx.expect(p.returncode == 3 and re.search(r"check\.timeout.*still pending: STARTTLS MX "
                                                r"mx1\.mx-silent\.test", first),
               "-t 2 on a silent MX: want UNKNOWN naming the pending STARTTLS; exit %d, %r"
               % (p.returncode, first))
    ctx.expect("not asked" not in p.stdout and "dns.error" not in p.stdout,
               "-t 2 on a silent MX: a pending probe is blamed on DNS: %r" % p.stdout[:600])
    ctx.expect(re.search(r"^mx mx1\.mx-silent\.test \(10\): pending \(STARTTLS\)$", p.stdout,
                         re.M), "-t 2 on a silent MX: the MX line does not say pending: %r"
               % p.stdout[:600])
    perf = first.split("|", 1)[1] if "|" in first else ""
    ctx.expect(not re.search(r"\b(valid_paths|fails_in)=", perf) and "mx_hosts=1" in perf,
               "-t 2 on a silent MX: perfdata that was not measured is shown: %r" % perf)
    for bad in (["-H"], [], ["-H", "ok.test", "-w", "x"], ["-H", "ok.test", "-t", "0"],
                ["-H", "org."]):
        p = plugin(ctx, *bad)
        ctx.expect(p.returncode == 3 and len(p.stdout + p.stderr) < 2000,
                   "usage error %s: exit %d" % (bad, p.returncode))
    for opt in ("-h", "-V"):
        p = plugin(ctx, opt)
        ctx.expect(p.returncode == 3 and p.stdout, "%s: exit %d" % (opt, p.returncode))


# ---- engines --------------------------------------------------------------------------------

def test_engines(ctx):
    p = ctx.run([os.path.join(ROOT, "tests", "engines", "e2e.sh"), "-p", ctx.plugin,
                 "-H", "mxcert-expiring15.test", "-w", "21", "-c", "7",
                 "-x", "--resolver=" + ctx.lab["resolver"],
                 "-x", "--ca-file=" + ctx.lab["ca_file"],
                 "-s", "1", "-o", r"^MTA-STS WARNING - mxcert-expiring15\.test: mx\.cert\.expiring",
                 "-P", r"mx_cert_days=1[45]\.[0-9]+;21:;7:"], timeout=400)
    ctx.expect(p.returncode == 0, "e2e.sh: exit %d\n%s%s" % (p.returncode, p.stdout[-3000:],
                                                           p.stderr[-2000:]))


# ---- history --------------------------------------------------------------------------------

HIST = ["hist1.test", "hist2.test", "hist3.test", "hist4.test", "hist5.test", "hist6.test"]


def status(ctx, conf):
    p = ctx.sw("status", "--format", "json", "-c", conf, ns=False)
    ctx.require(p.returncode in (0, 1, 2, 3), "status: exit %d %s" % (p.returncode, p.stderr))
    return {o["domain"]: o for o in json_lines(ctx, p.stdout, "status")}


def test_history(ctx):
    db = os.path.join(ctx.tmp, "hist.db")
    conf = ctx.write_conf(os.path.join(ctx.tmp, "hist.conf"), HIST, db)
    p = ctx.sw("run", "--once", "-c", conf)
    ctx.require(p.returncode == 0, "first run: exit %d %s" % (p.returncode, p.stderr))
    ctx.expect(re.search(r"6 of 6 domains due", p.stdout), "first run summary: %s" % p.stdout)
    p = ctx.sw("run", "--once", "-c", conf)
    ctx.expect(p.returncode == 0 and re.search(r"\b0 of 6 domains due", p.stdout),
               "a second run within the interval checks nothing: %s" % p.stdout)
    s0 = status(ctx, conf)
    ctx.require(sorted(s0) == HIST, "status after the first run: %s" % sorted(s0))
    ctx.expect(s0["hist5.test"]["status"] == "WARNING" and
               [f["code"] for f in s0["hist5.test"]["findings"]] == ["mx.cert.expiring"],
               "hist5 before renewal: %s" % s0["hist5.test"])
    for d in HIST[:4] + HIST[5:]:
        ctx.expect(s0[d]["status"] == "OK", "%s before: %s" % (d, s0[d]))

    # the history domains' mutations (others belong to the alert and daemon tests)
    hist_mutations = {n: m for n, m in ctx.lab["mutations"].items() if m["domain"] in HIST}
    for name in hist_mutations:
        m = ctx.run([PYTHON, os.path.join(HERE, "lab.py"), "mutate", ctx.dir, name], ns=False,
                    env={"LAB_NS": ctx.ns})
        ctx.require(m.returncode == 0, "mutate %s: %s" % (name, m.stderr))
    p = ctx.sw("run", "--once", "--all", "-c", conf)
    ctx.require(p.returncode == 0, "run after the mutations: exit %d %s" % (p.returncode, p.stderr))
    s1 = status(ctx, conf)
    for name, m in hist_mutations.items():
        d = m["domain"]
        codes = [f["code"] for f in s1[d]["findings"]]
        for c in m["expect_after"]:
            ctx.expect(c in codes, "%s after %s: %s missing; open %s" % (d, name, c, codes))

    now = time.time()
    h1, h2, h3, h4, h5, h6 = (s1[d] for d in HIST)
    ctx.expect(h1["status"] == "WARNING", "hist1 (body edited, id kept): %s" % h1["status"])
    # hist2: the cached policy names only mx1, which is gone: mail fails now, until the
    # cached policy's max_age (7 days) runs out
    ctx.expect(h2["status"] == "CRITICAL", "hist2 (MX moved, id kept): %s" % h2["status"])
    ctx.expect(h2.get("fails_at") and ts(h2["fails_at"]) <= now + 60,
               "hist2: fails_at %r, want now" % h2.get("fails_at"))
    stale = [f for f in h2["findings"] if f["code"] == "cache.stale_policy"]
    ctx.expect(stale and "mx2.hist2.test" in stale[0]["message"] and
               "20240101T000000" in stale[0]["message"],
               "hist2: cache.stale_policy should name the MX and the cached id: %s" % stale)
    ctx.expect("mx.changed" in [f["code"] for f in h2["findings"]], "hist2: mx.changed")
    ctx.expect(h3["status"] == "OK" and h3["txt_id"] == "20240202T000000",
               "hist3 (id bumped, body kept): %s %s" % (h3["status"], h3["txt_id"]))
    ctx.expect(h4["status"] == "CRITICAL" and
               "sts.txt.removed" in [f["code"] for f in h4["findings"]],
               "hist4 (TXT removed): %s %s" % (h4["status"], h4["findings"]))
    ctx.expect(h5["status"] == "OK", "hist5 (renewed): %s" % h5["status"])
    # hist6: the policy URL answers 404 under the same id (RFC 8461 5.1): senders that
    # fetched it keep enforcing it until the last good fetch plus max_age (one week); the
    # MX host is judged under it, and that is when protection ends
    ctx.expect(h6["status"] == "CRITICAL", "hist6 (policy 404, id kept): %s" % h6["status"])
    p = ctx.sw("check", "--format", "json", "-c", conf, "hist6.test")
    o6 = json_lines(ctx, p.stdout, "check hist6")[0]
    cached = o6.get("cached_policy") or {}
    ends = o6.get("protection_ends_at")
    first_check = ts(s0["hist6.test"]["checked_at"])
    ctx.expect(ends and abs(ts(ends) - (first_check + 604800)) <= 5,
               "hist6: protection_ends_at %r, want the first run (%s) plus 604800 s"
               % (ends, s0["hist6.test"]["checked_at"]))
    ctx.expect(cached.get("txt_id") == "20240101T000000" and cached.get("mode") == "enforce"
               and cached.get("mx") == ["mx1.hist6.test"],
               "hist6: cached_policy %s" % cached)
    ctx.expect(o6["valid_paths"] == 1 and o6["mx"] and o6["mx"][0]["matched"] is True and
               o6["mx"][0]["pattern"] == "mx1.hist6.test" and not o6.get("fails_at"),
               "hist6: the MX should be judged under the cached policy, no failure: %s %s"
               % (o6["mx"], o6.get("fails_at")))
    gone = finding(o6, "policy.gone")
    ctx.expect(gone and "keep enforcing it until" in gone[0]["consequence"] and
               "senders without a cached copy deliver without MTA-STS (RFC 8461 5.1)" in
               gone[0]["consequence"], "hist6: policy.gone %s" % gone)
    p = ctx.sw("check", "-c", conf, "hist6.test")
    ctx.expect("protection ends at " in p.stdout and "cached   id 20240101T000000" in p.stdout,
               "hist6 text: %s" % p.stdout[:1500])
    ctx.expect(h5.get("fails_at") and s0["hist5.test"].get("fails_at") and
               ts(h5["fails_at"]) - ts(s0["hist5.test"]["fails_at"]) > 60 * 86400,
               "hist5: fails_at %s -> %s, want about 74 days later"
               % (s0["hist5.test"].get("fails_at"), h5.get("fails_at")))

    # check (no --record) reads the history too and says the same, without writing
    mtime = os.stat(db).st_mtime_ns
    p = ctx.sw("check", "--format", "json", "-c", conf, "hist2.test")
    o = json_lines(ctx, p.stdout, "check hist2")[0]
    ctx.expect("cache.stale_policy" in [f["code"] for f in o["findings"]],
               "check with the database: cache.stale_policy missing: %s" % o["findings"])
    ctx.expect(os.stat(db).st_mtime_ns == mtime, "check without --record wrote the database")

    # the timeline
    p = ctx.sw("history", "hist1.test", "--format", "json", "--db", db, ns=False)
    hj = json.loads(p.stdout)
    pv = hj.get("policy_versions", [])
    ctx.expect(len(pv) == 2 and len({v["sha256"] for v in pv}) == 2 and
               all(v["txt_id"] == "20240101T000000" for v in pv),
               "history hist1: want two policy versions under one id: %s" % pv)
    ctx.expect(any(v.get("replaced_at") for v in pv), "history hist1: no version replaced")
    p = ctx.sw("history", "hist5.test", "--format", "json", "--db", db, ns=False)
    hj = json.loads(p.stdout)
    certs = [c for c in hj.get("certificates", []) if c["subject"].startswith("mx1.hist5.test")]
    ctx.expect(len(certs) == 2, "history hist5: want two MX certificates: %s" % certs)
    exp = [f for f in hj.get("findings", []) if f["code"] == "mx.cert.expiring"]
    ctx.expect(exp and exp[0].get("closed_at"),
               "history hist5: mx.cert.expiring should be closed: %s" % exp)
    ctx.expect([c["new_status"] for c in hj.get("status_changes", [])] == ["WARNING", "OK"],
               "history hist5: status changes %s" % hj.get("status_changes"))
    p = ctx.sw("history", "hist3.test", "--db", db, ns=False)
    ctx.expect(p.returncode == 0 and "20240101T000000" in p.stdout and
               "20240202T000000" in p.stdout, "history hist3 text: %s" % p.stdout[:600])

    # identity: a third run keeps the open findings' opened_at
    p = ctx.sw("run", "--once", "--all", "-c", conf)
    ctx.require(p.returncode == 0, "third run: exit %d" % p.returncode)
    s2 = status(ctx, conf)
    for d in HIST:
        a = {(f["code"], f["subject"]): f["opened_at"] for f in s1[d]["findings"]
             if f["severity"] != "INFO"}
        b = {(f["code"], f["subject"]): f["opened_at"] for f in s2[d]["findings"]
             if f["severity"] != "INFO"}
        ctx.expect(a == b, "%s: open findings changed identity across runs: %s -> %s"
                   % (d, a, b))
        ctx.expect(s2[d]["since"] == s1[d]["since"], "%s: since moved" % d)
    p = ctx.sw("db", "check", "--db", db, ns=False)
    ctx.expect(p.returncode == 0, "db check: %s %s" % (p.stdout, p.stderr))


# ---- crash ----------------------------------------------------------------------------------

def test_crash(ctx):
    # many domains: every scenario plus generated names that do not exist (NXDOMAIN)
    doms = list(ctx.lab["domain_order"]) + ["gen%04d.test" % i for i in range(600)]
    db = os.path.join(ctx.tmp, "crash.db")
    conf = ctx.write_conf(os.path.join(ctx.tmp, "crash.conf"), doms, db)
    p = ctx.sw("run", "--once", "--all", "-q", "-c", conf)
    ctx.require(p.returncode == 0, "complete run: exit %d %s" % (p.returncode, p.stderr))
    mode = os.stat(db).st_mode & 0o777
    ctx.expect(mode in (0o600, 0o640), "database mode %o, want 0600 or 0640" % mode)
    base = status(ctx, conf)
    ctx.require(len(base) == len(doms), "status: %d domains, want %d" % (len(base), len(doms)))
    checked = {d: o["checked_at"] for d, o in base.items()}

    kills = partial = 0
    for delay in (0.2, 0.7, 1.5, 3.0):
        time.sleep(1.1)  # a new run must get a new checked_at second
        proc = subprocess.Popen(["ip", "netns", "exec", ctx.ns, ctx.stswatch, "run", "--once",
                                 "--all", "-q", "-c", conf], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        time.sleep(delay)
        # a reader while the run is in flight
        r = ctx.sw("status", "-c", conf, "ok.test", ns=False, timeout=30)
        ctx.expect(r.returncode in (0, 1, 2, 3) and "ok.test" in r.stdout,
                   "status during a run: exit %d %s" % (r.returncode, r.stderr))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait()
        c = ctx.sw("db", "check", "--db", db, ns=False)
        ctx.expect(c.returncode == 0, "db check after kill -9 at %.1f s: %s %s"
                   % (delay, c.stdout, c.stderr))
        now = status(ctx, conf)
        ctx.expect(len(now) == len(doms), "status after kill: %d domains" % len(now))
        # each domain is its own transaction: it shows its previous check or its new one,
        # whole; the run's count is exactly the checks it recorded before the kill
        newer = [d for d in doms if now[d]["checked_at"] != checked[d]]
        ctx.expect(all(now[d]["checked_at"] > checked[d] for d in newer),
                   "after kill -9 at %.1f s a domain went back in time" % delay)
        con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
        run_id, counted = con.execute(
            "SELECT id, domains FROM runs ORDER BY id DESC LIMIT 1").fetchone()
        rows = con.execute("SELECT count(*) FROM checks WHERE run_id = ?",
                           (run_id,)).fetchone()[0]
        torn = con.execute(
            "SELECT count(*) FROM domains d LEFT JOIN checks c ON c.id = d.last_check_id"
            " WHERE c.id IS NULL OR c.domain != d.domain OR c.checked_at != d.last_checked"
            ).fetchone()[0]
        con.close()
        ctx.expect(counted == rows == len(newer),
                   "after kill -9 at %.1f s: the run counts %d, has %d checks, %d domains "
                   "moved on" % (delay, counted, rows, len(newer)))
        ctx.expect(torn == 0, "%d domains point at a check that is not theirs" % torn)
        if proc.returncode in (-signal.SIGKILL, 128 + signal.SIGKILL):
            partial += 0 < len(newer) < len(doms)
        else:  # the run completed before the kill: then it is all there
            ctx.expect(len(newer) == len(doms), "a completed run left %d domains behind"
                       % (len(doms) - len(newer)))
        checked = {d: o["checked_at"] for d, o in now.items()}
    ctx.expect(partial >= 1, "no killed run had recorded part of its domains: recording "
               "as each domain completes was not shown")
    ctx.expect(kills >= 2, "only %d of 4 runs were killed in flight: the test proved little"
               % kills)
    p = ctx.sw("run", "--once", "--all", "-q", "-c", conf)
    ctx.expect(p.returncode == 0, "a run after the kills: exit %d %s" % (p.returncode, p.stderr))
    after = status(ctx, conf)
    ctx.expect(all(after[d]["checked_at"] > checked[d] for d in doms),
               "the run after the kills did not record every domain")


TESTS = [("cli", test_cli), ("check", test_check), ("details", test_details),
         ("senders", test_senders), ("plugin", test_plugin), ("env", test_env),
         ("engines", test_engines), ("history", test_history),
         ("crash", test_crash)] + it_alerts.TESTS + it_daemon.TESTS


def lab(ctx, cmd):
    p = subprocess.run([PYTHON, os.path.join(HERE, "lab.py"), cmd, ctx.dir],
                       env=dict(os.environ, LAB_NS=ctx.ns), stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=300)
    sys.stdout.write(p.stdout)
    return p.returncode


def main(argv):
    if len(argv) >= 2 and argv[1] == "--list":
        print("\n".join(n for n, _ in TESTS))
        return 0
    if len(argv) < 3:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    ctx = Ctx(argv[1], argv[2])
    want = argv[3:] or [n for n, _ in TESTS]
    unknown = set(want) - {n for n, _ in TESTS}
    if unknown:
        print("integration: no such test: %s" % " ".join(sorted(unknown)), file=sys.stderr)
        return 2
    for b in (ctx.stswatch, ctx.plugin):
        if not os.access(b, os.X_OK):
            print("integration: %s is missing: build first" % b, file=sys.stderr)
            return 2
    if os.geteuid() != 0:
        print("integration: the lab needs root (network namespaces); run as root",
              file=sys.stderr)
        return 1
    failed = []
    ctx.tmp = tempfile.mkdtemp(prefix="stswatch-it-")
    try:
        if lab(ctx, "up") != 0:
            print("integration: the lab did not come up")
            return 1
        with open(os.path.join(ctx.dir, "lab.json")) as f:
            ctx.lab = json.load(f)
        with open(ctx.lab["config"]) as f:
            ctx.lab["domain_order"] = re.findall(r'^\s+"([^"]+)"', f.read().split("domains = (")[1],
                                                 re.M)
        for name, fn in TESTS:
            if name not in want:
                continue
            ctx.errors, ctx.n = [], 0
            t0 = time.monotonic()
            try:
                fn(ctx)
            except Failed:
                pass
            except Exception:
                ctx.errors.append("crashed:\n" + traceback.format_exc())
            dt = time.monotonic() - t0
            if ctx.errors:
                failed.append(name)
                print("FAIL %-8s %d of %d expectations failed (%.1f s)"
                      % (name, len(ctx.errors), ctx.n, dt))
                for e in ctx.errors:
                    print("     - " + e.replace("\n", "\n       "))
            else:
                print("ok   %-8s %d expectations (%.1f s)" % (name, ctx.n, dt))
            sys.stdout.flush()
    finally:
        if lab(ctx, "down") != 0:
            failed.append("lab down")
        if os.environ.get("KEEP"):
            print("integration: kept %s" % ctx.tmp)
        else:
            shutil.rmtree(ctx.tmp, ignore_errors=True)
    print("integration: %d tests, %d failed%s" % (len([n for n, _ in TESTS if n in want]),
          len(failed), (": " + " ".join(failed)) if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
