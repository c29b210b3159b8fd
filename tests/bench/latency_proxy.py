#!/usr/bin/python3
"""latency_proxy: forward TCP and UDP with an added one-way delay, in user space.

The kernel here has no netem, so the benchmark puts this between the tool it measures and
the lab's servers. It listens on the servers' own addresses in a client namespace and
connects to the real servers in the lab's namespace (--upstream-netns), so names, addresses
and certificates stay exactly as they are; only the path gets longer.

    latency_proxy.py [--upstream-netns NS] DELAY_MS SPEC...
    SPEC: udp:LISTEN_IP:PORT=TARGET_IP:PORT or tcp:LISTEN_IP:PORT=TARGET_IP:PORT

What is delayed, with D = DELAY_MS (one way), so that every round trip costs 2 x D more:
  - UDP: every datagram, D in each direction (a DNS question and its answer: +2D).
  - TCP: every chunk of bytes, D in each direction, in order; end of stream likewise.
    The TCP handshake happens locally (connect() returns at once), so its round trip is
    charged to the first bytes instead: the proxy connects upstream 3D after the accept
    and forwards nothing before then. The server thus sees the connection when it would
    over a real path (SYN, SYN-ACK, ACK = 3D), its first bytes (an SMTP banner) reach
    the client at 4D, and a client's first bytes (a TLS ClientHello) are answered at
    4D, as with a 2D round trip on every packet.

Prints "ready" on stdout when every listener is up. Stops on SIGTERM or SIGINT.
Python standard library only; --upstream-netns needs root (setns).
"""
import asyncio
import ctypes
import os
import resource
import signal
import socket
import sys

CLONE_NEWNET = 0x40000000


class Netns:
    """Make sockets in another network namespace: setns there, socket(), setns back.
    setns changes the calling thread only, and the event loop runs in this one thread."""

    def __init__(self, name):
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.home = os.open("/proc/self/ns/net", os.O_RDONLY)
        self.there = os.open(os.path.join("/run/netns", name), os.O_RDONLY)

    def _setns(self, fd):
        if self.libc.setns(fd, CLONE_NEWNET) != 0:
            e = ctypes.get_errno()
            raise OSError(e, "setns: " + os.strerror(e))

    def socket(self, family, kind):
        self._setns(self.there)
        try:
            return socket.socket(family, kind)
        finally:
            self._setns(self.home)


class Local:
    def socket(self, family, kind):
        return socket.socket(family, kind)


def parse(spec):
    proto, rest = spec.split(":", 1)
    listen, target = rest.split("=")
    lip, lport = listen.rsplit(":", 1)
    tip, tport = target.rsplit(":", 1)
    if proto not in ("tcp", "udp"):
        raise ValueError("%s: tcp or udp" % spec)
    return proto, (lip.strip("[]"), int(lport)), (tip.strip("[]"), int(tport))


def family(ip):
    return socket.AF_INET6 if ":" in ip else socket.AF_INET


class Direction:
    """One direction of a TCP connection: chunks read from `reader` are written to
    `writer` at their due time (arrival + delay, never before `not_before`), in order."""

    def __init__(self, loop, delay, not_before):
        self.loop, self.delay, self.not_before = loop, delay, not_before
        self.q = asyncio.Queue()

    async def read(self, reader):
        try:
            while True:
                data = await reader.read(65536)
                self.q.put_nowait((max(self.loop.time() + self.delay, self.not_before), data))
                if not data:
                    return
        except (ConnectionError, OSError):
            self.q.put_nowait((self.loop.time() + self.delay, b""))

    async def pump(self, writer_fut):
        writer = await writer_fut
        while True:
            due, data = await self.q.get()
            wait = due - self.loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if writer is None:
                if not data:
                    return
                continue  # upstream never connected: drop
            try:
                if not data:
                    if writer.can_write_eof():
                        writer.write_eof()
                    return
                writer.write(data)
                await writer.drain()
            except (ConnectionError, OSError):
                return


def tcp_handler(target, delay, ns):
    async def handle(creader, cwriter):
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        up = loop.create_future()
        c2s = Direction(loop, delay, t0 + 3 * delay)
        s2c = Direction(loop, delay, 0)
        cfut = loop.create_future()
        cfut.set_result(cwriter)
        tasks = [asyncio.ensure_future(c2s.read(creader)),
                 asyncio.ensure_future(c2s.pump(up)),
                 asyncio.ensure_future(s2c.pump(cfut))]
        swriter = None
        try:
            await asyncio.sleep(3 * delay)
            s = ns.socket(family(target[0]), socket.SOCK_STREAM)
            s.setblocking(False)
            try:
                await loop.sock_connect(s, target)
            except OSError:
                s.close()
                raise
            sreader, swriter = await asyncio.open_connection(sock=s)
            up.set_result(swriter)
            tasks.append(asyncio.ensure_future(s2c.read(sreader)))
        except OSError:
            if not up.done():
                up.set_result(None)
            s2c.q.put_nowait((loop.time() + delay, b""))
        await asyncio.gather(*tasks, return_exceptions=True)
        for w in (cwriter, swriter):
            if w is not None:
                w.close()
    return handle


class UdpFront(asyncio.DatagramProtocol):
    """One upstream socket per client address, so answers find their way back."""

    def __init__(self, target, delay, ns):
        self.target, self.delay, self.ns = target, delay, ns
        self.upstreams = {}

    def connection_made(self, transport):
        self.transport = transport
        self.loop = asyncio.get_running_loop()

    def upstream(self, addr):
        up = self.upstreams.get(addr)
        if up is None:
            front = self

            class Back(asyncio.DatagramProtocol):
                def datagram_received(self, d, _a):
                    front.loop.call_later(front.delay, front.transport.sendto, d, addr)

            s = self.ns.socket(family(self.target[0]), socket.SOCK_DGRAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
            s.setblocking(False)
            s.connect(self.target)
            up = asyncio.ensure_future(self.loop.create_datagram_endpoint(Back, sock=s))
            self.upstreams[addr] = up
        return up

    def datagram_received(self, data, addr):
        up = self.upstream(addr)

        def send():
            if up.done() and not up.exception():
                up.result()[0].sendto(data)
            else:
                up.add_done_callback(lambda f: f.exception() or f.result()[0].sendto(data))
        self.loop.call_later(self.delay, send)


async def main(argv):
    ns = Local()
    if argv[:1] == ["--upstream-netns"]:
        ns = Netns(argv[1])
        argv = argv[2:]
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    delay = float(argv[0]) / 1000.0
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    loop = asyncio.get_running_loop()
    servers = []
    for spec in argv[1:]:
        proto, listen, target = parse(spec)
        if proto == "tcp":
            servers.append(await asyncio.start_server(tcp_handler(target, delay, ns), *listen,
                                                      backlog=4096, reuse_address=True))
        else:
            s = socket.socket(family(listen[0]), socket.SOCK_DGRAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
            s.bind(listen)
            await loop.create_datagram_endpoint(lambda t=target: UdpFront(t, delay, ns), sock=s)
    stop = loop.create_future()
    loop.add_signal_handler(signal.SIGTERM, stop.set_result, None)
    loop.add_signal_handler(signal.SIGINT, stop.set_result, None)
    print("ready", flush=True)
    await stop
    for s in servers:
        s.close()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
