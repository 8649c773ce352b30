"""tests/integration/test_trace.py: the server's tracing (epws --trace-connection ID and
--trace-user NAME, ws/server_trace.h) against the real binary: the annotated account on stderr is
checked against the bytes a raw socket sent and received, connections not chosen must be absent,
and bad flag values are refused (on the command line and in the config file)."""

import os
import re
import shutil
import subprocess
import tempfile
import unittest

from harness import (IO_DEADLINE, START_DEADLINE, RawClient, Server, accept_for, binary_path,
                     build_frame, close_payload, make_key, mask_bytes, poll_until)
from test_cat import cat_path, make_test_certs, trace_bytes
from test_tls import TlsServer

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
KEY = b"\x11\x22\x33\x44"


class RecordingClient(RawClient):
    """A RawClient that keeps every byte it sent and received, as its socket saw them."""

    def __init__(self, host, port):
        super().__init__(host, port)
        self.sent = bytearray()
        self.received = bytearray()

    def send(self, data):
        self.sent += data
        super().send(data)

    def _fill(self, deadline):
        before = len(self.buf)
        try:
            super()._fill(deadline)
        finally:
            self.received += self.buf[before:]


def echo_session(server, path, text, key=None):
    """Upgrades on `path`, sends `text` in one frame masked with KEY, reads the echo, closes
    with 1000 and waits for the server's FIN. Returns the client (its bytes) and its key."""
    c = RecordingClient(server.host, server.port)
    key = key or make_key()
    status, _, _ = c.handshake(path, key=key)
    assert status == 101, status
    c.send_frame(0x1, text.encode(), mask_key=KEY)
    _, _, op, payload = c.read_frame()
    assert (op, payload) == (0x1, text.encode()), (op, payload)
    c.send_frame(0x8, close_payload(1000), mask_key=KEY)
    c.read_close()
    c.expect_eof()
    c.close()
    return c, key


def lines_of(stderr, conn_id):
    """The trace of one connection: its lines, without their "[conn N] " prefix."""
    prefix = f"[conn {conn_id}] "
    return "\n".join(l[len(prefix):] for l in stderr.splitlines() if l.startswith(prefix))


def stderr_of(server):
    return server.stderr_text(limit=1 << 30)


def wait_closed(server, conn_id):
    poll_until(lambda: f"[conn {conn_id}] closed (" in stderr_of(server), IO_DEADLINE,
               f"the trace of connection {conn_id} to end")


class TraceOneConnection(unittest.TestCase):
    """--trace-connection 2: the second connection admitted, and only it."""

    @classmethod
    def setUpClass(cls):
        cls.server = Server("--threads", "2", "--trace-connection", "2").start()
        cls.first, _ = echo_session(cls.server, "/echo", "first one")
        cls.second, cls.key = echo_session(cls.server, "/echo", "hello")
        cls.third, _ = echo_session(cls.server, "/echo", "third one")
        wait_closed(cls.server, 2)
        cls.stderr = stderr_of(cls.server)
        cls.trace = lines_of(cls.stderr, 2)

    @classmethod
    def tearDownClass(cls):
        cls.server.close()

    def test_the_trace_carries_exactly_the_bytes_the_socket_sent_and_received(self):
        self.assertGreater(len(self.second.sent), 0)
        self.assertEqual(trace_bytes(self.trace, ">>>"), bytes(self.second.sent))
        self.assertEqual(trace_bytes(self.trace, "<<<"), bytes(self.second.received))

    def test_the_accept_value_is_computed_step_by_step(self):
        self.assertIn(f'1. key + GUID = "{self.key}{GUID}"', self.trace)
        self.assertIn(f"3. base64     = {accept_for(self.key)}", self.trace)
        self.assertIn("it matches, the handshake is complete", self.trace)

    def test_the_masked_frame_is_annotated_with_its_key_and_both_payloads(self):
        masked = " ".join(f"{b:02x}" for b in mask_bytes(b"hello", KEY))
        self.assertIn("masking key 11 22 33 44", self.trace)
        self.assertIn(f"payload, masked:   {masked}", self.trace)
        self.assertIn("payload, unmasked: 68 65 6c 6c 6f", self.trace)
        self.assertIn('as text: "hello"', self.trace)
        self.assertIn("close code 1000", self.trace)
        self.assertIn("MASK 0: server frames are never masked", self.trace)

    def test_other_connections_are_absent(self):
        self.assertNotIn("[conn 1]", self.stderr)
        self.assertNotIn("[conn 3]", self.stderr)
        self.assertNotIn("first one", self.stderr)
        self.assertNotIn("third one", self.stderr)
        self.assertIn("traced (--trace-connection", self.trace)
        # Every trace line carries the prefix: no annotation escapes unmarked.
        for line in self.stderr.splitlines():
            if "RFC 6455" in line and not line.startswith("epws:"):
                self.assertTrue(line.startswith("[conn 2] "), line)


class TraceOneUser(unittest.TestCase):
    """--trace-user alice: each of her connections, to any path, apart by its id; no one else's."""

    @classmethod
    def setUpClass(cls):
        cls.server = Server("--threads", "2", "--trace-user", "alice").start()

    @classmethod
    def tearDownClass(cls):
        cls.server.close()

    def ids_by_request(self, stderr):
        """{request target: connection id} from each traced connection's request line."""
        out = {}
        for m in re.finditer(r'^\[conn (\d+)\]     "GET (\S+) HTTP/1.1"$', stderr, re.M):
            out[m.group(2)] = int(m.group(1))
        return out

    def test_each_connection_of_the_user_is_traced_apart_and_no_other(self):
        bob, _ = echo_session(self.server, "/echo?username=bob", "bob's words")
        # Two of alice's at once: their lines interleave, their prefixes keep them apart.
        a1 = RecordingClient(self.server.host, self.server.port)
        a2 = RecordingClient(self.server.host, self.server.port)
        self.assertEqual(a1.handshake("/echo?username=alice")[0], 101)
        self.assertEqual(a2.handshake("/broadcast?username=alice")[0], 101)
        a1.send_frame(0x1, b"alice one", mask_key=KEY)
        a2.send_frame(0x1, b"alice two", mask_key=KEY)
        self.assertEqual(a1.read_frame()[3], b"alice one")
        self.assertEqual(a2.read_frame()[3], b"alice two")
        for c in (a1, a2):
            c.send_frame(0x8, close_payload(1000), mask_key=KEY)
            c.read_close()
            c.expect_eof()
            c.close()
        # A plain HTTP request carrying her is a connection of hers too.
        h = RecordingClient(self.server.host, self.server.port)
        h.send(b"GET /api/whoami?username=alice HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        self.assertTrue(h.is_closed(IO_DEADLINE))  # reads the answer, then the server's FIN
        h.close()
        self.assertIn(b"HTTP/1.1 200 OK", h.received)
        poll_until(lambda: len(self.ids_by_request(stderr_of(self.server))) == 3 and
                   stderr_of(self.server).count("] closed (") == 3, IO_DEADLINE,
                   "three traces of alice's connections to end")
        stderr = stderr_of(self.server)
        ids = self.ids_by_request(stderr)
        self.assertEqual(sorted(ids), ["/api/whoami?username=alice", "/broadcast?username=alice",
                                       "/echo?username=alice"])
        self.assertEqual(len(set(ids.values())), 3)
        for target, client in (("/echo?username=alice", a1), ("/broadcast?username=alice", a2),
                               ("/api/whoami?username=alice", h)):
            trace = lines_of(stderr, ids[target])
            self.assertEqual(trace_bytes(trace, ">>>"), bytes(client.sent), target)
            self.assertEqual(trace_bytes(trace, "<<<"), bytes(client.received), target)
        self.assertIn('as text: "alice two"', lines_of(stderr, ids["/broadcast?username=alice"]))
        self.assertNotIn("username=bob", stderr)
        self.assertNotIn("bob's words", stderr)
        self.assertGreater(len(bob.sent), 0)


class TraceOverTls(unittest.TestCase):
    """A wss:// connection: the trace shows the WebSocket bytes inside TLS, and TLS's version."""

    def test_the_websocket_bytes_inside_tls_are_traced_with_the_session_said_once(self):
        folder = tempfile.mkdtemp(prefix="epws-trace-tls-")
        try:
            ca, cert, key = make_test_certs(folder)
            with TlsServer("--threads", "1", "--trace-connection", "1",
                           certs=[(cert, key)]) as server:
                r = subprocess.run([cat_path(), "--ca-file", ca,
                                    f"wss://localhost:{server.tls_port}/echo"],
                                   input=b"secret words\n", capture_output=True,
                                   timeout=START_DEADLINE)
                self.assertEqual(r.returncode, 0, r.stderr)
                wait_closed(server, 1)
                trace = lines_of(stderr_of(server), 1)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        self.assertEqual(len(re.findall(r"^TLS TLSv1\.[23] \S+: the bytes below", trace, re.M)),
                         1, trace)
        self.assertTrue(trace_bytes(trace, ">>>").startswith(b"GET /echo HTTP/1.1\r\n"))
        self.assertIn('as text: "secret words"', trace)
        self.assertIn("it matches, the handshake is complete", trace)


class TraceFlags(unittest.TestCase):
    def run_epws(self, *args):
        return subprocess.run([binary_path(), *args], capture_output=True,
                              timeout=START_DEADLINE, stdin=subprocess.DEVNULL)

    def test_bad_values_are_refused_with_one_line_naming_the_flag(self):
        for flag, value, words in (("--trace-connection", "0", b"from 1"),
                                   ("--trace-connection", "two", b"connection id"),
                                   ("--trace-connection", "-3", b"connection id"),
                                   ("--trace-user", "", b"user name"),
                                   ("--trace-user", " alice", b"user name")):
            r = self.run_epws("--port", "0", flag, value)
            self.assertEqual(r.returncode, 2, (flag, value, r.stderr))
            self.assertIn(flag.encode(), r.stderr)
            self.assertIn(words, r.stderr, (flag, value))

    def test_the_config_file_takes_them_like_every_flag(self):
        with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as f:
            f.write("trace-connection = 7\ntrace-user = alice\n")
        try:
            r = self.run_epws("--config", f.name, "--check-config")
            self.assertEqual(r.returncode, 0, r.stderr)
            with open(f.name, "w") as g:
                g.write("trace-connection = none\n")
            r = self.run_epws("--config", f.name, "--check-config")
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertIn(b"trace-connection", r.stderr)
        finally:
            os.unlink(f.name)

    def test_help_explains_both(self):
        r = self.run_epws("--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn(b"--trace-connection ID", r.stdout)
        self.assertIn(b"--trace-user NAME", r.stdout)

    def test_without_the_flags_nothing_is_traced(self):
        with Server("--threads", "1") as server:
            echo_session(server, "/echo?username=alice", "untraced")
            stderr = stderr_of(server)
        self.assertNotIn("[conn ", stderr)
        self.assertNotIn("untraced", stderr)


if __name__ == "__main__":
    unittest.main()
