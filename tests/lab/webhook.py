#!/usr/bin/python3
"""webhook: the lab's webhook receiver, in the spirit of curl's test servers.

  webhook.py serve HOOKDIR             run the receiver (lab.py up starts it in the namespace)
  webhook.py ctl HOOKDIR set PATH ACTION [--for S] [--times N] [--retry-after V]
                                        [--delay S] [--body TEXT]
  webhook.py ctl HOOKDIR add PATH ACTION [...]   append a rule: it applies after the others
  webhook.py ctl HOOKDIR clear PATH     PATH back to the default answer
  webhook.py ctl HOOKDIR down [--for S] refuse connections (listeners closed) for S seconds,
                                        or until `up`
  webhook.py ctl HOOKDIR up | reset     listen again | and every path back to the default
  webhook.py ctl HOOKDIR secret PATH whsec_...|none
  webhook.py ctl HOOKDIR show           the control file and the server's state
  webhook.py requests HOOKDIR [PATH]    the recorded requests, one JSON object a line
  webhook.py sign SECRET ID TIMESTAMP FILE   a webhook-signature header value for FILE

HOOKDIR holds config.json (written by lab.py: listeners, certificate, secrets), the
control file control.json (written by `ctl` or by a test through the Hooks class), the
server's state.json (it acknowledges each control generation there; `ctl` waits for
that, so a change is in force when `ctl` returns) and requests.jsonl: one JSON line per
request with method, path, headers, body, time, TLS or not, the signature check and the
answer given.

ACTION: an HTTP status (200, 204, 400, 410, 429, 500, 503, any 100-599), "hang" (read the
request, record it, never answer; the connection is held until the client closes it,
the receiver goes down, or 600 s pass) or "reset" (record it, then close the connection
with a TCP RST and no answer). A path's rules are tried in order: a rule with --times N
answers N requests, one with --for S answers for S seconds from when it came into force;
then the next rule, and after the last the default (200 "ok"). Paths match exactly, else
the longest configured prefix ending at a "/" boundary, else "*".

The Standard Webhooks signature (webhook-id, webhook-timestamp, webhook-signature:
"v1,<base64 HMAC-SHA256 of id.timestamp.body>", the key being the base64 after "whsec_")
is verified for every path that has a secret; the record says whether it verified and
why not. Python 3 standard library only.
"""

import base64
import binascii
import fcntl
import hashlib
import hmac
import json
import os
import selectors
import signal
import socket
import ssl
import struct
import sys
import threading
import time

sys.dont_write_bytecode = True

MAX_HEAD = 64 * 1024
MAX_BODY = 1024 * 1024
HANG_MAX = 600.0
IDLE = 30.0
TOLERANCE = 300  # seconds of webhook-timestamp skew the Standard Webhooks spec allows
REASONS = {200: "OK", 201: "Created", 202: "Accepted", 204: "No Content", 301: "Moved",
           302: "Found", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
           404: "Not Found", 408: "Request Timeout", 410: "Gone", 413: "Payload Too Large",
           429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
           503: "Service Unavailable", 504: "Gateway Timeout"}


# ---- Standard Webhooks ------------------------------------------------------------------

def secret_key(secret):
    """The HMAC key of a "whsec_<base64>" secret (the base64 part decoded)."""
    s = secret[6:] if secret.startswith("whsec_") else secret
    return base64.b64decode(s, validate=True)


def sign(secret, msg_id, timestamp, body):
    """The webhook-signature header value for body (bytes)."""
    mac = hmac.new(secret_key(secret), b"%s.%s." % (msg_id.encode(), str(timestamp).encode())
                   + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def verify(secret, headers, body, now):
    """{"secret": True, "verified", "signature_ok", "timestamp_ok", "reason"} for a request
    whose path has a secret; headers is the lower-cased dict."""
    r = {"secret": True, "verified": False, "signature_ok": False, "timestamp_ok": False,
         "reason": ""}
    msg_id, ts, sig = (headers.get("webhook-id"), headers.get("webhook-timestamp"),
                       headers.get("webhook-signature"))
    missing = [n for n, v in (("webhook-id", msg_id), ("webhook-timestamp", ts),
                              ("webhook-signature", sig)) if not v]
    if missing:
        r["reason"] = "missing header " + ", ".join(missing)
        return r
    try:
        key = secret_key(secret)
    except (binascii.Error, ValueError):
        r["reason"] = "the configured secret is not whsec_<base64>"
        return r
    want = base64.b64encode(hmac.new(key, msg_id.encode() + b"." + ts.encode() + b"." + body,
                                     hashlib.sha256).digest()).decode()
    for part in sig.split():
        ver, _, value = part.partition(",")
        if ver == "v1" and hmac.compare_digest(value.encode(), want.encode()):
            r["signature_ok"] = True
            break
    if ts.isdigit():
        r["skew"] = int(now - int(ts))
        r["timestamp_ok"] = abs(r["skew"]) <= TOLERANCE
    if not r["signature_ok"]:
        r["reason"] = "no v1 signature matches"
    elif not ts.isdigit():
        r["reason"] = "webhook-timestamp is not an integer"
    elif not r["timestamp_ok"]:
        r["reason"] = "timestamp off by %d s (tolerance %d s)" % (r["skew"], TOLERANCE)
    r["verified"] = r["signature_ok"] and r["timestamp_ok"]
    return r


# ---- files ------------------------------------------------------------------------------

def write_json(path, obj):
    tmp = "%s.%d.tmp" % (path, os.getpid())
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=1, sort_keys=True)
        f.write("\n")
    os.replace(tmp, path)


def read_json(path, default=None):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return default


def match(table, path):
    """The key of table that applies to path: exact, longest prefix at a "/" boundary, "*"."""
    if path in table:
        return path
    best = None
    for k in table:
        if k != "*" and (path.startswith(k.rstrip("/") + "/") or k.endswith("/") and
                         path.startswith(k)):
            if best is None or len(k) > len(best):
                best = k
    if best is None and "*" in table:
        return "*"
    return best


# ---- the server -------------------------------------------------------------------------

class Server:
    def __init__(self, hookdir):
        self.dir = hookdir
        self.cfg = read_json(os.path.join(hookdir, "config.json"))
        if not self.cfg:
            raise SystemExit("webhook: %s/config.json missing or not JSON" % hookdir)
        self.control_path = os.path.join(hookdir, "control.json")
        self.state_path = os.path.join(hookdir, "state.json")
        self.log_fd = os.open(os.path.join(hookdir, "requests.jsonl"),
                              os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self.lock = threading.Lock()
        self.seq = 0
        self.conn_no = 0
        self.conns = set()
        self.control = {}
        self.control_stat = None
        self.generation = -1
        self.rule_state = {}  # path key -> {"index", "count", "since"}
        self.down_until = None  # None: up; float: until then; "forever"
        self.listeners = {}  # (kind, addr, port) -> socket
        self.sel = selectors.DefaultSelector()
        self.tls = None
        if self.cfg.get("https"):
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.minimum_version = ssl.TLSVersion.TLSv1_2
            ctx.load_cert_chain(self.cfg["cert"], self.cfg["key"])
            ctx.sni_callback = note_sni
            self.tls = ctx

    # -- control
    def poll_control(self):
        try:
            st = os.stat(self.control_path)
            key = (st.st_ino, st.st_mtime_ns, st.st_size)
        except OSError:
            key = None
        if key == self.control_stat:
            return
        self.control_stat = key
        c = read_json(self.control_path, {}) if key else {}
        with self.lock:
            gen = c.get("generation", 0)
            if gen != self.generation:
                # a path whose rules changed starts over; the others keep their progress
                now = time.time()
                old = self.control.get("paths", {})
                self.rule_state = {k: (self.rule_state[k] if old.get(k) == rules and
                                       k in self.rule_state else
                                       {"index": 0, "count": 0, "since": now})
                                   for k, rules in c.get("paths", {}).items()}
                down = c.get("down")
                if down is None:
                    self.down_until = None
                else:
                    self.down_until = down.get("until") or "forever"
            self.control = c
            self.generation = gen
        self.apply_down()
        self.write_state()

    def is_down(self, now):
        if self.down_until is None:
            return False
        if self.down_until == "forever" or now < self.down_until:
            return True
        self.down_until = None
        return False

    def apply_down(self):
        down = self.is_down(time.time())
        if down and self.listeners:
            for k, s in list(self.listeners.items()):
                self.sel.unregister(s)
                s.close()
            self.listeners = {}
            with self.lock:
                conns = list(self.conns)
            for c in conns:  # established connections fail too, as when a host goes away
                try:
                    c.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self.write_state()
        elif not down and not self.listeners:
            self.open_listeners()
            self.write_state()

    def open_listeners(self):
        for kind in ("https", "http"):
            for addr, port in self.cfg.get(kind, []):
                fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
                s = socket.socket(fam, socket.SOCK_STREAM)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                for i in range(50):  # a just-closed listener can take a moment
                    try:
                        s.bind((addr, port))
                        break
                    except OSError:
                        if i == 49:
                            raise
                        time.sleep(0.02)
                s.listen(256)
                s.setblocking(False)
                self.listeners[(kind, addr, port)] = s
                self.sel.register(s, selectors.EVENT_READ, (kind, addr, port))

    def write_state(self):
        with self.lock:
            st = {"pid": os.getpid(), "generation": self.generation,
                  "down": self.down_until is not None,
                  "down_until": self.down_until,
                  "listening": ["%s %s:%d" % k for k in sorted(self.listeners)],
                  "requests": self.seq, "connections": len(self.conns),
                  "rules": self.rule_state, "updated": time.time()}
        write_json(self.state_path, st)

    def secrets(self):
        s = dict(self.cfg.get("secrets", {}))
        s.update(self.control.get("secrets", {}))
        return {k: v for k, v in s.items() if v}

    def decide(self, path, now):
        """(rule, where) for a request to path: where is "PATH#N" or "default"."""
        with self.lock:
            paths = self.control.get("paths", {})
            k = match(paths, path)
            if k is not None:
                rules = paths[k]
                st = self.rule_state.setdefault(k, {"index": 0, "count": 0, "since": now})
                while st["index"] < len(rules):
                    r = rules[st["index"]]
                    if r.get("for") is not None and now >= st["since"] + r["for"]:
                        st.update(index=st["index"] + 1, count=0, since=st["since"] + r["for"])
                        continue
                    if r.get("times") is not None and st["count"] >= r["times"]:
                        st.update(index=st["index"] + 1, count=0, since=now)
                        continue
                    st["count"] += 1
                    return r, "%s#%d" % (k, st["index"])
            return self.control.get("default") or {"action": "200"}, "default"

    def record(self, rec):
        with self.lock:
            self.seq += 1
            rec["seq"] = self.seq
            line = (json.dumps(rec, sort_keys=True) + "\n").encode()
            os.write(self.log_fd, line)
        self.write_state()

    # -- connections
    def serve_forever(self):
        signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
        self.poll_control()
        self.apply_down()
        self.write_state()
        while True:
            for key, _ in self.sel.select(timeout=0.05):
                try:
                    c, peer = key.fileobj.accept()
                except OSError:
                    continue
                with self.lock:
                    self.conn_no += 1
                    n = self.conn_no
                    if len(self.conns) >= 512:  # bounded: refuse more than that at once
                        c.close()
                        continue
                    self.conns.add(c)
                threading.Thread(target=self.connection, args=(c, peer, key.data, n),
                                 daemon=True).start()
            self.poll_control()
            self.apply_down()

    def connection(self, raw, peer, where, n):
        kind, addr, port = where
        sock = raw
        base = {"conn": n, "listener": kind, "tls": kind == "https",
                "local": "%s:%d" % (addr, port), "peer": "%s:%d" % peer[:2]}
        try:
            if kind == "https":
                raw.settimeout(10)
                try:
                    # wrap_socket detaches raw: from here on sock is the connection
                    sock = self.tls.wrap_socket(raw, server_side=True,
                                                do_handshake_on_connect=False)
                    with self.lock:
                        self.conns.discard(raw)
                        self.conns.add(sock)
                    sock.do_handshake()
                except (ssl.SSLError, OSError) as e:
                    self.record(dict(base, event="tls-error", error=str(e)[:200],
                                     time=time.time()))
                    return
                base["tls_version"] = sock.version()
                base["sni"] = getattr(sock, "lab_sni", None)
            sock.settimeout(IDLE)
            buf = b""
            while True:
                buf, go_on = self.one_request(sock, buf, base)
                if not go_on:
                    return
        except Exception:  # noqa: BLE001  a broken connection ends its thread, not the server
            return
        finally:
            with self.lock:
                self.conns.discard(raw)
                self.conns.discard(sock)
            try:
                sock.close()
            except OSError:
                pass

    def one_request(self, sock, buf, base):
        """Read one request from buf + sock, record it, answer; (rest, keep going)."""
        while b"\r\n\r\n" not in buf:
            if len(buf) > MAX_HEAD:
                send(sock, response(431, b"header too large\n", close=True))
                return b"", False
            data = sock.recv(65536)
            if not data:
                return b"", False
            buf += data
        head, buf = buf.split(b"\r\n\r\n", 1)
        t_recv = time.time()
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/"):
            send(sock, response(400, b"bad request line\n", close=True))
            return b"", False
        method, target, version = parts
        headers = []
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep:
                send(sock, response(400, b"bad header\n", close=True))
                return b"", False
            headers.append([name.strip(), value.strip()])
        hd = {}
        for name, value in headers:
            k = name.lower()
            hd[k] = hd[k] + ", " + value if k in hd else value
        if hd.get("expect", "").lower() == "100-continue":
            send(sock, b"HTTP/1.1 100 Continue\r\n\r\n")
        body, buf, err = read_body(sock, buf, hd)
        if err:
            send(sock, response(err, b"bad body\n", close=True))
            return b"", False
        path, _, query = target.partition("?")
        now = time.time()
        rule, where = self.decide(path, now)
        action = str(rule.get("action", "200"))
        secrets = self.secrets()
        sk = match(secrets, path)
        sig = verify(secrets[sk], hd, body, now) if sk else {"secret": False, "verified": None}
        rec = dict(base, time=t_recv, iso=time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t_recv))
                   + "Z", method=method, target=target, path=path, query=query,
                   version=version, headers=headers, header=hd, body_bytes=len(body),
                   signature=sig, answer={"action": action, "rule": where})
        try:
            rec["body"] = body.decode("utf-8")
            try:
                rec["json"] = json.loads(rec["body"]) if body else None
            except ValueError:
                rec["json"] = None
        except UnicodeDecodeError:
            rec["body_base64"] = base64.b64encode(body).decode()
            rec["json"] = None
        close = version == "HTTP/1.0" or hd.get("connection", "").lower() == "close"
        if action == "hang":
            self.record(rec)
            end = time.monotonic() + min(float(rule.get("for") or HANG_MAX), HANG_MAX)
            sock.settimeout(0.5)
            while time.monotonic() < end:
                try:
                    if not sock.recv(65536):
                        break
                except socket.timeout:
                    continue
            return b"", False
        if action == "reset":
            self.record(rec)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return b"", False
        status = int(action)
        delay = min(float(rule.get("delay") or 0), HANG_MAX)
        extra = [[k, str(v)] for k, v in (rule.get("headers") or {}).items()]
        if status in (429, 503) or rule.get("retry_after") is not None:
            extra.append(["Retry-After", str(rule.get("retry_after", "2"))])
        body_out = rule.get("body")
        if body_out is None:
            body_out = "" if status == 204 or status < 200 else (
                "ok\n" if status < 300 else "%d %s\n" % (status, REASONS.get(status, "")))
        rec["answer"].update(status=status, delay=delay or None, headers=extra or None)
        self.record(rec)
        if delay:
            time.sleep(delay)
        send(sock, response(status, body_out.encode(), close=close, headers=extra,
                            head_only=method == "HEAD"))
        return buf, not close


def note_sni(sock, name, ctx):
    """The TLS server name the client sent, kept on its socket for the record."""
    sock.lab_sni = name


def read_body(sock, buf, hd):
    """(body, rest of buf, error status or None)."""
    te = hd.get("transfer-encoding", "").lower()
    if "chunked" in te:
        body = b""
        while True:
            while b"\r\n" not in buf:
                data = sock.recv(65536)
                if not data:
                    return b"", b"", 400
                buf += data
            size_line, buf = buf.split(b"\r\n", 1)
            try:
                size = int(size_line.split(b";")[0].strip(), 16)
            except ValueError:
                return b"", b"", 400
            if len(body) + size > MAX_BODY:
                return b"", b"", 413
            if size == 0:
                while b"\r\n" not in buf:  # trailers end with an empty line
                    data = sock.recv(65536)
                    if not data:
                        return body, b"", None
                    buf += data
                while not buf.startswith(b"\r\n"):
                    _, buf = buf.split(b"\r\n", 1)
                    while b"\r\n" not in buf:
                        data = sock.recv(65536)
                        if not data:
                            return body, b"", None
                        buf += data
                return body, buf[2:], None
            while len(buf) < size + 2:
                data = sock.recv(65536)
                if not data:
                    return b"", b"", 400
                buf += data
            body += buf[:size]
            buf = buf[size + 2:]
    n = hd.get("content-length", "0").strip() or "0"
    if not n.isdigit():
        return b"", b"", 400
    n = int(n)
    if n > MAX_BODY:
        return b"", b"", 413
    while len(buf) < n:
        data = sock.recv(65536)
        if not data:
            return b"", b"", 400
        buf += data
    return buf[:n], buf[n:], None


def response(status, body, close=False, headers=(), head_only=False):
    h = ["HTTP/1.1 %d %s" % (status, REASONS.get(status, "Status")),
         "Server: stswatch-lab-webhook",
         "Date: " + time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime())]
    if status != 204 and status >= 200:
        h += ["Content-Type: text/plain; charset=utf-8", "Content-Length: %d" % len(body)]
    h += ["%s: %s" % (k, v) for k, v in headers]
    if close:
        h.append("Connection: close")
    out = ("\r\n".join(h) + "\r\n\r\n").encode()
    return out if head_only or status == 204 else out + body


def send(sock, data):
    try:
        sock.sendall(data)
    except OSError:
        pass


# ---- control, for tests -----------------------------------------------------------------

class Hooks:
    """Control and read the receiver in HOOKDIR (lab.json "webhook" "dir"). Every change
    waits until the server acknowledges it, so it is in force when the call returns."""

    def __init__(self, hookdir):
        self.dir = hookdir
        self.control = os.path.join(hookdir, "control.json")
        self.state = os.path.join(hookdir, "state.json")
        self.log = os.path.join(hookdir, "requests.jsonl")

    def change(self, fn, wait=True, timeout=5.0):
        with open(self.control + ".lock", "a") as lk:
            fcntl.flock(lk, fcntl.LOCK_EX)
            c = read_json(self.control, {}) or {}
            c.setdefault("paths", {})
            c.setdefault("secrets", {})
            fn(c)
            c["generation"] = c.get("generation", 0) + 1
            write_json(self.control, c)
        if wait:
            self.wait_state(lambda s: s.get("generation", -1) >= c["generation"] and
                            s.get("down") == (c.get("down") is not None and
                                              (c["down"].get("until") is None or
                                               c["down"]["until"] > time.time())),
                            timeout, "generation %d" % c["generation"])
        return c

    def wait_state(self, pred, timeout, what):
        end = time.monotonic() + timeout
        while True:
            s = read_json(self.state, {}) or {}
            if pred(s):
                return s
            if time.monotonic() > end:
                raise RuntimeError("webhook receiver did not take %s within %.0f s (state: %s)"
                                   % (what, timeout, s))
            time.sleep(0.02)

    @staticmethod
    def rule(action, seconds=None, times=None, retry_after=None, delay=None, body=None,
             headers=None):
        r = {"action": str(action)}
        if action not in ("hang", "reset") and not (str(action).isdigit() and
                                                    100 <= int(action) <= 599):
            raise ValueError("action %r: a status 100-599, hang or reset" % action)
        for k, v in (("for", seconds), ("times", times), ("retry_after", retry_after),
                     ("delay", delay), ("body", body), ("headers", headers)):
            if v is not None:
                r[k] = v
        return r

    def set(self, path, action, **kw):
        """Answer requests to path with action (see the module docstring) from now on."""
        r = self.rule(action, **kw)
        return self.change(lambda c: c["paths"].__setitem__(path, [r]))

    def add(self, path, action, **kw):
        """Append a rule for path: it applies once the rules before it are used up."""
        r = self.rule(action, **kw)
        return self.change(lambda c: c["paths"].setdefault(path, []).append(r))

    def clear(self, path):
        return self.change(lambda c: c["paths"].pop(path, None))

    def secret(self, path, secret):
        """Verify signatures on path with secret ("whsec_..."); None stops verifying."""
        return self.change(lambda c: c["secrets"].__setitem__(path, secret))

    def down(self, seconds=None):
        """Refuse connections (close the listeners) for seconds, or until up()."""
        until = time.time() + seconds if seconds else None
        return self.change(lambda c: c.__setitem__("down", {"until": until}))

    def up(self):
        return self.change(lambda c: c.__setitem__("down", None))

    def reset(self):
        """Up, every path back to the default answer; secrets stay as configured at start."""
        def fn(c):
            c["paths"] = {}
            c["down"] = None
            c["secrets"] = {}
            c.pop("default", None)
        return self.change(fn)

    def requests(self, path=None, since=0):
        """The recorded requests (dicts) with seq > since, to path (exact) when given."""
        out = []
        try:
            with open(self.log, "rb") as f:
                data = f.read()
        except OSError:
            return out
        for line in data.split(b"\n"):
            if not line.endswith(b"}"):
                continue  # the last line may be half-written
            r = json.loads(line)
            if r.get("seq", 0) > since and (path is None or r.get("path") == path):
                out.append(r)
        return out

    def mark(self):
        """The seq of the last recorded request: pass it as since= to see only newer ones."""
        reqs = self.requests()
        return reqs[-1]["seq"] if reqs else 0

    def wait(self, path=None, n=1, timeout=10.0, since=0, pred=None):
        """Wait until n requests (to path, matching pred) were recorded; return them."""
        end = time.monotonic() + timeout
        while True:
            got = [r for r in self.requests(path, since) if pred is None or pred(r)]
            if len(got) >= n:
                return got
            if time.monotonic() > end:
                raise RuntimeError("webhook receiver: %d of %d requests to %s within %.0f s"
                                   % (len(got), n, path or "any path", timeout))
            time.sleep(0.05)


def ctl_main(args):
    usage = ("usage: webhook.py ctl HOOKDIR set|add PATH ACTION [--for S] [--times N] "
             "[--retry-after V] [--delay S] [--body TEXT] | clear PATH | down [--for S] | up "
             "| reset | secret PATH whsec_...|none | show")
    if len(args) < 2:
        print(usage, file=sys.stderr)
        return 2
    h = Hooks(args[0])
    verb, rest = args[1], args[2:]
    opts, pos = {}, []
    names = {"--for": ("seconds", float), "--times": ("times", int),
             "--retry-after": ("retry_after", str), "--delay": ("delay", float),
             "--body": ("body", str)}
    i = 0
    while i < len(rest):
        if rest[i] in names:
            if i + 1 >= len(rest):
                print(usage, file=sys.stderr)
                return 2
            k, conv = names[rest[i]]
            opts[k] = conv(rest[i + 1])
            i += 2
        else:
            pos.append(rest[i])
            i += 1
    try:
        if verb in ("set", "add") and len(pos) == 2:
            c = getattr(h, verb)(pos[0], pos[1], **opts)
        elif verb == "clear" and len(pos) == 1:
            c = h.clear(pos[0])
        elif verb == "down" and not pos and set(opts) <= {"seconds"}:
            c = h.down(opts.get("seconds"))
        elif verb == "up" and not pos:
            c = h.up()
        elif verb == "reset" and not pos:
            c = h.reset()
        elif verb == "secret" and len(pos) == 2:
            c = h.secret(pos[0], None if pos[1] == "none" else pos[1])
        elif verb == "show" and not pos:
            c = {"control": read_json(h.control, {}), "state": read_json(h.state, {})}
        else:
            print(usage, file=sys.stderr)
            return 2
    except (RuntimeError, ValueError) as e:
        print("webhook: %s" % e, file=sys.stderr)
        return 1
    print(json.dumps(c, indent=1, sort_keys=True))
    return 0


def main(argv):
    if len(argv) >= 3 and argv[1] == "serve":
        Server(argv[2]).serve_forever()
        return 0
    if len(argv) >= 2 and argv[1] == "ctl":
        return ctl_main(argv[2:])
    if len(argv) in (3, 4) and argv[1] == "requests":
        for r in Hooks(argv[2]).requests(argv[3] if len(argv) == 4 else None):
            print(json.dumps(r, sort_keys=True))
        return 0
    if len(argv) == 6 and argv[1] == "sign":
        with open(argv[5], "rb") as f:
            print(sign(argv[2], argv[3], argv[4], f.read()))
        return 0
    print(__doc__.strip(), file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
