"""tests/integration/test_proxy.py: epws behind real nginx and HAProxy (Debian's packages, each
started by the test on loopback ports with its own configuration, the one docs/deploy.md gives):
a chat through the proxy, and the read timeout rule: with the server's ping interval longer
than the proxy's read timeout an idle WebSocket is cut by the proxy; with the read timeout above
the ping interval (the documented setting) it stays open. nginx's default read timeout is 60 s;
the test scales both numbers down (ping 2 s, timeouts 1 s and 5 s) to keep the suite short."""

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

import websockets

from harness import BUILD, IO_DEADLINE, Server, _die_with_parent, poll_until

PING_S = 2

NGINX_CONF = """
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;

    # docs/deploy.md: Upgrade and Connection passed on for a WebSocket, plain requests kept alive.
    map $http_upgrade $connection_upgrade {{
        default upgrade;
        ''      '';
    }}
    upstream epws {{
        server 127.0.0.1:{upstream};
        keepalive 16;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://epws;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_buffering off;
            proxy_read_timeout {read_timeout}s;
            proxy_send_timeout {read_timeout}s;
        }}
    }}
}}
"""

HAPROXY_CONF = """
global
    maxconn 256
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
    # After the upgrade only the tunnel timeout counts: it must exceed the ping interval.
    timeout tunnel {read_timeout}s
frontend public
    bind 127.0.0.1:{port}
    option forwardfor
    default_backend epws
backend epws
    server epws1 127.0.0.1:{upstream}
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Proxy:
    """One nginx or HAProxy process in front of upstream_port, in the foreground."""

    def __init__(self, kind, upstream_port, read_timeout):
        self.kind = kind
        self.dir = tempfile.mkdtemp(prefix=f"epws-{kind}-")
        os.chmod(self.dir, 0o755)  # nginx's workers may run as another user
        self.port = free_port()
        conf = os.path.join(self.dir, f"{kind}.conf")
        template = NGINX_CONF if kind == "nginx" else HAPROXY_CONF
        with open(conf, "w") as f:
            f.write(template.format(dir=self.dir, port=self.port, upstream=upstream_port,
                                    read_timeout=read_timeout))
        binary = shutil.which(kind) or f"/usr/sbin/{kind}"
        if not os.access(binary, os.X_OK):
            raise AssertionError(f"{kind} not found (apt-get install -y {kind})")
        args = ([binary, "-c", conf, "-g", "daemon off;", "-e", os.path.join(self.dir, "error.log")]
                if kind == "nginx" else [binary, "-f", conf, "-db"])
        self.log = open(os.path.join(self.dir, "stderr"), "w+")
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=self.log, preexec_fn=_die_with_parent)
        poll_until(self.listening, IO_DEADLINE, f"{kind} listening")

    def listening(self):
        if self.proc.poll() is not None:
            self.log.seek(0)
            raise AssertionError(f"{self.kind} exited {self.proc.returncode}: {self.log.read()}")
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            return True
        except OSError:
            return False

    def url(self, path):
        return f"ws://127.0.0.1:{self.port}{path}"

    def close(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


async def chat_through(proxy):
    alice = await websockets.connect(proxy.url("/chat?username=alice"))
    bob = await websockets.connect(proxy.url("/chat?username=bob"))
    try:
        for ws in (alice, bob):
            await ws.send(json.dumps({"type": "join", "room": "proxied", "id": 1}))
            # The join's own reply (the welcome brings lobby's presence first): only then is the
            # client a member, and alice's message sure to reach bob.
            while True:
                m = json.loads(await asyncio.wait_for(ws.recv(), IO_DEADLINE))
                if m["type"] == "presence" and m.get("room") == "proxied":
                    break
        await alice.send(json.dumps({"type": "say", "room": "proxied", "text": "through the proxy"}))
        while True:
            m = json.loads(await asyncio.wait_for(bob.recv(), IO_DEADLINE))
            if m["type"] == "message":
                return m
    finally:
        await alice.close()
        await bob.close()


async def idle_survives(proxy, idle_s):
    """Connects to /chat, stays silent (answering the server's pings, as every client library
    does) for idle_s, then checks the connection still carries a request and its answer."""
    ws = await websockets.connect(proxy.url("/chat?username=idle"), ping_interval=None)
    try:
        end = time.monotonic() + idle_s
        try:
            while True:  # the welcome and the lobby's presence come first; then nothing
                left = end - time.monotonic()
                if left <= 0:
                    break
                await asyncio.wait_for(ws.recv(), left)
        except asyncio.TimeoutError:
            pass  # idle_s of silence: what we wanted
        except websockets.ConnectionClosed:
            return False
        try:
            await ws.send(json.dumps({"type": "ping", "id": 9}))
            m = json.loads(await asyncio.wait_for(ws.recv(), IO_DEADLINE))
            return m["type"] == "pong"
        except websockets.ConnectionClosed:
            return False
    finally:
        await ws.close()


class BehindProxies(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # The proxies' configuration is what this suite checks, and its timings (a ping interval
        # against a proxy read timeout of a few seconds) assume a normal build: under
        # ThreadSanitizer one run in two missed its deadline. The release and ASan builds run it.
        if BUILD == "tsan":
            raise unittest.SkipTest("proxy timings assume a release or ASan build")
        # The per-address cap is off behind a proxy: every connection comes from its address.
        cls.server = Server("--ping-interval", PING_S, "--max-connections-per-ip", "0").start()

    @classmethod
    def tearDownClass(cls):
        cls.server.close()

    def check(self, kind):
        # 5 s of margin over the ping interval: a loaded 2-core machine running an ASan build
        # beside this one once stretched 3 s of margin into a cut.
        good = Proxy(kind, self.server.port, read_timeout=PING_S + 5)
        try:
            m = asyncio.run(chat_through(good))
            self.assertEqual((m["from"], m["text"]), ("alice", "through the proxy"))
            status = self.http_status(good, "/healthz")
            self.assertEqual(status, 200)
            self.assertTrue(asyncio.run(idle_survives(good, PING_S * 3 + 1)),
                            f"{kind}: an idle WebSocket was cut although the read timeout "
                            f"exceeds the ping interval")
        finally:
            good.close()
        bad = Proxy(kind, self.server.port, read_timeout=1)
        try:
            start = time.monotonic()
            self.assertFalse(asyncio.run(idle_survives(bad, PING_S * 3 + 1)),
                             f"{kind}: a read timeout below the ping interval should cut the "
                             f"idle WebSocket (the control for the setting)")
            self.assertLess(time.monotonic() - start, PING_S * 3 + 1 + IO_DEADLINE)
        finally:
            bad.close()

    def http_status(self, proxy, path):
        import http.client
        conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=IO_DEADLINE)
        try:
            conn.request("GET", path)
            return conn.getresponse().status
        finally:
            conn.close()

    def test_nginx(self):
        self.check("nginx")

    def test_haproxy(self):
        self.check("haproxy")


if __name__ == "__main__":
    unittest.main()
