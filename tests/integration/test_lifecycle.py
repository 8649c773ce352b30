"""tests/integration/test_lifecycle.py: slow readers, idle and shutdown: the server stays healthy
and says goodbye properly."""

import asyncio
import errno
import os
import signal
import socket
import time
import unittest

import websockets

from harness import (BINARY, CLOSE, TEXT, Closed, RawClient, Server, build_frame, close_payload,
                     poll_until)

MARGIN = 3.0  # seconds allowed on top of a configured timeout


def echo_still_works(server):
    with server.ws() as c:
        c.send_frame(TEXT, b"still healthy")
        return c.read_message() == (TEXT, b"still healthy")


class SlowReader(unittest.TestCase):
    def test_client_that_never_reads_is_cut_off_and_the_server_stays_healthy(self):
        with Server("--max-output-bytes", "1048576") as s:
            # A tiny receive window so the echoes pile up in the server, not in our kernel.
            c = RawClient(s.host, s.port, rcvbuf=4096)
            try:
                status, _, _ = c.handshake()
                self.assertEqual(status, 101)
                frame = build_frame(BINARY, os.urandom(65536))
                c.sock.setblocking(False)
                sent, closed, stalled_since = 0, False, None
                end = time.monotonic() + 20.0
                while time.monotonic() < end:
                    try:
                        n = c.sock.send(frame)
                        sent += n
                        stalled_since = None
                        if n < len(frame):
                            c.sock.setblocking(True)
                            c.sock.settimeout(max(0.1, end - time.monotonic()))
                            c.sock.sendall(frame[n:])  # keep frames whole
                            c.sock.setblocking(False)
                            sent += len(frame) - n
                    except BlockingIOError:
                        # Our send buffer is full: the server is not reading us (backpressure).
                        stalled_since = stalled_since or time.monotonic()
                        if time.monotonic() - stalled_since > 2.0:
                            break
                        time.sleep(0.01)  # pacing a retry, not waiting on an event
                    except (socket.timeout, TimeoutError):
                        stalled_since = stalled_since or time.monotonic()
                        break
                    except OSError as e:
                        if e.errno in (errno.EPIPE, errno.ECONNRESET):
                            closed = True
                            break
                        raise
                self.assertTrue(closed or stalled_since is not None,
                                f"sent {sent} bytes in 20 s and the server neither closed the "
                                f"connection nor stopped reading")
                stats = s.stats()  # /stats still answers
                if closed:
                    poll_until(lambda: s.stats()["closed_output_overflow"] >= 1, 5,
                               "closed_output_overflow >= 1 after closing a slow reader")
                self.assertTrue(echo_still_works(s), "a fresh client no longer gets echoes")
                self.assertIn("closed_output_overflow", stats)
            finally:
                c.close()
            self.assertTrue(s.alive())

    def test_one_echo_over_the_cap_to_a_non_reader_closes_it_and_counts(self):
        # One 8 MiB message is read whole (nothing is queued while it arrives), but its echo cannot
        # leave: our receive window is tiny and the server's kernel buffer holds at most 4 MiB
        # (tcp_wmem max), so at least 4 MiB must queue against a 1 MiB --max-output-bytes.
        # Backpressure (not reading) cannot help here: the message has already been read.
        with Server("--max-output-bytes", "1048576") as s:
            c = RawClient(s.host, s.port, rcvbuf=4096)
            try:
                self.assertEqual(c.handshake()[0], 101)
                c.sock.settimeout(10)
                try:
                    c.send_frame(BINARY, os.urandom(8 << 20))
                except OSError:
                    pass  # closed under us: fine, checked below
                poll_until(lambda: s.stats()["closed_output_overflow"] >= 1, 10,
                           "closed_output_overflow >= 1 while an 8 MiB echo waits for a client "
                           "that does not read, with --max-output-bytes 1048576")
                self.assertTrue(c.is_closed(10), "overflowing client still connected")
                self.assertTrue(echo_still_works(s))
            finally:
                c.close()


class Shutdown(unittest.TestCase):
    def test_sigterm_sends_1001_to_every_client_and_exits_0(self):
        s = Server("--close-timeout", "2").start()
        try:
            raw = s.ws()

            async def main():
                ws = await websockets.connect(s.url(), open_timeout=5, ping_interval=None)
                await ws.send("hi")
                self.assertEqual(await asyncio.wait_for(ws.recv(), 5), "hi")
                start = time.monotonic()
                s.proc.send_signal(signal.SIGTERM)
                code, _ = await asyncio.to_thread(raw.read_close)
                self.assertEqual(code, 1001, "raw client close code on SIGTERM")
                await asyncio.to_thread(raw.reply_close_and_expect_eof, 1001)
                await asyncio.wait_for(ws.wait_closed(), 2 + MARGIN)
                self.assertEqual(ws.close_code, 1001, "websockets client close code on SIGTERM")
                status = await asyncio.to_thread(s.wait_exit, 2 + MARGIN)
                self.assertEqual(status, 0, "exit status after SIGTERM")
                self.assertLess(time.monotonic() - start, 2 + MARGIN)

            asyncio.run(main())
            raw.close()
        finally:
            s.close()

    def test_sigterm_with_a_client_that_never_answers_exits_within_close_timeout(self):
        s = Server("--close-timeout", "1").start()
        try:
            mute = s.ws()  # reads nothing, answers nothing
            start = time.monotonic()
            s.proc.send_signal(signal.SIGTERM)
            status = s.wait_exit(1 + MARGIN)
            self.assertIsNotNone(status, f"still running {1 + MARGIN} s after SIGTERM with "
                                         f"--close-timeout 1")
            self.assertEqual(status, 0)
            self.assertLess(time.monotonic() - start, 1 + MARGIN)
            mute.close()
        finally:
            s.close()

    def test_sigterm_with_no_clients_exits_0_promptly(self):
        s = Server().start()
        try:
            s.proc.send_signal(signal.SIGTERM)
            self.assertEqual(s.wait_exit(MARGIN), 0)
        finally:
            s.close()


class IdleTimeout(unittest.TestCase):
    def test_idle_websocket_is_closed_after_idle_timeout(self):
        with Server("--idle-timeout", "1") as s:
            with s.ws() as c:
                start = time.monotonic()
                got_close = None
                try:
                    while True:
                        fin, rsv, op, payload = c.read_frame(1 + MARGIN)
                        if op == CLOSE:
                            got_close = payload
                            break
                        # A server may ping an idle peer first; this client stays silent.
                except Closed:
                    pass
                except TimeoutError:
                    self.fail(f"idle connection still open {1 + MARGIN} s after --idle-timeout 1")
                self.assertGreater(time.monotonic() - start, 0.5, "closed before the timeout")
                if got_close is not None:
                    # Answer like a well-behaved client; the server must then close TCP.
                    c.reply_close_and_expect_eof(None, MARGIN)

    def test_idle_timeout_0_keeps_connections(self):
        with Server("--idle-timeout", "0", "--handshake-timeout", "0.5") as s:
            with s.ws() as c:
                # Well past the handshake timeout, the upgraded connection must still echo.
                self.assertFalse(c.is_closed(1.5), "connection closed with --idle-timeout 0")
                c.send_frame(TEXT, b"still open")
                self.assertEqual(c.read_message(), (TEXT, b"still open"))


if __name__ == "__main__":
    unittest.main()
