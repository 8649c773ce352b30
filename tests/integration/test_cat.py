"""tests/integration/test_cat.py: epws-cat (ws/cat/) driven through pipes and a pty against the real
server: echo, binary, ping, close codes, deflate on and off, a refused handshake, bad URLs, a
timeout, and --trace checked against the bytes a recording proxy saw on the socket. Then wss://
against the server's TLS port, with a test CA the test makes with the openssl command: verified
with --ca-file, refused without it (unknown CA) and for a name the certificate lacks, --insecure,
a TLS handshake with a plain port, and --trace inside TLS."""

import os
import pty
import re
import selectors
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import unittest

from harness import IO_DEADLINE, REPO, Server, binary_path
from test_tls import TlsServer

RUN_DEADLINE = 10.0 * (4.0 if os.environ.get("EPWS_BUILD") == "tsan" else 1.0)


def cat_path():
    """epws-cat beside the server under test; else the release one (make test builds epws-cat
    with the release and ASan builds, not with the TSan one, whose server is what it tests)."""
    beside = os.path.join(os.path.dirname(binary_path()), "epws-cat")
    if os.access(beside, os.X_OK):
        return beside
    return os.path.join(REPO, "build", "release", "epws-cat")


def run_cat(*args, stdin=b""):
    return subprocess.run([cat_path(), *args], input=stdin, capture_output=True,
                          timeout=RUN_DEADLINE)


class RecordingProxy:
    """Forwards one TCP connection to (host, port) and keeps every byte each way, as the
    sockets saw them."""

    def __init__(self, port):
        self.target = port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.up = bytearray()    # client to server
        self.down = bytearray()  # server to client
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            self.listener.settimeout(RUN_DEADLINE)
            client, _ = self.listener.accept()
            server = socket.create_connection(("127.0.0.1", self.target), timeout=RUN_DEADLINE)
            pairs = {client: (server, self.up), server: (client, self.down)}
            open_ends = 2
            with selectors.DefaultSelector() as sel:
                sel.register(client, selectors.EVENT_READ)
                sel.register(server, selectors.EVENT_READ)
                end = time.monotonic() + RUN_DEADLINE
                while open_ends and time.monotonic() < end:
                    for key, _ in sel.select(0.5):
                        data = key.fileobj.recv(65536)
                        other, log = pairs[key.fileobj]
                        if not data:
                            sel.unregister(key.fileobj)
                            open_ends -= 1
                            try:
                                other.shutdown(socket.SHUT_WR)
                            except OSError:
                                pass
                            continue
                        log += data
                        other.sendall(data)
            client.close()
            server.close()
        finally:
            self.listener.close()
            self.done.set()


def trace_bytes(trace, arrow):
    """Concatenates the hex of every "raw:" block under the heads and frames of one direction."""
    out = bytearray()
    current = None
    in_raw = False
    for line in trace.splitlines():
        if line.startswith((">>> ", "<<< ")):
            current = line[:3]
            in_raw = False
            continue
        stripped = line.strip()
        if stripped.startswith("raw:"):
            in_raw = True
            stripped = stripped[4:]
        elif not in_raw or not re.fullmatch(r"[0-9a-f]{2}( [0-9a-f]{2})*", stripped):
            in_raw = False
            continue
        if current == arrow:
            out += bytes.fromhex(stripped.split("...")[0])
    return bytes(out)


class CatAgainstServer(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server("--host", "127.0.0.1", "--threads", "1", "--deflate", "shared").start()
        cls.url = f"ws://127.0.0.1:{cls.server.port}/echo"

    @classmethod
    def tearDownClass(cls):
        cls.server.close()

    def test_lines_go_out_as_text_and_the_echo_comes_back_then_it_closes_with_1000(self):
        r = run_cat(self.url, stdin=b"hello\nworld, \xc3\xa9t\xc3\xa9\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "hello\nworld, été\n".encode())
        self.assertIn(b"closed with 1000", r.stderr)

    def test_binary_lines_come_back_as_binary(self):
        r = run_cat("--binary", self.url, stdin=b"hello\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, b"[binary, 5 bytes] 68 65 6c 6c 6f\n")

    def test_a_file_goes_out_as_one_message(self):
        path = os.path.join(REPO, "build", f"cat-file-{os.getpid()}.bin")
        with open(path, "wb") as f:
            f.write(b"line one\nline two")
        try:
            r = run_cat("--file", path, self.url)
        finally:
            os.unlink(path)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, b"line one\nline two\n")

    def test_ping_is_answered_by_a_pong_with_the_same_text(self):
        r = run_cat(self.url, stdin=b"/ping are you there\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b'pong "are you there"', r.stderr)

    def test_close_with_a_code_ends_with_that_code_as_exit_status(self):
        r = run_cat(self.url, stdin=b"/close 1001 going\n")
        self.assertEqual(r.returncode, 1, r.stderr)  # 1001 - 1000
        self.assertIn(b"closed with 1001", r.stderr)
        r = run_cat(self.url, stdin=b"/close 4000 bye\n")
        self.assertEqual(r.returncode, 30, r.stderr)
        self.assertIn(b"closed with 4000", r.stderr)

    def test_a_bad_close_code_and_an_unknown_command_are_refused_locally(self):
        r = run_cat(self.url, stdin=b"/close 1005\n/frobnicate\n//slash\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"/close wants a code", r.stderr)
        self.assertIn(b"unknown command /frobnicate", r.stderr)
        self.assertEqual(r.stdout, b"/slash\n")

    def test_deflate_is_offered_only_when_asked_and_compresses_when_agreed(self):
        line = b"abcd" * 100 + b"\n"
        on = run_cat("--deflate", "--trace", self.url, stdin=line)
        self.assertEqual(on.returncode, 0, on.stderr)
        self.assertEqual(on.stdout, line)
        self.assertIn(b"(permessage-deflate)", on.stderr)
        self.assertIn(b"RSV1 1: the message is compressed", on.stderr)
        self.assertIn(b"inflated:", on.stderr)
        off = run_cat("--no-deflate", "--trace", self.url, stdin=line)
        self.assertEqual(off.returncode, 0, off.stderr)
        self.assertEqual(off.stdout, line)
        self.assertNotIn(b"Sec-WebSocket-Extensions", off.stderr)
        self.assertNotIn(b"RSV1 1", off.stderr)

    def test_a_refused_upgrade_reports_the_status_and_reason_the_server_sent(self):
        r = run_cat(f"ws://127.0.0.1:{self.server.port}/no-such-endpoint")
        self.assertEqual(r.returncode, 67, r.stderr)
        self.assertIn(b"refused the upgrade: 404 Not Found", r.stderr)

    def test_trace_shows_exactly_the_bytes_the_socket_carried(self):
        proxy = RecordingProxy(self.server.port)
        r = run_cat("--trace", "--deflate", f"ws://127.0.0.1:{proxy.port}/echo",
                    stdin=b"hello\n" + b"x" * 300 + b"\n/ping p\n")
        self.assertTrue(proxy.done.wait(RUN_DEADLINE))
        self.assertEqual(r.returncode, 0, r.stderr)
        trace = r.stderr.decode()
        self.assertGreater(len(proxy.up), 0)
        self.assertEqual(trace_bytes(trace, ">>>"), bytes(proxy.up))
        self.assertEqual(trace_bytes(trace, "<<<"), bytes(proxy.down))
        self.assertIn("it matches, the handshake is complete", trace)
        self.assertIn("masking key", trace)
        self.assertIn('as text: "hello"', trace)

    def test_typing_in_a_terminal_sends_each_line(self):
        master, slave = pty.openpty()
        try:
            p = subprocess.Popen([cat_path(), self.url], stdin=slave, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE)
            os.close(slave)
            slave = -1
            os.write(master, b"typed line\n")
            got = bytearray()
            end = time.monotonic() + IO_DEADLINE
            with selectors.DefaultSelector() as sel:
                sel.register(p.stdout, selectors.EVENT_READ)
                while b"typed line\n" not in got and time.monotonic() < end:
                    if sel.select(0.2):
                        chunk = os.read(p.stdout.fileno(), 4096)
                        if not chunk:
                            break
                        got += chunk
            self.assertIn(b"typed line\n", got)
            os.write(master, b"/close 1000 done\n")
            out, err = p.communicate(timeout=RUN_DEADLINE)
            self.assertEqual(p.returncode, 0, err)
            self.assertIn(b"closed with 1000", err)
        finally:
            os.close(master)
            if slave >= 0:
                os.close(slave)


class CatErrors(unittest.TestCase):
    def test_bad_urls_are_refused_with_a_reason(self):
        for url, words in (("http://127.0.0.1/", b"ws:// or wss://"),
                           ("ws://127.0.0.1:0/", b"port"),
                           ("ws://127.0.0.1/#frag", b"#fragment"),
                           ("ws:///path", b"no host")):
            r = run_cat(url)
            self.assertEqual(r.returncode, 65, (url, r.stderr))
            self.assertIn(words, r.stderr, url)

    def test_a_connection_refused_says_so(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]  # bound, never listening: connect is refused
            r = run_cat(f"ws://127.0.0.1:{port}/")
        self.assertEqual(r.returncode, 66, r.stderr)

    def test_a_server_that_never_answers_times_out(self):
        with socket.create_server(("127.0.0.1", 0)) as s:
            r = run_cat("--timeout", "0.5", f"ws://127.0.0.1:{s.getsockname()[1]}/")
        self.assertEqual(r.returncode, 69, r.stderr)
        self.assertIn(b"timed out", r.stderr)


def openssl(*args):
    subprocess.run(["openssl", *args], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def make_test_certs(folder):
    """A test CA and a certificate it signed for DNS:localhost only (no IP address), made in
    folder with the openssl command: (ca.pem, host.pem, host.key)."""
    p = lambda name: os.path.join(folder, name)
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", p("ca.key"), "-out", p("ca.pem"), "-days", "2", "-subj", "/CN=epws cat CA",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign")
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", p("host.key"), "-out", p("host.csr"), "-subj", "/CN=localhost")
    with open(p("host.ext"), "w") as f:
        f.write("subjectAltName=DNS:localhost\n")
    openssl("x509", "-req", "-in", p("host.csr"), "-CA", p("ca.pem"), "-CAkey", p("ca.key"),
            "-set_serial", "77", "-days", "1", "-extfile", p("host.ext"), "-out", p("host.pem"))
    return p("ca.pem"), p("host.pem"), p("host.key")


class CatOverTls(unittest.TestCase):
    """wss:// against the server's TLS port. Its certificate names localhost only (no IP), so
    wss://127.0.0.1 is a name the certificate does not carry."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="epws-cat-tls-")
        cls.ca, cert, key = make_test_certs(cls.dir)
        cls.server = TlsServer("--threads", "1", certs=[(cert, key)]).start()
        cls.tls_port = cls.server.tls_port

    @classmethod
    def tearDownClass(cls):
        cls.server.close()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def url(self, host="localhost", path="/echo"):
        return f"wss://{host}:{self.tls_port}{path}"

    def test_verified_with_the_ca_file_the_echo_comes_back(self):
        r = run_cat("--ca-file", self.ca, self.url(), stdin=b"over tls\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, b"over tls\n")
        self.assertRegex(r.stderr, rb"connected to wss://localhost:\d+/echo over TLSv1\.[23] ")

    def test_without_the_ca_the_certificate_is_refused_as_an_unknown_ca(self):
        r = run_cat(self.url(), stdin=b"never sent\n")
        self.assertEqual(r.returncode, 72, r.stderr)
        self.assertIn(b"certificate verification failed: unknown CA", r.stderr)
        self.assertIn(b"--ca-file", r.stderr)
        self.assertEqual(r.stdout, b"")

    def test_a_name_the_certificate_lacks_is_a_name_mismatch(self):
        r = run_cat("--ca-file", self.ca, self.url("127.0.0.1"), stdin=b"never sent\n")
        self.assertEqual(r.returncode, 72, r.stderr)
        self.assertIn(b"certificate verification failed: name mismatch", r.stderr)
        self.assertIn(b"the name checked was 127.0.0.1", r.stderr)

    def test_insecure_checks_nothing_and_still_speaks_tls(self):
        r = run_cat("--insecure", self.url("127.0.0.1"), stdin=b"unchecked\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, b"unchecked\n")
        self.assertIn(b" over TLSv1.", r.stderr)

    def test_tls_to_a_port_that_does_not_speak_it_is_a_handshake_failure(self):
        r = run_cat("--insecure", f"wss://127.0.0.1:{self.server.port}/echo")
        self.assertEqual(r.returncode, 72, r.stderr)
        self.assertIn(b"TLS handshake failed", r.stderr)

    def test_a_refused_connection_is_a_connect_failure_as_for_ws(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]  # bound, never listening: connect is refused
            r = run_cat("--insecure", f"wss://127.0.0.1:{port}/")
        self.assertEqual(r.returncode, 66, r.stderr)
        self.assertIn(b"cannot connect", r.stderr)

    def test_tls_flags_need_a_wss_url(self):
        r = run_cat("--insecure", f"ws://127.0.0.1:{self.server.port}/echo")
        self.assertEqual(r.returncode, 64, r.stderr)
        self.assertIn(b"for wss:// URLs", r.stderr)
        r = run_cat("--ca-file", "/nonexistent/ca.pem", self.url())
        self.assertEqual(r.returncode, 64, r.stderr)
        self.assertIn(b"/nonexistent/ca.pem", r.stderr)

    def test_trace_over_wss_shows_the_websocket_bytes_and_the_tls_session_once(self):
        r = run_cat("--trace", "--ca-file", self.ca, self.url(), stdin=b"inside\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        trace = r.stderr.decode()
        self.assertEqual(len(re.findall(r"^TLS: TLSv1\.[23] \S+, certificate verified for "
                                        r"localhost", trace, re.M)), 1, trace)
        up = trace_bytes(trace, ">>>")
        self.assertTrue(up.startswith(b"GET /echo HTTP/1.1\r\n"), up[:40])
        self.assertIn("it matches, the handshake is complete", trace)
        self.assertIn('as text: "inside"', trace)
        self.assertLess(trace.index("TLS: "), trace.index("<<< server to client: HTTP response"))


if __name__ == "__main__":
    unittest.main()
