#!/usr/bin/python3
"""notify: a NOTIFY_SOCKET listener for tests of daemons that speak sd_notify.

  notify.py listen SOCKET LOG [--pidfile FILE]
        bind SOCKET (a path, or @NAME for an abstract socket), record every datagram as
        one JSON line to LOG, until SIGTERM (the path is removed then)
  notify.py show LOG            the recorded messages
  notify.py wait LOG KEY[=VALUE] [SECONDS]   exit 0 once such a message was recorded

Start the daemon under test with NOTIFY_SOCKET=SOCKET (and WATCHDOG_USEC to ask for
WATCHDOG=1 pings). A record: {"seq", "time", "iso", "fields": {"READY": "1", "STATUS":
"..."}, "lines": [...], "raw", "pid", "uid", "gid" (the sender's credentials, from
SCM_CREDENTIALS), "fds" (descriptors passed with it, closed at once: sd_notify_barrier's
BARRIER=1 waits for that)}.

In a test, the Listener class does the same in a thread:

    with notify.Listener("/tmp/x/notify.sock") as n:
        start the daemon with env=n.env(watchdog_usec=2000000)
        n.wait("READY", "1", timeout=10); n.wait("STATUS"); n.messages()

Abstract sockets belong to a network namespace: a daemon started with `ip netns exec`
reaches an abstract socket only when the listener runs in the same namespace. A path
socket works from anywhere on the machine (mode 0666, so an unprivileged daemon can send).
Python 3 standard library only.
"""

import array
import json
import os
import signal
import socket
import struct
import sys
import threading
import time

sys.dont_write_bytecode = True

MAX_DGRAM = 65536


def sockaddr(name):
    return "\0" + name[1:] if name.startswith("@") else name


def parse(data):
    """The KEY=VALUE lines of one datagram: (fields, lines)."""
    text = data.decode("utf-8", "replace")
    lines = [x for x in text.split("\n") if x != ""]
    fields = {}
    for line in lines:
        k, sep, v = line.partition("=")
        if sep:
            fields[k] = v
    return fields, lines


class Listener:
    """Bind SOCKET and record sd_notify datagrams in memory (and to log when given)."""

    def __init__(self, path, log=None):
        self.path = path
        self.log = log
        self.lock = threading.Lock()
        self.cond = threading.Condition(self.lock)
        self.msgs = []
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        if not path.startswith("@"):
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
        self.sock.bind(sockaddr(path))
        if not path.startswith("@"):
            os.chmod(path, 0o666)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self.thread = None
        self.closed = False

    def env(self, watchdog_usec=None, base=None):
        """An environment for the daemon: base (default os.environ) plus NOTIFY_SOCKET."""
        e = dict(os.environ if base is None else base, NOTIFY_SOCKET=self.path)
        if watchdog_usec:
            e["WATCHDOG_USEC"] = str(int(watchdog_usec))
        else:
            e.pop("WATCHDOG_USEC", None)
        e.pop("WATCHDOG_PID", None)
        return e

    def receive_one(self):
        fdsize = array.array("i").itemsize
        data, anc, _, _ = self.sock.recvmsg(MAX_DGRAM, socket.CMSG_SPACE(64 * fdsize) +
                                            socket.CMSG_SPACE(12))
        now = time.time()
        fields, lines = parse(data)
        rec = {"time": now, "fields": fields, "lines": lines,
               "iso": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now))
               + ".%03dZ" % int(now % 1 * 1000),
               "raw": data.decode("utf-8", "replace"), "fds": 0}
        for level, kind, cdata in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                rec["pid"], rec["uid"], rec["gid"] = struct.unpack("iII", cdata[:12])
            elif level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds = array.array("i")
                fds.frombytes(cdata[:len(cdata) - len(cdata) % fdsize])
                for fd in fds:
                    os.close(fd)
                rec["fds"] += len(fds)
        with self.cond:
            rec["seq"] = len(self.msgs) + 1
            self.msgs.append(rec)
            if self.log:
                with open(self.log, "a") as f:
                    f.write(json.dumps(rec, sort_keys=True) + "\n")
            self.cond.notify_all()
        return rec

    def loop(self):
        while not self.closed:
            try:
                self.receive_one()
            except OSError:
                if self.closed:
                    return
                time.sleep(0.01)

    def start(self):
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()
        return self

    def messages(self, key=None):
        with self.lock:
            return [m for m in self.msgs if key is None or key in m["fields"]]

    def wait(self, key, value=None, timeout=10.0, since=0):
        """The first message with seq > since carrying KEY (=VALUE when given)."""
        end = time.monotonic() + timeout
        with self.cond:
            while True:
                for m in self.msgs[since:]:
                    if key in m["fields"] and (value is None or m["fields"][key] == value):
                        return m
                left = end - time.monotonic()
                if left <= 0:
                    raise RuntimeError("notify: no %s%s on %s within %.1f s (got: %s)" % (
                        key, "=" + value if value is not None else "", self.path, timeout,
                        [m["raw"] for m in self.msgs]))
                self.cond.wait(left)

    def close(self):
        self.closed = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        if not self.path.startswith("@"):
            try:
                os.unlink(self.path)
            except FileNotFoundError:
                pass

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()


def read_log(path):
    out = []
    try:
        with open(path) as f:
            for line in f:
                if line.endswith("\n"):
                    out.append(json.loads(line))
    except OSError:
        pass
    return out


def main(argv):
    if len(argv) in (4, 6) and argv[1] == "listen":
        if len(argv) == 6 and argv[4] != "--pidfile":
            print(__doc__.strip(), file=sys.stderr)
            return 2
        n = Listener(argv[2], argv[3])
        open(argv[3], "a").close()
        if len(argv) == 6:
            with open(argv[5], "w") as f:
                f.write("%d\n" % os.getpid())

        def stop(*_):
            n.close()
            if len(argv) == 6:
                try:
                    os.unlink(argv[5])
                except OSError:
                    pass
            sys.exit(0)
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        n.loop()
        return 0
    if len(argv) == 3 and argv[1] == "show":
        for m in read_log(argv[2]):
            print(json.dumps(m, sort_keys=True))
        return 0
    if len(argv) in (4, 5) and argv[1] == "wait":
        key, _, value = argv[3].partition("=")
        end = time.monotonic() + (float(argv[4]) if len(argv) == 5 else 10.0)
        while time.monotonic() < end:
            for m in read_log(argv[2]):
                if key in m["fields"] and ("=" not in argv[3] or m["fields"][key] == value):
                    print(json.dumps(m, sort_keys=True))
                    return 0
            time.sleep(0.05)
        return 1
    print(__doc__.strip(), file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
