"""it_common: what the alert and daemon integration tests share (it_alerts.py, it_daemon.py).

Configurations with receivers for the lab's servers, the webhook receiver's records, the
alert mailbox, Alertmanager's API, the database read directly (read-only) and the output
of `run --once` and `stswatch alerts`. integration.py passes its Ctx to every helper;
failures go through ctx.expect and ctx.require. Python 3 standard library only.
"""

import email
import email.policy
import email.utils
import json
import os
import re
import sqlite3
import subprocess
import sys
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import webhook  # noqa: E402

PYTHON = "/usr/bin/python3"
FROM = "stswatch@lab.test"
FINDING_FIELDS = ("code", "severity", "subject", "message", "what", "evidence", "consequence",
                  "fix")
RFC3339 = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$"
DAY = 86400


def ts(s):
    """RFC 3339 UTC ("2026-12-01T18:10:14Z") to Unix seconds."""
    return int(time.mktime(time.strptime(s, "%Y-%m-%dT%H:%M:%SZ")) - time.timezone)


# ---- configurations ------------------------------------------------------------------------

def lab_head(ctx, db):
    """The lab's configuration up to its domain list, with another database."""
    with open(ctx.lab["config"]) as f:
        text = f.read()
    text = text[:text.index("domains = (")]
    return re.sub(r'(?m)^database = .*$', 'database = "%s";' % db, text)


def webhook_rcv(ctx, name, path, secret=False, extra=""):
    s = '{ name = "%s"; type = "webhook"; url = "%s%s";' % (name, ctx.lab["webhook"]["https_url"],
                                                            path)
    if secret:
        s += ' secret_file = "%s";' % ctx.lab["webhook"]["secrets"]["/ops"]["file"]
    return s + extra + " }"


def mail_rcv(ctx, name, to, url=None, auth=True):
    sm = ctx.lab["smtp"]
    s = ('{ name = "%s"; type = "email"; url = "%s"; from = "%s"; to = [ %s ];'
         % (name, url or sm["submission_url"], FROM, ", ".join('"%s"' % t for t in to)))
    if auth:
        s += ' username = "%s"; password_file = "%s";' % (sm["username"], sm["password_file"])
    return s + " }"


def am_rcv(ctx, name):
    return '{ name = "%s"; type = "alertmanager"; url = "%s"; }' % (name,
                                                                     ctx.lab["alertmanager"]["url"])


def write_conf(ctx, path, db, receivers=(), notify=None, alerts=None, settings="",
               domains=()):
    """A configuration: the lab's head, settings (text), receivers, the default route,
    an alerts group (dict of ready-made values) and domains (names, or entries as text
    starting with "{")."""
    head = lab_head(ctx, db)
    for key in re.findall(r"(?m)^(\w+) = ", settings):  # settings override the lab's
        head = re.sub(r"(?m)^%s = .*\n" % key, "", head)
    text = head + settings
    if receivers:
        text += "receivers = (\n  %s\n);\n" % ",\n  ".join(receivers)
    if notify is not None:
        text += "notify = [ %s ];\n" % ", ".join('"%s"' % n for n in notify)
    if alerts:
        text += "alerts = { %s };\n" % " ".join("%s = %s;" % kv for kv in alerts.items())
    text += "domains = (\n%s\n);\n" % ",\n".join(
        "  " + (d if d.startswith("{") else '"%s"' % d) for d in domains)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)
    return path


def conf_line(path, needle):
    """The 1-based number of the first line of the file that contains needle."""
    with open(path) as f:
        for i, line in enumerate(f, 1):
            if needle in line:
                return i
    return None


# ---- running stswatch ------------------------------------------------------------------------

def run_once(ctx, conf, *args, timeout=120, log_level=None):
    """stswatch run --once; returns (process, the "alerts:" counts as a dict or None)."""
    pre = ("--log-level", log_level) if log_level else ()
    p = ctx.sw(*pre, "run", "--once", "-c", conf, *args, timeout=timeout)
    m = re.search(r"^alerts: (\d+) queued, (\d+) sent, (\d+) to retry, (\d+) failed, "
                  r"(\d+) expired; (\d+) pending in the outbox$", p.stdout, re.M)
    counts = None
    if m:
        counts = dict(zip(("queued", "sent", "retry", "failed", "expired", "pending"),
                          map(int, m.groups())))
    return p, counts


def expect_run(ctx, what, p, counts, **want):
    """The run exited 0 and its alerts line says want (a subset of the counts)."""
    ctx.require(p.returncode == 0, "%s: exit %d\n%s%s" % (what, p.returncode, p.stdout[-1500:],
                                                         p.stderr[-1500:]))
    ctx.require(counts is not None, "%s: no \"alerts: ...\" line in\n%s" % (what, p.stdout))
    got = {k: counts[k] for k in want}
    return ctx.expect(got == want, "%s: alerts %s, want %s\n%s" % (what, counts, want,
                                                                  p.stderr[-1500:]))


def outbox(ctx, conf, *args):
    """stswatch alerts --format json: the outbox rows (newest first) and the silences."""
    p = ctx.sw("alerts", "--format", "json", "-c", conf, "--limit", "1000", *args, ns=False)
    ctx.require(p.returncode == 0, "alerts --format json: exit %d %s" % (p.returncode, p.stderr))
    objs = [json.loads(line) for line in p.stdout.splitlines() if line.strip()]
    return [o for o in objs if "silence" not in o], [o for o in objs if "silence" in o]


def status(ctx, conf, *domains):
    p = ctx.sw("status", "--format", "json", "-c", conf, *domains, ns=False)
    ctx.require(p.returncode in (0, 1, 2, 3), "status: exit %d %s" % (p.returncode, p.stderr))
    return {o["domain"]: o for o in map(json.loads, p.stdout.splitlines())}


def db_check(ctx, db, what):
    p = ctx.sw("db", "check", "--db", db, ns=False)
    return ctx.expect(p.returncode == 0, "%s: db check: exit %d %s %s" % (what, p.returncode,
                                                                         p.stdout, p.stderr))


def query(db, sql, args=()):
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=10)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def lab_cmd(ctx, *args):
    p = ctx.run([PYTHON, os.path.join(HERE, "lab.py")] + list(args), ns=False,
                env={"LAB_NS": ctx.ns}, timeout=120)
    ctx.require(p.returncode == 0, "lab.py %s: exit %d %s" % (" ".join(args), p.returncode,
                                                            p.stderr[-1000:]))
    return p


def mutate(ctx, name):
    lab_cmd(ctx, "mutate", ctx.dir, name)


# ---- the webhook receiver ---------------------------------------------------------------------

def hooks(ctx):
    return webhook.Hooks(ctx.lab["webhook"]["dir"])


def hook_posts(h, path, since):
    """(webhook-id, type, the request) of every recorded POST to path after since."""
    out = []
    for r in h.requests(path, since):
        j = r.get("json") or {}
        out.append((r["header"].get("webhook-id"), j.get("type"), r))
    return out


def check_envelope(ctx, what, r, kind, domain=None):
    """A Standard Webhooks request of type stswatch.KIND: headers, body, data fields."""
    j = r.get("json") or {}
    hd = r["header"]
    ctx.expect(r["method"] == "POST" and r.get("tls"), "%s: not a POST over TLS: %s %s"
               % (what, r["method"], r.get("tls")))
    ctx.expect(hd.get("content-type", "").startswith("application/json"),
               "%s: Content-Type %r" % (what, hd.get("content-type")))
    ctx.expect(re.match(r"^[0-9a-f]{16,}$", hd.get("webhook-id", "")),
               "%s: webhook-id %r" % (what, hd.get("webhook-id")))
    ctx.expect(hd.get("webhook-timestamp", "").isdigit() and
               abs(int(hd["webhook-timestamp"]) - r["time"]) < 120,
               "%s: webhook-timestamp %r (received at %d)" % (what, hd.get("webhook-timestamp"),
                                                              r["time"]))
    ctx.expect(j.get("type") == "stswatch." + kind, "%s: type %r, want stswatch.%s"
               % (what, j.get("type"), kind))
    ctx.expect(re.match(RFC3339, j.get("timestamp") or ""), "%s: timestamp %r"
               % (what, j.get("timestamp")))
    d = j.get("data")
    ctx.require(isinstance(d, dict), "%s: no data object: %.300s" % (what, r.get("body")))
    if domain is None:
        return d
    for k in ("domain", "status", "previous_status", "fails_at", "fails_reason", "incident",
              "findings"):
        ctx.expect(k in d, "%s: data lacks %s: %s" % (what, k, sorted(d)))
    ctx.expect(d.get("domain") == domain, "%s: data.domain %r" % (what, d.get("domain")))
    ctx.expect(d.get("kind") == kind, "%s: data.kind %r" % (what, d.get("kind")))
    ctx.expect(d.get("fails_at") is None or re.match(RFC3339, d["fails_at"]),
               "%s: fails_at %r" % (what, d.get("fails_at")))
    for f in d.get("findings") or []:
        ctx.expect(all(k in f for k in FINDING_FIELDS) and f.get("severity") != "INFO",
                   "%s: a finding in data is not as in check --format json: %s" % (what, f))
    return d


def signature_ok(r):
    s = r.get("signature") or {}
    return s.get("secret") is True and s.get("verified") is True


# ---- mail ---------------------------------------------------------------------------------------

def mails(ctx, to, box="mailbox"):
    """Messages delivered to the address in the lab's Maildir, oldest first:
    [(file name, raw bytes, parsed message)]."""
    out = []
    base = ctx.lab["smtp"][box]
    for sub in ("new", "cur"):
        d = os.path.join(base, sub)
        try:
            names = os.listdir(d)
        except OSError:
            continue
        for n in names:
            with open(os.path.join(d, n), "rb") as f:
                raw = f.read()
            m = email.message_from_bytes(raw, policy=email.policy.default)
            if (m.get("Delivered-To") or "").strip().lower() == to.lower():
                out.append((n, raw, m))
    out.sort(key=lambda t: maildir_order(t[0]))
    return out


def maildir_order(name):
    """Maildir names are SECONDS.V<dev>I<inode>M<microseconds>.HOST: their delivery order."""
    m = re.match(r"^(\d+)\.[^.]*M(\d+)", name)
    return (int(m.group(1)), int(m.group(2)), name) if m else (0, 0, name)


def wait_mails(ctx, to, n, timeout=20):
    """Postfix delivers after stswatch's 250: wait until n messages are there."""
    end = time.monotonic() + timeout
    while True:
        got = mails(ctx, to)
        if len(got) >= n or time.monotonic() > end:
            return got
        time.sleep(0.1)


def msg_ids(value):
    return re.findall(r"<[^<>\s]+>", value or "")


def check_mail(ctx, what, raw, m, to):
    """The headers every alert mail carries, as issue 9 lists them; the body's text."""
    hdr_raw, _, body_raw = raw.partition(b"\r\n\r\n") if b"\r\n\r\n" in raw else \
        raw.partition(b"\n\n")
    ours = hdr_raw.split(b"\nDate:", 1)
    ctx.expect(len(ours) == 2, "%s: no Date header" % what)
    for line in raw.splitlines():
        ctx.expect(len(line) <= 998, "%s: a line of %d bytes (RFC 5322: at most 998)"
                   % (what, len(line)))
    try:
        hdr_raw.decode("ascii")
        ascii_ok = True
    except UnicodeDecodeError:
        ascii_ok = False
    ctx.expect(ascii_ok, "%s: the header is not ASCII (RFC 2047 wanted)" % what)
    try:
        date = email.utils.parsedate_to_datetime(str(m["Date"])).timestamp()
    except (TypeError, ValueError):
        date = None
    ctx.expect(date is not None and abs(date - time.time()) < 600, "%s: Date %r"
               % (what, m["Date"]))
    ctx.expect(str(m["From"]) == FROM, "%s: From %r" % (what, m["From"]))
    ctx.expect(str(m["To"]) == to, "%s: To %r" % (what, m["To"]))
    subj = str(m["Subject"] or "")
    ctx.expect(subj.startswith("[stswatch] "), "%s: Subject %r" % (what, subj))
    raw_subj = re.search(rb"(?m)^Subject:(.*(?:\r?\n[ \t].*)*)", hdr_raw)
    if raw_subj and b"=?" in raw_subj.group(1):
        ctx.expect(re.search(rb"=\?utf-8\?[bBqQ]\?", raw_subj.group(1), re.I),
                   "%s: an encoded Subject that is not RFC 2047 UTF-8: %r" % (what, raw_subj.group(1)))
    ctx.expect(len(msg_ids(str(m["Message-ID"]))) == 1 and
               str(m["Message-ID"]).endswith("@lab.test>"),
               "%s: Message-ID %r" % (what, m["Message-ID"]))
    ctx.expect(str(m["MIME-Version"]).strip() == "1.0", "%s: MIME-Version %r"
               % (what, m["MIME-Version"]))
    ctx.expect(m.get_content_type() == "text/plain" and m.get_content_charset() == "utf-8",
               "%s: Content-Type %r" % (what, m["Content-Type"]))
    ctx.expect(str(m["Auto-Submitted"]).strip() == "auto-generated", "%s: Auto-Submitted %r"
               % (what, m["Auto-Submitted"]))
    ctx.expect(b"Authenticated sender: stswatch" in hdr_raw and b"using TLS" in hdr_raw,
               "%s: not submitted over TLS with AUTH (Received: %r)" % (what, hdr_raw[:600]))
    try:
        body = m.get_content()
    except (LookupError, ValueError) as e:
        body = ""
        ctx.expect(False, "%s: the body does not decode: %s" % (what, e))
    for line in body_raw.splitlines():
        ctx.expect(len(line) <= 76, "%s: a quoted-printable line of %d characters (at most "
                   "76, RFC 2045)" % (what, len(line)))
    return subj, body


# ---- Alertmanager ---------------------------------------------------------------------------

def am_alerts(ctx, domain):
    """The alerts Alertmanager holds for the domain (GET /api/v2/alerts), active ones."""
    url = ctx.lab["alertmanager"]["api"] + "/alerts?active=true&silenced=true&inhibited=true"
    p = ctx.run(["curl", "-sS", "--max-time", "5", url], timeout=20)
    ctx.require(p.returncode == 0, "Alertmanager API: curl exit %d %s" % (p.returncode,
                                                                           p.stderr))
    return [a for a in json.loads(p.stdout) if a.get("labels", {}).get("domain") == domain]


def am_notes(h, domain, since):
    """What Alertmanager sent the lab's /am for the domain: [(status, alert)] in order."""
    out = []
    for r in h.requests("/am", since):
        for a in (r.get("json") or {}).get("alerts", []):
            if a.get("labels", {}).get("domain") == domain:
                out.append((a.get("status"), a))
    return out


def wait_for(pred, timeout, step=0.1):
    """Poll pred until it returns something true; that value, or the last one."""
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() > end:
            return v
        time.sleep(step)


def ns_connections(ctx, pid, dst):
    """Established TCP connections of pid to dst ("10.80.0.3:443") in the lab's namespace."""
    p = ctx.run(["ss", "-Htnp", "state", "established"], timeout=20)
    return [line for line in p.stdout.splitlines()
            if (" %s " % dst) in (" " + line + " ").replace("\t", " ") and "pid=%d," % pid in line]


def metrics(text):
    """{(name, frozenset(labels)): value} and the families with HELP and TYPE."""
    vals, fams = {}, set()
    for line in text.splitlines():
        m = re.match(r"^# TYPE (\S+) (\S+)$", line)
        if m:
            fams.add(m.group(1))
            continue
        if not line or line.startswith("#"):
            continue
        m = re.match(r'^([a-z_]+)(?:\{(.*)\})? (\S+)$', line)
        if not m:
            vals[("unparsed", line)] = None
            continue
        labels = frozenset(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        vals[(m.group(1), labels)] = float(m.group(3))
    return vals, fams


def promtool_ok(ctx, path, what):
    with open(path, "rb") as f:
        p = subprocess.run([ctx.lab["promtool"], "check", "metrics"], stdin=f,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    return ctx.expect(p.returncode == 0, "%s: promtool check metrics: exit %d %s"
                      % (what, p.returncode, p.stdout.decode(errors="replace")[:800]))


def sh(argv, **kw):
    return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
