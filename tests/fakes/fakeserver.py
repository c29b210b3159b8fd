#!/usr/bin/python3
"""fakeserver: scripted SMTP and HTTPS servers on 127.0.0.1 that record what the client sent.

In the spirit of curl's test servers: a server plays a script, step by step, on the first
connection it accepts, and writes down everything the client sent (before and after TLS),
when the client went away, and whether the script went as planned. The probe under test
runs in another process; the test then asserts on the probe's facts and on this record.
Python 3 standard library only; no root, nothing but 127.0.0.1.

    ca = make_ca(DIR)                         # a CA and a leaf for mx.fake.test and
                                              # mta-sts.fake.test, by the openssl CLI
    srv = Server([Send(b"220 hi\\r\\n"), Expect(b"EHLO"), Stall(5)], ca)
    srv.start(); ... run the client on srv.port ...; rec = srv.stop()

Steps (see each class): Send, Split, Drip, Expect, StartTLS, ReadRequest, Stall, Sleep,
SendForever, Close, Reset. After the last step the server reads until the client closes (at most
DRAIN_S), so a QUIT sent at the end is recorded. Server(..., backlog_full=True) accepts
nothing and keeps its queue full, so a client's TCP connect never completes.

    tests/fakes/fakeserver.py serve DIR CASE     # play one case of run.py by hand: prints
                                                 # the port, waits, prints the record
"""
import json
import os
import socket
import ssl
import struct
import subprocess
import sys
import threading
import time

HOST = "127.0.0.1"
NAMES = ("mx.fake.test", "mta-sts.fake.test")
DRAIN_S = 2.0		# reading after the script, until the client closes
ACCEPT_S = 10.0		# how long the server waits for its first connection
LINE_MAX = 65536	# what Expect and ReadRequest read at most


def make_ca(directory, names=NAMES):
    """A root CA and one leaf (EC P-256, SANs = names) made by the openssl CLI in
    directory; returns the paths {ca, cert, key, chain}. Made once per directory."""
    os.makedirs(directory, exist_ok=True)
    p = {k: os.path.join(directory, f) for k, f in
         (("ca", "ca.pem"), ("ca_key", "ca.key"), ("cert", "leaf.pem"), ("key", "leaf.key"),
          ("csr", "leaf.csr"), ("ext", "leaf.ext"), ("chain", "chain.pem"))}
    if all(os.path.exists(p[k]) for k in ("ca", "cert", "key", "chain")):
        return p

    def openssl(*args):
        r = subprocess.run(["openssl"] + list(args), capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("openssl %s failed: %s" % (args[0], r.stderr.strip()))

    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    openssl("req", "-x509", *ec, "-keyout", p["ca_key"], "-out", p["ca"], "-days", "3",
            "-subj", "/O=stswatch fakes/CN=stswatch fakes CA",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    openssl("req", *ec, "-keyout", p["key"], "-out", p["csr"], "-subj", "/CN=" + names[0])
    with open(p["ext"], "w") as f:
        f.write("subjectAltName=%s\nbasicConstraints=critical,CA:FALSE\n"
                "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"
                "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"
                % ",".join("DNS:" + n for n in names))
    openssl("x509", "-req", "-in", p["csr"], "-CA", p["ca"], "-CAkey", p["ca_key"],
            "-CAcreateserial", "-days", "2", "-extfile", p["ext"], "-out", p["cert"])
    with open(p["chain"], "w") as out:
        for k in ("cert", "ca"):
            with open(p[k]) as f:
                out.write(f.read())
    return p


class ScriptError(Exception):
    """The client did not do what the script expected; the record says what it did."""


class ClientGone(Exception):
    """The client closed the connection (or reset it) while the server wrote or read."""


class Conn:
    """One accepted connection: the socket (plain, later TLS), what was read but not yet
    consumed by a step, and the record."""

    def __init__(self, sock, ca, rec, t0):
        self.sock = sock
        self.ca = ca
        self.rec = rec
        self.t0 = t0
        self.buf = b""
        self.tls = False
        self.eof = False
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def now(self):
        return round(time.monotonic() - self.t0, 3)

    def note(self, what, **kw):
        ev = {"t": self.now(), "ev": what}
        ev.update(kw)
        self.rec["events"].append(ev)

    def _keep(self, data):
        key = "tls_in" if self.tls else "plain_in"
        self.rec[key] += data.decode("latin-1")

    def read_some(self, timeout):
        """Read what is there within timeout into buf; False on EOF, None on timeout."""
        if self.eof:
            return False
        self.sock.settimeout(max(timeout, 0.001))
        try:
            data = self.sock.recv(65536)
        except (socket.timeout, ssl.SSLWantReadError):
            return None
        except (ConnectionResetError, BrokenPipeError, ssl.SSLError, OSError) as e:
            self.note("read_error", error=str(e))
            data = b""
        if not data:
            self.eof = True
            if self.rec["client_closed"] is None:
                self.rec["client_closed"] = self.now()
            return False
        self._keep(data)
        self.buf += data
        return True

    def write(self, data):
        try:
            self.sock.settimeout(5)
            self.sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError,
                socket.timeout) as e:
            if self.rec["client_closed"] is None:
                self.rec["client_closed"] = self.now()
            raise ClientGone(str(e))
        self.rec["bytes_sent"] += len(data)

    def read_until(self, marker, timeout, limit=LINE_MAX):
        """Consume buf up to and including marker; ScriptError on EOF, timeout or limit."""
        end = time.monotonic() + timeout
        while marker not in self.buf:
            if len(self.buf) > limit:
                raise ScriptError("more than %d bytes without %r" % (limit, marker))
            left = end - time.monotonic()
            if left <= 0:
                raise ScriptError("no %r within %.1f s (got %r)" % (marker, timeout,
                                                                      self.buf[:80]))
            if self.read_some(left) is False:
                raise ScriptError("client closed before %r (got %r)" % (marker, self.buf[:80]))
        i = self.buf.index(marker) + len(marker)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out


# ---- steps --------------------------------------------------------------------------

class Send:
    """Write data in one write."""

    def __init__(self, data):
        self.data = data

    def run(self, c):
        c.write(self.data)


class Split:
    """Write data in pieces cut at the given offsets, gap seconds apart (TCP_NODELAY, so
    each piece leaves as its own segment and the client's reads see the cuts)."""

    def __init__(self, data, *cuts, gap=0.05):
        self.data, self.cuts, self.gap = data, sorted(cuts), gap

    def run(self, c):
        last = 0
        for cut in list(self.cuts) + [len(self.data)]:
            if cut > last:
                c.write(self.data[last:cut])
                time.sleep(self.gap)
            last = cut


class Drip:
    """Write data one byte at a time, every seconds apart; stops when the client leaves
    (the record's dripped says how many bytes went out)."""

    def __init__(self, data, every):
        self.data, self.every = data, every

    def run(self, c):
        c.rec["dripped"] = 0
        for i in range(len(self.data)):
            c.write(self.data[i:i + 1])
            c.rec["dripped"] = i + 1
            if c.read_some(self.every) is False:
                raise ClientGone("client closed after %d dripped bytes" % (i + 1))


class Expect:
    """Read one line (CRLF) from the client; ScriptError unless it starts with prefix
    (case-insensitive)."""

    def __init__(self, prefix, timeout=5.0):
        self.prefix, self.timeout = prefix, timeout

    def run(self, c):
        line = c.read_until(b"\r\n", self.timeout)
        if not line.upper().startswith(self.prefix.upper()):
            raise ScriptError("expected %r, got %r" % (self.prefix, line))


class StartTLS:
    """Turn the connection into a TLS server connection (the fake CA's leaf, every
    version the local OpenSSL allows) and complete the handshake. With may_fail, a
    handshake the client aborts (it refused the certificate) ends the script as planned;
    the record's tls_handshake says why."""

    def __init__(self, timeout=5.0, may_fail=False):
        self.timeout, self.may_fail = timeout, may_fail

    def run(self, c):
        if c.buf:
            raise ScriptError("client sent %r before the TLS handshake" % c.buf[:80])
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(c.ca["cert"], c.ca["key"])
        c.sock.settimeout(self.timeout)
        try:
            c.sock = ctx.wrap_socket(c.sock, server_side=True)
        except (ssl.SSLError, OSError, socket.timeout) as e:
            c.rec["tls_handshake"] = "failed: %s" % e
            if self.may_fail:
                raise StopIteration
            raise ScriptError("TLS handshake failed: %s" % e)
        c.tls = True
        c.rec["tls_handshake"] = "done"
        c.rec["tls_version"] = c.sock.version()
        c.note("tls", version=c.sock.version())


class ReadRequest:
    """Read one HTTP request head; the record's requests gets its lines."""

    def __init__(self, timeout=5.0):
        self.timeout = timeout

    def run(self, c):
        head = c.read_until(b"\r\n\r\n", self.timeout)
        c.rec["requests"].append(head.decode("latin-1").split("\r\n")[:-2])


class Stall:
    """Send nothing for seconds; read (and record) whatever comes, until the client
    closes. The script ends there when it does."""

    def __init__(self, seconds):
        self.seconds = seconds

    def run(self, c):
        end = time.monotonic() + self.seconds
        c.note("stall")
        while time.monotonic() < end:
            if c.read_some(end - time.monotonic()) is False:
                raise ClientGone("client closed during the stall")
        c.buf = b""


class Sleep:
    """Wait seconds without reading."""

    def __init__(self, seconds):
        self.seconds = seconds

    def run(self, c):
        time.sleep(self.seconds)


class SendForever:
    """Write chunk again and again (gap seconds apart) for at most seconds, or until the
    client leaves: endless headers, a body without end, an endless line."""

    def __init__(self, chunk, seconds, gap=0.0):
        self.chunk, self.seconds, self.gap = chunk, seconds, gap

    def run(self, c):
        end = time.monotonic() + self.seconds
        start = c.rec["bytes_sent"]
        try:
            while time.monotonic() < end:
                c.write(self.chunk)
                if self.gap:
                    time.sleep(self.gap)
        finally:
            c.rec["sent_forever"] = c.rec["bytes_sent"] - start


class Close:
    """Hang up now, cleanly: a FIN (shutdown for writing), then read until the client
    closes (at most DRAIN_S), so what it sent does not turn the close into a reset.
    Nothing after it is played."""

    def run(self, c):
        c.note("close")
        try:
            c.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        end = time.monotonic() + DRAIN_S
        while time.monotonic() < end and c.read_some(end - time.monotonic()) is not False:
            pass
        raise StopIteration


class Reset:
    """Hang up now with a TCP reset (SO_LINGER 0). Nothing after it is played."""

    def run(self, c):
        c.note("reset")
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        raise StopIteration


# ---- the server ---------------------------------------------------------------------

class Server:
    """A listener on 127.0.0.1 that plays script on the first connection. Later
    connections are recorded too (requests read, then closed): a client that follows a
    redirect or retries shows up as more than one connection."""

    def __init__(self, script, ca, backlog_full=False):
        self.script = script
        self.ca = ca
        self.backlog_full = backlog_full
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind((HOST, 0))
        self.port = self.lsock.getsockname()[1]
        self.fillers = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.rec = {"connections": 0, "events": [], "plain_in": "", "tls_in": "",
                    "requests": [], "bytes_sent": 0, "client_closed": None,
                    "tls_handshake": None, "script": "not started", "error": None}

    def start(self):
        if self.backlog_full:
            # listen(0) queues one connection; fill the queue so a new SYN is dropped and
            # the client's connect stays in progress until its own deadline
            self.lsock.listen(0)
            for _ in range(3):
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.setblocking(False)
                try:
                    s.connect((HOST, self.port))
                except BlockingIOError:
                    pass
                self.fillers.append(s)
            time.sleep(0.1)
            self.rec["script"] = "backlog full"
            return self
        self.lsock.listen(8)
        self.thread.start()
        return self

    def _serve(self):
        self.lsock.settimeout(0.05)
        deadline = time.monotonic() + ACCEPT_S
        first = True
        while not self.stopping.is_set():
            try:
                sock, _ = self.lsock.accept()
            except socket.timeout:
                if first and time.monotonic() > deadline:
                    self.rec["script"] = "no connection"
                    return
                continue
            except OSError:
                return
            self.rec["connections"] += 1
            if first:
                first = False
                self._play(sock)
            else:
                self._later(sock)

    def _play(self, sock):
        c = Conn(sock, self.ca, self.rec, time.monotonic())
        self.rec["script"] = "playing"
        try:
            for i, step in enumerate(self.script):
                self.rec["step"] = i
                step.run(c)
            self.rec["script"] = "done"
            end = time.monotonic() + DRAIN_S
            while time.monotonic() < end and c.read_some(end - time.monotonic()) is not False:
                pass
        except StopIteration:
            self.rec["script"] = "done"
        except ClientGone as e:
            self.rec["script"] = "client gone at step %d (%s)" % (
                self.rec["step"], type(self.script[self.rec["step"]]).__name__)
            self.rec["client_gone"] = str(e)
        except ScriptError as e:
            self.rec["script"] = "failed at step %d" % self.rec["step"]
            self.rec["error"] = str(e)
        except Exception as e:  # a bug of the kit: say it, never hang
            self.rec["script"] = "crashed"
            self.rec["error"] = "%s: %s" % (type(e).__name__, e)
        finally:
            try:
                c.sock.close()
            except OSError:
                pass

    def _later(self, sock):
        c = Conn(sock, self.ca, {"events": [], "plain_in": "", "tls_in": "",
                                 "requests": [], "bytes_sent": 0, "client_closed": None},
                 time.monotonic())
        try:
            StartTLS(timeout=2).run(c)
            ReadRequest(timeout=2).run(c)
            self.rec["requests"].extend(c.rec["requests"])
        except (ScriptError, ClientGone):
            pass
        finally:
            sock.close()

    def stop(self, wait=DRAIN_S + 3):
        """Stop accepting, wait for the script to end (the client has gone by now), close;
        the record, with the lines the client sent before and inside TLS."""
        self.stopping.set()
        if self.thread.is_alive():
            self.thread.join(wait)
        if self.thread.is_alive():
            self.rec["error"] = (self.rec["error"] or "") + " (the script still ran at stop)"
        self.lsock.close()
        for s in self.fillers:
            s.close()
        self.rec["plain_lines"] = split_lines(self.rec["plain_in"])
        self.rec["tls_lines"] = split_lines(self.rec["tls_in"])
        # a TLS ClientHello starts with a handshake record: 0x16 0x03
        self.rec["client_hello"] = "\x16\x03" in self.rec["plain_in"]
        return self.rec


def split_lines(text):
    """The CRLF-terminated lines of text that look like commands (printable ASCII)."""
    out = []
    for line in text.split("\r\n")[:-1]:
        if line and all(32 <= ord(ch) < 127 for ch in line):
            out.append(line)
    return out


def main(argv):
    if len(argv) != 4 or argv[1] != "serve":
        print(__doc__, file=sys.stderr)
        return 2
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import run  # the cases live there
    case = run.case_by_name(argv[3])
    if case is None:
        print("no case %r (run.py --list)" % argv[3], file=sys.stderr)
        return 2
    ca = make_ca(os.path.join(argv[2], "ca"))
    srv = Server(None, ca, backlog_full=case.backlog_full)
    srv.script = case.script(srv.port)
    srv.start()
    print("case %s: %s on %s:%d, CA %s; Ctrl-C ends it" % (case.name, case.kind, HOST,
                                                           srv.port, ca["ca"]), flush=True)
    try:
        while srv.thread.is_alive() and srv.rec["script"] in ("not started", "playing"):
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    print(json.dumps(srv.stop(), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
