#!/usr/bin/python3
"""selftest: bring the lab up in a temporary directory, prove every scenario with standard
tools from inside the namespace, apply every mutation and prove it, bring the lab down and
prove that nothing is left.

  selftest.py [-k]     -k keeps the lab up afterwards (and its directory)

Tools: a small stdlib DNS client (UDP, TCP on truncation) against unbound; curl for the
policy fetch (status, Content-Type, body, time, redirect); `openssl s_client` for every TLS
peer (policy hosts, and `-starttls smtp` for every MX address: protocol, verify result,
chain length, notAfter); smtplib for the SMTP banner and the EHLO keywords. Then the
services: the webhook receiver (curl: signatures, every answer, hang, reset, down),
Alertmanager (curl on /api/v2/alerts, its notifications at the receiver), the submission
server (smtplib and curl: STARTTLS, AUTH, smtps, the plain listeners, the mailbox),
systemd-notify against notify.py, promtool, and the port 25 firewall. Runs as root;
the namespace is $LAB_NS (default stswselftest, so that a lab kept up in stswlab is not
touched). Prints one row per scenario and a closing "N passed, N failed" line.
"""

import base64
import concurrent.futures
import datetime
import json
import os
import random
import re
import shutil
import smtplib
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import lab  # noqa: E402
import scenarios as S  # noqa: E402

PYTHON = "/usr/bin/python3"
LAB = os.path.join(HERE, "lab.py")

# ---- DNS ---------------------------------------------------------------------------------

QTYPE = {"A": 1, "MX": 15, "TXT": 16, "AAAA": 28}
RCODE = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}


def dns_name(msg, off):
    """Decode a (possibly compressed) name at off; return (name, offset after it)."""
    labels, end, hops = [], None, 0
    while True:
        n = msg[off]
        if n & 0xC0 == 0xC0:
            if end is None:
                end = off + 2
            off = ((n & 0x3F) << 8) | msg[off + 1]
            hops += 1
            if hops > 64:
                raise ValueError("compression loop")
            continue
        off += 1
        if n == 0:
            break
        labels.append(msg[off:off + n].decode("ascii", "replace"))
        off += n
    return ".".join(labels).lower(), (end if end is not None else off)


def dns_query(server, name, qtype, timeout=2.0):
    """{"rcode": NOERROR|NXDOMAIN|SERVFAIL|...|TIMEOUT, "answers": [...]}; answers are
    lists of strings (TXT), (pref, host) (MX) or address strings (A, AAAA)."""
    qid = random.randint(0, 0xFFFF)
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.rstrip(".").split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\0" + struct.pack(">HH", QTYPE[qtype], 1)
    fam = socket.AF_INET6 if ":" in server else socket.AF_INET
    with socket.socket(fam, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(q, (server, 53))
        try:
            while True:
                msg = s.recv(65535)
                if msg[:2] == q[:2]:
                    break
        except socket.timeout:
            return {"rcode": "TIMEOUT", "answers": []}
    if msg[2] & 0x02:  # truncated: again over TCP
        with socket.create_connection((server, 53), timeout=timeout) as t:
            t.sendall(struct.pack(">H", len(q)) + q)
            buf = b""
            while len(buf) < 2 or len(buf) < 2 + struct.unpack(">H", buf[:2])[0]:
                chunk = t.recv(65535)
                if not chunk:
                    break
                buf += chunk
            msg = buf[2:]
    rcode = RCODE.get(msg[3] & 0x0F, str(msg[3] & 0x0F))
    qd, an = struct.unpack(">HH", msg[4:8])
    off = 12
    for _ in range(qd):
        _, off = dns_name(msg, off)
        off += 4
    answers = []
    for _ in range(an):
        _, off = dns_name(msg, off)
        rtype, _, _, rdlen = struct.unpack(">HHIH", msg[off:off + 10])
        off += 10
        rd = msg[off:off + rdlen]
        if rtype == QTYPE[qtype]:
            if rtype == 16:
                strings, i = [], 0
                while i < len(rd):
                    strings.append(rd[i + 1:i + 1 + rd[i]].decode("utf-8", "replace"))
                    i += 1 + rd[i]
                answers.append(strings)
            elif rtype == 15:
                host, _ = dns_name(msg, off + 2)
                answers.append((struct.unpack(">H", rd[:2])[0], host or "."))
            elif rtype == 1:
                answers.append(socket.inet_ntop(socket.AF_INET, rd))
            elif rtype == 28:
                answers.append(socket.inet_ntop(socket.AF_INET6, rd))
        off += rdlen
    return {"rcode": rcode, "answers": answers}


# ---- TLS and HTTP ------------------------------------------------------------------------

def hostport(addr, port):
    return "[%s]:%d" % (addr, port) if ":" in addr else "%s:%d" % (addr, port)


def s_client(addr, port, host, ca, starttls=False, extra=()):
    """openssl s_client: {"ok", "protocol", "verify", "chain", "not_after", "serial", "err"}"""
    argv = ["openssl", "s_client", "-connect", hostport(addr, port), "-servername", host,
        "-CAfile", ca, "-verify_hostname", host, "-showcerts",
        "-cipher", "DEFAULT:@SECLEVEL=0"] + list(extra)
    if starttls:
        argv += ["-starttls", "smtp"]
    try:
        p = subprocess.run(argv, input=b"", stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                   timeout=15)
    except subprocess.TimeoutExpired:
        return {"ok": False, "err": "s_client timed out"}
    out = p.stdout.decode(errors="replace")
    r = {"ok": False, "protocol": None, "verify": None, "chain": 0, "not_after": None,
         "serial": None, "err": ""}
    # "New, TLSv1.0, Cipher is X" names the cipher's version; the session's is "Protocol :"
    m = re.search(r"^New, (\S+), Cipher is (\S+)", out, re.M)
    if m and m.group(2) != "(NONE)":
        r["ok"] = True
        p2 = re.search(r"^\s*Protocol\s*: (\S+)", out, re.M)
        r["protocol"] = p2.group(1) if p2 else m.group(1)
    m = re.search(r"Verify return code: (\d+)", out)
    if m:
        r["verify"] = int(m.group(1))
    pems = re.findall(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", out, re.S)
    r["chain"] = len(pems)
    if pems:
        x = subprocess.run(["openssl", "x509", "-noout", "-enddate", "-serial"],
                   input=pems[0].encode(), stdout=subprocess.PIPE).stdout.decode()
        m = re.search(r"notAfter=(.*)", x)
        if m:
            r["not_after"] = datetime.datetime.strptime(
                m.group(1).strip(), "%b %d %H:%M:%S %Y GMT").replace(
                tzinfo=datetime.timezone.utc).timestamp()
        m = re.search(r"serial=(\S+)", x)
        r["serial"] = m.group(1) if m else None
    if not r["ok"]:
        r["err"] = (p.stderr.decode(errors="replace").strip().splitlines() or ["?"])[-1][:120]
    return r


def curl(url, host, addr, ca, max_time=10, insecure=True):
    """curl with the address pinned, as stswatch does (CURLOPT_RESOLVE); no redirects."""
    fd, body = tempfile.mkstemp()
    os.close(fd)
    argv = ["curl", "-sS", "-o", body, "--max-time", str(max_time), "--cacert", ca,
        "--resolve", "%s:443:%s" % (host, "[%s]" % addr if ":" in addr else addr),
        "-w", "%{http_code}\\t%{content_type}\\t%{size_download}\\t%{time_total}\\t%{redirect_url}",
        url]
    if insecure:
        argv.insert(1, "-k")
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=max_time + 5)
    data = open(body, "rb").read()
    os.unlink(body)
    f = p.stdout.decode(errors="replace").split("\t")
    f += [""] * (5 - len(f))
    return {"exit": p.returncode, "status": int(f[0] or 0), "content_type": f[1],
        "size": int(f[2] or 0), "time": float(f[3] or 0), "redirect": f[4], "body": data,
        "err": p.stderr.decode(errors="replace").strip()[:120]}


def name_matches(names, host):
    host = host.lower()
    for n in names:
        n = n.lower()
        if n == host or (n.startswith("*.") and "." in host and host.split(".", 1)[1] == n[2:]):
            return True
    return False


def expect_tls(c, host):
    """(verify code, chain length) that openssl must report for certificate spec c."""
    if c["self_signed"]:
        return 18, 1
    if c["chain"] == "leaf":
        return 21, 1  # unable to verify the first certificate
    if c["days"] < 0:
        return 10, 2
    if not name_matches(c["names"], host):
        return 62, 2
    return 0, 2


def check_tls(r, c, host, now, problems, what):
    """Compare an s_client result with certificate spec c; return a short text."""
    if not r.get("ok"):
        problems.append("%s: no TLS session (%s)" % (what, r.get("err")))
        return "no TLS"
    v, chain = expect_tls(c, host)
    days = (r["not_after"] - now) / 86400 if r["not_after"] else None
    if r["verify"] != v:
        problems.append("%s: verify %s, want %d" % (what, r["verify"], v))
    if r["chain"] != chain:
        problems.append("%s: chain of %d, want %d" % (what, r["chain"], chain))
    if days is None or abs(days - c["days"]) > 1:
        problems.append("%s: %s days left, want %d" % (what, days, c["days"]))
    return "v%s c%d %dd" % (r["verify"], r["chain"], int(days // 1) if days is not None else -999)


# ---- one scenario --------------------------------------------------------------------------

def norm_records(recs):
    return sorted(json.dumps(x) for x in recs)


def check_dns(w, r, problems):
    d = r["domain"]
    if r["dns"] == "servfail":
        for name, t in (("_mta-sts." + d, "TXT"), (d, "MX")):
            a = dns_query(S.DNS_V4, name, t)
            if a["rcode"] != "SERVFAIL":
                problems.append("%s %s: %s, want SERVFAIL" % (t, name, a["rcode"]))
        return "SERVFAIL"
    if r["dns"] == "nxdomain":
        for name, t in (("_mta-sts." + d, "TXT"), (d, "MX"), ("mta-sts." + d, "A")):
            a = dns_query(S.DNS_V4, name, t)
            if a["rcode"] != "NXDOMAIN":
                problems.append("%s %s: %s, want NXDOMAIN" % (t, name, a["rcode"]))
        return "NXDOMAIN"
    if r["dns"] == "timeout":
        t0 = time.monotonic()
        a = dns_query(S.DNS_V4, "_mta-sts." + d, "TXT", timeout=1.5)
        if a["rcode"] != "TIMEOUT":
            problems.append("TXT _mta-sts.%s: %s, want no answer" % (d, a["rcode"]))
        return "timeout %.1fs" % (time.monotonic() - t0)
    txt = dns_query(S.DNS_V4, "_mta-sts." + d, "TXT")
    if norm_records(txt["answers"]) != norm_records(r["txt"]):
        problems.append("TXT _mta-sts: %s, want %s" % (txt["answers"], r["txt"]))
    rpt = dns_query(S.DNS_V6, "_smtp._tls." + d, "TXT")  # the resolver's IPv6 side too
    if norm_records(rpt["answers"]) != norm_records(r["tlsrpt"]):
        problems.append("TXT _smtp._tls: %s, want %s" % (rpt["answers"], r["tlsrpt"]))
    mx = dns_query(S.DNS_V4, d, "MX")
    want_mx = sorted((p, h.lower().rstrip(".") or ".") for p, h in r["mx"])
    if sorted(mx["answers"]) != want_mx or mx["rcode"] != "NOERROR":
        problems.append("MX: %s %s, want %s" % (mx["rcode"], mx["answers"], want_mx))
    extra = {x.split()[0].rstrip(".").lower() for x in r["extra_rr"]}
    names = [(h, w["hosts"][h]["spec"] if h in w["hosts"] else {}) for _, h in want_mx
             if h != "." and h not in extra]
    if r["policy"] is not None:
        names.append(("mta-sts." + d, {"v4": [a for a in r["policy"]["addrs"] if ":" not in a],
                           "v6": [a for a in r["policy"]["addrs"] if ":" in a]}))
    for h, spec in names:
        for t, key in (("A", "v4"), ("AAAA", "v6")):
            a = dns_query(S.DNS_V4, h, t)
            if sorted(a["answers"]) != sorted(spec.get(key, [])):
                problems.append("%s %s: %s %s, want %s" % (t, h, a["rcode"], a["answers"],
                                      spec.get(key, [])))
    return "txt%d rpt%d mx%d" % (len(txt["answers"]), len(rpt["answers"]), len(mx["answers"]))


def check_policy(w, r, ca, now, problems):
    d = r["domain"]
    p = r["policy"]
    if p is None or r["dns"] != "ok":
        return "-"
    host = "mta-sts." + d
    url = "https://%s/.well-known/mta-sts.txt" % host
    if not p["addrs"]:
        return "no address"
    out = []
    for addr in p["addrs"]:
        if addr == S.REFUSED_V4:
            c = curl(url, host, addr, ca, max_time=3)
            if c["exit"] != 7:
                problems.append("%s: curl exit %d, want 7 (refused)" % (addr, c["exit"]))
            out.append("refused")
            continue
        if addr == S.BLACKHOLE_V4:
            c = curl(url, host, addr, ca, max_time=2)
            if c["exit"] != 28:
                problems.append("%s: curl exit %d, want 28 (timeout)" % (addr, c["exit"]))
            out.append("timeout %.1fs" % c["time"])
            continue
        v = next(x for x in w["vhosts"] if x["host"] == host)
        c = curl(url, host, addr, ca)
        if c["exit"] != 0 or c["status"] != p["status"]:
            problems.append("%s: curl exit %d status %d, want %d (%s)"
                            % (addr, c["exit"], c["status"], p["status"], c["err"]))
        text = "%d" % c["status"]
        if p["status"] == 200:
            if c["content_type"] != p["content_type"]:
                problems.append("Content-Type %r, want %r" % (c["content_type"], p["content_type"]))
            if c["body"] != p["body"].encode():
                problems.append("%s: body differs (%d bytes)" % (addr, len(c["body"])))
            if p["limit_rate"] and c["time"] < 2.0:
                problems.append("fetch took %.2f s, want >= 2 (limit_rate)" % c["time"])
            if not p["limit_rate"] and c["time"] > 1.0:
                problems.append("fetch took %.2f s" % c["time"])
            text += " %s %dB %.2fs" % (c["content_type"].replace(" ", ""), c["size"], c["time"])
        elif p["redirect"]:
            if c["redirect"] != p["redirect"]:
                problems.append("Location %r, want %r" % (c["redirect"], p["redirect"]))
            for other in p["also_serve"]:
                o = curl(p["redirect"], other, addr, ca, insecure=False)
                if o["exit"] != 0 or o["status"] != 200 or o["body"] != p["body"].encode():
                    problems.append("%s: exit %d status %d" % (other, o["exit"], o["status"]))
            text += "->%s" % ("ok" if not problems else "?")
        t = s_client(addr, 443, host, ca)
        text += " " + check_tls(t, w["certs"][v["cert"]], host, now, problems, "https " + addr)
        out.append(text)
        if ":" not in addr:
            break  # one address of nginx is enough for the row; v6 is checked below
    for addr in p["addrs"]:
        if ":" in addr and addr in S.NGINX:
            c = curl(url, host, addr, ca)
            if c["exit"] != 0 or c["status"] != p["status"]:
                problems.append("[%s]: curl exit %d status %d" % (addr, c["exit"], c["status"]))
    return "; ".join(out)


def check_mx(w, r, ca, now, problems, serials):
    out = []
    for _, host in sorted(r["mx"]):
        host = host.lower().rstrip(".")
        if host in ("", "."):
            out.append("null MX")
            continue
        if host not in w["hosts"]:
            out.append("%s unresolvable" % host.split(".")[0])
            continue
        spec = w["hosts"][host]["spec"]
        smtp = spec.get("smtp", "tls")
        for addr in spec.get("v4", []) + spec.get("v6", []):
            what = "%s[%s]" % (host, addr)
            label = "%s@%s" % (host.split(".")[0], addr)
            try:
                s = smtplib.SMTP(timeout=1.5 if smtp == "silent" else 5)
                banner = s.connect(addr, 25)
            except ConnectionRefusedError:
                if smtp != "closed":
                    problems.append("%s: connection refused" % what)
                out.append(label + " refused")
                continue
            except (socket.timeout, smtplib.SMTPServerDisconnected, OSError) as e:
                if smtp != "silent":
                    problems.append("%s: %s" % (what, e))
                out.append(label + " no banner")
                continue
            if smtp in ("closed", "silent"):
                problems.append("%s: answered %s, want %s" % (what, banner, smtp))
            s.ehlo("selftest.lab.test")
            starttls = s.has_extn("starttls")
            s.quit()
            if smtp == "notls":
                if starttls:
                    problems.append("%s: offers STARTTLS" % what)
                out.append(label + " no STARTTLS")
                continue
            if not starttls:
                problems.append("%s: no STARTTLS" % what)
                out.append(label + " no STARTTLS")
                continue
            if smtp == "badtls":
                t = s_client(addr, 25, host, ca, starttls=True)
                if t.get("ok"):
                    problems.append("%s: TLS handshake succeeded, want it to fail" % what)
                out.append(label + " STARTTLS, handshake fails")
                continue
            t = s_client(addr, 25, host, ca, starttls=True)
            text = check_tls(t, w["certs"][w["hosts"][host]["cert"]], host, now, problems, what)
            serials[what] = t.get("serial")
            if smtp == "tls-old":
                if t.get("protocol") not in ("TLSv1", "TLSv1.1"):
                    problems.append("%s: %s, want TLS 1.0/1.1" % (what, t.get("protocol")))
                t12 = s_client(addr, 25, host, ca, starttls=True, extra=["-tls1_2"])
                if t12.get("ok"):
                    problems.append("%s: TLS 1.2 accepted" % what)
            elif t.get("protocol") not in ("TLSv1.2", "TLSv1.3"):
                problems.append("%s: %s" % (what, t.get("protocol")))
            out.append("%s %s %s" % (label, t.get("protocol"), text))
    return "; ".join(out) or "-"


def check_scenario(w, domain, ca):
    r = w["domains"][domain]
    problems, serials = [], {}
    now = time.time()
    row = {"domain": domain, "problems": problems, "serials": serials}
    try:
        row["dns"] = check_dns(w, r, problems)
        row["policy"] = check_policy(w, r, ca, now, problems)
        row["mx"] = check_mx(w, r, ca, now, problems, serials) if r["dns"] == "ok" else "-"
    except Exception as e:  # a bug or a surprise: a failed row, not a crash
        problems.append("%s: %s" % (type(e).__name__, e))
    return row


def probe_main(d, domains):
    """Inside the namespace: check the listed domains (all when none) against the world
    lab.json says is running; print the rows as JSON."""
    with open(os.path.join(d, "lab.json")) as f:
        desc = json.load(f)
    w = lab.build_world(desc["mutations_applied"])
    domains = domains or list(w["domains"])
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as ex:
        rows = list(ex.map(lambda dom: check_scenario(w, dom, desc["ca_file"]), domains))
    json.dump(rows, sys.stdout)


# ---- services: webhook receiver, Alertmanager, mail, NOTIFY_SOCKET, firewall, promtool ---
# Inside the namespace (`selftest.py _services DIR GROUP`), with standard tools: curl for
# HTTP and for SMTP as libcurl speaks it, smtplib, systemd-notify, promtool.

class Rows:
    def __init__(self):
        self.rows = []

    def check(self, name, ok, detail=""):
        self.rows.append({"name": name, "ok": bool(ok), "detail": str(detail)[:300]})
        return ok


def run_tool(argv, input=None, timeout=20):
    t0 = time.monotonic()
    try:
        p = subprocess.run(argv, input=input, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout)
    except subprocess.TimeoutExpired:
        return 124, "", "timed out", time.monotonic() - t0
    return (p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace"),
            time.monotonic() - t0)


def hook_curl(url, ca, data=None, headers=(), max_time=5, extra=()):
    """curl against the receiver: (exit, status, response headers text, body, seconds)."""
    fd, hdr = tempfile.mkstemp()
    os.close(fd)
    argv = ["curl", "-sS", "--max-time", str(max_time), "-D", hdr, "-w", "\n%{http_code}",
            "--cacert", ca] + list(extra)
    for h in headers:
        argv += ["-H", h]
    if data is not None:
        argv += ["--data-binary", "@-"]
    rc, out, err, t = run_tool(argv + [url], input=data, timeout=max_time + 5)
    head = open(hdr).read()
    os.unlink(hdr)
    body, _, code = out.rpartition("\n")
    return rc, int(code or 0), head, body, t


def svc_webhook(desc, rows):
    import webhook
    wh = desc["webhook"]
    ca = desc["ca_file"]
    h = webhook.Hooks(wh["dir"])
    h.reset()
    url = wh["https_url"]
    secret = open(wh["secrets"]["/ops"]["file"]).read().strip()
    rows.check("webhook secret file", secret == wh["secrets"]["/ops"]["secret"] and
               secret.startswith("whsec_"), secret[:10])
    body = json.dumps({"type": "stswatch.test", "timestamp": "2026-01-01T00:00:00Z",
                       "data": {"domain": "ok.test", "note": "caf\u00e9"}}).encode()
    ts = str(int(time.time()))
    sig = webhook.sign(secret, "msg_selftest_1", ts, body)
    mark = h.mark()
    rc, code, _, _, _ = hook_curl(url + "/ops", ca, body, [
        "content-type: application/json", "webhook-id: msg_selftest_1",
        "webhook-timestamp: " + ts, "webhook-signature: v1,bogus " + sig])
    got = h.requests("/ops", since=mark)
    r = got[0] if got else {}
    rows.check("webhook https, signed: 200, recorded, verified",
               rc == 0 and code == 200 and len(got) == 1 and r.get("tls") and
               r.get("sni") == "hooks.lab.test" and r.get("method") == "POST" and
               r.get("body") == body.decode() and r["json"]["data"]["note"] == "caf\u00e9" and
               r["header"].get("webhook-id") == "msg_selftest_1" and
               r["signature"]["verified"] is True and
               ["webhook-signature", "v1,bogus " + sig] in [[k.lower(), v] for k, v in
                                                             r["headers"]],
               "curl %d, status %d, %s" % (rc, code, {k: r.get(k) for k in
                                                      ("tls", "sni", "signature")}))
    mark = h.mark()
    hook_curl(url + "/ops", ca, body + b" ", ["webhook-id: msg_selftest_2",
                                              "webhook-timestamp: " + ts,
                                              "webhook-signature: " + sig])
    old = str(int(time.time()) - 3600)
    hook_curl(url + "/ops", ca, body, ["webhook-id: msg_selftest_1", "webhook-timestamp: " + old,
                                       "webhook-signature: " +
                                       webhook.sign(secret, "msg_selftest_1", old, body)])
    hook_curl(url + "/ops", ca, body)
    got = h.requests("/ops", since=mark)
    sigs = [g["signature"] for g in got]
    rows.check("webhook: changed body, stale timestamp, no headers: not verified",
               len(sigs) == 3 and [s["verified"] for s in sigs] == [False] * 3 and
               not sigs[0]["signature_ok"] and sigs[1]["signature_ok"] and
               not sigs[1]["timestamp_ok"] and "missing header" in sigs[2]["reason"],
               [s.get("reason") for s in sigs])
    mark = h.mark()
    rc, code, _, _, _ = hook_curl(wh["http_url"] + "/am", ca, b'{"plain": true}')
    got = h.requests("/am", since=mark)
    rows.check("webhook plain HTTP on port 80: recorded with tls false",
               rc == 0 and code == 200 and len(got) == 1 and got[0]["tls"] is False and
               got[0]["listener"] == "http" and got[0]["signature"]["verified"] is None,
               "curl %d, status %d" % (rc, code))
    out = []
    ok = True
    for status in (204, 400, 410, 500, 429):
        h.set("/slack", status, retry_after="7" if status == 429 else None)
        rc, code, head, rbody, _ = hook_curl(url + "/slack", ca, b"{}")
        ok &= code == status and (status != 429 or "\nRetry-After: 7" in head) and \
            (status != 204 or rbody == "")
        out.append("%d->%d" % (status, code))
    rows.check("webhook answers 204 400 410 500, 429 with Retry-After", ok, " ".join(out))
    h.set("/teams", 500, times=2)
    h.add("/teams", 503, seconds=0.6)
    codes = [hook_curl(url + "/teams", ca, b"{}")[1]]
    h.set("/slack", 204)  # a change to another path keeps /teams where it is
    codes += [hook_curl(url + "/teams", ca, b"{}")[1] for _ in range(3)]
    time.sleep(0.7)
    codes.append(hook_curl(url + "/teams", ca, b"{}")[1])
    rows.check("webhook rules in order: 500 twice, 503 for 0.6 s, then the default 200",
               codes == [500, 500, 503, 503, 200], codes)
    h.set("/ntfy", "hang")
    mark = h.mark()
    rc, code, _, _, t = hook_curl(url + "/ntfy", ca, b"{}", max_time=1)
    got = h.requests("/ntfy", since=mark)
    rows.check("webhook hang: curl times out (28), request recorded",
               rc == 28 and len(got) == 1 and got[0]["answer"]["action"] == "hang",
               "curl %d after %.1f s" % (rc, t))
    h.set("/ntfy", "reset")
    rc, code, _, _, t = hook_curl(url + "/ntfy", ca, b"{}")
    rows.check("webhook reset: connection reset, no answer (curl 56)", rc in (52, 56),
               "curl %d" % rc)
    h.down(1.0)
    t0 = time.monotonic()
    rc1 = hook_curl(url + "/ops", ca, b"{}")[0]
    rc2 = hook_curl(wh["http_url"] + "/am", ca, b"{}")[0]
    while time.monotonic() - t0 < 1.2:
        time.sleep(0.05)
    h.wait_state(lambda s: not s.get("down"), 3, "the end of down")
    rc3, code3 = hook_curl(url + "/ops", ca, b"{}")[:2]
    rows.check("webhook down for 1 s: connections refused (curl 7), then served again",
               rc1 == 7 and rc2 == 7 and rc3 == 0 and code3 == 200,
               "curl %d %d, then %d/%d" % (rc1, rc2, rc3, code3))
    h.down()
    rc1 = hook_curl(url + "/ops", ca, b"{}")[0]
    h.up()
    rc2, code2 = hook_curl(url + "/ops", ca, b"{}")[:2]
    rows.check("webhook down until up", rc1 == 7 and rc2 == 0 and code2 == 200,
               "curl %d, then %d/%d" % (rc1, rc2, code2))
    mark = h.mark()
    rc = hook_curl(url + "/ops", "/etc/ssl/certs/ca-certificates.crt", b"{}")[0]
    errs = [r for r in h.requests(since=mark) if r.get("event") == "tls-error"]
    rows.check("webhook: a client without the lab CA fails (curl 60), recorded as tls-error",
               rc == 60 and len(errs) == 1 and not h.requests("/ops", since=mark),
               "curl %d, %d tls-error records" % (rc, len(errs)))
    h.reset()
    codes = [hook_curl(url + p, ca, b"{}")[1] for p in ("/slack", "/teams", "/ntfy")]
    rows.check("webhook reset: every path back to 200", codes == [200] * 3, codes)


def am_post(api, alerts):
    rc, out, err, _ = run_tool(["curl", "-sS", "--max-time", "5", "-o", "/dev/null", "-w",
                                "%{http_code}", "-XPOST", "-H", "content-type: application/json",
                                "--data-binary", "@-", api + "/alerts"],
                               input=json.dumps(alerts).encode())
    return rc, out.strip() + err.strip()


def svc_alertmanager(desc, rows):
    import webhook
    am = desc["alertmanager"]
    h = webhook.Hooks(desc["webhook"]["dir"])
    name = "LabSelftest%d" % random.randint(0, 10 ** 9)
    iso = lambda t: datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime(  # noqa
        "%Y-%m-%dT%H:%M:%S.000Z")
    alert = {"labels": {"alertname": name, "domain": "ok.test", "code": "mx.cert.expiring",
                        "severity": "warning"},
             "annotations": {"summary": "selftest alert"}, "startsAt": iso(time.time())}
    mark = h.mark()
    t0 = time.monotonic()
    rc, code = am_post(am["api"], [alert])
    rows.check("alertmanager POST /api/v2/alerts: 200", rc == 0 and code == "200", code)
    rc, out, _, _ = run_tool(["curl", "-sS", "--max-time", "5", "-G", am["api"] + "/alerts",
                              "--data-urlencode", 'filter=alertname="%s"' % name])
    try:
        listed = json.loads(out)
    except ValueError:
        listed = []
    rows.check("alertmanager GET /api/v2/alerts lists it, active",
               len(listed) == 1 and listed[0]["status"]["state"] == "active" and
               listed[0]["labels"]["domain"] == "ok.test", out[:200])

    def notified(status):
        return lambda r: (r.get("json") or {}).get("status") == status and any(
            a["labels"].get("alertname") == name for a in r["json"].get("alerts", []))
    try:
        h.wait("/am", 1, timeout=15, since=mark, pred=notified("firing"))
        t_fire = time.monotonic() - t0
        rows.check("alertmanager notifies the receiver (/am): firing", True, "%.1f s" % t_fire)
    except RuntimeError as e:
        rows.check("alertmanager notifies the receiver (/am): firing", False, e)
    mark = h.mark()
    t0 = time.monotonic()
    alert["endsAt"] = iso(time.time() - 1)
    rc, code = am_post(am["api"], [alert])
    rc, out, _, _ = run_tool(["curl", "-sS", "--max-time", "5", "-G", am["api"] + "/alerts",
                              "--data-urlencode", 'filter=alertname="%s"' % name])
    rows.check("alertmanager: posted with endsAt in the past, no longer listed",
               code == "200" and out.strip() == "[]", out[:200])
    try:
        got = h.wait("/am", 1, timeout=15, since=mark, pred=notified("resolved"))
        rows.check("alertmanager notifies the receiver: resolved",
                   got[0]["json"]["alerts"][0]["status"] == "resolved",
                   "%.1f s" % (time.monotonic() - t0))
    except RuntimeError as e:
        rows.check("alertmanager notifies the receiver: resolved", False, e)


def mail_wait(box, needle, timeout=10.0):
    """The messages (bytes) in the Maildir box/new containing needle."""
    end = time.monotonic() + timeout
    while True:
        found = []
        try:
            for f in sorted(os.listdir(os.path.join(box, "new"))):
                data = open(os.path.join(box, "new", f), "rb").read()
                if needle in data:
                    found.append(data)
        except OSError:
            pass
        if found or time.monotonic() > end:
            return found
        time.sleep(0.05)


def svc_smtp(desc, rows):
    import email
    import email.policy
    import email.utils
    import ssl
    sm = desc["smtp"]
    ctx = ssl.create_default_context(cafile=desc["ca_file"])
    password = open(sm["password_file"]).read().strip()
    rows.check("smtp password file", password == sm["password"], sm["password_file"])
    mid = "<selftest.%d@stswatch.lab.test>" % random.randint(0, 10 ** 12)
    head = [("Date", email.utils.formatdate(localtime=False)),
            ("From", "stswatch <stswatch@lab.test>"),
            ("To", "postmaster@example.org, owner@ok.test"),
            ("Subject", "=?utf-8?b?%s?=" % base64.b64encode(
                "ok.test: CRITICAL \u2013 d\u00e9j\u00e0 vu".encode()).decode()),
            ("Message-ID", mid), ("In-Reply-To", "<incident.1@stswatch.lab.test>"),
            ("References", "<incident.1@stswatch.lab.test>"), ("MIME-Version", "1.0"),
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Transfer-Encoding", "8bit"), ("Auto-Submitted", "auto-generated")]
    body = "Delivery from compliant senders fails in 6 days.\r\nCaf\u00e9 \u2713\r\n"
    raw = ("".join("%s: %s\r\n" % kv for kv in head) + "\r\n" + body).encode()
    try:
        s = smtplib.SMTP(sm["host"], sm["submission_port"], timeout=10)
        s.ehlo("selftest.lab.test")
        before = (s.has_extn("starttls"), s.has_extn("auth"))
        code = s.mail("stswatch@lab.test")[0]
        s.rset()
        s.starttls(context=ctx)
        s.ehlo("selftest.lab.test")
        after = s.has_extn("auth")
        s.login(sm["username"], password)
        refused = s.sendmail("stswatch@lab.test", ["postmaster@example.org", "owner@ok.test"],
                             raw)
        s.quit()
        rows.check("smtp 587: STARTTLS offered, AUTH only after it, MAIL before TLS 530",
                   before == (True, False) and after and code == 530 and not refused,
                   "before %s, MAIL %d, after %s" % (before, code, after))
    except (smtplib.SMTPException, OSError) as e:
        rows.check("smtp 587: STARTTLS, AUTH, sendmail", False, repr(e))
    got = mail_wait(sm["mailbox"], mid.encode())
    ok = len(got) == 2
    detail = "%d copies" % len(got)
    for data in got:
        hdr = data.split(b"\n\n", 1)[0]
        for k, v in head:
            if ("\n%s: %s\n" % (k, v)).encode() not in b"\n" + hdr + b"\n":
                ok = False
                detail += "; %s changed" % k
        m = email.message_from_bytes(data, policy=email.policy.default)
        if m.get_content() != body.replace("\r\n", "\n"):
            ok = False
            detail += "; body differs"
        if "Authenticated sender: stswatch" not in str(m["Received"]) or \
                "ESMTPSA" not in str(m["Received"]):
            ok = False
            detail += "; Received: %s" % m["Received"]
    rcpts = sorted(str(email.message_from_bytes(x)["Delivered-To"]) for x in got)
    rows.check("smtp: the message lands in the mailbox, one copy per recipient, headers and "
               "body intact", ok and rcpts == ["owner@ok.test", "postmaster@example.org"],
               detail + " " + str(rcpts))
    try:
        s = smtplib.SMTP(sm["host"], sm["submission_port"], timeout=10)
        s.starttls(context=ctx)
        s.ehlo("selftest.lab.test")
        try:
            s.login(sm["username"], password + "x")
            code = 235
        except smtplib.SMTPAuthenticationError as e:
            code = e.smtp_code
        s.mail("stswatch@lab.test")
        rcpt = s.rcpt("postmaster@example.org")[0]
        s.quit()
        rows.check("smtp: wrong password 535, unauthenticated relay refused", code == 535 and
                   rcpt == 554, "login %d, RCPT %d" % (code, rcpt))
    except (smtplib.SMTPException, OSError) as e:
        rows.check("smtp: wrong password refused", False, repr(e))
    mid2 = "<selftest-smtps.%d@stswatch.lab.test>" % random.randint(0, 10 ** 12)
    try:
        s = smtplib.SMTP_SSL(sm["host"], sm["smtps_port"], timeout=10, context=ctx)
        s.login(sm["username"], password)
        s.sendmail("stswatch@lab.test", ["postmaster@example.org"],
                   ("Message-ID: %s\r\nSubject: smtps\r\n\r\nvia 465\r\n" % mid2).encode())
        s.quit()
        rows.check("smtps 465: implicit TLS, AUTH, lands", len(mail_wait(sm["mailbox"],
                                                                           mid2.encode())) == 1)
    except (smtplib.SMTPException, OSError) as e:
        rows.check("smtps 465", False, repr(e))
    # libcurl as stswatch will use it: --ssl-reqd on 587, smtps on 465, refusal on plain
    fd, msgf = tempfile.mkstemp()
    mid3 = "<selftest-curl.%d@stswatch.lab.test>" % random.randint(0, 10 ** 12)
    os.write(fd, ("Message-ID: %s\r\nSubject: curl\r\n\r\nvia curl\r\n" % mid3).encode())
    os.close(fd)
    base = ["curl", "-sS", "--max-time", "10", "--cacert", desc["ca_file"], "--mail-from",
            "stswatch@lab.test", "--mail-rcpt", "postmaster@example.org", "-T", msgf]
    cred = ["--user", "%s:%s" % (sm["username"], password)]
    rc1 = run_tool(base + cred + ["--ssl-reqd", sm["submission_url"]])[0]
    rc2 = run_tool(base + cred + [sm["smtps_url"]])[0]
    plain = []
    for p in sm["plain"]:
        rc, _, err, _ = run_tool(base + ["--ssl-reqd", p["url"]])
        plain.append(rc)
    n = len(mail_wait(sm["mailbox"], mid3.encode()))
    rows.check("curl: 587 with --ssl-reqd and smtps 465 deliver; the plain listeners fail "
               "--ssl-reqd (64)", rc1 == 0 and rc2 == 0 and plain == [64, 64] and n == 2,
               "587 %d, 465 %d, plain %s, %d delivered" % (rc1, rc2, plain, n))
    for p in sm["plain"]:
        try:
            s = smtplib.SMTP(p["host"], p["port"], timeout=10)
            s.ehlo("selftest.lab.test")
            ext = (s.has_extn("starttls"), s.has_extn("auth"))
            mid4 = "<selftest-plain.%d@stswatch.lab.test>" % random.randint(0, 10 ** 12)
            s.sendmail("x@lab.test", ["postmaster@example.org"],
                       ("Message-ID: %s\r\n\r\nplain\r\n" % mid4).encode())
            s.quit()
            n_plain = len(mail_wait(sm["plain_mailbox"], mid4.encode()))
            n_inbox = len(mail_wait(sm["mailbox"], mid4.encode(), timeout=0))
            rows.check("smtp plain %s:%d: no STARTTLS, no AUTH; mail lands in plain/, not "
                       "the inbox" % (p["host"], p["port"]),
                       ext == (False, False) and n_plain == 1 and n_inbox == 0,
                       "starttls/auth %s, plain %d, inbox %d" % (ext, n_plain, n_inbox))
        except (smtplib.SMTPException, OSError) as e:
            rows.check("smtp plain %s:%d" % (p["host"], p["port"]), False, repr(e))
    os.unlink(msgf)


def svc_notify(desc, rows):
    import notify
    sock = os.path.join(desc["notify"]["socket_dir"], "selftest-notify.sock")
    log = os.path.join(desc["dir"], "log", "selftest-notify.jsonl")
    pidf = os.path.join(desc["dir"], "run", "selftest-notify.pid")
    p = subprocess.Popen(desc["notify"]["listen"] + [sock, log, "--pidfile", pidf])
    try:
        end = time.monotonic() + 5
        while not os.path.exists(pidf) and time.monotonic() < end:
            time.sleep(0.02)
        env = dict(os.environ, NOTIFY_SOCKET=sock)
        sent = [["--ready", "--status=3 domains, 1 CRITICAL"], ["WATCHDOG=1"],
                ["RELOADING=1", "MONOTONIC_USEC=%d" % (time.monotonic() * 1e6)], ["READY=1"],
                ["STOPPING=1"]]
        rcs = [subprocess.run(["systemd-notify"] + a, env=env).returncode for a in sent]
        time.sleep(0.2)
        msgs = [m for m in notify.read_log(log) if "BARRIER" not in m["fields"]]
        keys = [sorted(k for k in m["fields"] if k != "MONOTONIC_USEC") for m in msgs]
        rows.check("notify: systemd-notify READY+STATUS, WATCHDOG, RELOADING, READY, STOPPING "
                   "recorded in order with time and sender pid",
                   rcs == [0] * 5 and keys == [["READY", "STATUS"], ["WATCHDOG"], ["RELOADING"],
                                               ["READY"], ["STOPPING"]] and
                   msgs[0]["fields"]["STATUS"] == "3 domains, 1 CRITICAL" and
                   all(m["pid"] > 0 and m["time"] > 0 for m in msgs),
                   "rc %s, %s" % (rcs, keys))
    finally:
        p.terminate()
        p.wait(5)
    rows.check("notify: the listener removes its socket", not os.path.exists(sock), sock)
    name = "@stswlab-selftest-%d" % random.randint(0, 10 ** 9)
    with notify.Listener(name) as n:
        rc = subprocess.run(["systemd-notify", "--ready"],
                            env=dict(os.environ, NOTIFY_SOCKET=name)).returncode
        try:
            m = n.wait("READY", "1", timeout=5)
            ok = rc == 0 and m["fields"] == {"READY": "1"}
        except RuntimeError as e:
            ok, m = False, e
        rows.check("notify: an abstract socket (%s) with the in-process Listener" % name, ok, m)


def svc_promtool(desc, rows):
    good = ("# HELP stswatch_domain_status Status of a domain: 0 OK, 1 WARNING, 2 CRITICAL, "
            "3 UNKNOWN.\n# TYPE stswatch_domain_status gauge\n"
            'stswatch_domain_status{domain="ok.test"} 0\n'
            'stswatch_domain_status{domain="expired.test"} 2\n'
            "# HELP stswatch_checks_total Checks done.\n# TYPE stswatch_checks_total counter\n"
            "stswatch_checks_total 12\n")
    bad = "# TYPE stswatch_checks counter\nstswatch_checks 12\n"
    rc1, _, err1, _ = run_tool([desc["promtool"], "check", "metrics"], input=good.encode())
    rc2, out2, err2, _ = run_tool([desc["promtool"], "check", "metrics"], input=bad.encode())
    rows.check("promtool check metrics: a good textfile passes, a counter without _total "
               "and HELP fails", rc1 == 0 and rc2 != 0 and "_total" in out2 + err2,
               "rc %d (%s), rc %d (%s)" % (rc1, err1.strip(), rc2, (out2 + err2).strip()))


def svc_firewall(desc, rows, state):
    """Port 25 as the firewall state says; DNS, HTTPS and 587 always work."""
    mx = "10.25.1.1"  # ok.test's MX
    t0 = time.monotonic()
    try:
        with socket.create_connection((mx, 25), timeout=1.5) as c:
            banner = c.recv(100).decode(errors="replace").strip()
        got = "banner" if banner.startswith("220") else banner
    except socket.timeout:
        got = "timeout"
    except ConnectionRefusedError:
        got = "refused"
    except OSError as e:
        got = str(e)
    t = time.monotonic() - t0
    want = {"drop": "timeout", "reject": "refused", "open": "banner"}[state]
    rows.check("firewall %s: port 25 %s" % (state, want), got == want and
               desc["firewall"]["smtp"] == state, "%s after %.1f s; lab.json %s"
               % (got, t, desc["firewall"]["smtp"]))
    a = dns_query(S.DNS_V4, "ok.test", "MX")
    c = curl("https://mta-sts.ok.test/.well-known/mta-sts.txt", "mta-sts.ok.test", S.NGINX_V4,
             desc["ca_file"], insecure=False)
    try:
        with smtplib.SMTP(desc["smtp"]["host"], desc["smtp"]["submission_port"], timeout=5) as s:
            sub = s.ehlo()[0]
    except (smtplib.SMTPException, OSError) as e:
        sub = repr(e)
    rows.check("firewall %s: DNS, HTTPS and 587 still work" % state,
               a["rcode"] == "NOERROR" and c["status"] == 200 and sub == 250,
               "dns %s, https %s, 587 %s" % (a["rcode"], c["status"], sub))


SERVICE_GROUPS = {"webhook": svc_webhook, "alertmanager": svc_alertmanager, "smtp": svc_smtp,
                  "notify": svc_notify, "promtool": svc_promtool}


def services_main(d, group):
    """Inside the namespace: run one group of service checks; print the rows as JSON."""
    with open(os.path.join(d, "lab.json")) as f:
        desc = json.load(f)
    rows = Rows()
    try:
        if group.startswith("firewall-"):
            svc_firewall(desc, rows, group.split("-", 1)[1])
        else:
            SERVICE_GROUPS[group](desc, rows)
    except Exception as e:  # a bug or a surprise: a failed row, not a crash
        import traceback
        rows.check("%s: %s" % (group, type(e).__name__), False,
                   "%s %s" % (e, traceback.format_exc()[-300:]))
    json.dump(rows.rows, sys.stdout)


def services_probe(ns, d, groups):
    """Run groups in parallel, each in its own process inside the namespace."""
    def one(g):
        t0 = time.monotonic()
        p = subprocess.run(["ip", "netns", "exec", ns, PYTHON, os.path.abspath(__file__),
                            "_services", d, g], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            rows = json.loads(p.stdout)
        except ValueError:
            rows = [{"name": g, "ok": False, "detail": p.stderr.decode(errors="replace")[-300:]}]
        return g, rows, time.monotonic() - t0
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(groups)) as ex:
        return list(ex.map(one, groups))


def check_services(ns, d, env, result):
    """The services, then the firewall in its three states; rows printed as they come."""
    print("\nservices:")
    with open(os.path.join(d, "lab.json")) as f:
        desc = json.load(f)
    keys = ("webhook", "alertmanager", "smtp", "notify", "firewall", "promtool")
    result("lab.json service keys", all(k in desc for k in keys), sorted(desc))
    envfile = open(os.path.join(d, "lab.env")).read()
    result("lab.env service variables", all(v + "=" in envfile for v in (
        "LAB_HOOKS_URL", "LAB_AM_URL", "LAB_SMTP_URL", "LAB_MAILBOX", "LAB_NOTIFY")), envfile)
    runs = services_probe(ns, d, ["alertmanager", "smtp", "notify", "promtool"])
    runs += services_probe(ns, d, ["webhook"])  # its down test would hold Alertmanager up
    for state, args in (("drop", ["block-smtp"]), ("reject", ["block-smtp", "--reject"]),
                        ("open", ["unblock"])):
        rc, out, t = lab_cmd(env, "firewall", d, *args)
        result("lab.py firewall %s" % " ".join(args), rc == 0, out)
        runs += services_probe(ns, d, ["firewall-" + state])
    for g, rows, t in runs:
        for r in rows:
            result(r["name"], r["ok"], r["detail"])
            print("%-4s %-13s %s%s" % ("ok" if r["ok"] else "FAIL", g, r["name"],
                                       "" if r["ok"] else ": " + r["detail"]))
        print("     %-13s %.1f s" % (g, t))


# ---- the run -------------------------------------------------------------------------------

def lab_cmd(env, *args):
    t0 = time.monotonic()
    p = subprocess.run([PYTHON, LAB] + list(args), env=env, stdout=subprocess.PIPE,
               stderr=subprocess.STDOUT)
    return p.returncode, p.stdout.decode(errors="replace").strip(), time.monotonic() - t0


def probe(ns, d, domains=()):
    p = subprocess.run(["ip", "netns", "exec", ns, PYTHON, os.path.abspath(__file__), "_probe", d]
               + list(domains), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode != 0:
        raise RuntimeError("probe failed: " + p.stderr.decode(errors="replace")[-2000:])
    return json.loads(p.stdout)


def clip(s, n):
    return s if len(s) <= n else s[:n - 1] + "~"


def main():
    keep = "-k" in sys.argv[1:]
    if os.geteuid() != 0:
        print("selftest: must run as root", file=sys.stderr)
        return 1
    ns = os.environ.get("LAB_NS") or "stswselftest"
    env = dict(os.environ, LAB_NS=ns)
    d = tempfile.mkdtemp(prefix="stswlab-selftest-")
    passed = failed = 0
    fails = []
    t_up = t_down = None

    def result(name, ok, detail=""):
        nonlocal passed, failed
        if ok:
            passed += 1
        else:
            failed += 1
            fails.append("%s: %s" % (name, detail))

    try:
        rc, out, t_up = lab_cmd(env, "up", d)
        print(out)
        result("up", rc == 0, out[-500:])
        result("up time < 20 s", t_up < 20, "%.1f s" % t_up)
        if rc != 0:
            raise SystemExit
        with open(os.path.join(d, "lab.json")) as f:
            desc = json.load(f)
        result("lab.json", desc["namespace"] == ns and os.path.exists(desc["ca_file"])
               and set(desc["scenarios"]) == {r["domain"] for r in S.SCENARIOS}, "lab.json")
        t0 = time.monotonic()
        rows = probe(ns, d)
        t_probe = time.monotonic() - t0
        print("\n     %-23s %-8s %-16s %-44s %s" % ("scenario", "expect", "dns (answers)",
                               "policy (status type size time verify chain days)",
                               "mx host@address: protocol verify chain days"))
        for row in rows:
            sc = desc["scenarios"][row["domain"]]
            ok = not row["problems"]
            result(row["domain"], ok, "; ".join(row["problems"]))
            print("%-4s %-23s %-8s %-16s %-44s %s" % (
                "ok" if ok else "FAIL", row["domain"], sc["status"], clip(row.get("dns", "?"), 16),
                clip(row.get("policy", "?"), 44), row.get("mx", "?")))
        serials = {}
        for row in rows:
            serials.update(row["serials"])

        print("\nmutations:")
        for name, m in S.MUTATIONS.items():
            rc, out, t = lab_cmd(env, "mutate", d, name)
            row = probe(ns, d, [m["domain"]])[0] if rc == 0 else {"problems": [out], "serials": {}}
            probs = list(row["problems"])
            if rc == 0 and name == "cert-renew":
                for k, v in row["serials"].items():
                    if k in serials and serials[k] == v:
                        probs.append("%s: serial unchanged (%s)" % (k, v))
            if rc == 0:
                rc2, out2, _ = lab_cmd(env, "mutate", d, name)  # a second time: a no-op
                if rc2 != 0 or "already" not in out2:
                    probs.append("second mutate: %s" % out2)
            result("mutate " + name, not probs, "; ".join(probs))
            print("%-4s %-20s %-11s %.1fs  dns %s | policy %s | mx %s" % (
                "ok" if not probs else "FAIL", name, m["domain"], t, row.get("dns", "?"),
                clip(row.get("policy", "?"), 40), clip(row.get("mx", "?"), 60)))
        with open(os.path.join(d, "lab.json")) as f:
            desc = json.load(f)
        result("lab.json records mutations",
               sorted(desc["mutations_applied"]) == sorted(S.MUTATIONS), "lab.json")
        t0 = time.monotonic()
        check_services(ns, d, env, result)
        t_services = time.monotonic() - t0
        print("\nprobe of %d scenarios took %.1f s, the services %.1f s" % (len(rows), t_probe,
                                                                         t_services))
    except SystemExit:
        pass
    except Exception as e:
        result("selftest", False, "%s: %s" % (type(e).__name__, e))
    finally:
        if not keep:
            with open(os.path.join(d, "run", "pids.json")) if os.path.exists(
                    os.path.join(d, "run", "pids.json")) else open(os.devnull) as f:
                pids = json.loads(f.read() or "{}")
            rc, out, t_down = lab_cmd(env, "down", d)
            print(out)
            result("down", rc == 0, out)
            result("down time < 10 s", t_down < 10, "%.1f s" % t_down)
            result("namespace gone", not lab.ns_exists(ns), ns)
            alive = [p for p in pids.values() if p and lab.pid_alive(p)]
            result("pids gone (ps)", not alive, str(alive))
            ps = subprocess.run(["ps", "-eo", "pid=,stat=,args="],
                                stdout=subprocess.PIPE).stdout.decode()
            left = [line.strip() for line in ps.splitlines()
                if d in line and not line.split()[1].startswith("Z")]
            result("no process mentions the lab dir", not left, "; ".join(left))
            result("no /etc/netns/%s left" % ns, not os.path.exists("/etc/netns/" + ns),
                   os.listdir("/etc/netns/" + ns) if os.path.exists("/etc/netns/" + ns) else "")
            shutil.rmtree(d, ignore_errors=True)
        else:
            print("kept: %s (namespace %s); lab.py down %s" % (d, ns, d))
    print("\nup %.1f s, down %s" % (t_up or -1, "%.1f s" % t_down if t_down is not None else "-"))
    for f in fails:
        print("FAIL " + f)
    print("selftest: %d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "_probe":
        probe_main(sys.argv[2], sys.argv[3:])
        sys.exit(0)
    if len(sys.argv) == 4 and sys.argv[1] == "_services":
        services_main(sys.argv[2], sys.argv[3])
        sys.exit(0)
    sys.exit(main())
