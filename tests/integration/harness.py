"""tests/integration/harness.py: starts the real epws binary and talks raw bytes to it.

Layer: tests/. Used by every python integration test. Nothing here sleeps to wait: every wait polls
a condition (a readable socket, a process exit, a counter) against a deadline.
"""

import base64
import ctypes
import hashlib
import http.client
import json
import os
import re
import resource
import selectors
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
import unittest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 §1.3

# Opcodes, RFC 6455 §5.2.
CONT, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA

# The build under test (tests/run_all.sh sets it): sanitizer builds run several times slower
# (ThreadSanitizer 5-15x), so deadlines stretch, and resident memory includes the sanitizer's
# shadow memory (and ASan's quarantine of freed blocks), so absolute memory bounds hold only
# for the release and debug builds.
BUILD = os.environ.get("EPWS_BUILD", "release")
TIME_SCALE = {"tsan": 4.0}.get(BUILD, 1.0)
MEMORY_BOUNDS = BUILD in ("release", "debug")

START_DEADLINE = 10.0 * TIME_SCALE  # seconds for the binary to print its "listening" line
IO_DEADLINE = 5.0 * TIME_SCALE      # seconds for any single reply we expect from the server


def _die_with_parent():
    """In the child before exec: SIGKILL it if the test process dies, so no server outlives us."""
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def binary_path():
    path = os.environ.get("EPWS_BIN") or os.path.join("build", "release", "epws")
    return path if os.path.isabs(path) else os.path.join(REPO, path)


def poll_until(cond, deadline_s, what, interval=0.02):
    """Calls cond() until it returns a truthy value, or fails naming `what` after deadline_s."""
    end = time.monotonic() + deadline_s
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {deadline_s}s waiting for {what}")
        # A short pause between polls of a condition (not a wait for an event we could select on).
        time.sleep(interval)


class Server:
    """One epws process on an ephemeral port. Use start(), then stop() (or as a context manager)."""

    LISTEN_RE = re.compile(rb"^epws: listening on (\S+):(\d+)\r?\n$")

    def __init__(self, *flags, nofile=None):
        """flags: command-line flags after --port 0. nofile: the process's RLIMIT_NOFILE (soft
        and hard), to run the server short of descriptors."""
        self.flags = [str(f) for f in flags]
        self.nofile = nofile
        self.proc = None
        self.host = None
        self.port = None
        self.stdout_line = b""
        self._stderr = None

    def start(self):
        path = binary_path()
        if not os.access(path, os.X_OK):
            raise RuntimeError(f"epws binary not found or not executable: {path} (run `make`)")
        # stderr (the log) goes to a file so a chatty server can never block on a full pipe.
        self._stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [path, "--port", "0", *self.flags],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self._stderr,
            preexec_fn=self._preexec)
        line = self._read_first_line(START_DEADLINE)
        m = self.LISTEN_RE.match(line)
        if not m:
            self.stop()
            self.proc.stdout.close()
            raise RuntimeError(f"epws did not print 'epws: listening on HOST:PORT' within "
                               f"{START_DEADLINE}s; got {line!r}; stderr: {self.stderr_text()!r}")
        self.stdout_line = line
        self.host = m.group(1).decode()
        self.port = int(m.group(2))
        return self

    def _preexec(self):
        _die_with_parent()
        if self.nofile is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (self.nofile, self.nofile))

    def _read_first_line(self, deadline_s):
        fd = self.proc.stdout.fileno()
        os.set_blocking(fd, False)
        buf = b""
        end = time.monotonic() + deadline_s
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while b"\n" not in buf:
                left = end - time.monotonic()
                if left <= 0 or not sel.select(left):
                    break
                chunk = os.read(fd, 4096)
                if not chunk:
                    break
                buf += chunk
        return buf.split(b"\n", 1)[0] + b"\n" if b"\n" in buf else buf

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stderr_text(self, limit=4000):
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        data = self._stderr.read()
        return data[-limit:].decode(errors="replace")

    def wait_exit(self, deadline_s):
        """Returns the exit status, or None if the process is still running after deadline_s."""
        try:
            return self.proc.wait(timeout=deadline_s)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, deadline_s=8.0):
        """SIGTERM, wait up to deadline_s, then SIGKILL. Returns the exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            if self.wait_exit(deadline_s) is None:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def rest_of_stdout(self):
        """What the process wrote to stdout after its first line (call after it exited)."""
        data = self.proc.stdout.read()
        return data or b""

    def close(self):
        """stop(), then release the pipes and the log file."""
        self.stop()
        if self.proc is not None and self.proc.stdout:
            self.proc.stdout.close()
        if self._stderr:
            self._stderr.close()
            self._stderr = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()

    # -- addresses and small clients ----------------------------------------------------------

    def url(self, path="/echo"):
        return f"ws://{self.host}:{self.port}{path}"

    def http_get(self, path, headers=None, method="GET"):
        """A plain HTTP request with the standard library client: (status, headers, body)."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=IO_DEADLINE)
        try:
            conn.request(method, path, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
        finally:
            conn.close()

    def stats(self):
        status, headers, body = self.http_get("/stats")
        if status != 200:
            raise AssertionError(f"GET /stats -> {status}")
        return json.loads(body)

    def raw(self):
        return RawClient(self.host, self.port)

    def ws(self, path="/echo", **kw):
        """A raw client that has completed a valid upgrade (asserted) on `path`."""
        c = self.raw()
        status, headers, _ = c.handshake(path, **kw)
        if status != 101:
            c.close()
            raise AssertionError(f"upgrade on {path} -> {status}, expected 101")
        return c


def make_key(raw16=None):
    return base64.b64encode(raw16 if raw16 is not None else os.urandom(16)).decode()


def accept_for(key):
    return base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()


def build_frame(opcode, payload=b"", fin=True, rsv=0, mask=True, mask_key=None, length=None):
    """Builds one frame. rsv is a 3-bit value (RSV1 = 4, RSV2 = 2, RSV3 = 1).

    length overrides the announced payload length (to send a partial frame)."""
    payload = bytes(payload)
    n = len(payload) if length is None else length
    head = bytearray([(0x80 if fin else 0) | ((rsv & 7) << 4) | (opcode & 0xF)])
    mbit = 0x80 if mask else 0
    if n < 126:
        head.append(mbit | n)
    elif n < 65536:
        head.append(mbit | 126)
        head += struct.pack("!H", n)
    else:
        head.append(mbit | 127)
        head += struct.pack("!Q", n)
    if not mask:
        return bytes(head) + payload
    key = mask_key if mask_key is not None else os.urandom(4)
    head += key
    return bytes(head) + mask_bytes(payload, key)


def mask_bytes(payload, key):
    if not payload:
        return b""
    # XOR with the key repeated to the payload's length, done on big integers for speed.
    rep = (key * (len(payload) // 4 + 1))[:len(payload)]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(rep, "big")).to_bytes(len(payload), "big")


def close_payload(code=None, reason=b""):
    return b"" if code is None else struct.pack("!H", code) + reason


class Closed(Exception):
    """The server closed the TCP connection (EOF or reset) while we expected bytes."""


class RawClient:
    """A TCP client that speaks hand-built HTTP and WebSocket frames."""

    def __init__(self, host, port, rcvbuf=None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.settimeout(IO_DEADLINE)
        self.sock.connect((host, port))
        self.host, self.port = host, port
        self.buf = b""

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, data):
        self.sock.sendall(data)

    def send_frame(self, opcode, payload=b"", **kw):
        self.send(build_frame(opcode, payload, **kw))

    def _fill(self, deadline):
        """Reads more bytes into self.buf before the monotonic deadline; raises Closed on EOF."""
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("deadline passed waiting for bytes from the server")
        self.sock.settimeout(left)
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            raise TimeoutError("deadline passed waiting for bytes from the server") from None
        except (ConnectionResetError, BrokenPipeError) as e:
            raise Closed(str(e)) from None
        if not chunk:
            raise Closed("EOF")
        self.buf += chunk

    def _take(self, n, deadline):
        while len(self.buf) < n:
            self._fill(deadline)
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    # -- HTTP -------------------------------------------------------------------------------

    def request(self, data, deadline_s=IO_DEADLINE):
        """Sends raw request bytes; returns (status, headers (lower-case names), body)."""
        self.send(data)
        return self.read_response(deadline_s)

    def read_response(self, deadline_s=IO_DEADLINE):
        deadline = time.monotonic() + deadline_s
        while b"\r\n\r\n" not in self.buf:
            self._fill(deadline)
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        m = re.match(r"HTTP/1\.[01] (\d{3})", lines[0])
        if not m:
            raise AssertionError(f"bad status line {lines[0]!r}")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            value = value.strip()
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        status = int(m.group(1))
        body = b""
        # RFC 9112 §6.3: 1xx, 204 and 304 responses end at their head, whatever they announce.
        if status >= 200 and status not in (204, 304):
            if "content-length" in headers:
                body = self._take(int(headers["content-length"]), deadline)
            else:
                # No length: the body runs to EOF.
                try:
                    while True:
                        self._fill(deadline)
                except Closed:
                    pass
                body, self.buf = self.buf, b""
        return status, headers, body

    def handshake(self, path="/echo", key=None, extra=None, version="13", method="GET",
                  trailing=b""):
        """Sends an upgrade request (plus `trailing` bytes in the same write) and reads the reply.

        For a 101 it also checks Sec-WebSocket-Accept."""
        key = key if key is not None else make_key()
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}",
                 "Upgrade: websocket", "Connection: Upgrade"]
        if key is not False:
            lines.append(f"Sec-WebSocket-Key: {key}")
        if version is not None:
            lines.append(f"Sec-WebSocket-Version: {version}")
        lines += list(extra or [])
        status, headers, body = self.request(("\r\n".join(lines) + "\r\n\r\n").encode() + trailing)
        if status == 101:
            got = headers.get("sec-websocket-accept")
            if got != accept_for(key):
                raise AssertionError(f"Sec-WebSocket-Accept {got!r}, expected {accept_for(key)!r}")
            if headers.get("upgrade", "").lower() != "websocket":
                raise AssertionError(f"101 without 'Upgrade: websocket': {headers}")
        return status, headers, body

    # -- frames -----------------------------------------------------------------------------

    def read_frame(self, deadline_s=IO_DEADLINE):
        """Reads one frame: (fin, rsv, opcode, payload). Server frames must be unmasked."""
        deadline = time.monotonic() + deadline_s
        b0, b1 = self._take(2, deadline)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", self._take(2, deadline))[0]
        elif n == 127:
            n = struct.unpack("!Q", self._take(8, deadline))[0]
        if b1 & 0x80:
            raise AssertionError("server sent a masked frame (RFC 6455 §5.1 forbids it)")
        payload = self._take(n, deadline)
        return bool(b0 & 0x80), (b0 >> 4) & 7, b0 & 0xF, payload

    def read_message(self, deadline_s=IO_DEADLINE):
        """Reads one data message (joining fragments): (opcode, payload). Fails on control frames."""
        deadline = time.monotonic() + deadline_s
        fin, rsv, op, data = self.read_frame(max(0.0, deadline - time.monotonic()))
        if op not in (TEXT, BINARY):
            raise AssertionError(f"expected a data frame, got opcode {op} payload {data[:64]!r}")
        while not fin:
            fin, rsv, cop, more = self.read_frame(max(0.0, deadline - time.monotonic()))
            if cop != CONT:
                raise AssertionError(f"expected a continuation frame, got opcode {cop}")
            data += more
        return op, data

    def read_close(self, deadline_s=IO_DEADLINE):
        """Reads frames until a close frame; returns (code or None, reason bytes).

        Data frames before the close are an error: every caller expects the close next."""
        fin, rsv, op, payload = self.read_frame(deadline_s)
        if op != CLOSE:
            raise AssertionError(f"expected a close frame, got opcode {op} payload {payload[:64]!r}")
        if len(payload) == 0:
            return None, b""
        if len(payload) == 1:
            raise AssertionError("server sent a close frame with a 1-byte payload")
        return struct.unpack("!H", payload[:2])[0], payload[2:]

    def reply_close_and_expect_eof(self, code=None, deadline_s=IO_DEADLINE):
        """Answers the server's close like a well-behaved client, then asserts the server sends
        nothing more and closes TCP before the deadline (RFC 6455 §7.1.1: the server closes)."""
        try:
            self.send_frame(CLOSE, close_payload(code))
        except OSError:
            pass  # the server may already have closed; that is allowed
        self.expect_eof(deadline_s)

    def expect_eof(self, deadline_s=IO_DEADLINE):
        deadline = time.monotonic() + deadline_s
        try:
            while True:
                self._fill(deadline)
                if self.buf:
                    raise AssertionError(f"server sent bytes after its close frame: {self.buf[:64]!r}")
        except Closed:
            return
        except TimeoutError:
            raise AssertionError(f"server did not close TCP within {deadline_s}s") from None

    def is_closed(self, deadline_s):
        """True if the connection reads EOF/reset (discarding data) before the deadline."""
        deadline = time.monotonic() + deadline_s
        try:
            while True:
                self._fill(deadline)
                self.buf = b""
        except Closed:
            return True
        except TimeoutError:
            return False


class ServerTestCase(unittest.TestCase):
    """One server per test class, started with FLAGS; each test checks the server survived."""

    FLAGS = ()
    server = None

    @classmethod
    def setUpClass(cls):
        cls.server = Server(*cls.FLAGS).start()

    @classmethod
    def tearDownClass(cls):
        if cls.server:
            cls.server.close()

    def tearDown(self):
        if self.server and not self.server.alive():
            self.fail(f"epws exited (status {self.server.proc.returncode}) during this test; "
                      f"stderr tail: {self.server.stderr_text()!r}")

    def assertClose(self, client, code, msg=""):
        """Reads the server's close frame, asserts its code, answers it and expects TCP EOF."""
        try:
            got, reason = client.read_close()
        except Closed as e:
            self.fail(f"{msg}: server closed TCP ({e}) without a close frame; expected code {code}")
        self.assertEqual(got, code, f"{msg}: close code (reason {reason!r})")
        client.reply_close_and_expect_eof(got if got not in (None, 1005) else None)


# -- Redis, for the tests of several nodes (--redis, docs/redis.md) -----------------------------

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def free_loopback_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """One redis-server on a loopback port, in its own folder; persistent: append-only file with
    an fsync per write, so whatever Redis acknowledged survives a SIGKILL."""

    def __init__(self, persistent=False):
        self.dir = tempfile.mkdtemp(prefix="epws-redis-")
        self.port = free_loopback_port()
        self.persistent = persistent
        self.proc = None

    def start(self):
        if not os.access(REDIS_SERVER, os.X_OK):
            raise RuntimeError(f"redis-server not found ({REDIS_SERVER}): apt-get install redis-server "
                               "(tests/deps.sh installs it)")
        args = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir,
                "--save", "", "--protected-mode", "no", "--logfile", os.path.join(self.dir, "log")]
        args += ["--appendonly", "yes", "--appendfsync", "always"] if self.persistent else \
                ["--appendonly", "no"]
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, preexec_fn=_die_with_parent)
        poll_until(lambda: self.command("PING") == b"+PONG", IO_DEADLINE, "redis-server to answer")
        return self

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}"

    def command(self, *args):
        """One command: a simple reply's line (b"+PONG"), a bulk string's value, or None if Redis
        does not answer."""
        req = f"*{len(args)}\r\n".encode()
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            req += b"$%d\r\n%s\r\n" % (len(a), a)
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(req)
                data = b""
                while True:
                    head, sep, rest = data.partition(b"\r\n")
                    if sep and not head.startswith(b"$"):
                        return head
                    if sep and head.startswith(b"$") and (int(head[1:]) < 0 or len(rest) >= int(head[1:]) + 2):
                        return rest[:int(head[1:])] if int(head[1:]) >= 0 else None
                    chunk = s.recv(65536)
                    if not chunk:
                        return None
                    data += chunk
        except OSError:
            return None

    def client_ids(self, pid):
        """The ids of the Redis connections epws process pid named (CLIENT SETNAME epws:PID:...)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
            s.sendall(b"*2\r\n$6\r\nCLIENT\r\n$4\r\nLIST\r\n")
            data = b""
            while not data.endswith(b"\r\n") or data.count(b"\r\n") < 2:
                data += s.recv(65536)
        ids = []
        for line in data.decode().splitlines()[1:]:
            fields = dict(f.split("=", 1) for f in line.split() if "=" in f)
            if fields.get("name", "").startswith(f"epws:{pid}:"):
                ids.append(fields["id"])
        return ids

    def signal(self, signo):
        self.proc.send_signal(signo)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)

    def close(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
