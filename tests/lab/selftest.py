#!/usr/bin/python3
"""selftest: bring the lab up in a temporary directory, prove every scenario with standard
tools from inside the namespace, apply every mutation and prove it, bring the lab down and
prove that nothing is left.

  selftest.py [-k]     -k keeps the lab up afterwards (and its directory)

Tools: a small stdlib DNS client (UDP, TCP on truncation) against unbound; curl for the
policy fetch (status, Content-Type, body, time, redirect); `openssl s_client` for every TLS
peer (policy hosts, and `-starttls smtp` for every MX address: protocol, verify result,
chain length, notAfter); smtplib for the SMTP banner and the EHLO keywords. Runs as root;
the namespace is $LAB_NS (default stswselftest, so that a lab kept up in stswlab is not
touched). Prints one row per scenario and a closing "N passed, N failed" line.
"""

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
        print("\nprobe of %d scenarios took %.1f s" % (len(rows), t_probe))
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
    sys.exit(main())
