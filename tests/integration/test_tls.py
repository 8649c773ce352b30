"""tests/integration/test_tls.py: wss:// and https:// against the real binary (issue 14), with a
test CA and certificates the test makes itself with the openssl command (never committed keys).

Clients nobody here wrote: python websockets over ssl (echo, deflate, chat, broadcast), the
standard library's https client, and python's ssl module driven by hand (a MemoryBIO) to play
the attacker: a stalled ClientHello, plain HTTP and garbage on the TLS port, a truncated record,
a flood of aborted handshakes, and a reader that never reads. Then start-up refusals of bad
files, and certificate reload on SIGHUP. Figures are printed with a "[measure]" prefix."""

import asyncio
import http.client
import json
import os
import re
import selectors
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import unittest

import websockets

from harness import (BINARY, IO_DEADLINE, MEMORY_BOUNDS, START_DEADLINE, TEXT, TIME_SCALE, Closed,
                     RawClient, Server, binary_path, build_frame, poll_until)

CERTS = None  # the module's temporary folder of certificates (setUpModule)


def openssl(*args):
    subprocess.run(["openssl", *args], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def issue(name, sans, days="1", serial=None):
    """A P-256 key and a certificate for `sans` signed by the test CA, in CERTS: (cert, key)."""
    key, csr, cert = (os.path.join(CERTS, f"{name}.{ext}") for ext in ("key", "csr", "pem"))
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", key, "-out", csr, "-subj", f"/CN={sans[0].split(':', 1)[1]}")
    ext = os.path.join(CERTS, f"{name}.ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=" + ",".join(sans) + "\n")
    serial_args = ["-set_serial", str(serial)] if serial else ["-CAcreateserial"]
    openssl("x509", "-req", "-in", csr, "-CA", CA, "-CAkey", CA_KEY, *serial_args,
            "-days", days, "-extfile", ext, "-out", cert)
    return cert, key


def setUpModule():
    global CERTS, CA, CA_KEY
    CERTS = tempfile.mkdtemp(prefix="epws-tls-")
    CA, CA_KEY = os.path.join(CERTS, "ca.pem"), os.path.join(CERTS, "ca.key")
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", CA_KEY, "-out", CA, "-days", "2", "-subj", "/CN=epws test CA",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign")
    issue("localhost", ["DNS:localhost", "IP:127.0.0.1"], serial=1001)
    issue("other", ["DNS:other.test"], serial=2002)


def tearDownModule():
    shutil.rmtree(CERTS, ignore_errors=True)


def pem(name):
    return os.path.join(CERTS, f"{name}.pem"), os.path.join(CERTS, f"{name}.key")


def client_context(**kw):
    ctx = ssl.create_default_context(cafile=CA)
    for k, v in kw.items():
        setattr(ctx, k, v)
    return ctx


class TlsServer(Server):
    """A Server that also reads its second line, "epws: listening with TLS on HOST:PORT"."""

    TLS_RE = re.compile(rb"epws: listening with TLS on (\S+):(\d+)\r?\n")
    LISTEN_RE = re.compile(rb"^epws: listening (?:with TLS )?on (\S+):(\d+)\r?\n$")

    def __init__(self, *flags, certs=("localhost",), **kw):
        pairs = []
        for c in certs:  # a name made by issue(), or a (cert, key) pair of paths
            cert, key = pem(c) if isinstance(c, str) else c
            pairs += ["--tls-cert", cert, "--tls-key", key]
        super().__init__("--tls-port", "0", *pairs, *flags, **kw)
        self.tls_port = None
        self.plain = "--port" not in flags  # "--port off" comes after the harness's --port 0

    def _read_first_line(self, deadline_s):
        # Both lines may come in one read: keep what follows the first for the next call.
        pending = getattr(self, "_pending", b"")
        fd = self.proc.stdout.fileno()
        os.set_blocking(fd, False)
        end = time.monotonic() + deadline_s
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while b"\n" not in pending:
                left = end - time.monotonic()
                if left <= 0 or not sel.select(left):
                    return pending
                chunk = os.read(fd, 4096)
                if not chunk:
                    return pending
                pending += chunk
        line, _, self._pending = pending.partition(b"\n")
        return line + b"\n"

    def start(self):
        super().start()
        line = self.stdout_line
        if self.plain:
            line = self._read_first_line(START_DEADLINE)
        m = self.TLS_RE.match(line)
        if not m:
            self.stop()
            raise RuntimeError(f"no TLS listening line: {line!r}; stderr {self.stderr_text()!r}")
        self.tls_port = int(m.group(2))
        return self

    def wss(self, path="/echo", host="localhost"):
        return f"wss://{host}:{self.tls_port}{path}"

    def tls_socket(self, server_hostname="localhost", ctx=None):
        raw = socket.create_connection(("127.0.0.1", self.tls_port), timeout=IO_DEADLINE)
        return (ctx or client_context()).wrap_socket(raw, server_hostname=server_hostname)

    def https_get(self, path):
        conn = http.client.HTTPSConnection("localhost", self.tls_port, timeout=IO_DEADLINE,
                                           context=client_context())
        try:
            conn.request("GET", path)
            resp = conn.getresponse()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
        finally:
            conn.close()

    def stats(self):
        if self.plain:
            return super().stats()
        status, _, body = self.https_get("/stats")
        assert status == 200, status
        return json.loads(body)


class TlsRaw(RawClient):
    """The harness's raw client (hand-built HTTP and frames) over a verified TLS socket."""

    def __init__(self, server, server_hostname="localhost"):
        self.sock = server.tls_socket(server_hostname)
        self.host, self.port, self.buf = "localhost", server.tls_port, b""

    def _fill(self, deadline):
        try:
            super()._fill(deadline)
        except (ssl.SSLEOFError, ssl.SSLZeroReturnError) as e:
            raise Closed(str(e)) from None


def client_hello():
    """The first flight of a real TLS client, as bytes (from python's ssl over a MemoryBIO)."""
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = client_context().wrap_bio(incoming, outgoing, server_hostname="localhost")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 20 * TIME_SCALE))


class TlsCase(unittest.TestCase):
    FLAGS = ("--threads", "2")
    server = None

    @classmethod
    def setUpClass(cls):
        cls.server = TlsServer(*cls.FLAGS).start()

    @classmethod
    def tearDownClass(cls):
        if cls.server:
            cls.server.close()

    def tearDown(self):
        self.assertTrue(self.server.alive(), f"epws died: {self.server.stderr_text()!r}")

    def stat(self, name):
        return self.server.stats()[name]

    def assertHealthy(self):
        async def echo():
            async with websockets.connect(self.server.wss(), ssl=client_context()) as ws:
                await ws.send("still here")
                self.assertEqual(await ws.recv(), "still here")
        run(echo())


class Serving(TlsCase):
    """What the issue says works over TLS unchanged: echo, deflate, chat, broadcast, HTTP."""

    def test_python_websockets_echoes_over_wss_at_every_size(self):
        async def go():
            async with websockets.connect(self.server.wss(), ssl=client_context(),
                                          compression=None, max_size=None) as ws:
                for n in (0, 1, 125, 126, 16383, 16384, 16385, 65536, 1 << 20, 5 << 20):
                    msg = os.urandom(n)
                    await ws.send(msg)
                    self.assertEqual(await ws.recv(), msg, f"{n} bytes")
        run(go())

    def test_permessage_deflate_is_negotiated_and_round_trips_over_tls(self):
        before = self.stat("deflate_negotiated")

        async def go():
            async with websockets.connect(self.server.wss(), ssl=client_context()) as ws:
                self.assertIn("permessage-deflate",
                              ws.response_headers.get("Sec-WebSocket-Extensions", ""))
                text = "the quick brown fox " * 500
                await ws.send(text)
                self.assertEqual(await ws.recv(), text)
        run(go())
        self.assertEqual(self.stat("deflate_negotiated") - before, 1)

    def test_chat_and_broadcast_work_over_wss(self):
        async def go():
            ctx = client_context()
            async with websockets.connect(self.server.wss("/chat?username=alice"), ssl=ctx) as a, \
                       websockets.connect(self.server.wss("/chat?username=bob"), ssl=ctx) as b:
                for c in (a, b):
                    self.assertEqual(json.loads(await c.recv())["type"], "welcome")
                await a.send(json.dumps({"type": "say", "room": "lobby", "text": "over tls"}))

                async def until_message(c):
                    while True:
                        ev = json.loads(await c.recv())
                        if ev["type"] == "message":
                            return ev
                for c in (a, b):
                    ev = await until_message(c)
                    self.assertEqual((ev["from"], ev["text"]), ("alice", "over tls"))
            async with websockets.connect(self.server.wss("/broadcast"), ssl=ctx) as x, \
                       websockets.connect(self.server.wss("/broadcast"), ssl=ctx) as y:
                poll_until(lambda: self.stat("connections") >= 2, IO_DEADLINE, "two subscribers")
                await x.send("to all")
                self.assertEqual(await x.recv(), "to all")
                self.assertEqual(await y.recv(), "to all")
        run(go())

    def test_https_serves_health_stats_and_static_files(self):
        status, _, body = self.server.https_get("/healthz")
        self.assertEqual((status, body), (200, b"ok\n"))
        status, headers, body = self.server.https_get("/")
        self.assertEqual(status, 200)
        self.assertIn("text/html", headers["content-type"])
        status, _, body = self.server.https_get("/stats")
        self.assertGreater(json.loads(body)["tls_handshakes"], 0)

    def test_only_tls_1_2_and_1_3_with_alpn_http_1_1_and_aead_ciphers(self):
        with self.server.tls_socket() as s:
            self.assertEqual(s.version(), "TLSv1.3")
        ctx = client_context(maximum_version=ssl.TLSVersion.TLSv1_2)
        ctx.set_alpn_protocols(["h2", "http/1.1"])
        with self.server.tls_socket(ctx=ctx) as s:
            self.assertEqual(s.version(), "TLSv1.2")
            self.assertEqual(s.selected_alpn_protocol(), "http/1.1")
            name, _, bits = s.cipher()
            self.assertTrue(name.startswith("ECDHE-") and ("GCM" in name or "CHACHA" in name), name)
        old = client_context(minimum_version=ssl.TLSVersion.TLSv1, maximum_version=ssl.TLSVersion.TLSv1_1)
        old.set_ciphers("ALL:@SECLEVEL=0")
        with self.assertRaises((ssl.SSLError, ConnectionError)):
            self.server.tls_socket(ctx=old).close()
        h2 = client_context()
        h2.set_alpn_protocols(["h2"])  # RFC 7301 §3.2: no protocol in common is fatal
        with self.assertRaises((ssl.SSLError, ConnectionError)):
            self.server.tls_socket(ctx=h2).close()

    def test_a_second_connection_resumes_with_a_ticket(self):
        ctx = client_context(maximum_version=ssl.TLSVersion.TLSv1_2)  # python resumes 1.2 only
        with self.server.tls_socket(ctx=ctx) as first:
            session = first.session
        raw = socket.create_connection(("127.0.0.1", self.server.tls_port), timeout=IO_DEADLINE)
        with ctx.wrap_socket(raw, server_hostname="localhost", session=session) as second:
            self.assertTrue(second.session_reused)

    def test_the_raw_harness_client_speaks_over_tls_too(self):
        with TlsRaw(self.server) as c:
            status, headers, _ = c.handshake("/echo")
            self.assertEqual(status, 101)
            c.send_frame(TEXT, b"raw over tls")
            self.assertEqual(c.read_message(), (TEXT, b"raw over tls"))


class Sni(TlsCase):
    FLAGS = ("--threads", "1")

    @classmethod
    def setUpClass(cls):
        cls.server = TlsServer(*cls.FLAGS, certs=("localhost", "other")).start()

    def test_each_name_gets_its_certificate_and_unknown_names_the_first(self):
        with self.server.tls_socket("other.test") as s:
            self.assertEqual(s.getpeercert()["serialNumber"], "07D2")  # 2002
        with self.server.tls_socket("localhost") as s:
            self.assertEqual(s.getpeercert()["serialNumber"], "03E9")  # 1001
        lax = client_context(check_hostname=False)
        with self.server.tls_socket("unknown.test", ctx=lax) as s:
            self.assertEqual(s.getpeercert()["serialNumber"], "03E9")


class Attacks(TlsCase):
    """test_attacks.py's cases where TLS changes them, with a short handshake timeout."""

    FLAGS = ("--threads", "1", "--handshake-timeout", "1", "--max-output-bytes", "1m")

    def raw_tcp(self):
        s = socket.create_connection(("127.0.0.1", self.server.tls_port), timeout=IO_DEADLINE)
        return s

    @staticmethod
    def closed_within(sock, seconds):
        sock.settimeout(seconds)
        try:
            while sock.recv(65536):
                pass
            return True
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False

    def test_a_client_stalled_mid_handshake_is_closed_at_the_timeout_and_counted(self):
        before = self.stat("tls_handshake_timeouts")
        hello = client_hello()
        stalled = []
        for _ in range(20):  # slowloris: a few bytes of ClientHello, then nothing
            s = self.raw_tcp()
            s.sendall(hello[:len(hello) // 2])
            stalled.append(s)
        t0 = time.monotonic()
        for s in stalled:
            self.assertTrue(self.closed_within(s, 3 * TIME_SCALE), "stalled handshake still open")
            s.close()
        took = time.monotonic() - t0
        self.assertLess(took, 3 * TIME_SCALE)
        print(f"[measure] 20 stalled TLS handshakes closed {took:.2f} s after the last was opened")
        poll_until(lambda: self.stat("tls_handshake_timeouts") - before == 20, IO_DEADLINE,
                   "20 TLS handshake timeouts counted")
        self.assertHealthy()

    def test_plain_http_and_garbage_on_the_tls_port_are_closed_and_counted(self):
        before = self.stat("tls_handshake_failures")
        for junk in (b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n", b"\x16\x03\x01\xff\xff" + b"A" * 300,
                     os.urandom(4096)):
            with self.raw_tcp() as s:
                s.sendall(junk)
                self.assertTrue(self.closed_within(s, IO_DEADLINE))
        poll_until(lambda: self.stat("tls_handshake_failures") - before == 3, IO_DEADLINE,
                   "three failed handshakes counted")
        self.assertHealthy()

    def test_a_truncated_record_closes_the_connection_without_a_clean_end(self):
        before = self.stat("closes_peer_reset")
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        obj = client_context().wrap_bio(incoming, outgoing, server_hostname="localhost")
        sock = self.raw_tcp()
        while True:  # the handshake by hand, so we hold the records before they leave
            try:
                obj.do_handshake()
                break
            except ssl.SSLWantReadError:
                sock.sendall(outgoing.read())
                incoming.write(sock.recv(65536))
        sock.sendall(outgoing.read())
        obj.write(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        record = outgoing.read()
        sock.sendall(record[:len(record) - 7])  # all but the record's last bytes
        sock.shutdown(socket.SHUT_WR)
        self.assertTrue(self.closed_within(sock, IO_DEADLINE))
        sock.close()
        poll_until(lambda: self.stat("closes_peer_reset") - before >= 1, IO_DEADLINE,
                   "the truncated connection closed as a reset")
        self.assertHealthy()

    def test_a_flood_of_aborted_handshakes_costs_bounded_memory(self):
        before = self.stat("tls_handshake_failures")
        hello = client_hello()
        self.assertHealthy()

        def flood(n):
            for i in range(n):
                s = self.raw_tcp()
                if i % 2:
                    s.sendall(hello)  # the server answers with its whole flight, then we reset
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                s.close()
            poll_until(lambda: self.stat("connections") == 0, IO_DEADLINE, "no connection left")

        rss0 = rss_kib(self.server.proc.pid)
        n = 400
        t0 = time.monotonic()
        flood(n)
        elapsed = time.monotonic() - t0
        rss1 = rss_kib(self.server.proc.pid)
        flood(n)
        flood(n)
        rss3 = rss_kib(self.server.proc.pid)
        flood(n)
        rss4 = rss_kib(self.server.proc.pid)
        self.assertHealthy()
        failed = self.stat("tls_handshake_failures") - before
        print(f"[measure] {n} aborted TLS handshakes in {elapsed:.2f} s: server RSS grew "
              f"{rss1 - rss0} KiB (the handshakes in flight at once, kept by malloc), then "
              f"{rss3 - rss1} KiB over {2 * n} more and {rss4 - rss3} KiB over the last {n}; "
              f"{failed} counted as failed")
        self.assertGreaterEqual(failed, 3 * n)  # every one that reached the server
        if MEMORY_BOUNDS:
            # Nothing is kept per aborted handshake: later floods reuse the memory of the
            # first (a leak of 2.5 KiB per handshake would show here).
            self.assertLess(rss4 - rss3, 1024, "memory kept by aborted handshakes")
            self.assertLess(rss1 - rss0, 32 * 1024, "peak memory of a flood of handshakes")

    def test_a_reader_that_never_reads_over_tls_is_cut_at_the_output_cap(self):
        before = self.stat("closed_output_overflow")
        raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        raw.settimeout(IO_DEADLINE)
        raw.connect(("127.0.0.1", self.server.tls_port))
        slow = TlsRaw.__new__(TlsRaw)
        slow.sock = client_context().wrap_socket(raw, server_hostname="localhost")
        slow.host, slow.port, slow.buf = "localhost", self.server.tls_port, b""
        self.assertEqual(slow.handshake("/broadcast")[0], 101)  # then it never reads again

        async def go():
            async with websockets.connect(self.server.wss("/broadcast"), ssl=client_context(),
                                          compression=None) as fast:
                poll_until(lambda: self.stat("connections") >= 2, IO_DEADLINE, "two subscribers")
                payload = b"x" * 4000
                for k in range(3000):  # 12 MB: past the socket buffers and the 1 MiB cap
                    await fast.send(b"%08d" % k + payload)
                    self.assertEqual((await fast.recv())[:8], b"%08d" % k, "order at the fast reader")
        run(go())
        poll_until(lambda: self.stat("closed_output_overflow") - before == 1, IO_DEADLINE,
                   "the slow TLS reader closed for overflow")
        self.assertTrue(slow.is_closed(IO_DEADLINE * 2), "slow reader's socket still open")
        slow.close()
        self.assertHealthy()


class Caps(TlsCase):
    """Over a cap, a TLS connection is closed at accept: no 503 in plain text to a TLS client,
    and no handshake spent on it."""

    FLAGS = ("--threads", "1", "--max-connections", "1")

    def test_a_connection_over_the_cap_is_closed_before_any_handshake(self):
        before = self.stat("rejected_over_capacity")
        handshakes = self.stat("tls_handshakes")
        with TlsRaw(self.server) as held:
            self.assertEqual(held.handshake("/echo")[0], 101)
            with self.assertRaises((ssl.SSLError, ConnectionError, OSError)):
                self.server.tls_socket().close()
        # /stats takes the one slot too: ask once the held connection is gone.
        def stats():
            try:
                return self.server.stats()
            except AssertionError:  # 503 while the held connection is still closing
                return None
        now = poll_until(stats, IO_DEADLINE, "/stats answering again")
        self.assertEqual(now["rejected_over_capacity"] - before, 1)
        self.assertEqual(now["tls_handshakes"] - handshakes, 1)  # none for the refused one


class StartUp(unittest.TestCase):
    """A bad certificate or key: one clear line on stderr and exit 1, before listening."""

    def refuse(self, cert, key, expect):
        p = subprocess.run([binary_path(), "--port", "0", "--tls-port", "0", "--tls-cert", cert,
                            "--tls-key", key], stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=START_DEADLINE)
        self.assertEqual(p.returncode, 1, p.stderr)
        lines = p.stderr.decode().strip().split("\n")
        self.assertEqual(len(lines), 1, lines)
        self.assertIn(expect, lines[0])
        self.assertEqual(p.stdout, b"")  # nothing was listening

    def test_missing_unreadable_mismatched_and_expired_files_are_refused(self):
        cert, key = pem("localhost")
        other_cert, other_key = pem("other")
        self.refuse(cert + ".missing", key, "cannot read: No such file or directory")
        self.refuse(cert, other_key, "does not match the certificate")
        self.refuse(key, key, "not a PEM certificate chain")
        self.refuse(cert, cert, "not a PEM private key")
        exp_cert, exp_key = issue("expired", ["DNS:localhost"], days="-1", serial=3003)
        self.refuse(exp_cert, exp_key, "expired on")
        if os.geteuid() != 0:  # root reads a file whatever its mode
            locked = os.path.join(CERTS, "locked.key")
            shutil.copy(key, locked)
            os.chmod(locked, 0)
            self.refuse(cert, locked, "cannot read: Permission denied")

    def test_tls_flags_are_checked(self):
        cert, key = pem("localhost")
        for args, expect in ((["--tls-cert", cert], "come in pairs"),
                             (["--tls-port", "0"], "--tls-port needs --tls-cert"),
                             (["--port", "off"], "leaves nothing to listen on")):
            p = subprocess.run([binary_path(), *args], capture_output=True, timeout=START_DEADLINE)
            self.assertEqual(p.returncode, 2, p.stderr)
            self.assertIn(expect, p.stderr.decode())

    def test_port_off_serves_tls_alone(self):
        with TlsServer("--port", "off", "--threads", "1") as server:
            self.assertTrue(server.stdout_line.startswith(b"epws: listening with TLS on"))
            status, _, body = server.https_get("/healthz")
            self.assertEqual(body, b"ok\n")


class Reload(unittest.TestCase):
    """SIGHUP: open connections keep going, new handshakes see the new certificate, a bad new
    file is logged and the old certificate kept."""

    def test_sighup_swaps_certificates_without_dropping_a_connection(self):
        live_cert, live_key = os.path.join(CERTS, "live.pem"), os.path.join(CERTS, "live.key")
        cert, key = pem("localhost")
        shutil.copy(cert, live_cert)
        shutil.copy(key, live_key)
        with TlsServer("--threads", "2", certs=[(live_cert, live_key)]) as server:
            async def go():
                ctx = client_context()
                async with websockets.connect(server.wss(), ssl=ctx) as before:
                    await before.send("one")
                    self.assertEqual(await before.recv(), "one")
                    new_cert, new_key = issue("renewed", ["DNS:localhost", "IP:127.0.0.1"], serial=4004)
                    shutil.copy(new_cert, live_cert)
                    shutil.copy(new_key, live_key)
                    server.proc.send_signal(signal.SIGHUP)
                    poll_until(lambda: "certificates reloaded" in server.stderr_text(), IO_DEADLINE,
                               "the reload logged")
                    with server.tls_socket() as s:
                        self.assertEqual(s.getpeercert()["serialNumber"], "0FA4")  # 4004
                    await before.send("two")  # the connection from before SIGHUP still works
                    self.assertEqual(await before.recv(), "two")
                    with open(live_key, "w") as f:
                        f.write("not a key\n")
                    server.proc.send_signal(signal.SIGHUP)
                    poll_until(lambda: "kept the old certificates" in server.stderr_text(),
                               IO_DEADLINE, "the failed reload logged")
                    self.assertIn("live.key", server.stderr_text())
                    with server.tls_socket() as s:
                        self.assertEqual(s.getpeercert()["serialNumber"], "0FA4")
                    await before.send("three")
                    self.assertEqual(await before.recv(), "three")
            run(go())
            self.assertTrue(server.alive())


if __name__ == "__main__":
    unittest.main()
