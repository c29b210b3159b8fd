#!/usr/bin/python3
"""lab: real DNS, HTTPS and SMTP servers for stswatch in a network namespace.

  lab.py up DIR [--bench N [--mx-pool P]]
                             build the world of scenarios.py under DIR and start it;
                             --bench N adds N generated healthy domains (the benchmark's)
                             sharing P MX hosts (default 20)
  lab.py down DIR            stop everything up started, remove the namespace
  lab.py exec DIR -- CMD...  run CMD inside the namespace (LAB_* set in its environment)
  lab.py mutate DIR NAME     apply a named change (scenarios.MUTATIONS) to the running world
  lab.py list                the scenarios and mutations
  lab.py firewall DIR block-smtp [--reject] | unblock | status
                             drop (or refuse) outbound TCP to port 25 inside the namespace
  lab.py hooks DIR ARGS...   control the webhook receiver (webhook.py ctl DIR/hooks ARGS)

The namespace is $LAB_NS (default stswlab). Inside it, on lo: unbound (10.53.0.1:53),
nginx (10.80.0.1:443 and [fd80::1]:443, one server block per policy host), a postfix
instance (one smtpd service per MX address, 10.25.x.y:25 and [fd25::...]:25) and a small
helper that accepts TCP and never answers (the timeout cases). For alert and daemon
tests ("services"): the webhook receiver webhook.py (hooks.lab.test, 10.90.0.1:443 and
:80), Alertmanager (10.90.0.2:9093), a second postfix instance with Dovecot's SASL for
alert mail (smtp.lab.test, 10.90.0.3:587/465/2525; smtp-plain.lab.test 10.90.0.4:587),
and /etc/netns/NS/resolv.conf naming unbound. A private CA (root +
intermediate) made with the openssl CLI signs every certificate, dated relative to now.
DIR/lab.json describes the world for tests; DIR/lab.env has the same for shell scripts.
Python standard library only; run as root.
"""

import base64
import concurrent.futures
import copy
import datetime
import hashlib
import json
import os
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import scenarios as S  # noqa: E402

PYTHON = "/usr/bin/python3"
DEFAULT_NS = "stswlab"
DAY = 86400
SUBDIRS = ("ca", "certs", "www", "nginx", "postfix", "postfix-spool", "postfix-data",
       "unbound", "run", "log")


class LabError(Exception):
    pass


def log(msg):
    print("lab: " + msg, file=sys.stderr, flush=True)


def run(argv, check=True, env=None, input=None, timeout=60):
    """Run a command, capture its output; raise LabError with its stderr when it fails."""
    p = subprocess.run(argv, input=input, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
               env=env, timeout=timeout)
    if check and p.returncode != 0:
        raise LabError("%s failed (exit %d): %s" % (" ".join(argv), p.returncode,
                   (p.stderr or p.stdout).decode(errors="replace").strip()[-800:]))
    return p


def nsexec(ns, argv):
    return ["ip", "netns", "exec", ns] + list(argv)


def write(path, data, mode=0o644, age=0):
    """Write a file atomically (a renamed temporary), so a running server never reads half;
    leave it alone when its content is the same. age: date it that many seconds back."""
    data = data.encode() if isinstance(data, str) else data
    try:
        with open(path, "rb") as f:
            if f.read() == data:
                return
    except OSError:
        pass
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.chmod(tmp, mode)
    if age:
        os.utime(tmp, (time.time() - age, time.time() - age))
    os.replace(tmp, path)


# ---- the world: scenarios.py with mutations applied ------------------------------------

def cert_id(spec, default_name):
    names = spec.get("names") or [default_name]
    return (spec.get("id") or names[0]).replace("*", "star")


def norm_cert(spec, default_name):
    c = {"names": [default_name], "days": 89, "lifetime": 90, "self_signed": False,
         "chain": "full", "generation": 0}
    c.update(spec or {})
    c.pop("id", None)
    return c


def build_world(applied=(), bench=0, pool=S.BENCH_POOL):
    """Everything the generators need, from the scenario table, the applied mutations and
    bench generated healthy domains sharing pool MX hosts (see bench_world)."""
    rows = [S.defaults(r) for r in S.SCENARIOS]
    by_domain = {}
    for r in rows:
        if r["domain"] in by_domain:
            raise LabError("scenario %s twice" % r["domain"])
        by_domain[r["domain"]] = r
    renewals, renew_to = {}, {}
    for name in applied:
        m = S.MUTATIONS[name]
        r = by_domain[m["domain"]]
        for k, v in m.get("set", {}).items():
            if k == "policy":
                p = dict(r["policy"])
                p.update(v)
                r["policy"] = p
            else:
                r[k] = copy.deepcopy(v)
        for h in m.get("renew", []):
            renewals[h] = renewals.get(h, 0) + 1
            renew_to[h] = dict(m.get("renew_to") or {"days": 89, "lifetime": 90})

    w = {"domains": by_domain, "hosts": {}, "certs": {}, "vhosts": [], "smtpd": [],
         "rrsets": {}, "servfail": [], "timeout": [], "listen_silent": [],
         "listen_badtls": [], "bench": None}

    def add_cert(spec, default_name, renew=0, to=None):
        cid = cert_id(spec or {}, default_name)
        c = norm_cert(spec, default_name)
        if renew:
            c.update(to or {"days": 89, "lifetime": 90})
            c["generation"] = renew
        old = w["certs"].get(cid)
        if old is not None and old != c:
            raise LabError("certificate %s defined twice, differently" % cid)
        w["certs"][cid] = c
        return cid

    def rr(owner, text):
        w["rrsets"].setdefault(owner.lower().rstrip(".") + ".", []).append(text)

    def addr_rrs(name, addrs):
        for a in addrs:
            rr(name, "%s. 300 IN %s %s" % (name, "AAAA" if ":" in a else "A", a))

    add_cert({}, "default.lab.test")
    for r in rows:
        for h, spec in r["hosts"].items():
            h = h.lower()
            if h in w["hosts"] and w["hosts"][h]["spec"] != spec:
                raise LabError("host %s defined twice, differently" % h)
            w["hosts"][h] = {"spec": spec, "domain": r["domain"]}
    if bench:
        bench_world(w, bench, pool, add_cert)
    for h, hv in sorted(w["hosts"].items()):
        spec = hv["spec"]
        addrs = spec.get("v4", []) + spec.get("v6", [])
        addr_rrs(h, addrs)
        smtp = spec.get("smtp", "tls")
        cid = None
        if smtp in ("tls", "tls-old"):
            cid = add_cert(spec.get("cert"), h, renewals.get(h, 0), renew_to.get(h))
        hv["cert"] = cid
        for a in addrs:
            if smtp == "silent":
                w["listen_silent"].append([a, 25])
            elif smtp == "badtls":
                w["listen_badtls"].append([a, 25])
            elif smtp != "closed":
                w["smtpd"].append({"addr": a, "host": h, "smtp": smtp, "cert": cid})

    for r in rows:
        d = r["domain"]
        if r["dns"] == "servfail":
            w["servfail"].append(d)
            continue
        if r["dns"] == "timeout":
            w["timeout"].append(d)
            continue
        if r["dns"] == "nxdomain":  # no name of the domain exists
            continue
        about = r["purpose"].replace("'", "").replace('"', "")[:200]
        rr(d, "%s. 300 IN TXT %s" % (d, txt_strings(["stswatch lab scenario: " + about])))
        for pref, host in r["mx"]:
            rr(d, "%s. 300 IN MX %d %s" % (d, pref, host.rstrip(".") + "."))
            h = host.lower()
            if h != "." and h not in w["hosts"] and not h.endswith("." + d):
                raise LabError("%s: MX %s is defined nowhere" % (d, host))
        for rec in r["txt"]:
            rr("_mta-sts." + d, "_mta-sts.%s. 300 IN TXT %s" % (d, txt_strings(rec)))
        for rec in r["tlsrpt"]:
            rr("_smtp._tls." + d, "_smtp._tls.%s. 300 IN TXT %s" % (d, txt_strings(rec)))
        for x in r["extra_rr"]:
            rr(x.split()[0], x)
        p = r["policy"]
        if p is None:
            continue
        host = "mta-sts." + d
        addr_rrs(host, p["addrs"])
        pcid = add_cert(p["cert"], host)
        if not set(p["addrs"]) & set(S.NGINX):
            continue
        w["vhosts"].append({"host": host, "domain": d, "cert": pcid, "body": p["body"],
                    "status": p["status"], "content_type": p["content_type"],
                    "redirect": p["redirect"], "limit_rate": p["limit_rate"]})
        for other in p["also_serve"]:
            addr_rrs(other, S.NGINX)
            w["vhosts"].append({"host": other, "domain": d, "cert": add_cert({}, other),
                        "body": p["body"], "status": 200,
                        "content_type": "text/plain", "redirect": None,
                        "limit_rate": None})
    for r in rows:
        if r["dns"] == "ok" and r["policy"] is not None and r["policy"]["status"] == 200 \
                and r["policy"]["body"] is None:
            raise LabError("%s: status 200 needs a body" % r["domain"])
    services_world(w)
    return w


def txt_strings(rec):
    out = []
    for s in rec:
        if "'" in s or len(s.encode()) > 255:
            raise LabError("TXT string %r: no single quotes, at most 255 bytes" % s)
        out.append('"%s"' % s.replace("\\", "\\\\").replace('"', '\\"'))
    return " ".join(out)


def addresses(w):
    """Every address the namespace needs on lo."""
    a = [S.DNS_V4, S.DNS_V6, S.DNS_REFUSER, S.NGINX_V4, S.NGINX_V6, S.REFUSED_V4,
         S.BLACKHOLE_V4] + list(S.SERVICE_NAMES.values())
    for h in w["hosts"].values():
        a += h["spec"].get("v4", []) + h["spec"].get("v6", [])
    seen, out = set(), []
    for x in a:
        if x not in seen:
            seen.add(x)
            out.append(x)
    return out


# ---- the benchmark's generated domains (lab.py up DIR --bench N --mx-pool P) ----------------
# Not scenario rows: at 100,000 domains those would cost gigabytes and an nginx server
# block each. The pool's MX hosts are ordinary hosts (one postfix smtpd service each, one
# wildcard certificate); the domains go straight into their own files: unbound local-data
# in unbound/bench-zone.conf (5 records per domain), and nginx/bench.conf with one server
# block per shared policy certificate (BENCH_SAN_PER_CERT names each) and a map from the
# policy host to its body, one body file per pair of MX hosts (www/bench/mx-K.txt).

def bench_world(w, n, pool, add_cert):
    """Add n generated domains sharing pool MX hosts to the world w."""
    if pool < 2 or pool > S.BENCH_POOL_MAX:
        raise LabError("--mx-pool %d: from 2 to %d" % (pool, S.BENCH_POOL_MAX))
    for h, ip in S.bench_pool(pool):
        if h in w["hosts"]:
            raise LabError("host %s defined twice" % h)
        w["hosts"][h] = {"spec": S.mxhost(ip, cert=S.BENCH_POOL_CERT), "domain": None}
    domains = S.bench_domains(n)
    groups = []
    for g, (a, b) in enumerate(S.bench_groups(n)):
        cid = add_cert({"id": S.bench_cert_id(g), "names": ["mta-sts." + x for x in domains[a:b]]},
                       "mta-sts." + domains[a])
        groups.append((cid, a, b))
    w["bench"] = {"n": n, "pool": pool, "groups": groups}


def bench_hosts(w):
    """The pool's host names, in order."""
    return [h for h, _ in S.bench_pool(w["bench"]["pool"])]


def render_bench_zone(w):
    b = w["bench"]
    hosts = bench_hosts(w)
    out = ["# generated by tests/lab/lab.py: the benchmark's %d domains" % b["n"]]
    for i, d in enumerate(S.bench_domains(b["n"])):
        m1, m2 = S.bench_mx(i, b["pool"])
        out.append("local-data: '%s. 300 IN MX 10 %s.'" % (d, hosts[m1]))
        out.append("local-data: '%s. 300 IN MX 20 %s.'" % (d, hosts[m2]))
        out.append("local-data: '_mta-sts.%s. 300 IN TXT \"v=STSv1; id=%s\"'" % (d, S.DEFAULT_ID))
        out.append("local-data: '_smtp._tls.%s. 300 IN TXT \"v=TLSRPTv1; rua=mailto:tlsrpt@%s\"'"
                   % (d, d))
        out.append("local-data: 'mta-sts.%s. 300 IN A %s'" % (d, S.NGINX_V4))
    return "\n".join(out) + "\n"


def bench_policy_body(w, k):
    hosts = bench_hosts(w)
    return S.policy([hosts[k], hosts[(k + 1) % len(hosts)]])


def render_bench_nginx(d, w):
    b = w["bench"]
    domains = S.bench_domains(b["n"])
    out = ["# generated by tests/lab/lab.py: the benchmark's %d policy hosts, one server "
           "block per shared certificate" % b["n"],
           "map_hash_max_size %d;" % max(2048, 2 * b["n"]), "map_hash_bucket_size 128;",
           "map $host $bench_policy {", '  default "none";']
    for i, x in enumerate(domains):
        out.append("  mta-sts.%s mx-%d.txt;" % (x, S.bench_mx(i, b["pool"])[0]))
    out.append("}")
    for cid, a, e in b["groups"]:
        out += ["server {   # %s ... %s" % (domains[a], domains[e - 1]),
                "  listen %s:443 ssl;" % S.NGINX_V4,
                "  server_name %s;" % " ".join("mta-sts." + x for x in domains[a:e]),
                "  ssl_certificate %s/certs/%s.chain.pem;" % (d, cid),
                "  ssl_certificate_key %s/certs/%s.key;" % (d, cid),
                "  location = /.well-known/mta-sts.txt {",
                "    types { }", '    default_type "text/plain";',
                "    alias %s/www/bench/$bench_policy;" % d, "  }",
                "  location / { return 404; }", "}"]
    return "\n".join(out) + "\n"


def render_bench_postfix_main(w):
    """main.cf lines for a world with the benchmark's pool (they override the ones above)."""
    if not w.get("bench"):
        return ""
    # the listen backlog of postfix's internal unix services (tlsmgr: one process) is
    # max(their process limit, default_process_limit): with the default 100, the pool's
    # smtpd processes starting at once find it full, and the flood of warnings they log
    # once wedged postlogd, and with it every smtpd
    pool = w["bench"]["pool"]
    return ("# the benchmark's pool of %d MX hosts, all probed at once\n"
            "default_process_limit = %d\n" % (pool, max(1000, 4 * pool)))


def write_bench(d, w):
    if not w.get("bench"):
        return
    write(os.path.join(d, "unbound", "bench-zone.conf"), render_bench_zone(w))
    write(os.path.join(d, "nginx", "bench.conf"), render_bench_nginx(d, w))
    os.makedirs(os.path.join(d, "www", "bench"), exist_ok=True)
    for k in range(w["bench"]["pool"]):
        write(os.path.join(d, "www", "bench", "mx-%d.txt" % k), bench_policy_body(w, k))


# ---- certificates ------------------------------------------------------------------------

OPENSSL_CNF = """\
# generated by tests/lab/lab.py: one CA section, the database chosen per call by $LAB_CA_DB
[ ca ]
default_ca = lab_ca
[ lab_ca ]
database = $ENV::LAB_CA_DB
serial = $ENV::LAB_CA_DB.serial
new_certs_dir = $ENV::LAB_CA_OUT
certificate = $ENV::LAB_CA_CERT
private_key = $ENV::LAB_CA_KEY
default_md = sha256
policy = policy_any
unique_subject = no
email_in_dn = no
copy_extensions = none
preserve = yes
[ policy_any ]
organizationName = optional
commonName = supplied
[ ext_root ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ ext_intermediate ]
basicConstraints = critical, CA:true, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ ext_leaf ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid, issuer
subjectAltName = $ENV::LAB_SAN
[ ext_self ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
subjectAltName = $ENV::LAB_SAN
[ req ]
distinguished_name = req_dn
prompt = no
[ req_dn ]
CN = unused
"""


def asn1(t):
    return datetime.datetime.fromtimestamp(int(t), datetime.timezone.utc).strftime("%Y%m%d%H%M%SZ")


class CA:
    """The lab CA under DIR/ca; issue() is safe to call from several threads."""

    def __init__(self, d):
        self.d = os.path.join(d, "ca")
        self.certs = os.path.join(d, "certs")
        self.cnf = os.path.join(self.d, "openssl.cnf")

    def env(self, db, ca_cert, ca_key, san="DNS:unused.lab.test"):
        e = dict(os.environ, LAB_CA_DB=db, LAB_CA_OUT=os.path.join(self.d, "newcerts"),
             LAB_CA_CERT=ca_cert, LAB_CA_KEY=ca_key, LAB_SAN=san)
        e.pop("OPENSSL_CONF", None)
        return e

    def keyreq(self, key, csr, subj, env):
        run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", csr,
             "-subj", subj, "-config", self.cnf], env=env)
        os.chmod(key, 0o600)

    def sign(self, csr, out, start, end, ext, env, selfsign_key=None):
        open(env["LAB_CA_DB"], "w").close()
        argv = ["openssl", "ca", "-batch", "-config", self.cnf, "-in", csr, "-out", out,
            "-startdate", asn1(start), "-enddate", asn1(end), "-extensions", ext,
            "-notext", "-rand_serial"]
        if selfsign_key:
            argv += ["-selfsign", "-keyfile", selfsign_key]
        run(argv, env=env)

    def create(self):
        os.makedirs(os.path.join(self.d, "newcerts"))
        os.makedirs(os.path.join(self.d, "db"))
        write(self.cnf, OPENSSL_CNF)
        now = time.time()
        root_key, root = os.path.join(self.d, "root.key"), os.path.join(self.d, "root.pem")
        int_key = os.path.join(self.d, "intermediate.key")
        inter = os.path.join(self.d, "intermediate.pem")
        env = self.env(os.path.join(self.d, "db", "root.idx"), root, root_key)
        self.keyreq(root_key, root_key + ".csr", "/O=stswatch lab/CN=stswatch Lab Root CA", env)
        self.sign(root_key + ".csr", root, now - 400 * DAY, now + 3650 * DAY, "ext_root", env,
              selfsign_key=root_key)
        env = self.env(os.path.join(self.d, "db", "intermediate.idx"), root, root_key)
        self.keyreq(int_key, int_key + ".csr", "/O=stswatch lab/CN=stswatch Lab Intermediate CA",
                env)
        self.sign(int_key + ".csr", inter, now - 399 * DAY, now + 3000 * DAY,
              "ext_intermediate", env)

    def issue(self, cid, c, now):
        """Key, leaf, chain (leaf + intermediate unless c["chain"] == "leaf") and a
        key+chain file for postfix, all under DIR/certs/CID.*; files replaced atomically."""
        base = os.path.join(self.certs, cid)
        gen = ".g%d" % c["generation"]
        san = ",".join("DNS:" + n for n in c["names"])
        inter = os.path.join(self.d, "intermediate.pem")
        env = self.env(os.path.join(self.d, "db", cid + gen + ".idx"), inter,
                   os.path.join(self.d, "intermediate.key"), san)
        key, csr, crt = base + gen + ".key", base + gen + ".csr", base + gen + ".crt"
        self.keyreq(key, csr, "/O=stswatch lab/CN=" + c["names"][0][:64], env)
        end = now + c["days"] * DAY + 3600
        start = end - c["lifetime"] * DAY
        if c["self_signed"]:
            self.sign(csr, crt, start, end, "ext_self", env, selfsign_key=key)
        else:
            self.sign(csr, crt, start, end, "ext_leaf", env)
        leaf = open(crt).read()
        chain = leaf if (c["self_signed"] or c["chain"] == "leaf") else leaf + open(inter).read()
        keypem = open(key).read()
        write(base + ".key", keypem, 0o600)
        write(base + ".crt", leaf)
        write(base + ".chain.pem", chain)
        write(base + ".full.pem", keypem + chain, 0o600)
        for f in (key, csr, crt):
            os.unlink(f)
        return cid


def issue_all(ca, certs, now, only=None):
    todo = [(cid, c) for cid, c in sorted(certs.items()) if only is None or cid in only]
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as ex:
        list(ex.map(lambda t: ca.issue(t[0], t[1], now), todo))
    return len(todo)


# ---- configuration files -------------------------------------------------------------------

def render_zone(w):
    out = ["# generated by tests/lab/lab.py: the lab's zone, included by unbound.conf"]
    for d in w["timeout"]:
        out.append('local-zone: "%s." deny' % d)
    for d in w["servfail"]:
        out.append('local-zone: "%s." transparent' % d)
    for owner in sorted(w["rrsets"]):
        for rr in w["rrsets"][owner]:
            out.append("local-data: '%s'" % rr)
    return "\n".join(out) + "\n"


def render_unbound(d, w):
    lines = ["# generated by tests/lab/lab.py", "server:"]
    for a in (S.DNS_V4, S.DNS_V6, S.DNS_REFUSER):
        lines.append("  interface: %s" % a)
    lines += [
        "  port: 53",
        "  do-ip4: yes",
        "  do-ip6: yes",
        '  username: ""',
        '  chroot: ""',
        '  directory: "%s/unbound"' % d,
        '  pidfile: "%s/run/unbound.pid"' % d,
        '  logfile: "%s/log/unbound.log"' % d,
        "  use-syslog: no",
        "  verbosity: 1",
        "  num-threads: 1",
        "  so-reuseport: no",
        "  # stswatch sends hundreds of queries at once: the default 208 KiB buffer drops some",
        "  so-rcvbuf: 8m",
        "  so-sndbuf: 8m",
        "  num-queries-per-thread: 4096",
        "  rrset-roundrobin: no",
        '  module-config: "iterator"',
        "  do-not-query-localhost: no",
        "  access-control: 0.0.0.0/0 allow",
        "  access-control: ::/0 allow",
        "  # the stub for the SERVFAIL domains is unbound itself on %s: it refuses" % S.DNS_REFUSER,
        "  access-control: %s/32 refuse" % S.DNS_REFUSER,
        '  local-zone: "test." static',
        '  local-data: "test. 300 IN SOA ns.lab.test. hostmaster.lab.test. 1 3600 600 86400 60"',
        '  include: "%s/unbound/zone.conf"' % d,
    ]
    if w.get("bench"):
        lines.append('  include: "%s/unbound/bench-zone.conf"' % d)
    for dom in w["servfail"]:
        lines += ["stub-zone:", '  name: "%s."' % dom, "  stub-addr: %s" % S.DNS_REFUSER]
    lines += ["remote-control:", "  control-enable: yes",
          '  control-interface: "%s/run/unbound.ctl"' % d, "  control-use-cert: no"]
    return "\n".join(lines) + "\n"


def render_nginx(d, w):
    listen = "    listen %s:443 ssl%s;\n    listen [%s]:443 ssl%s;\n"
    out = ["# generated by tests/lab/lab.py",
           "user root root;", "worker_processes 1;",
           "worker_rlimit_nofile %d;" % (8192 if not w.get("bench") else 65536),
           "pid %s/run/nginx.pid;" % d,
           "error_log %s/log/nginx-error.log warn;" % d,
           # the benchmark's peer opens a connection per domain, all at once
           "events { worker_connections %d; }" % (4096 if not w.get("bench") else 32768),
           "http {",
           "  access_log %s/log/nginx-access.log;" % d]
    for t in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        out.append("  %s_temp_path %s/nginx/tmp/%s;" % (t, d, t))
    out += ["  server_tokens off;", "  sendfile off;", "  keepalive_timeout 5;",
        "  ssl_protocols TLSv1.2 TLSv1.3;", "  server_names_hash_bucket_size 128;",
        "  server_names_hash_max_size %d;" % max(4096, 2 * (w.get("bench") or {}).get("n", 0)),
        "  types { text/plain txt; }",
        "  default_type application/octet-stream;",
        "  server {   # no or unknown SNI; the backlog takes a benchmark's burst of connects",
        listen % (S.NGINX_V4, " default_server backlog=4096", S.NGINX_V6,
                  " default_server backlog=4096"),
        "    ssl_certificate %s/certs/default.lab.test.chain.pem;" % d,
        "    ssl_certificate_key %s/certs/default.lab.test.key;" % d,
        "    return 421;", "  }"]
    for v in w["vhosts"]:
        loc = "    location = /.well-known/mta-sts.txt {\n"
        if v["status"] in (301, 302, 307, 308):
            loc += "      return %d %s;\n" % (v["status"], v["redirect"])
        elif v["status"] != 200:
            loc += "      return %d;\n" % v["status"]
        else:
            loc += '      types { }\n      default_type "%s";\n' % v["content_type"]
            loc += "      alias %s/www/%s/mta-sts.txt;\n" % (d, v["host"])
            if v["limit_rate"]:
                loc += "      limit_rate %s;\n" % v["limit_rate"]
        loc += "    }\n"
        out += ["  server {   # %s" % v["domain"],
            listen % (S.NGINX_V4, "", S.NGINX_V6, ""),
            "    server_name %s;" % v["host"],
            "    ssl_certificate %s/certs/%s.chain.pem;" % (d, v["cert"]),
            "    ssl_certificate_key %s/certs/%s.key;" % (d, v["cert"]),
            loc + "    location / { return 404; }", "  }"]
    if w.get("bench"):
        out.append("  include %s/nginx/bench.conf;" % d)
    out.append("}")
    return "\n".join(out) + "\n"


POSTFIX_SERVICES = """\
# the usual internal services, none chrooted
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


def render_postfix_main(d):
    return """\
# generated by tests/lab/lab.py: a postfix instance of its own (postfix -c %(d)s/postfix)
compatibility_level = 3.6
queue_directory = %(d)s/postfix-spool
data_directory = %(d)s/postfix-data
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.lab.test
mydomain = lab.test
myorigin = $myhostname
mydestination =
relay_domains =
mynetworks = 127.0.0.0/8
inet_interfaces = loopback-only
inet_protocols = all
maillog_file = %(d)s/log/postfix.log
maillog_file_prefixes = %(d)s/log
smtpd_banner = $myhostname ESMTP stswatch lab
smtpd_relay_restrictions = reject
smtpd_recipient_restrictions = reject
alias_maps =
alias_database =
local_recipient_maps =
biff = no
smtpd_tls_security_level = may
smtpd_tls_chain_files = %(d)s/certs/default.lab.test.full.pem
smtpd_tls_loglevel = 1
smtpd_peername_lookup = no
""" % {"d": d}


def render_postfix_master(d, w):
    out = ["# generated by tests/lab/lab.py: one smtpd per MX address"]
    for s in w["smtpd"]:
        a = "[%s]" % s["addr"] if ":" in s["addr"] else s["addr"]
        o = ["-o syslog_name=postfix/%s" % s["host"], "-o myhostname=%s" % s["host"]]
        if s["smtp"] == "notls":
            o.append("-o smtpd_tls_security_level=none")
        else:
            o.append("-o smtpd_tls_chain_files=%s/certs/%s.full.pem" % (d, s["cert"]))
        if s["smtp"] == "tls-old":
            # OpenSSL 3 allows TLS < 1.2 only at security level 0
            o += ["-o { smtpd_tls_protocols = >=TLSv1, <=TLSv1.1 }",
                  "-o tls_medium_cipherlist=DEFAULT@SECLEVEL=0"]
        out.append("%s:25 inet n - n - - smtpd\n  %s" % (a, "\n  ".join(o)))
    return "\n".join(out) + "\n" + POSTFIX_SERVICES


def render_stswatch_conf(d, w):
    doms = ",\n".join('  "%s"' % x for x in w["domains"])
    return """\
# generated by tests/lab/lab.py: stswatch against the lab (short timeouts)
resolver = "%(dns)s";
ca_file = "%(d)s/ca/root.pem";
database = "%(d)s/stswatch.db";
ehlo_name = "probe.lab.test";
concurrency = 100;
ipv6 = true;
timeouts = {
  dns = "2s";
  dns_tries = 2;        # the tool's UDP socket can drop answers in a burst (see docs/LAB.md)
  policy = "6s";
  smtp_connect = "3s";
  smtp_step = "3s";
};
thresholds = {
  policy_slow = "2s";   # slow.test takes about 3 s
};
domains = (
%(doms)s
);
""" % {"d": d, "dns": S.DNS_V4, "doms": doms}


def write_policies(d, w):
    for v in w["vhosts"]:
        if v["body"] is None:
            continue
        os.makedirs(os.path.join(d, "www", v["host"]), exist_ok=True)
        write(os.path.join(d, "www", v["host"], "mta-sts.txt"), v["body"].encode())


def write_configs(d, w):
    write(os.path.join(d, "unbound", "zone.conf"), render_zone(w))
    write(os.path.join(d, "unbound", "unbound.conf"), render_unbound(d, w))
    write(os.path.join(d, "nginx", "nginx.conf"), render_nginx(d, w))
    # postfix waits until main.cf and master.cf are 2 s old (a guard against editors)
    write(os.path.join(d, "postfix", "main.cf"),
          render_postfix_main(d) + render_bench_postfix_main(w), age=10)
    write(os.path.join(d, "postfix", "master.cf"), render_postfix_master(d, w), age=10)
    write(os.path.join(d, "stswatch.conf"), render_stswatch_conf(d, w))
    write(os.path.join(d, "run", "helper.json"),
          json.dumps({"listen": [[S.BLACKHOLE_V4, 443]] + w["listen_silent"],
                      "badtls": w["listen_badtls"]}))
    write_policies(d, w)
    write_bench(d, w)


def describe(d, ns, w, applied, pids):
    rows = {}
    for dom, r in w["domains"].items():
        p = r["policy"]
        rows[dom] = {
            "purpose": r["purpose"], "expect": r["expect"], "status": r["status"],
            "dns": r["dns"],
            "txt": r["txt"], "tlsrpt": r["tlsrpt"],
            "mx": [[pref, h] for pref, h in r["mx"]],
            "policy_url": "https://mta-sts.%s/.well-known/mta-sts.txt" % dom if p else None,
        }
    muts = {}
    for name, m in S.MUTATIONS.items():
        muts[name] = {"domain": m["domain"], "what": m["what"],
                  "expect_after": m["expect_after"], "applied": name in applied}
    root = os.path.join(d, "ca", "root.pem")
    conf = os.path.join(d, "stswatch.conf")
    return {
        "namespace": ns, "dir": d, "resolver": S.DNS_V4, "resolver6": S.DNS_V6,
        "ca_file": root, "intermediate": os.path.join(d, "ca", "intermediate.pem"),
        "config": conf, "database": os.path.join(d, "stswatch.db"),
        "stswatch": {"prefix": ["ip", "netns", "exec", ns],
                 "args": ["--resolver", S.DNS_V4, "--ca-file", root],
                 "config_args": ["-c", conf],
                 "example": "ip netns exec %s build/stswatch check --format json "
                    "--resolver %s --ca-file %s -c %s ok.test" % (ns, S.DNS_V4, root, conf)},
        "addresses": {"dns": [S.DNS_V4, S.DNS_V6], "dns_refuser": S.DNS_REFUSER,
                  "nginx": S.NGINX, "refused": S.REFUSED_V4, "blackhole": S.BLACKHOLE_V4},
        "processes": pids,
        "created_at": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "mutations_applied": list(applied),
        "bench": (w.get("bench") or {}).get("n", 0),
        "bench_pool": (w.get("bench") or {}).get("pool", 0),
        "mutations": muts,
        "scenarios": rows,
    }


def write_description(d, ns, w, applied, pids):
    desc = describe(d, ns, w, applied, pids)
    desc.update(services_describe(d, ns))
    write(os.path.join(d, "lab.json"), json.dumps(desc, indent=1, sort_keys=True) + "\n")
    env = {"LAB_NS": ns, "LAB_DIR": d, "LAB_RESOLVER": S.DNS_V4, "LAB_CA": desc["ca_file"],
           "LAB_CONF": desc["config"]}
    env.update(services_env(d, ns))
    write(os.path.join(d, "lab.env"), "".join("%s=%s\n" % kv for kv in env.items()))
    write(os.path.join(d, "run", "state.json"), json.dumps({"applied": list(applied)}))


# ---- processes -----------------------------------------------------------------------------

def pid_alive(pid):
    """True while pid exists and is not a zombie (ps says so)."""
    p = subprocess.run(["ps", "-o", "stat=", "-p", str(pid)], stdout=subprocess.PIPE,
               stderr=subprocess.DEVNULL)
    st = p.stdout.decode().strip()
    return p.returncode == 0 and st != "" and not st.startswith("Z")


def read_pid(path):
    try:
        with open(path) as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def pidfiles(d):
    files = {"unbound": os.path.join(d, "run", "unbound.pid"),
        "nginx": os.path.join(d, "run", "nginx.pid"),
        "postfix": os.path.join(d, "postfix-spool", "pid", "master.pid"),
        "helper": os.path.join(d, "run", "helper.pid")}
    files.update(services_pidfiles(d))
    return files


def ns_exists(ns):
    p = run(["ip", "netns", "list"], check=False)
    return any(line.split()[0] == ns for line in p.stdout.decode().splitlines() if line.strip())


def ns_pids(ns):
    p = run(["ip", "netns", "pids", ns], check=False)
    return [int(x) for x in p.stdout.decode().split()] if p.returncode == 0 else []


def wait_gone(pids, secs):
    end = time.monotonic() + secs
    left = [p for p in pids if pid_alive(p)]
    while left and time.monotonic() < end:
        time.sleep(0.05)
        left = [p for p in left if pid_alive(p)]
    return left


def kill_pids(pids, sig):
    for p in pids:
        try:
            os.kill(p, sig)
        except ProcessLookupError:
            pass


def wait_listening(ns, want, secs=10.0):
    """Wait until every (proto, "addr:port") in want is bound inside the namespace."""
    end = time.monotonic() + secs
    while True:
        have = set()
        for proto, flag in (("tcp", "-Hltn"), ("udp", "-Hlun")):
            out = run(nsexec(ns, ["ss", flag]), check=False).stdout.decode()
            for line in out.splitlines():
                f = line.split()
                if len(f) >= 4:
                    have.add((proto, f[3].replace("[", "").replace("]", "")))
        missing = [x for x in want if (x[0], x[1].replace("[", "").replace("]", "")) not in have]
        if not missing or time.monotonic() > end:
            return missing
        time.sleep(0.1)


def check_traversable(d):
    """postfix daemons run as user postfix and must reach DIR/postfix-spool."""
    path = d
    while True:
        st = os.stat(path)
        if not st.st_mode & 0o001:
            raise LabError("%s is not searchable by others (mode %o); postfix runs as user "
                       "postfix and needs it: chmod o+x %s, or choose another DIR"
                       % (path, st.st_mode & 0o777, path))
        parent = os.path.dirname(path)
        if parent == path:
            return
        path = parent


# ---- services: servers for the alert and daemon tests ------------------------------------
# The webhook receiver (webhook.py), Alertmanager, a Postfix submission server with
# Dovecot's SASL, the NOTIFY_SOCKET helper (notify.py), the outbound port 25 firewall and
# promtool. Each function below is called once from up, down, describe or main; they
# share nothing with the scenario world but the certificates and the zone.

HOOK_PATHS = ["/ops", "/slack", "/teams", "/ntfy", "/am", "/heartbeat"]
HOOKS_HTTPS, HOOKS_HTTP = 443, 80
AM_PORT = 9093
SMTP_SUBMISSION, SMTP_SMTPS, SMTP_PLAIN_PORT = 587, 465, 2525
SMTP_USER = "stswatch"
MAIL_UID = MAIL_GID = 65534  # virtual(8) delivers as nobody:nogroup
AM_TIMINGS = {"group_wait": "1s", "group_interval": "2s", "repeat_interval": "30s",
              "resolve_timeout": "20s"}
SERVICE_DIRS = ("hooks", "alertmanager", "postfix-mail", "postfix-mail-spool", "dovecot",
                "mail")
FW_TABLE = "stswlab_fw"
SERVICE_TOOLS = ("prometheus-alertmanager", "promtool", "dovecot", "nft", "systemd-notify")
SERVICE_PACKAGES = "prometheus-alertmanager prometheus dovecot-core nftables systemd"


def services_world(w):
    """Add the services' certificates and DNS names to the world."""
    for name, addr in S.SERVICE_NAMES.items():
        w["rrsets"].setdefault(name + ".", []).append("%s. 300 IN A %s" % (name, addr))
    w["certs"]["hooks.lab.test"] = norm_cert({"names": ["hooks.lab.test"]}, "hooks.lab.test")
    w["certs"]["smtp.lab.test"] = norm_cert({"names": ["smtp.lab.test", "smtp-plain.lab.test"]},
                                            "smtp.lab.test")


def netns_etc(ns):
    return os.path.join("/etc/netns", ns)


def services_prepare(d, ns):
    """Fresh directories, and /etc/netns/NS/resolv.conf so that getaddrinfo inside the
    namespace (curl, smtplib, libcurl, Go) asks the lab's unbound (ip netns exec mounts it)."""
    for sub in SERVICE_DIRS + ("postfix-mail-data",):
        shutil.rmtree(os.path.join(d, sub), ignore_errors=True)
    for sub in SERVICE_DIRS + ("alertmanager/data", "dovecot/state"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    os.chown(os.path.join(d, "mail"), MAIL_UID, MAIL_GID)
    sock = os.path.join(d, "dovecot", "run", "replication-notify-fifo")
    if len(sock) > 107:
        raise LabError("DIR %s is too long for Dovecot's unix sockets (%s: %d > 107 bytes)"
                       % (d, sock, len(sock)))
    for _ in range(20):  # another lab may remove an empty /etc/netns at the same moment
        try:
            os.makedirs(netns_etc(ns), exist_ok=True)
            write(os.path.join(netns_etc(ns), "resolv.conf"),
                  "# stswatch lab %s: the lab's unbound\nnameserver %s\n"
                  "options timeout:2 attempts:2\n" % (d, S.DNS_V4))
            return
        except FileNotFoundError:
            time.sleep(0.05)
    raise LabError("cannot write %s/resolv.conf" % netns_etc(ns))


def services_cleanup(ns, d):
    """Remove /etc/netns/NS when this lab wrote it."""
    conf = os.path.join(netns_etc(ns), "resolv.conf")
    try:
        with open(conf) as f:
            if ("# stswatch lab %s:" % d) not in f.readline():
                return
        os.unlink(conf)
        os.rmdir(netns_etc(ns))
        os.rmdir("/etc/netns")
    except OSError:
        pass


def services_secrets(d):
    return read_json_file(os.path.join(d, "run", "services.json")) or {}


def read_json_file(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def render_alertmanager(d):
    return """\
# generated by tests/lab/lab.py: Alertmanager's only receiver is the lab's webhook receiver
global:
  resolve_timeout: %(resolve_timeout)s
route:
  receiver: lab-hooks
  group_by: ['...']     # every alert its own group: one notification per alert
  group_wait: %(group_wait)s
  group_interval: %(group_interval)s
  repeat_interval: %(repeat_interval)s
receivers:
  - name: lab-hooks
    webhook_configs:
      - url: http://%(hooks)s:%(port)d/am
        send_resolved: true
""" % dict(AM_TIMINGS, hooks=S.HOOKS_V4, port=HOOKS_HTTP)


def render_dovecot(d):
    return """\
# generated by tests/lab/lab.py: Dovecot only as Postfix's SASL authentication service
instance_name = stswlab-%(inst)s
base_dir = %(d)s/dovecot/run
state_dir = %(d)s/dovecot/state
log_path = %(d)s/log/dovecot.log
protocols =
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_verbose = yes
auth_failure_delay = 0
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%%u %(d)s/dovecot/passwd
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=/nonexistent
}
# no auth penalty (2, 4, 8, 15 s of delay per client address after failures): without
# its anvil socket the auth process does not track failures
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
service auth {
  unix_listener auth-client {
    mode = 0660
    user = postfix
    group = postfix
  }
}
""" % {"d": d, "inst": hashlib.sha256(d.encode()).hexdigest()[:8]}


def render_postfix_mail_main(d):
    return """\
# generated by tests/lab/lab.py: the alert mail server, a postfix instance of its own
# (postfix -c %(d)s/postfix-mail). Authenticated mail to anyone lands in %(d)s/mail/inbox/.
compatibility_level = 3.6
queue_directory = %(d)s/postfix-mail-spool
data_directory = %(d)s/postfix-mail-data
mail_owner = postfix
setgid_group = postdrop
myhostname = smtp.lab.test
mydomain = lab.test
myorigin = $myhostname
mydestination =
relay_domains =
mynetworks = 127.0.0.0/8, 10.0.0.0/8
inet_interfaces = loopback-only
inet_protocols = ipv4
maillog_file = %(d)s/log/postfix-mail.log
maillog_file_prefixes = %(d)s/log
smtpd_banner = $myhostname ESMTP stswatch lab mail
alias_maps =
alias_database =
local_recipient_maps =
biff = no
smtpd_peername_lookup = no
# keep what the client sent: no header added or rewritten (only Received on top)
local_header_rewrite_clients =
always_add_missing_headers = no
smtpd_tls_chain_files = %(d)s/certs/smtp.lab.test.full.pem
smtpd_tls_security_level = encrypt
smtpd_tls_auth_only = yes
smtpd_tls_loglevel = 1
smtpd_tls_received_header = yes
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = %(d)s/dovecot/run/auth-client
smtpd_sasl_security_options = noanonymous
smtpd_sasl_authenticated_header = yes
smtpd_relay_restrictions = permit_sasl_authenticated, reject
# the listeners without TLS take mail from anyone and file it in %(d)s/mail/plain/
plain_relay_restrictions = check_recipient_access regexp:%(d)s/postfix-mail/plain.regexp,
    permit_mynetworks, reject
default_transport = virtual
relay_transport = virtual
virtual_mailbox_base = %(d)s/mail
virtual_mailbox_maps = static:inbox/
virtual_uid_maps = static:%(uid)d
virtual_gid_maps = static:%(gid)d
""" % {"d": d, "uid": MAIL_UID, "gid": MAIL_GID}


def render_postfix_mail_master(d):
    plain = ("  -o smtpd_tls_security_level=none\n  -o smtpd_sasl_auth_enable=no\n"
             "  -o smtpd_relay_restrictions=$plain_relay_restrictions")
    return """\
# generated by tests/lab/lab.py: submission (STARTTLS required, AUTH), smtps, and two
# listeners without STARTTLS
%(a)s:%(sub)d inet n - n - - smtpd
  -o syslog_name=postfix-mail/submission
%(a)s:%(smtps)d inet n - n - - smtpd
  -o syslog_name=postfix-mail/smtps
  -o smtpd_tls_wrappermode=yes
%(a)s:%(plainport)d inet n - n - - smtpd
  -o syslog_name=postfix-mail/plain
%(plain)s
%(p)s:%(sub)d inet n - n - - smtpd
  -o syslog_name=postfix-mail/plain587
%(plain)s
virtual   unix  -       n       n       -       -       virtual
plainbox  unix  -       n       n       -       -       virtual
  -o virtual_mailbox_maps=static:plain/
""" % {"a": S.SMTP_V4, "p": S.SMTP_PLAIN_V4, "sub": SMTP_SUBMISSION, "smtps": SMTP_SMTPS,
       "plainport": SMTP_PLAIN_PORT, "plain": plain} + POSTFIX_SERVICES


def services_configs(d):
    """Every service's configuration and secrets (new ones at every up)."""
    sec = {"webhook_secret": "whsec_" + base64.b64encode(os.urandom(24)).decode(),
           "smtp_password": "lab-" + os.urandom(9).hex()}
    write(os.path.join(d, "run", "services.json"), json.dumps(sec), 0o600)
    hooks = os.path.join(d, "hooks")
    write(os.path.join(hooks, "ops.secret"), sec["webhook_secret"] + "\n", 0o600)
    write(os.path.join(hooks, "config.json"), json.dumps({
        "https": [[S.HOOKS_V4, HOOKS_HTTPS]], "http": [[S.HOOKS_V4, HOOKS_HTTP]],
        "cert": os.path.join(d, "certs", "hooks.lab.test.chain.pem"),
        "key": os.path.join(d, "certs", "hooks.lab.test.key"),
        "secrets": {"/ops": sec["webhook_secret"]}}, indent=1))
    write(os.path.join(hooks, "control.json"), json.dumps({"generation": 0}))
    write(os.path.join(d, "alertmanager", "alertmanager.yml"), render_alertmanager(d))
    write(os.path.join(d, "dovecot", "dovecot.conf"), render_dovecot(d))
    write(os.path.join(d, "dovecot", "passwd"),
          "%s:{PLAIN}%s\n" % (SMTP_USER, sec["smtp_password"]), 0o640)
    shutil.chown(os.path.join(d, "dovecot", "passwd"), group="dovecot")
    write(os.path.join(d, "mail", "smtp.pass"), sec["smtp_password"] + "\n", 0o600)
    pm = os.path.join(d, "postfix-mail")
    write(os.path.join(pm, "plain.regexp"), "/./ FILTER plainbox:plain\n")
    write(os.path.join(pm, "main.cf"), render_postfix_mail_main(d), age=10)
    write(os.path.join(pm, "master.cf"), render_postfix_mail_master(d), age=10)


def services_pidfiles(d):
    return {"webhook": os.path.join(d, "run", "webhook.pid"),
            "alertmanager": os.path.join(d, "run", "alertmanager.pid"),
            "dovecot": os.path.join(d, "run", "dovecot.pid"),
            "postfix-mail": os.path.join(d, "postfix-mail-spool", "pid", "master.pid")}


def spawn(ns, d, name, argv):
    """Start argv in the namespace in the background, its output to DIR/log/NAME.log."""
    out = open(os.path.join(d, "log", name + ".log"), "ab")
    p = subprocess.Popen(nsexec(ns, argv), stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                         start_new_session=True)
    out.close()
    write(os.path.join(d, "run", name + ".pid"), "%d\n" % p.pid)
    return p


def services_start(d, ns):
    """Start the services; the caller waits for services_want() to listen."""
    spawn(ns, d, "webhook", [PYTHON, os.path.join(HERE, "webhook.py"), "serve",
                             os.path.join(d, "hooks")])
    spawn(ns, d, "alertmanager", [
        "prometheus-alertmanager",
        "--config.file=" + os.path.join(d, "alertmanager", "alertmanager.yml"),
        "--storage.path=" + os.path.join(d, "alertmanager", "data"),
        "--web.listen-address=%s:%d" % (S.ALERTMANAGER_V4, AM_PORT),
        "--web.external-url=http://alertmanager.lab.test:%d/" % AM_PORT,
        "--cluster.listen-address=", "--log.level=debug"])
    # in the foreground: a daemonized dovecot keeps the caller's pipes open
    spawn(ns, d, "dovecot", ["dovecot", "-F", "-c", os.path.join(d, "dovecot", "dovecot.conf")])
    run(nsexec(ns, ["postfix", "-c", os.path.join(d, "postfix-mail"), "start"]))


def services_want():
    return [("tcp", "%s:%d" % (S.HOOKS_V4, HOOKS_HTTPS)), ("tcp", "%s:%d" % (S.HOOKS_V4, HOOKS_HTTP)),
            ("tcp", "%s:%d" % (S.ALERTMANAGER_V4, AM_PORT)),
            ("tcp", "%s:%d" % (S.SMTP_V4, SMTP_SUBMISSION)), ("tcp", "%s:%d" % (S.SMTP_V4, SMTP_SMTPS)),
            ("tcp", "%s:%d" % (S.SMTP_V4, SMTP_PLAIN_PORT)),
            ("tcp", "%s:%d" % (S.SMTP_PLAIN_V4, SMTP_SUBMISSION))]


def services_ready(d, ns):
    """After the ports listen: Dovecot's auth socket is there, Alertmanager answers."""
    sock = os.path.join(d, "dovecot", "run", "auth-client")
    end = time.monotonic() + 10
    while not os.path.exists(sock):
        if time.monotonic() > end:
            raise LabError("dovecot: no %s after 10 s (see %s/log/dovecot.log)" % (sock, d))
        time.sleep(0.05)
    while True:
        p = run(nsexec(ns, ["curl", "-sf", "--max-time", "2", "http://%s:%d/-/ready"
                            % (S.ALERTMANAGER_V4, AM_PORT)]), check=False)
        if p.returncode == 0:
            return
        if time.monotonic() > end:
            raise LabError("alertmanager not ready after 10 s (see %s/log/alertmanager.log)" % d)
        time.sleep(0.1)


def services_stop(d, ns, ours):
    """Begin to stop the slow ones while the caller stops the rest: the mail instance the
    way postfix wants (`postfix stop` can take a second), Dovecot at once. The caller waits
    for the returned processes; the others go by their pid files."""
    files = services_pidfiles(d)
    pid = read_pid(files["dovecot"])
    if pid in ours:
        # its master takes a second to end after SIGTERM; it keeps nothing worth a clean
        # stop, so its process group (spawn made it a session leader) goes at once
        try:
            if os.getpgid(pid) == pid:
                os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass
    pid = read_pid(files["postfix-mail"])
    if pid not in ours:
        return []
    return [subprocess.Popen(nsexec(ns, ["postfix", "-c", os.path.join(d, "postfix-mail"), "stop"]),
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)]


def firewall_state(d):
    return (read_json_file(os.path.join(d, "run", "firewall.json")) or {}).get("smtp", "open")


def services_describe(d, ns):
    """The lab.json keys of the services."""
    sec = services_secrets(d)
    hooks = os.path.join(d, "hooks")
    me = os.path.abspath(__file__)
    return {
        "webhook": {
            "host": "hooks.lab.test", "address": S.HOOKS_V4,
            "https_port": HOOKS_HTTPS, "http_port": HOOKS_HTTP,
            "https_url": "https://hooks.lab.test", "http_url": "http://hooks.lab.test",
            "paths": HOOK_PATHS, "dir": hooks,
            "requests": os.path.join(hooks, "requests.jsonl"),
            "control": os.path.join(hooks, "control.json"),
            "state": os.path.join(hooks, "state.json"),
            "secrets": {"/ops": {"secret": sec.get("webhook_secret"),
                                 "file": os.path.join(hooks, "ops.secret")}},
            "module": os.path.join(HERE, "webhook.py"),
            "ctl": [PYTHON, os.path.join(HERE, "webhook.py"), "ctl", hooks],
            "log": os.path.join(d, "log", "webhook.log")},
        "alertmanager": {
            "host": "alertmanager.lab.test", "address": S.ALERTMANAGER_V4, "port": AM_PORT,
            "url": "http://alertmanager.lab.test:%d" % AM_PORT,
            "api": "http://alertmanager.lab.test:%d/api/v2" % AM_PORT,
            "receiver_url": "http://%s:%d/am" % (S.HOOKS_V4, HOOKS_HTTP),
            "receiver_path": "/am", "timings": AM_TIMINGS, "group_by": ["..."],
            "config": os.path.join(d, "alertmanager", "alertmanager.yml"),
            "log": os.path.join(d, "log", "alertmanager.log")},
        "smtp": {
            "host": "smtp.lab.test", "address": S.SMTP_V4,
            "submission_port": SMTP_SUBMISSION, "smtps_port": SMTP_SMTPS,
            "submission_url": "smtp://smtp.lab.test:%d" % SMTP_SUBMISSION,
            "smtps_url": "smtps://smtp.lab.test:%d" % SMTP_SMTPS,
            "plain": [{"host": "smtp-plain.lab.test", "address": S.SMTP_PLAIN_V4,
                       "port": SMTP_SUBMISSION,
                       "url": "smtp://smtp-plain.lab.test:%d" % SMTP_SUBMISSION},
                      {"host": "smtp.lab.test", "address": S.SMTP_V4, "port": SMTP_PLAIN_PORT,
                       "url": "smtp://smtp.lab.test:%d" % SMTP_PLAIN_PORT}],
            "username": SMTP_USER, "password": sec.get("smtp_password"),
            "password_file": os.path.join(d, "mail", "smtp.pass"),
            "mailbox": os.path.join(d, "mail", "inbox"),
            "plain_mailbox": os.path.join(d, "mail", "plain"),
            "log": os.path.join(d, "log", "postfix-mail.log"),
            "dovecot_log": os.path.join(d, "log", "dovecot.log")},
        "notify": {"module": os.path.join(HERE, "notify.py"),
                   "listen": [PYTHON, os.path.join(HERE, "notify.py"), "listen"],
                   "socket_dir": os.path.join(d, "run")},
        "firewall": {"smtp": firewall_state(d),
                     "block": [PYTHON, me, "firewall", d, "block-smtp"],
                     "unblock": [PYTHON, me, "firewall", d, "unblock"]},
        "promtool": shutil.which("promtool") or "/usr/bin/promtool",
        "netns_resolv_conf": os.path.join(netns_etc(ns), "resolv.conf"),
    }


def services_env(d, ns):
    s = services_describe(d, ns)
    return {"LAB_HOOKS_URL": s["webhook"]["https_url"], "LAB_HOOKS_HTTP_URL": s["webhook"]["http_url"],
            "LAB_HOOKS_DIR": s["webhook"]["dir"], "LAB_HOOKS_REQUESTS": s["webhook"]["requests"],
            "LAB_HOOKS_SECRET_FILE": s["webhook"]["secrets"]["/ops"]["file"],
            "LAB_AM_URL": s["alertmanager"]["url"],
            "LAB_SMTP_URL": s["smtp"]["submission_url"], "LAB_SMTPS_URL": s["smtp"]["smtps_url"],
            "LAB_SMTP_PLAIN_URL": s["smtp"]["plain"][0]["url"],
            "LAB_SMTP_USER": SMTP_USER, "LAB_SMTP_PASSWORD_FILE": s["smtp"]["password_file"],
            "LAB_MAILBOX": s["smtp"]["mailbox"], "LAB_NOTIFY": s["notify"]["module"],
            "LAB_PROMTOOL": s["promtool"]}


def nginx_workers(master):
    """The pids of the worker processes of the nginx master pid that take connections
    (one that is shutting down after a reload does not)."""
    out = set()
    for e in os.listdir("/proc"):
        if not e.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % e) as f:
                st = f.read()
            with open("/proc/%s/cmdline" % e, "rb") as f:
                cmd = f.read()
        except OSError:
            continue
        ppid = int(st[st.rindex(")") + 2:].split()[1])
        if ppid == master and b"worker process" in cmd and b"shutting down" not in cmd:
            out.add(int(e))
    return out


def nginx_reload(d, ns):
    """Reload nginx and wait until a worker of the new configuration runs: the reload
    signal returns at once, and a check right after it would still see the old one."""
    master = read_pid(os.path.join(d, "run", "nginx.pid"))
    before = nginx_workers(master) if master else set()
    run(nsexec(ns, ["nginx", "-c", os.path.join(d, "nginx", "nginx.conf"), "-s", "reload"]))
    deadline = time.monotonic() + 10
    while master and time.monotonic() < deadline:
        now = nginx_workers(master)
        if now and not now & before:
            return
        time.sleep(0.02)
    if master:
        raise LabError("nginx reload: no new worker after 10 s (see %s/log/)" % d)


def cmd_firewall(d, what):
    """block-smtp [--reject]: outbound TCP to port 25 is dropped (or refused with a TCP RST)
    inside the namespace; unblock: removed; status: print the state."""
    d = os.path.abspath(d)
    ns = lab_ns(d)
    if not ns_exists(ns):
        raise LabError("firewall: no namespace %s: is the lab up?" % ns)
    if what == ["status"]:
        print(firewall_state(d))
        return
    run(nsexec(ns, ["nft", "delete", "table", "inet", FW_TABLE]), check=False)
    if what in (["block-smtp"], ["block-smtp", "--reject"]):
        verdict = "reject with tcp reset" if "--reject" in what else "drop"
        rules = ("table inet %s {\n  chain output {\n    type filter hook output priority 0; "
                 "policy accept;\n    tcp dport 25 %s comment \"stswatch lab: outbound port 25 "
                 "blocked\"\n  }\n}\n" % (FW_TABLE, verdict))
        run(nsexec(ns, ["nft", "-f", "-"]), input=rules.encode())
        state = "reject" if "--reject" in what else "drop"
    elif what == ["unblock"]:
        state = "open"
    else:
        raise LabError("firewall: block-smtp [--reject] | unblock | status")
    write(os.path.join(d, "run", "firewall.json"), json.dumps({"smtp": state}))
    desc = read_json_file(os.path.join(d, "lab.json"))
    if desc is not None:
        desc["firewall"]["smtp"] = state
        write(os.path.join(d, "lab.json"), json.dumps(desc, indent=1, sort_keys=True) + "\n")
    log("firewall: outbound port 25 in %s: %s" % (ns, {"drop": "dropped (connections time out)",
                                                    "reject": "refused (TCP RST)",
                                                    "open": "open"}[state]))


def cmd_hooks(d, args):
    """lab.py hooks DIR ARGS: webhook.py ctl DIR/hooks ARGS."""
    sys.path.insert(0, HERE)
    import webhook
    return webhook.ctl_main([os.path.join(os.path.abspath(d), "hooks")] + list(args))


# ---- commands ----------------------------------------------------------------------------

def lab_ns(d):
    """The namespace of the lab in d: the one it recorded, else $LAB_NS, else the default."""
    try:
        with open(os.path.join(d, "run", "ns")) as f:
            ns = f.read().strip()
            if ns:
                return ns
    except OSError:
        pass
    return os.environ.get("LAB_NS") or DEFAULT_NS


def ns_owner(ns):
    """The DIR of the lab that made the namespace: up writes it as the alias of its lo
    (namespace inode numbers are reused, so they cannot tell two labs apart)."""
    p = run(["ip", "-n", ns, "-o", "link", "show", "dev", "lo"], check=False)
    m = p.stdout.decode(errors="replace").split(" alias ", 1)
    return m[1].strip() if len(m) == 2 else None


def ns_inode(ns):
    try:
        return os.stat("/run/netns/" + ns).st_ino
    except OSError:
        return None


def owned(pid, d, ns_ino):
    """True when pid is alive and is one of this lab's: its command line or environment
    names DIR (unbound, nginx, the helper; postfix's MAIL_CONFIG) or it runs in the lab's
    namespace. A pid file outliving its process never makes us signal a stranger."""
    if not pid_alive(pid):
        return False
    try:
        if ns_ino is not None and os.stat("/proc/%d/ns/net" % pid).st_ino == ns_ino:
            return True
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            if (d + "/").encode() in f.read():
                return True
        with open("/proc/%d/environ" % pid, "rb") as f:
            return b"\0MAIL_CONFIG=" + (d + "/postfix").encode() + b"\0" in b"\0" + f.read()
    except OSError:
        return False


def cmd_down(d, quiet=False):
    d = os.path.abspath(d)
    ns = lab_ns(d)
    ino = ns_inode(ns)
    owner = ns_owner(ns) if ino is not None else None
    ns_mine = not owner or owner == d
    if not ns_mine:
        # the name belongs to another lab now (its `up` tore this one down)
        log("down: namespace %s belongs to the lab in %s now; leaving it alone" % (ns, owner))
        ino = None
    files = pidfiles(d)
    recorded = [read_pid(p) for p in files.values()]
    try:
        with open(os.path.join(d, "run", "pids.json")) as f:
            recorded += list(json.load(f).values())
    except (OSError, ValueError):
        pass
    ours = sorted({p for p in recorded if p and owned(p, d, ino)})
    # postfix first, the way it wants to be stopped; then the others by their pid files
    pf_pid = read_pid(files["postfix"])
    stopping = services_stop(d, ns, ours) if ino is not None else []
    if pf_pid in ours and ino is not None:
        try:
            run(nsexec(ns, ["postfix", "-c", os.path.join(d, "postfix"), "stop"]), check=False)
        except subprocess.TimeoutExpired:  # a wedged postfix: the signals below end it
            log("down: postfix stop did not finish in 60 s; killing its processes")
    for p in stopping:
        p.wait(30)
    for name, path in files.items():
        pid = read_pid(path)
        if pid in ours and pid_alive(pid):
            kill_pids([pid], signal.SIGQUIT if name == "nginx" else signal.SIGTERM)
    left = wait_gone(ours, 5)
    if left:
        kill_pids(left, signal.SIGKILL)
        left = wait_gone(left, 2)
    # whatever else still runs in the namespace was started by the lab too (smtpd, workers)
    removed = False
    if ns_mine and ns_exists(ns):
        rest = ns_pids(ns)
        if rest:
            kill_pids(rest, signal.SIGTERM)
            rest = wait_gone(rest, 3)
            kill_pids(rest, signal.SIGKILL)
            left += wait_gone(rest, 2)
        run(["ip", "netns", "del", ns], check=False)
        removed = True
    still = [p for p in set(ours + left) if pid_alive(p)]
    for path in files.values():
        if os.path.exists(path) and path.endswith(("unbound.pid", "nginx.pid", "helper.pid",
                                                   "webhook.pid", "alertmanager.pid",
                                                   "dovecot.pid")):
            os.unlink(path)
    if ns_mine:
        services_cleanup(ns, d)
    if (ns_mine and ns_exists(ns)) or still:
        raise LabError("down: left behind: namespace %s %s, processes %s"
                   % (ns, "exists" if ns_exists(ns) else "gone", still))
    if not quiet:
        log("down: %s, %d processes stopped, nothing left" %
            ("namespace %s removed" % ns if removed else "no namespace %s" % ns, len(ours)))


def cmd_up(d, bench=0, pool=S.BENCH_POOL):
    t0 = time.monotonic()
    d = os.path.abspath(d)
    ns = os.environ.get("LAB_NS") or DEFAULT_NS
    for tool in ("ip", "openssl", "unbound", "unbound-control", "nginx", "postfix", "ss", "ps"):
        if not shutil.which(tool) and not os.path.exists("/usr/sbin/" + tool):
            raise LabError("%s not found (Debian packages: iproute2 openssl unbound nginx "
                       "postfix procps)" % tool)
    for tool in SERVICE_TOOLS:
        if not shutil.which(tool) and not os.path.exists("/usr/sbin/" + tool):
            raise LabError("%s not found (Debian packages: %s; scripts/deps.sh test)"
                           % (tool, SERVICE_PACKAGES))
    if os.path.isdir(os.path.join(d, "run")):
        cmd_down(d, quiet=True)
    if ns_exists(ns):
        log("up: namespace %s exists: tearing the previous lab down" % ns)
        rest = ns_pids(ns)
        kill_pids(rest, signal.SIGTERM)
        kill_pids(wait_gone(rest, 5), signal.SIGKILL)
        wait_gone(rest, 2)
        run(["ip", "netns", "del", ns])
    if any(c.isspace() for c in d) or len(d) > 200:
        raise LabError("DIR %r: no white space and at most 200 characters, please "
                   "(it goes into server configurations and the namespace's lo alias)" % d)
    os.makedirs(d, exist_ok=True)
    os.chmod(d, 0o755)
    check_traversable(d)
    for sub in SUBDIRS:
        shutil.rmtree(os.path.join(d, sub), ignore_errors=True)
    for f in ("lab.json", "lab.env", "stswatch.conf", "stswatch.db", "stswatch.db-wal",
          "stswatch.db-shm"):
        if os.path.exists(os.path.join(d, f)):
            os.unlink(os.path.join(d, f))
    for sub in SUBDIRS + ("nginx/tmp",):
        if sub != "postfix-data":  # postfix makes it, owned by user postfix
            os.makedirs(os.path.join(d, sub), exist_ok=True)
    write(os.path.join(d, "run", "ns"), ns + "\n")
    services_prepare(d, ns)

    w = build_world(bench=bench, pool=pool)
    now = time.time()
    ca = CA(d)
    ca.create()
    n = issue_all(ca, w["certs"], now)
    write(os.path.join(d, "run", "certs.json"), json.dumps(w["certs"], sort_keys=True))
    t_certs = time.monotonic() - t0
    write_configs(d, w)
    services_configs(d)
    run(["unbound-checkconf", os.path.join(d, "unbound", "unbound.conf")])

    run(["ip", "netns", "add", ns])
    batch = ["link set dev lo alias %s" % d, "link set lo up"]
    for a in addresses(w):
        batch.append("addr add %s/%d dev lo%s" % (a, 128 if ":" in a else 32,
                             " nodad" if ":" in a else ""))
    run(["ip", "-n", ns, "-batch", "-"], input="\n".join(batch).encode())

    pids = {}
    run(nsexec(ns, ["unbound", "-c", os.path.join(d, "unbound", "unbound.conf")]))
    run(nsexec(ns, ["nginx", "-e", os.path.join(d, "log", "nginx-error.log"),
            "-c", os.path.join(d, "nginx", "nginx.conf")]))
    run(nsexec(ns, ["postfix", "-c", os.path.join(d, "postfix"), "start"]))
    hl = open(os.path.join(d, "log", "helper.log"), "ab")
    hp = subprocess.Popen(nsexec(ns, [PYTHON, os.path.abspath(__file__), "_helper", d]),
                  stdin=subprocess.DEVNULL, stdout=hl, stderr=hl, start_new_session=True)
    write(os.path.join(d, "run", "helper.pid"), "%d\n" % hp.pid)
    services_start(d, ns)

    want = [("udp", "%s:53" % S.DNS_V4), ("tcp", "%s:53" % S.DNS_V4),
        ("udp", "%s:53" % S.DNS_V6), ("udp", "%s:53" % S.DNS_REFUSER),
        ("tcp", "%s:443" % S.NGINX_V4), ("tcp", "%s:443" % S.NGINX_V6),
        ("tcp", "%s:443" % S.BLACKHOLE_V4)]
    want += [("tcp", "%s:25" % s["addr"]) for s in w["smtpd"]]
    want += [("tcp", "%s:%d" % (a, p)) for a, p in w["listen_silent"] + w["listen_badtls"]]
    want += services_want()
    missing = wait_listening(ns, want)
    for name, path in pidfiles(d).items():
        pids[name] = read_pid(path)
        if not pids[name] or not pid_alive(pids[name]):
            raise LabError("%s did not start (see %s/log/)" % (name, d))
    if missing:
        raise LabError("not listening after 10 s: %s (see %s/log/)" % (missing, d))
    services_ready(d, ns)
    write(os.path.join(d, "run", "pids.json"), json.dumps(pids))
    write_description(d, ns, w, [], pids)
    log("up: namespace %s, %d scenarios, %d generated domains on %d MX hosts, %d certificates "
        "(%.1f s), %d smtpd services, %d policy hosts, ready in %.1f s; %s/lab.json" %
        (ns, len(w["domains"]), bench, pool if bench else 0, n + 2, t_certs, len(w["smtpd"]),
         len(w["vhosts"]) + bench, time.monotonic() - t0, d))


def load_state(d):
    try:
        with open(os.path.join(d, "lab.json")) as f:
            desc = json.load(f)
    except OSError:
        raise LabError("%s/lab.json not found: is the lab up (lab.py up %s)?" % (d, d))
    return desc


def unbound_control(d, *args, input=None):
    return run(["unbound-control", "-c", os.path.join(d, "unbound", "unbound.conf")] + list(args),
           input=input)


def cmd_mutate(d, name):
    d = os.path.abspath(d)
    if name not in S.MUTATIONS:
        raise LabError("unknown mutation %s (known: %s)" % (name, ", ".join(S.MUTATIONS)))
    desc = load_state(d)
    ns = desc["namespace"]
    applied = list(desc.get("mutations_applied", []))
    if name in applied:
        log("mutate: %s was applied already; nothing to do" % name)
        return
    bench = (desc.get("bench", 0), desc.get("bench_pool") or S.BENCH_POOL)
    old = build_world(applied, *bench)
    new = build_world(applied + [name], *bench)
    # certificates first, so that new configuration never names a missing file
    with open(os.path.join(d, "run", "certs.json")) as f:
        have = json.load(f)
    changed = {cid for cid, c in new["certs"].items() if have.get(cid) != c}
    if changed:
        issue_all(CA(d), new["certs"], time.time(), only=changed)
        have.update({cid: new["certs"][cid] for cid in changed})
        write(os.path.join(d, "run", "certs.json"), json.dumps(have, sort_keys=True))
    write_configs(d, new)
    # DNS: replace every changed owner name at run time, then flush what may be cached
    owners = set(old["rrsets"]) | set(new["rrsets"])
    dns_changed = sorted(o for o in owners if old["rrsets"].get(o) != new["rrsets"].get(o))
    for o in dns_changed:
        unbound_control(d, "local_data_remove", o)
        if new["rrsets"].get(o):
            unbound_control(d, "local_datas", input=("\n".join(new["rrsets"][o]) + "\n").encode())
        unbound_control(d, "flush", o)
    if dns_changed:
        unbound_control(d, "flush_zone", "test.")
        unbound_control(d, "flush_requestlist")
    nginx_changed = render_nginx(d, old) != render_nginx(d, new)
    if nginx_changed:
        nginx_reload(d, ns)
    smtp_certs = {s["cert"] for s in new["smtpd"]}
    if render_postfix_master(d, old) != render_postfix_master(d, new) or changed & smtp_certs:
        run(nsexec(ns, ["postfix", "-c", os.path.join(d, "postfix"), "reload"]))
    if changed & {v["cert"] for v in new["vhosts"]}:
        nginx_reload(d, ns)
    # busy smtpd processes finish their session after a reload: wait for the new certificate
    for s in new["smtpd"]:
        if s["cert"] in changed:
            wait_cert(ns, d, s["addr"], s["host"], s["cert"])
    # nginx's reload returns before its new workers serve: wait for the new answers
    if nginx_changed:
        olds = {v["host"]: v for v in old["vhosts"]}
        for v in new["vhosts"]:
            if olds.get(v["host"]) != v:
                wait_vhost(ns, d, v)
    write_description(d, ns, new, applied + [name], desc.get("processes", {}))
    log("mutate: %s applied to %s (%s); DNS names changed: %s; certificates issued: %s" %
        (name, S.MUTATIONS[name]["domain"], S.MUTATIONS[name]["what"],
         ", ".join(dns_changed) or "none", ", ".join(sorted(changed)) or "none"))


def wait_cert(ns, d, addr, host, cid, secs=10.0):
    """Poll STARTTLS on addr until its leaf certificate is DIR/certs/CID.crt."""
    want = "".join(open(os.path.join(d, "certs", cid + ".crt")).read().split())
    hp = "[%s]:25" % addr if ":" in addr else "%s:25" % addr
    end = time.monotonic() + secs
    while True:
        p = run(nsexec(ns, ["openssl", "s_client", "-starttls", "smtp", "-connect", hp,
                    "-servername", host]), check=False, input=b"", timeout=10)
        out = p.stdout.decode(errors="replace")
        i, j = out.find("-----BEGIN CERTIFICATE-----"), out.find("-----END CERTIFICATE-----")
        if i >= 0 and "".join(out[i:j + 25].split()) == want:
            return
        if time.monotonic() > end:
            raise LabError("%s (%s) still serves its old certificate %.0f s after the reload"
                       % (host, addr, secs))
        time.sleep(0.2)


def wait_vhost(ns, d, v, secs=10.0):
    """Poll a policy host until nginx answers with the status its (new) block says."""
    url = "https://%s/.well-known/mta-sts.txt" % v["host"]
    end = time.monotonic() + secs
    while True:
        p = run(nsexec(ns, ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time",
                            "5", "--cacert", os.path.join(d, "ca", "root.pem"), "--resolve",
                            "%s:443:%s" % (v["host"], S.NGINX_V4), url]), check=False, timeout=10)
        if p.stdout.decode().strip() == str(v["status"]):
            return
        if time.monotonic() > end:
            raise LabError("%s still answers %s %.0f s after nginx's reload, want %d"
                           % (url, p.stdout.decode().strip(), secs, v["status"]))
        time.sleep(0.1)


def cmd_exec(d, argv):
    d = os.path.abspath(d)
    if argv and argv[0] == "--":
        argv = argv[1:]
    if not argv:
        raise LabError("exec: no command")
    ns = lab_ns(d)
    env = dict(os.environ, LAB_NS=ns, LAB_DIR=d, LAB_RESOLVER=S.DNS_V4,
           LAB_CA=os.path.join(d, "ca", "root.pem"), LAB_CONF=os.path.join(d, "stswatch.conf"))
    env.update(services_env(d, ns))
    sys.stdout.flush()
    os.execvpe("ip", ["ip", "netns", "exec", ns] + argv, env)


def cmd_list():
    for r in map(S.defaults, S.SCENARIOS):
        print("%-24s %-8s %-40s %s" % (r["domain"], r["status"], ",".join(r["expect"]) or "-",
                           r["purpose"]))
    for name, m in S.MUTATIONS.items():
        print("mutation %-20s %-12s %s -> %s" % (name, m["domain"], m["what"],
                             ",".join(m["expect_after"])))


BADTLS_BANNER = b"220 badtls.lab.test ESMTP stswatch lab (STARTTLS then garbage)\r\n"


def badtls_reply(line):
    """The badtls SMTP server: offers and accepts STARTTLS, then answers the TLS
    ClientHello with plain text (a handshake that cannot succeed). None = close."""
    verb = line.strip().split(b" ")[0].upper()
    if verb in (b"EHLO", b"HELO"):
        return b"250-badtls.lab.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n"
    if verb == b"STARTTLS":
        return b"220 2.0.0 Ready to start TLS\r\n"
    if verb == b"QUIT":
        return None
    return b"502 5.5.2 not here\r\n"


def helper_main(d):
    """Accept TCP on the listed addresses and never answer (the timeout cases), and play
    the badtls SMTP server on the others."""
    with open(os.path.join(d, "run", "helper.json")) as f:
        spec = json.load(f)
    sel = selectors.DefaultSelector()
    for kind in ("listen", "badtls"):
        for addr, port in spec.get(kind, []):
            s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET,
                              socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((addr, port))
            s.listen(128)
            s.setblocking(False)
            sel.register(s, selectors.EVENT_READ, ("accept", kind))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    held = []
    bufs = {}

    def drop(c):
        sel.unregister(c)
        c.close()
        bufs.pop(c, None)
        if c in held:
            held.remove(c)

    while True:
        for key, _ in sel.select():
            what = key.data
            if what[0] == "accept":
                try:
                    c, _ = key.fileobj.accept()
                except OSError:
                    continue
                c.setblocking(False)
                sel.register(c, selectors.EVENT_READ, ("conn", what[1]))
                held.append(c)
                bufs[c] = b""
                if what[1] == "badtls":
                    try:
                        c.send(BADTLS_BANNER)
                    except OSError:
                        drop(c)
                        continue
                if len(held) > 256:  # bounded: drop the oldest
                    drop(held[0])
                continue
            c = key.fileobj
            try:
                data = c.recv(4096)
            except OSError:
                data = b""
            if not data:
                drop(c)
                continue
            if what[1] != "badtls":
                continue  # read and ignore
            if bufs[c] is None:  # after STARTTLS: the ClientHello gets plain text
                try:
                    c.send(b"this is not TLS\r\n" * 4)
                except OSError:
                    pass
                drop(c)
                continue
            bufs[c] += data
            if len(bufs[c]) > 4096:
                drop(c)
                continue
            while c in bufs and bufs[c] is not None and b"\n" in bufs[c]:
                line, bufs[c] = bufs[c].split(b"\n", 1)
                reply = badtls_reply(line)
                try:
                    if reply is None:
                        c.send(b"221 2.0.0 bye\r\n")
                        drop(c)
                        break
                    c.send(reply)
                except OSError:
                    drop(c)
                    break
                if reply.startswith(b"220 "):
                    bufs[c] = None


def main(argv):
    usage = ("usage: lab.py up DIR [--bench N [--mx-pool P]] | down DIR | exec DIR -- CMD..."
         " | mutate DIR NAME | list\n       lab.py firewall DIR block-smtp [--reject]|unblock|status"
         " | hooks DIR CTL-ARGS...\n  namespace: $LAB_NS (default %s); see docs/LAB.md"
         % DEFAULT_NS)
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(usage)
        return 0 if len(argv) >= 2 else 2
    cmd = argv[1]
    if cmd == "list":
        cmd_list()
        return 0
    if len(argv) < 3:
        print(usage, file=sys.stderr)
        return 2
    if cmd == "_helper":
        helper_main(argv[2])
        return 0
    if os.geteuid() != 0:
        log("must run as root (network namespaces, ports 25/53/443)")
        return 1
    try:
        if cmd == "up":
            bench, pool = 0, S.BENCH_POOL
            if len(argv) in (5, 7) and argv[3] == "--bench" and argv[4].isdigit():
                bench = int(argv[4])
                if len(argv) == 7:
                    if argv[5] != "--mx-pool" or not argv[6].isdigit():
                        print(usage, file=sys.stderr)
                        return 2
                    pool = int(argv[6])
            elif len(argv) != 3:
                print(usage, file=sys.stderr)
                return 2
            try:
                cmd_up(argv[2], bench, pool)
            except BaseException:
                if not os.environ.get("LAB_KEEP"):
                    log("up failed: tearing down (LAB_KEEP=1 keeps the wreck)")
                    try:
                        cmd_down(argv[2], quiet=True)
                    except LabError as e:
                        log(str(e))
                raise
        elif cmd == "down":
            cmd_down(argv[2])
        elif cmd == "mutate" and len(argv) == 4:
            cmd_mutate(argv[2], argv[3])
        elif cmd == "exec":
            cmd_exec(argv[2], argv[3:])
        elif cmd == "firewall":
            cmd_firewall(argv[2], argv[3:])
        elif cmd == "hooks":
            return cmd_hooks(argv[2], argv[3:])
        else:
            print(usage, file=sys.stderr)
            return 2
    except LabError as e:
        log(str(e))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
