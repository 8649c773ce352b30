"""tests/tools/presence_cost.py: what joining a big room costs the server (issue 13).

Layer: tests/tools (a measurement, not a test). Starts the server (EPWS_BIN, one loop), opens N
/chat connections (all in lobby) from 127.0.0.1..127.0.0.K as fast as it can, reading everything
every client is sent, until every client has seen the last user's join; then J more users join
one at a time (each waits for its presence reply and for everyone to see it). Prints the bytes
the clients received and the server's CPU time (utime + stime from /proc) for both phases.

  EPWS_BIN=build/release/epws /usr/bin/python3 tests/tools/presence_cost.py -n 10000 -j 50
"""

import argparse
import base64
import os
import selectors
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from harness import Server  # noqa: E402

HANDSHAKE = ("GET /chat?username={user} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
             "Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n")


def cpu_seconds(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


class Client:
    def __init__(self, sock, user):
        self.sock, self.user = sock, user
        self.bytes = 0
        self.tail = b""
        self.waiting = None  # a name whose arrival we wait for


class Run:
    def __init__(self, server, sources):
        self.server = server
        self.sources = sources
        self.sel = selectors.DefaultSelector()
        self.clients = []
        self.bytes = 0

    def open(self, user):
        s = socket.socket()
        s.bind((f"127.0.0.{1 + len(self.clients) % self.sources}", 0))
        s.connect((self.server.host, self.server.port))
        key = base64.b64encode(os.urandom(16)).decode()
        s.sendall(HANDSHAKE.format(user=user, key=key).encode())
        s.setblocking(False)
        c = Client(s, user)
        self.clients.append(c)
        self.sel.register(s, selectors.EVENT_READ, c)
        return c

    def pump(self, timeout):
        for key, _ in self.sel.select(timeout):
            c = key.data
            while True:
                try:
                    chunk = c.sock.recv(1 << 20)
                except BlockingIOError:
                    break
                if not chunk:
                    raise RuntimeError(f"{c.user}: the server closed the connection")
                c.bytes += len(chunk)
                self.bytes += len(chunk)
                if c.waiting is not None:
                    hay = c.tail + chunk
                    if any(w in hay for w in c.waiting):
                        c.waiting = None
                    c.tail = hay[-64:]

    def wait_all_see(self, name, count, deadline_s=600):
        """Until every client was told of name's join, or (a notice over the name cap) that
        the room has count members."""
        needles = (b'"' + name.encode() + b'"', b'"count":%d,' % count)
        for c in self.clients:
            c.waiting, c.tail = needles, b""
        end = time.monotonic() + deadline_s
        while any(c.waiting is not None for c in self.clients):
            if time.monotonic() > end:
                raise RuntimeError(f"not every client saw {name} within {deadline_s}s")
            self.pump(1.0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=10000, help="members joining in the storm")
    ap.add_argument("-j", type=int, default=50, help="single joins measured afterwards")
    ap.add_argument("--sources", type=int, default=16)
    ap.add_argument("--label", default=os.environ.get("EPWS_BIN", "epws"))
    ap.add_argument("--server-flags", default="", help="more server flags, space-separated")
    a = ap.parse_args()
    with Server("--threads", "1", "--max-connections-per-ip", "0", "--idle-timeout", "0",
                "--ping-interval", "0", *a.server_flags.split()) as server:
        run = Run(server, a.sources)
        pid = server.proc.pid
        cpu0, t0 = cpu_seconds(pid), time.monotonic()
        for i in range(a.n):
            run.open(f"u{i:05d}")
            if i % 64 == 63:
                run.pump(0)
        run.wait_all_see(f"u{a.n - 1:05d}", a.n)
        storm_cpu, storm_bytes = cpu_seconds(pid) - cpu0, run.bytes
        storm_s = time.monotonic() - t0
        cpu1, bytes1 = cpu_seconds(pid), run.bytes
        for k in range(a.j):
            name = f"v{k:05d}"
            run.open(name)
            run.wait_all_see(name, a.n + k + 1)
        single_cpu, single_bytes = cpu_seconds(pid) - cpu1, run.bytes - bytes1
        print(f"{a.label}: storm of {a.n} joins in {storm_s:.1f} s: {storm_bytes / 1e6:.1f} MB "
              f"to clients ({storm_bytes / a.n / 1e3:.1f} KB per join), server CPU "
              f"{storm_cpu:.2f} s ({storm_cpu / a.n * 1e6:.0f} us per join)")
        print(f"{a.label}: {a.j} single joins into a room of {a.n}: {single_bytes / a.j / 1e3:.1f} KB "
              f"to clients per join, server CPU {single_cpu / a.j * 1e3:.2f} ms per join")


if __name__ == "__main__":
    main()
