"""tests/integration/test_hardening_io.py: the second round of hardening (issue 13), against the real
binary: pipelined requests answered in order with bounded memory, a broadcast queued by reference
for readers that do not read, the process-wide output budget, deadlines after a stall, broadcasts
in dedicated deflate mode, a second server on the same port, timeouts that count progress, and a
FIFO in the web root.

Each case failed on the server before the fix (the figures are in docs/security.md); figures a
person may want are printed with a "[measure]" prefix."""

import os
import signal
import socket
import subprocess
import tempfile
import time
import unittest
import zlib

from harness import (BINARY, IO_DEADLINE, MEMORY_BOUNDS, PING, PONG, TEXT, TIME_SCALE, Closed,
                     RawClient, Server, ServerTestCase, binary_path, build_frame, poll_until)
from test_attacks import Healthy, rss_kib

MIB = 1 << 20


def peak_kib(pid):
    """The server's peak resident memory so far (VmHWM): what an attack cost at its worst."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError("no VmHWM")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read_http_responses(sock, count, deadline_s):
    """Reads `count` HTTP/1.1 responses with Content-Length; returns their bodies in order."""
    deadline = time.monotonic() + deadline_s
    buf = b""
    bodies = []
    sock.settimeout(0.5)
    while len(bodies) < count and time.monotonic() < deadline:
        end = buf.find(b"\r\n\r\n")
        if end >= 0:
            head = buf[:end].decode()
            length = 0
            for line in head.split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            if len(buf) >= end + 4 + length:
                bodies.append(buf[end + 4:end + 4 + length])
                buf = buf[end + 4 + length:]
                continue
        try:
            data = sock.recv(1 << 16)
        except socket.timeout:
            continue
        if not data:
            break
        buf += data
    return bodies


# -- HTTP pipelining -----------------------------------------------------------------------------

def settled(server, name, interval=0.3, deadline_s=6.0):
    """Waits until /stats counter `name` stops moving (the server has done what it will do)."""
    last = server.stats()[name]
    end = time.monotonic() + deadline_s * TIME_SCALE
    while time.monotonic() < end:
        time.sleep(interval)  # the interval is the measurement: no change over it
        now = server.stats()[name]
        if now == last:
            return now
        last = now
    return last


class Pipelining(Healthy, ServerTestCase):
    @classmethod
    def setUpClass(cls):
        # A 16 KiB page: a few thousand answers pass the 32 MiB a peer may have queued.
        cls.root = tempfile.TemporaryDirectory(prefix="epws-pipeline-")
        with open(os.path.join(cls.root.name, "index.html"), "wb") as f:
            f.write(b"<!doctype html><title>p</title>" + b"x" * 16384)
        cls.FLAGS = ("--threads", "1", "--max-connections-per-ip", "0", "--web-root", cls.root.name)
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.root.cleanup()

    def test_thousands_of_pipelined_requests_read_late_are_all_answered_in_order(self):
        # Every other request is for the page (16 KiB each): together far past the 32 MiB a peer
        # may have queued, which is where answers used to go missing.
        n = 6300
        page = self.server.http_get("/")[2]
        reqs = []
        for i in range(n):
            reqs.append(f"GET /echo?message=m{i} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
                        if i % 2 == 0 else b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        with self.server.raw() as c:
            c.sock.sendall(b"".join(reqs))
            # Not reading for a while: the answers pile up against the output mark.
            poll_until(lambda: self.server.stats()["http_requests"] > 0, IO_DEADLINE, "a reply")
            time.sleep(0.5)
            bodies = read_http_responses(c.sock, n, 60 * TIME_SCALE)
        self.assertEqual(len(bodies), n, "every pipelined request gets its answer")
        wrong = [i for i, b in enumerate(bodies) if b != (f"m{i}".encode() if i % 2 == 0 else page)]
        self.assertEqual(wrong[:5], [], "answers in request order (RFC 9112 §9.3.2)")
        self.assertHealthy()

    def test_pipelining_clients_that_never_read_hold_bounded_memory(self):
        peak0 = peak_kib(self.server.proc.pid)
        batch = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" * 10000  # 270 KiB: 160 MiB of answers
        clients = []
        for _ in range(10):
            c = RawClient(self.server.host, self.server.port, rcvbuf=4096)
            c.sock.setblocking(False)
            clients.append(c)
        sent = 0
        end = time.monotonic() + 3 * TIME_SCALE
        while time.monotonic() < end:  # as fast as the server takes them, for 3 s
            for c in clients:
                try:
                    sent += c.sock.send(batch)
                except BlockingIOError:
                    pass
            time.sleep(0.01)
        settled(self.server, "http_requests")
        grew = peak_kib(self.server.proc.pid) - peak0
        if MEMORY_BOUNDS:
            self.assertLess(grew, 64 * 1024, "10 pipelining clients that never read: peak RSS")
        print(f"[measure] pipelining: {sent / MIB:.1f} MiB of requests from 10 clients that "
              f"never read: server peak RSS +{grew / 1024:.1f} MiB")
        for c in clients:
            c.close()
        self.assertHealthy()


# -- a broadcast queued by reference ---------------------------------------------------------------

class BroadcastByReference(Healthy, ServerTestCase):
    FLAGS = ("--threads", "2", "--max-connections-per-ip", "0")

    def run_attack(self, extra, payload, opcode=TEXT):
        subs = []
        for _ in range(40):
            c = RawClient(self.server.host, self.server.port, rcvbuf=4096)
            status, headers, _ = c.handshake("/broadcast", extra=extra)
            self.assertEqual(status, 101)
            subs.append(c)
        rss0 = peak_kib(self.server.proc.pid)
        with self.server.ws("/broadcast", extra=extra) as pub:
            pub.sock.settimeout(30 * TIME_SCALE)
            for i in range(3):
                pub.send_frame(opcode, payload)
                # The publisher reads its own copy (every loop has delivered it) before the next:
                # it is a reader too, and reading its input pauses while it does not read.
                fin, rsv, op, data = pub.read_frame(30 * TIME_SCALE)
        grew = peak_kib(self.server.proc.pid) - rss0  # the peak: the worst the attack cost
        published = 3 * len(payload) // 1024
        for c in subs:
            c.close()
        return grew, published

    def test_forty_readers_that_never_read_cost_one_copy_of_what_was_published(self):
        grew, published = self.run_attack(None, os.urandom(8 * MIB), 0x2)
        print(f"[measure] broadcast by reference: 40 non-reading subscribers, 3 x 8 MiB "
              f"published: server RSS +{grew / 1024:.1f} MiB ({grew / published:.2f}x published)")
        if MEMORY_BOUNDS:
            self.assertLess(grew, published + 16 * 1024, "about once what was published")
        self.assertHealthy()

    def test_a_compressed_broadcast_is_compressed_once_and_queued_by_reference_too(self):
        text = (b"the quick brown fox jumps over the lazy dog " * 200000)[:8 * MIB]
        before = self.server.stats()["deflate_messages_deflated"]
        grew, published = self.run_attack(["Sec-WebSocket-Extensions: permessage-deflate"], text)
        deflated = self.server.stats()["deflate_messages_deflated"] - before
        print(f"[measure] compressed broadcast: 40 non-reading subscribers, 3 x 8 MiB: server "
              f"RSS +{grew / 1024:.1f} MiB, {deflated} compressions")
        self.assertLessEqual(deflated, 3 * 2, "once per message per loop, not per subscriber")
        if MEMORY_BOUNDS:
            self.assertLess(grew, published + 16 * 1024)
        self.assertHealthy()


# -- the process-wide output budget ---------------------------------------------------------------

class OutputBudget(Healthy, ServerTestCase):
    FLAGS = ("--threads", "1", "--max-total-output-bytes", "16m", "--max-connections-per-ip", "0")

    def test_echo_readers_that_never_read_are_cut_largest_first_once_the_budget_is_spent(self):
        before = self.stat("closed_over_budget")
        rss0 = rss_kib(self.server.proc.pid)
        clients = []
        for _ in range(12):
            c = RawClient(self.server.host, self.server.port, rcvbuf=4096)
            self.assertEqual(c.handshake("/echo")[0], 101)
            clients.append(c)
        payload = os.urandom(8 * MIB)
        # Each echo of 8 MiB waits as a copy (less what the kernel's buffers take) for a reader
        # that never reads; the budget is 16 MiB.
        for c in clients:
            try:
                c.send_frame(0x2, payload)
            except OSError:
                pass  # already cut
        poll_until(lambda: self.stat("closed_over_budget") - before >= 1, 10 * TIME_SCALE,
                   "a connection cut for the output budget")
        used = self.server.stats()["output_budget_used_bytes"]
        grew = self.assertGrewLess(rss0, 64 * 1024, "12 x 8 MiB echoes nobody reads, 16 MiB budget")
        print(f"[measure] output budget 16 MiB: {self.stat('closed_over_budget') - before} of 12 "
              f"cut, {used / MIB:.1f} MiB held after, RSS +{grew / 1024:.1f} MiB")
        self.assertLessEqual(used, 16 * MIB)
        for c in clients:
            c.close()
        self.assertHealthy()


# -- deadlines after a stall -------------------------------------------------------------------

class StallThenDeadlines(Healthy, ServerTestCase):
    FLAGS = ("--threads", "1", "--handshake-timeout", "2", "--max-connections-per-ip", "0")

    def test_clients_that_arrived_during_a_stall_get_their_full_handshake_timeout(self):
        pid = self.server.proc.pid
        os.kill(pid, signal.SIGSTOP)
        try:
            socks = []
            for _ in range(20):
                s = socket.create_connection((self.server.host, self.server.port), timeout=5)
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                socks.append(s)
            time.sleep(3)  # the stall itself is the test: longer than the handshake timeout
        finally:
            os.kill(pid, signal.SIGCONT)
        answered = 0
        for s in socks:
            s.settimeout(IO_DEADLINE)
            try:
                if s.recv(4096).startswith(b"HTTP/1.1 200"):
                    answered += 1
            except OSError:
                pass
            s.close()
        self.assertEqual(answered, 20, "complete requests queued during a stall are answered")
        self.assertHealthy()


# -- broadcasts in dedicated deflate mode ------------------------------------------------------------

class DedicatedBroadcast(Healthy, ServerTestCase):
    FLAGS = ("--threads", "1", "--deflate", "dedicated", "--max-connections-per-ip", "0")

    def test_one_publish_to_thirty_compressing_subscribers_does_not_stall_the_loop(self):
        extra = ["Sec-WebSocket-Extensions: permessage-deflate"]  # context takeover both ways
        subs = [self.server.ws("/broadcast", extra=extra) for _ in range(30)]
        text = (b"lorem ipsum dolor sit amet, consectetur adipiscing elit " * 80000)[:4 * MIB]
        with self.server.ws("/echo") as echo:
            with self.server.ws("/broadcast", extra=extra) as pub:
                pub.send_frame(TEXT, text)
                time.sleep(0.05)
                t0 = time.monotonic()
                echo.send_frame(TEXT, b"are you there?")
                self.assertEqual(echo.read_message(), (TEXT, b"are you there?"))
                waited = time.monotonic() - t0
        print(f"[measure] dedicated-mode broadcast of 4 MiB to 30: an unrelated echo waited "
              f"{waited * 1000:.0f} ms")
        self.assertLess(waited, 1.0 * TIME_SCALE, "the loop was busy compressing per subscriber")
        for s in subs:
            fin, rsv, op, data = s.read_frame(10 * TIME_SCALE)
            self.assertEqual(rsv & 4, 0, "sent uncompressed to a context-takeover subscriber")
            s.close()
        self.assertHealthy()


# -- one server per port -----------------------------------------------------------------------------

class OneServerPerPort(unittest.TestCase):
    def test_a_second_server_on_the_same_port_fails_at_start_and_the_first_keeps_all_traffic(self):
        port = free_port()
        first = subprocess.Popen([binary_path(), "--port", str(port), "--threads", "2"],
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        try:
            self.assertIn(b"listening", first.stdout.readline())
            second = subprocess.run([binary_path(), "--port", str(port), "--threads", "2"],
                                    capture_output=True, timeout=10 * TIME_SCALE)
            self.assertEqual(second.returncode, 1)
            err = second.stderr.decode().strip().splitlines()
            self.assertEqual(len(err), 1, err)
            self.assertIn("Address already in use", err[0])
            for _ in range(40):
                with RawClient("127.0.0.1", port) as c:
                    self.assertEqual(c.request(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")[0], 200)
        finally:
            first.send_signal(signal.SIGTERM)
            first.wait(10)
            first.stdout.close()


# -- SIGHUP --------------------------------------------------------------------------------------

class Sighup(Healthy, ServerTestCase):
    FLAGS = ("--threads", "2")

    def test_sighup_is_logged_and_every_connection_stays(self):
        with self.server.ws("/echo") as c:
            self.server.proc.send_signal(signal.SIGHUP)
            poll_until(lambda: "SIGHUP" in self.server.stderr_text(), IO_DEADLINE, "the SIGHUP logged")
            self.assertTrue(self.server.alive(), "SIGHUP's default action ends the process")
            c.send_frame(TEXT, b"still here")
            self.assertEqual(c.read_message(), (TEXT, b"still here"))
        self.assertHealthy()


# -- timeouts that count progress ------------------------------------------------------------------

class ProgressTimeouts(Healthy, ServerTestCase):
    @classmethod
    def setUpClass(cls):
        cls.root = tempfile.TemporaryDirectory(prefix="epws-progress-")
        with open(os.path.join(cls.root.name, "big.bin"), "wb") as f:
            f.write(os.urandom(3 * MIB))
        os.mkfifo(os.path.join(cls.root.name, "pipe.txt"))
        cls.FLAGS = ("--threads", "1", "--handshake-timeout", "1", "--close-timeout", "1",
                     "--idle-timeout", "1", "--send-timeout", "2", "--web-root", cls.root.name)
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.root.cleanup()

    def test_a_large_file_read_slowly_arrives_whole_past_the_handshake_and_close_timeouts(self):
        for connection in ("keep-alive", "close"):
            with RawClient(self.server.host, self.server.port, rcvbuf=8192) as c:
                c.sock.sendall(f"GET /big.bin HTTP/1.1\r\nHost: x\r\nConnection: {connection}"
                               f"\r\n\r\n".encode())
                got = 0
                start = time.monotonic()
                c.sock.settimeout(IO_DEADLINE)
                while got < 3 * MIB + 100:
                    data = c.sock.recv(16384)
                    if not data:
                        break
                    got += len(data)
                    time.sleep(0.02)  # about 800 kB/s: several seconds, past both timeouts
                took = time.monotonic() - start
            self.assertGreater(got, 3 * MIB, f"{connection}: the whole file, read over {took:.1f} s")
            self.assertGreater(took, 1.5)
        self.assertHealthy()

    def test_an_echo_read_slowly_with_pings_is_not_closed_as_idle(self):
        with RawClient(self.server.host, self.server.port, rcvbuf=8192) as c:
            self.assertEqual(c.handshake("/echo")[0], 101)
            c.send_frame(0x2, os.urandom(4 * MIB))
            got = 0
            start = time.monotonic()
            last_ping = start
            c.sock.settimeout(IO_DEADLINE)
            while got < 4 * MIB:
                if time.monotonic() - last_ping > 0.5:
                    c.send_frame(PING, b"hb")
                    last_ping = time.monotonic()
                data = c.sock.recv(16384)
                if not data:
                    break
                got += len(data)
                time.sleep(0.01)
            self.assertGreaterEqual(got, 4 * MIB, "the echo arrived whole, the connection open")
            self.assertGreater(time.monotonic() - start, 1.5, "longer than the idle timeout")

    def test_a_reader_that_takes_nothing_is_cut_after_the_send_timeout(self):
        before = self.stat("send_timeouts")
        c = RawClient(self.server.host, self.server.port, rcvbuf=4096)
        c.sock.sendall(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        poll_until(lambda: self.stat("send_timeouts") > before, 10 * TIME_SCALE,
                   "the stalled reader cut")
        c.close()
        self.assertHealthy()

    def test_a_fifo_in_the_web_root_is_refused_at_once(self):
        t0 = time.monotonic()
        status, _, _ = self.server.http_get("/pipe.txt")
        self.assertEqual(status, 404)
        self.assertLess(time.monotonic() - t0, IO_DEADLINE)
        self.assertHealthy()


if __name__ == "__main__":
    unittest.main()
