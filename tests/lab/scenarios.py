"""scenarios: the lab's world as data, one row per scenario domain.

lab.py reads SCENARIOS and MUTATIONS and generates everything from them: the DNS zone
(unbound local-data), the policy hosts (nginx server blocks), the MX hosts (postfix smtpd
services, one per address) and their certificates. selftest.py reads the same rows to
know what each server must show. Nothing here does I/O.

A mutation (MUTATIONS): "domain", "what", "expect_after", and "set" (row keys replaced)
and/or "renew" (MX hosts whose certificate is issued anew: 89 days left of 90, or as
"renew_to" says, e.g. {"days": 14.5}).

A row (a dict):
  domain    the scenario's mail domain (reserved TLD .test)
  purpose   one line: what the scenario shows
  expect    finding codes (docs/DESIGN catalogue) that `stswatch check` must report
  status    the overall status it must report: OK, WARNING, CRITICAL, UNKNOWN
  txt       TXT records at _mta-sts.DOMAIN: a list of records, each a list of strings
            (one record may be split into several strings). Default: one valid record.
  tlsrpt    TXT records at _smtp._tls.DOMAIN, same shape. Default: one valid record.
  mx        [(preference, host)]; [] = no MX; [(0, ".")] = null MX (RFC 7505)
  hosts     MX hosts this row defines: {name: {"v4": [...], "v6": [...], "cert": CERT,
            "smtp": SMTP}}. A host may be named in other rows' mx (shared pool) and may
            be defined but not (yet) in mx (a spare for a mutation).
  policy    the policy host mta-sts.DOMAIN: {"body": str, "status": 200,
            "content_type": "text/plain", "redirect": URL, "limit_rate": "1k",
            "addrs": [...], "cert": CERT, "also_serve": [other host names]}
  dns       "ok" (default), "servfail" (every name of the domain answers SERVFAIL),
            "timeout" (every query is dropped) or "nxdomain" (no name of it exists)
  extra_rr  more resource records, as unbound local-data strings

CERT (a dict, every key optional): {"id": file name (default: the first name),
  "names": SAN DNS names (default: [the host]), "days": days left (negative = expired,
  default 89), "lifetime": total days (default 90), "self_signed": False,
  "chain": "full" (leaf + intermediate, default) or "leaf" (intermediate missing)}.
  Hosts that name the same "id" share one certificate.

SMTP: "tls" (default: STARTTLS with the host's certificate), "notls" (no STARTTLS
  offered), "tls-old" (TLS 1.0 and 1.1 only), "closed" (the address exists, nothing
  listens on port 25), "silent" (accepts TCP and never sends a banner).
"""

# Address plan (see docs/LAB.md). Everything lives on lo inside the lab's namespace.
DNS_V4 = "10.53.0.1"  # unbound, the only resolver
DNS_V6 = "fd53::1"
DNS_REFUSER = "10.53.0.9"  # unbound refuses queries from here: the SERVFAIL upstream
NGINX_V4 = "10.80.0.1"  # nginx, every policy host (SNI picks the certificate)
NGINX_V6 = "fd80::1"
REFUSED_V4 = "10.80.0.2"  # nothing listens on 443: connection refused
BLACKHOLE_V4 = "10.80.0.3"  # accepts TCP on 443 and never answers (lab.py's helper)
NGINX = [NGINX_V4, NGINX_V6]

# The servers for alert and daemon tests (lab.py's "services" section, docs/LAB.md)
HOOKS_V4 = "10.90.0.1"  # hooks.lab.test: the webhook receiver, HTTPS 443 and HTTP 80
ALERTMANAGER_V4 = "10.90.0.2"  # alertmanager.lab.test: Alertmanager, HTTP 9093
SMTP_V4 = "10.90.0.3"  # smtp.lab.test: submission 587 (STARTTLS), smtps 465, plain 2525
SMTP_PLAIN_V4 = "10.90.0.4"  # smtp-plain.lab.test: port 587 without STARTTLS
SERVICE_NAMES = {"hooks.lab.test": HOOKS_V4, "alertmanager.lab.test": ALERTMANAGER_V4,
                 "smtp.lab.test": SMTP_V4, "smtp-plain.lab.test": SMTP_PLAIN_V4}

CRLF = "\r\n"
DEFAULT_ID = "20240101T000000"


def policy(mx=(), mode="enforce", max_age=604800, version="STSv1", eol=CRLF, extra=(),
       pad_to=0):
    """A policy body. extra: more "key: value" lines; pad_to: add extension lines until
    the body has at least this many bytes (for the slow and too-large hosts)."""
    lines = []
    if version is not None:
        lines.append("version: " + version)
    if mode is not None:
        lines.append("mode: " + mode)
    lines += ["mx: " + m for m in mx]
    if max_age is not None:
        lines.append("max_age: %s" % max_age)
    lines += list(extra)
    body = eol.join(lines) + eol
    n = 0
    while len(body) < pad_to:
        body += "x-lab-padding-%05d: %s%s" % (n, "p" * 60, eol)
        n += 1
    return body


def long_txt(total=3031):
    """A valid MTA-STS record of total bytes, as strings of at most 250 bytes."""
    rec = "v=STSv1; id=%s" % DEFAULT_ID
    n = 0
    while len(rec) < total:
        field = "; pad%02d=" % n
        rec += field + "p" * max(1, min(200, total - len(rec) - len(field)))
        n += 1
    rec = rec[:total]
    return [rec[i:i + 250] for i in range(0, len(rec), 250)]


LONG_TXT = long_txt()


def txt(sts_id=DEFAULT_ID):
    return [["v=STSv1; id=" + sts_id]]


def tlsrpt(domain):
    return [["v=TLSRPTv1; rua=mailto:tlsrpt@" + domain]]


def mxhost(ip4=None, ip6=None, cert=None, smtp="tls"):
    h = {"v4": [ip4] if ip4 else [], "v6": [ip6] if ip6 else [], "smtp": smtp}
    if cert is not None:
        h["cert"] = cert
    return h


def one_mx(domain, k, cert=None, smtp="tls", **kw):
    """The common shape: one MX host mx1.DOMAIN at 10.25.k.1 with an enforce policy."""
    host = "mx1." + domain
    row = {"domain": domain, "mx": [(10, host)],
           "hosts": {host: mxhost("10.25.%d.1" % k, cert=cert, smtp=smtp)},
           "policy": {"body": policy([host])}}
    row.update(kw)
    return row


def merge(row, **kw):
    """row with keys replaced; "policy" is merged key by key."""
    row = dict(row)
    for k, v in kw.items():
        if k == "policy":
            p = dict(row.get("policy", {}))
            p.update(v)
            row["policy"] = p
        else:
            row[k] = v
    return row


SCENARIOS = [
    # ---- healthy ---------------------------------------------------------------------
    {"domain": "ok.test", "purpose": "enforce, two MX with their own certificates, TLS-RPT",
     "expect": [], "status": "OK",
     "mx": [(10, "mx1.ok.test"), (20, "mx2.ok.test")],
     "hosts": {"mx1.ok.test": mxhost("10.25.1.1"), "mx2.ok.test": mxhost("10.25.1.2")},
     "policy": {"body": policy(["mx1.ok.test", "mx2.ok.test"])}},
    merge(one_mx("split.test", 2),
          purpose="TXT split in three strings with an extension field ext=foo",
          expect=[], status="OK",
          txt=[["v=STSv1; ", "id=20240101T1", "; ext=foo"]]),
    merge(one_mx("unknownkeys.test", 3),
          purpose="unknown policy keys, Content-Type with charset, upper-case mx pattern",
          expect=[], status="OK",
          policy={"body": policy(["MX1.UNKNOWNKEYS.TEST"],
                     extra=["owner: postmaster@unknownkeys.test", "x-lab: yes"]),
              "content_type": "text/plain; charset=utf-8"}),
    {"domain": "wildcard.test",
     "purpose": "mx: *.wildcard.test, two MX sharing a wildcard certificate",
     "expect": [], "status": "OK",
     "mx": [(10, "mx1.wildcard.test"), (20, "mx2.wildcard.test")],
     "hosts": {h: mxhost(ip, cert={"id": "star.wildcard.test", "names": ["*.wildcard.test"]})
           for h, ip in (("mx1.wildcard.test", "10.25.4.1"), ("mx2.wildcard.test", "10.25.4.2"))},
     "policy": {"body": policy(["*.wildcard.test"])}},
    merge(one_mx("lf.test", 5), purpose="policy with LF-only line endings (allowed)",
          expect=["policy.line_endings"], status="OK",
          policy={"body": policy(["mx1.lf.test"], eol="\n")}),
    merge(one_mx("testing.test", 6, cert={"days": -10}),
          purpose="mode testing, its only MX has an expired certificate",
          expect=["policy.mode_testing", "mx.cert.expired"], status="WARNING",
          policy={"body": policy(["mx1.testing.test"], mode="testing")}),
    merge(one_mx("none.test", 7), purpose="mode none",
          expect=["policy.mode_none"], status="OK",
          policy={"body": policy(["mx1.none.test"], mode="none")}),
    merge(one_mx("redirect.test", 8),
          purpose="policy URL answers 301 to a valid policy elsewhere; senders must not follow",
          expect=["policy.redirect"], status="CRITICAL",
          policy={"status": 301,
              "redirect": "https://www.redirect.test/.well-known/mta-sts.txt",
              "also_serve": ["www.redirect.test"]}),
    {"domain": "dual.test", "purpose": "an MX with both an IPv4 and an IPv6 address",
     "expect": [], "status": "OK",
     "mx": [(10, "mx1.dual.test")],
     "hosts": {"mx1.dual.test": mxhost("10.25.9.1", "fd25::9:1")},
     "policy": {"body": policy(["mx1.dual.test"])}},
    {"domain": "shared-a.test", "purpose": "MX hosts of a pool shared with shared-b.test",
     "expect": [], "status": "OK",
     "mx": [(10, "mx1.pool.test"), (20, "mx2.pool.test")],
     "hosts": {"mx1.pool.test": mxhost("10.25.10.1"), "mx2.pool.test": mxhost("10.25.10.2")},
     "policy": {"body": policy(["mx1.pool.test", "mx2.pool.test"])}},
    {"domain": "shared-b.test", "purpose": "the same pool (probed once per sweep)",
     "expect": [], "status": "OK",
     "mx": [(10, "mx2.pool.test"), (20, "mx1.pool.test")], "hosts": {},
     "policy": {"body": policy(["*.pool.test"])}},

    # ---- the TXT record --------------------------------------------------------------
    merge(one_mx("txt-missing.test", 20), purpose="no TXT record at _mta-sts",
          expect=["sts.txt.missing"], status="CRITICAL", txt=[]),
    merge(one_mx("txt-invalid.test", 21), purpose="TXT record with an invalid id",
          expect=["sts.txt.invalid"], status="CRITICAL",
          txt=[["v=STSv1; id=not valid!"]]),
    merge(one_mx("txt-multiple.test", 22), purpose="two v=STSv1 TXT records",
          expect=["sts.txt.multiple"], status="CRITICAL",
          txt=[["v=STSv1; id=20240101T1"], ["v=STSv1; id=20240101T2"]]),

    # ---- fetching the policy ---------------------------------------------------------
    merge(one_mx("fetch-noaddr.test", 23), purpose="policy host has no address",
          expect=["policy.fetch"], status="CRITICAL", policy={"addrs": []}),
    merge(one_mx("fetch-refused.test", 24), purpose="policy host refuses the connection",
          expect=["policy.fetch"], status="CRITICAL", policy={"addrs": [REFUSED_V4]}),
    merge(one_mx("fetch-timeout.test", 25),
          purpose="policy host accepts TCP and never answers (timeout)",
          expect=["policy.fetch"], status="CRITICAL", policy={"addrs": [BLACKHOLE_V4]}),
    merge(one_mx("http-404.test", 26), purpose="policy URL answers 404",
          expect=["policy.http_status"], status="CRITICAL", policy={"status": 404}),
    # fetch.ctype_other: postfix-mta-sts-resolver, postfix-tlspol and maddy refuse it, mox,
    # Stalwart, mailauth and Halon use it: the policy stays in force, a WARNING
    merge(one_mx("ctype-html.test", 27), purpose="policy served as text/html",
          expect=["policy.content_type"], status="WARNING",
          policy={"content_type": "text/html"}),
    merge(one_mx("too-large.test", 28), purpose="policy body over 64 KiB",
          expect=["policy.too_large"], status="CRITICAL",
          policy={"body": policy(["mx1.too-large.test"], pad_to=70 * 1024)}),
    merge(one_mx("slow.test", 29),
          purpose="policy served at 1 KiB/s (about 3 s); the lab config sets policy_slow 2s",
          expect=["policy.slow"], status="WARNING",
          policy={"body": policy(["mx1.slow.test"], pad_to=3 * 1024), "limit_rate": "1k"}),

    # ---- the policy body -------------------------------------------------------------
    merge(one_mx("pol-invalid.test", 30), purpose="policy with a line that is not key: value",
          expect=["policy.invalid"], status="CRITICAL",
          policy={"body": policy(["mx1.pol-invalid.test"], extra=["this is not a policy line"])}),
    merge(one_mx("pol-version.test", 31), purpose="version: STSv2",
          expect=["policy.version"], status="CRITICAL",
          policy={"body": policy(["mx1.pol-version.test"], version="STSv2")}),
    merge(one_mx("pol-mode.test", 32), purpose="mode: strict (no such mode)",
          expect=["policy.mode"], status="CRITICAL",
          policy={"body": policy(["mx1.pol-mode.test"], mode="strict")}),
    merge(one_mx("pol-nomx.test", 33), purpose="enforce policy without mx lines",
          expect=["policy.mx_missing"], status="CRITICAL",
          policy={"body": policy([])}),
    merge(one_mx("maxage.test", 34), purpose="max_age 3600 (under one day)",
          expect=["policy.max_age"], status="WARNING",
          policy={"body": policy(["mx1.maxage.test"], max_age=3600)}),

    # ---- the policy host's certificate -----------------------------------------------
    merge(one_mx("pcert-expired.test", 35), purpose="policy host certificate expired 10 days ago",
          expect=["policy.cert.expired"], status="CRITICAL", policy={"cert": {"days": -10}}),
    merge(one_mx("pcert-expiring.test", 36), purpose="policy host certificate expires in 5 days",
          expect=["policy.cert.expiring"], status="CRITICAL", policy={"cert": {"days": 5}}),
    merge(one_mx("pcert-name.test", 37), purpose="policy host certificate for another name",
          expect=["policy.cert.name"], status="CRITICAL",
          policy={"cert": {"id": "www.other.test", "names": ["www.other.test"]}}),
    merge(one_mx("pcert-selfsigned.test", 38), purpose="policy host certificate self-signed",
          expect=["policy.cert.untrusted"], status="CRITICAL",
          policy={"cert": {"self_signed": True}}),
    merge(one_mx("pcert-nochain.test", 39),
          purpose="policy host sends its leaf without the intermediate",
          expect=["policy.cert.untrusted"], status="CRITICAL",
          policy={"cert": {"chain": "leaf"}}),

    # ---- MX hosts --------------------------------------------------------------------
    merge(one_mx("mx-none.test", 40), purpose="no MX records", expect=["mx.none"],
          status="CRITICAL", mx=[]),
    merge(one_mx("null-mx.test", 41), purpose="null MX \"0 .\" (RFC 7505): takes no mail",
          expect=["mx.null"], status="OK", mx=[(0, ".")]),
    {"domain": "mx-unmatched.test", "purpose": "second MX not covered by the policy",
     "expect": ["mx.unmatched"], "status": "CRITICAL",
     "mx": [(10, "mx1.mx-unmatched.test"), (20, "mx2.mx-unmatched.test")],
     "hosts": {"mx1.mx-unmatched.test": mxhost("10.25.42.1"),
           "mx2.mx-unmatched.test": mxhost("10.25.42.2")},
     "policy": {"body": policy(["mx1.mx-unmatched.test"])}},
    {"domain": "mx-unresolvable.test", "purpose": "MX host without A or AAAA",
     "expect": ["mx.unresolvable"], "status": "CRITICAL",
     "mx": [(10, "mx1.mx-unresolvable.test")], "hosts": {},
     "policy": {"body": policy(["mx1.mx-unresolvable.test"])}},
    merge(one_mx("mx-connect.test", 44, smtp="closed"),
          purpose="nothing listens on the MX address", expect=["mx.connect"],
          status="CRITICAL"),
    merge(one_mx("mx-silent.test", 45, smtp="silent"),
          purpose="MX accepts TCP and never sends a banner", expect=["mx.connect"],
          status="CRITICAL"),
    merge(one_mx("mx-notls.test", 46, smtp="notls"), purpose="MX does not offer STARTTLS",
          expect=["mx.starttls_missing"], status="CRITICAL"),
    merge(one_mx("mx-badtls.test", 57, smtp="badtls"),
          purpose="MX accepts STARTTLS, then answers the handshake with plain text",
          expect=["mx.tls_handshake"], status="CRITICAL"),
    merge(one_mx("mx-tls10.test", 47, smtp="tls-old"),
          purpose="MX speaks TLS 1.0 and 1.1 only", expect=["mx.tls_version"],
          status="CRITICAL"),
    merge(one_mx("mxcert-expired.test", 48, cert={"days": -10}),
          purpose="MX certificate expired 10 days ago", expect=["mx.cert.expired"],
          status="CRITICAL"),
    merge(one_mx("mxcert-expiring.test", 49, cert={"days": 5}),
          purpose="MX certificate expires in 5 days", expect=["mx.cert.expiring"],
          status="CRITICAL"),
    merge(one_mx("mxcert-expiring15.test", 50, cert={"days": 15}),
          purpose="MX certificate expires in 15 days", expect=["mx.cert.expiring"],
          status="WARNING"),
    merge(one_mx("mxcert-name.test", 51,
                 cert={"id": "mail.other.test", "names": ["mail.other.test"]}),
          purpose="MX certificate for another name", expect=["mx.cert.name"],
          status="CRITICAL"),
    merge(one_mx("mxcert-selfsigned.test", 52, cert={"self_signed": True}),
          purpose="MX certificate self-signed", expect=["mx.cert.untrusted"],
          status="CRITICAL"),
    merge(one_mx("mxcert-nochain.test", 53, cert={"chain": "leaf"}),
          purpose="MX sends its leaf without the intermediate", expect=["mx.cert.untrusted"],
          status="CRITICAL"),
    {"domain": "mx-partial.test", "purpose": "enforce, one of two MX unreachable (degraded)",
     "expect": ["mx.connect"], "status": "WARNING",
     "mx": [(10, "mx1.mx-partial.test"), (20, "mx2.mx-partial.test")],
     "hosts": {"mx1.mx-partial.test": mxhost("10.25.54.1"),
           "mx2.mx-partial.test": mxhost("10.25.54.2", smtp="closed")},
     "policy": {"body": policy(["mx1.mx-partial.test", "mx2.mx-partial.test"])}},

    # ---- TLS-RPT ---------------------------------------------------------------------
    merge(one_mx("tlsrpt-missing.test", 55), purpose="no TLS-RPT record",
          expect=["tlsrpt.missing"], status="WARNING", tlsrpt=[]),
    merge(one_mx("tlsrpt-invalid.test", 56), purpose="TLS-RPT record with an ftp: rua",
          expect=["tlsrpt.invalid"], status="WARNING",
          tlsrpt=[["v=TLSRPTv1; rua=ftp://reports.tlsrpt-invalid.test/"]]),

    merge(one_mx("tlsrpt-multiple.test", 58), purpose="two TLS-RPT records",
          expect=["tlsrpt.multiple"], status="WARNING",
          tlsrpt=[["v=TLSRPTv1; rua=mailto:a@tlsrpt-multiple.test"],
                  ["v=TLSRPTv1; rua=mailto:b@tlsrpt-multiple.test"]]),
    merge(one_mx("tlsrpt-note.test", 59),
          purpose="TLS-RPT record with whitespace before the first ';' (valid ABNF)",
          expect=["tlsrpt.note"], status="OK",
          tlsrpt=[["v=TLSRPTv1 ; rua=mailto:tlsrpt@tlsrpt-note.test"]]),
    # txt.ws_before_semicolon: valid ABNF, but Halon compares the literal "v=STSv1;"
    merge(one_mx("txt-note.test", 65),
          purpose="TXT record with whitespace before the first ';' (valid ABNF, Halon ignores it)",
          expect=["sts.txt.note"], status="WARNING",
          txt=[["v=STSv1 ; id=20240101T000000"]]),

    # ---- where senders differ (checks/senders.h): read as most do, a WARNING live ----
    # txt.trailing_ws_no_semicolon: postfix-tlspol and mox reject it
    merge(one_mx("txt-trailing.test", 67),
          purpose="TXT record ending in a space without ';' (postfix-tlspol, mox ignore it)",
          expect=["sts.txt.note"], status="WARNING",
          txt=[["v=STSv1; id=20240101T000000 "]]),
    # pol.blank_line: postfix-tlspol, maddy and mox reject the policy
    merge(one_mx("pol-blank.test", 68),
          purpose="policy with a blank line between fields (postfix-tlspol, maddy, mox ignore it)",
          expect=["policy.note"], status="WARNING",
          policy={"body": "version: STSv1\r\nmode: enforce\r\n\r\nmx: mx1.pol-blank.test\r\n"
                          "max_age: 604800\r\n"}),
    # pol.mx_ipv4: postfix-tlspol and mox reject the policy; the name pattern still matches
    merge(one_mx("pol-mxip.test", 69),
          purpose="policy with an IP address as an mx pattern (postfix-tlspol, mox ignore it)",
          expect=["policy.note"], status="WARNING",
          policy={"body": policy(["mx1.pol-mxip.test", "10.25.69.1"])}),

    # ---- DNS failures ----------------------------------------------------------------
    {"domain": "servfail.test", "purpose": "every query of the domain answers SERVFAIL",
     "expect": ["dns.error"], "status": "UNKNOWN", "dns": "servfail", "mx": [], "hosts": {},
     "policy": None},
    {"domain": "timeout.test", "purpose": "every query of the domain is dropped (timeout)",
     "expect": ["dns.error"], "status": "UNKNOWN", "dns": "timeout", "mx": [], "hosts": {},
     "policy": None},

    {"domain": "nxdomain.test", "purpose": "the domain does not exist (a typo in a watch list)",
     "expect": ["dns.nxdomain"], "status": "CRITICAL", "dns": "nxdomain", "mx": [],
     "hosts": {}, "policy": None},

    # ---- many MX hosts ---------------------------------------------------------------
    # 18 MX names on one address (their A records are extra_rr); stswatch probes 16
    {"domain": "many-mx.test", "purpose": "18 MX hosts, more than the 16 stswatch probes",
     "expect": ["mx.note"], "status": "OK",
     "mx": [(10 + i, "mx%d.many-mx.test" % i) for i in range(1, 19)],
     "hosts": {"mx1.many-mx.test": mxhost("10.25.66.1", cert={
         "id": "star.many-mx.test", "names": ["*.many-mx.test"]})},
     "extra_rr": ["mx%d.many-mx.test. 300 IN A 10.25.66.1" % i for i in range(2, 19)],
     "policy": {"body": policy(["*.many-mx.test"])}},

    # ---- DNS answers read for what they are (issue 11) --------------------------------
    # a valid record of 3,031 bytes in 13 strings: more than a UDP answer of 1232 bytes
    # carries, so it comes over TCP after a truncated answer, and it is read whole
    merge(one_mx("txt-long.test", 71),
          purpose="a valid TXT record of 3031 bytes (13 strings, over TCP)",
          expect=[], status="OK", txt=[LONG_TXT]),
    # _mta-sts is a CNAME to a name that is a CNAME back: a DNS error, not "no record"
    merge(one_mx("cname-loop.test", 72),
          purpose="_mta-sts is a CNAME loop (two CNAMEs pointing at each other)",
          expect=["dns.error"], status="UNKNOWN", txt=[],
          extra_rr=["_mta-sts.cname-loop.test. 300 IN CNAME loop.cname-loop.test.",
                    "loop.cname-loop.test. 300 IN CNAME _mta-sts.cname-loop.test."]),

    # ---- history: healthy now, changed by `lab.py mutate` ----------------------------
    merge(one_mx("hist1.test", 60), purpose="history: policy-edit-keep-id", expect=[],
          status="OK"),
    merge(one_mx("hist2.test", 61), purpose="history: mx-move-keep-id", expect=[],
          status="OK",
          hosts={"mx1.hist2.test": mxhost("10.25.61.1"),
             "mx2.hist2.test": mxhost("10.25.61.2")}),
    merge(one_mx("hist3.test", 62), purpose="history: id-bump-keep-body", expect=[],
          status="OK"),
    merge(one_mx("hist4.test", 63), purpose="history: txt-remove", expect=[], status="OK"),
    merge(one_mx("hist5.test", 64, cert={"days": 15, "lifetime": 90}),
          purpose="history: cert-renew (MX certificate 15 days left, renewed to 89)",
          expect=["mx.cert.expiring"], status="WARNING"),
    merge(one_mx("hist6.test", 70), purpose="history: policy-404-keep-id", expect=[],
          status="OK"),

    # ---- alerts and the daemon (tests/lab/it_alerts.py, it_daemon.py) --------------------
    merge(one_mx("alert-cert.test", 73, cert={"days": 15, "lifetime": 90}),
          purpose="alerts: MX certificate 15 days left; alert-cert-mark and alert-cert-renew",
          expect=["mx.cert.expiring"], status="WARNING"),
    merge(one_mx("renewal.test", 74, cert={"days": 45, "lifetime": 90}),
          purpose="alerts: MX certificate 45 days left (OK by the thresholds; the test gives "
                  "it a history of renewals at 60 days left)",
          expect=[], status="OK"),
    merge(one_mx("daemon-flip.test", 75), purpose="daemon: healthy until daemon-flip-break",
          expect=[], status="OK"),
]

# alert-cert-mark: the certificate then expires this many seconds after 14 days from the
# mutation, so the 14-day remind mark passes that long after it
ALERT_MARK_MARGIN = 20

# Named changes to the running world (lab.py mutate DIR NAME). Each names its domain, the
# row keys it replaces (same shapes as above; "policy" merges key by key) or the hosts
# whose certificate is issued anew, and what `stswatch check` must report afterwards
# when it has the history of the run before.
MUTATIONS = {
    "policy-edit-keep-id": {
        "domain": "hist1.test",
        "what": "edit the policy body (max_age and an extra mx), keep the TXT id",
        "set": {"policy": {"body": policy(["mx1.hist1.test", "mx9.hist1.test"],
                          max_age=1209600)}},
        "expect_after": ["sts.id.stale"],
    },
    "mx-move-keep-id": {
        "domain": "hist2.test",
        "what": "move MX to mx2.hist2.test and the policy's mx with it, keep the TXT id",
        "set": {"mx": [(10, "mx2.hist2.test")],
            "policy": {"body": policy(["mx2.hist2.test"])}},
        "expect_after": ["sts.id.stale", "cache.stale_policy"],
    },
    "id-bump-keep-body": {
        "domain": "hist3.test",
        "what": "bump the TXT id, keep the policy body",
        "set": {"txt": txt("20240202T000000")},
        "expect_after": ["sts.id.changed"],
    },
    "txt-remove": {
        "domain": "hist4.test",
        "what": "remove the _mta-sts TXT record",
        "set": {"txt": []},
        "expect_after": ["sts.txt.missing"],
    },
    "policy-404-keep-id": {
        "domain": "hist6.test",
        "what": "the policy URL answers 404, the TXT id stays: senders keep the cached policy",
        "set": {"policy": {"status": 404}},
        "expect_after": ["policy.http_status", "policy.gone"],
    },
    "cert-renew": {
        "domain": "hist5.test",
        "what": "issue a new certificate for mx1.hist5.test (15 -> 89 days), reload postfix",
        "renew": ["mx1.hist5.test"],
        "expect_after": ["mx.cert.renewed"],
    },
    "alert-cert-mark": {
        "domain": "alert-cert.test",
        "what": "a new certificate for mx1.alert-cert.test that expires 14 days and %d s from "
                "now (the 14-day remind mark passes %d s after the mutation)"
                % (ALERT_MARK_MARGIN, ALERT_MARK_MARGIN),
        "renew": ["mx1.alert-cert.test"],
        # CA.issue dates every certificate an hour past its days
        "renew_to": {"days": 14 + (ALERT_MARK_MARGIN - 3600) / 86400.0, "lifetime": 90},
        "expect_after": ["mx.cert.expiring", "mx.cert.renewed"],
    },
    "alert-cert-renew": {
        "domain": "alert-cert.test",
        "what": "a new certificate for mx1.alert-cert.test with 89 days left",
        "renew": ["mx1.alert-cert.test"],
        "expect_after": ["mx.cert.renewed"],
    },
    "daemon-flip-break": {
        "domain": "daemon-flip.test",
        "what": "the policy URL of daemon-flip.test answers 404",
        "set": {"policy": {"status": 404}},
        "expect_after": ["policy.http_status"],
    },
}


def defaults(row):
    """A row with every optional key filled in."""
    d = row["domain"]
    r = {"txt": txt(), "tlsrpt": tlsrpt(d), "dns": "ok", "extra_rr": [], "hosts": {},
         "mx": [], "expect": [], "status": "OK", "purpose": ""}
    r.update(row)
    if r.get("policy") is not None:
        p = {"body": None, "status": 200, "content_type": "text/plain", "redirect": None,
             "limit_rate": None, "addrs": NGINX, "cert": {}, "also_serve": []}
        p.update(r["policy"])
        r["policy"] = p
    return r


# ---- generated healthy domains for the benchmark (lab.py up DIR --bench N --mx-pool P) ----
# Many domains sharing a pool of MX hosts, as at a hosting provider: domain i (0-based;
# b0001.test, ...) has two MX hosts of the pool, bench_mx(i, P), and an enforce policy
# naming both; its policy host mta-sts.DOMAIN is on nginx (IPv4) with a certificate shared
# by BENCH_SAN_PER_CERT consecutive policy hosts (one SAN each), the way hosting providers
# issue them; the pool's hosts share one wildcard certificate (*.bench-pool.test). Each
# domain has TXT _mta-sts, TXT _smtp._tls (TLS-RPT), two MX and one A for its policy
# host. lab.py generates these straight into their own files (unbound/bench-zone.conf,
# nginx/bench.conf) instead of scenario rows, so that 100,000 of them stay cheap.
BENCH_POOL = 20  # lab.py's default pool size; the benchmark asks for 200
BENCH_POOL_MAX = 13750  # the i-th pool host (from 0) is 10.25.(200 + i // 250).(i % 250 + 1)
BENCH_SAN_PER_CERT = 50
BENCH_POOL_CERT = {"id": "star.bench-pool.test", "names": ["*.bench-pool.test"]}


def bench_pool(p=BENCH_POOL):
    """[(host name, IPv4 address)] of the benchmark's p shared MX hosts."""
    width = max(2, len(str(p)))
    return [("mx%0*d.bench-pool.test" % (width, k + 1),
             "10.25.%d.%d" % (200 + k // 250, k % 250 + 1)) for k in range(p)]


def bench_domains(n):
    width = max(4, len(str(n)))
    return ["b%0*d.test" % (width, i) for i in range(1, n + 1)]


def bench_mx(i, p):
    """The pool indices of the two MX hosts of domain i (0-based): preference 10, 20."""
    return i % p, (i + 1) % p


def bench_groups(n):
    """[(first, end)] index ranges of the domains that share one policy certificate."""
    return [(a, min(a + BENCH_SAN_PER_CERT, n)) for a in range(0, n, BENCH_SAN_PER_CERT)]


def bench_cert_id(g):
    return "bench-policy-%04d" % g
