"""tests/integration/test_handshake.py: the opening handshake, good and bad, over raw sockets.

RFC 6455 §4.2.1 (what the server requires) and §4.2.2 (what it answers)."""

import asyncio
import time
import unittest

import websockets

from harness import (IO_DEADLINE, TEXT, Closed, RawClient, Server, ServerTestCase, build_frame,
                     make_key, poll_until)


class BadHandshakes(ServerTestCase):
    FLAGS = ("--max-header-bytes", "1024", "--max-headers", "20", "--handshake-timeout", "0.5",
             "--subprotocols", "chat,superchat")

    def test_valid_upgrade_gets_101_with_the_right_accept(self):
        with self.server.raw() as c:
            status, headers, _ = c.handshake()  # checks Sec-WebSocket-Accept itself
            self.assertEqual(status, 101)
            self.assertIn("upgrade", headers.get("connection", "").lower())

    def test_version_8_gets_426_naming_version_13(self):
        with self.server.raw() as c:
            status, headers, _ = c.handshake(version="8")
            self.assertEqual(status, 426)
            self.assertEqual(headers.get("sec-websocket-version"), "13")

    def test_missing_key_gets_400_with_a_one_line_reason(self):
        with self.server.raw() as c:
            status, _, body = c.handshake(key=False)
            self.assertEqual(status, 400)
            text = body.decode().strip()
            self.assertTrue(text, "400 without a reason in the body")
            self.assertNotIn("\n", text, f"reason is more than one line: {text!r}")

    def test_key_of_15_bytes_gets_400(self):
        with self.server.raw() as c:
            status, _, _ = c.handshake(key=make_key(b"x" * 15))
            self.assertEqual(status, 400)

    def test_key_of_17_bytes_gets_400(self):
        with self.server.raw() as c:
            status, _, _ = c.handshake(key=make_key(b"x" * 17))
            self.assertEqual(status, 400)

    def test_key_that_is_not_base64_gets_400(self):
        with self.server.raw() as c:
            status, _, _ = c.handshake(key="!!!!not-base64!!!!!!!!==")
            self.assertEqual(status, 400)

    def test_post_upgrade_gets_405(self):
        with self.server.raw() as c:
            status, _, _ = c.handshake(method="POST")
            self.assertEqual(status, 405)

    def test_upgrade_on_unknown_path_gets_404(self):
        with self.server.raw() as c:
            status, _, _ = c.handshake(path="/nowhere")
            self.assertEqual(status, 404)

    def test_headers_over_max_header_bytes_get_431(self):
        with self.server.raw() as c:
            status, _, _ = c.handshake(extra=["X-Filler: " + "a" * 2000])
            self.assertEqual(status, 431)

    def test_headers_just_under_max_header_bytes_are_accepted(self):
        with self.server.raw() as c:
            status, _, _ = c.handshake(extra=["X-Filler: " + "a" * 600])
            self.assertEqual(status, 101)

    def test_more_headers_than_max_headers_get_431(self):
        with self.server.raw() as c:
            status, _, _ = c.handshake(extra=[f"X-H{i}: v" for i in range(30)])
            self.assertEqual(status, 431)

    # The handshake itself sends 5 headers: Host, Upgrade, Connection, Sec-WebSocket-Key and
    # Sec-WebSocket-Version. --max-headers is 20 here.
    def test_exactly_max_headers_headers_are_accepted(self):
        with self.server.raw() as c:
            status, _, _ = c.handshake(extra=[f"X-H{i}: v" for i in range(15)])
            self.assertEqual(status, 101)

    def test_one_header_over_max_headers_gets_431(self):
        with self.server.raw() as c:
            status, _, _ = c.handshake(extra=[f"X-H{i}: v" for i in range(16)])
            self.assertEqual(status, 431)

    def test_request_sent_byte_by_byte_is_accepted(self):
        # A request split across many reads must be reassembled (the straddling-read bug).
        with self.server.raw() as c:
            key = make_key()
            req = (f"GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode()
            for i in range(len(req)):
                c.send(req[i:i + 1])
            status, headers, _ = c.read_response()
            self.assertEqual(status, 101)
            c.send_frame(TEXT, b"after a slow handshake")
            self.assertEqual(c.read_message(), (TEXT, b"after a slow handshake"))

    def test_frame_in_the_same_write_as_the_request_is_echoed(self):
        with self.server.raw() as c:
            status, _, _ = c.handshake(trailing=build_frame(TEXT, b"early bird"))
            self.assertEqual(status, 101)
            self.assertEqual(c.read_message(), (TEXT, b"early bird"))

    def test_subprotocol_offered_by_client_is_selected(self):
        with self.server.raw() as c:
            status, headers, _ = c.handshake(extra=["Sec-WebSocket-Protocol: superchat"])
            self.assertEqual(status, 101)
            self.assertEqual(headers.get("sec-websocket-protocol"), "superchat")

    def test_subprotocol_follows_server_preference_order(self):
        with self.server.raw() as c:
            status, headers, _ = c.handshake(extra=["Sec-WebSocket-Protocol: superchat, chat"])
            self.assertEqual(status, 101)
            self.assertEqual(headers.get("sec-websocket-protocol"), "chat")

    def test_unknown_subprotocol_is_not_selected(self):
        with self.server.raw() as c:
            status, headers, _ = c.handshake(extra=["Sec-WebSocket-Protocol: mqtt"])
            # RFC 6455 §4.2.2: the server may accept without a subprotocol, never with a foreign one.
            if status == 101:
                self.assertNotIn("sec-websocket-protocol", headers)

    def test_python_websockets_negotiates_the_subprotocol(self):
        async def main():
            async with websockets.connect(self.server.url(), subprotocols=["superchat"],
                                          open_timeout=5) as ws:
                self.assertEqual(ws.subprotocol, "superchat")
                await ws.send("hi")
                self.assertEqual(await asyncio.wait_for(ws.recv(), 5), "hi")

        asyncio.run(main())

    def test_stalled_half_request_is_dropped_after_handshake_timeout(self):
        with self.server.raw() as stalled:
            stalled.send(b"GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n")
            start = time.monotonic()
            # Meanwhile a normal client connects and echoes: one slow client blocks nobody.
            with self.server.ws() as good:
                good.send_frame(TEXT, b"still serving")
                self.assertEqual(good.read_message(), (TEXT, b"still serving"))
            self.assertTrue(stalled.is_closed(4.0),
                            "stalled client still connected 4 s after a 0.5 s handshake timeout")
            self.assertGreater(time.monotonic() - start, 0.3, "dropped before the timeout")

    def test_silent_client_is_dropped_after_handshake_timeout(self):
        with self.server.raw() as silent:
            self.assertTrue(silent.is_closed(4.0),
                            "client that sent nothing still connected 4 s after a 0.5 s timeout")


class DefaultLimits(ServerTestCase):
    """The documented defaults: 8192 header bytes, 100 headers."""

    def test_9000_bytes_of_headers_get_431(self):
        with self.server.raw() as c:
            status, _, _ = c.handshake(extra=["X-Filler: " + "a" * 9000])
            self.assertEqual(status, 431)

    def test_7000_bytes_of_headers_are_accepted(self):
        with self.server.raw() as c:
            status, _, _ = c.handshake(extra=["X-Filler: " + "a" * 7000])
            self.assertEqual(status, 101)

    def test_100_headers_are_accepted(self):
        with self.server.raw() as c:
            status, _, _ = c.handshake(extra=[f"X-H{i}: v" for i in range(95)])
            self.assertEqual(status, 101)

    def test_101_headers_get_431(self):
        with self.server.raw() as c:
            status, _, _ = c.handshake(extra=[f"X-H{i}: v" for i in range(96)])
            self.assertEqual(status, 431)


class AllowedOrigins(ServerTestCase):
    FLAGS = ("--allowed-origins", "http://good.example,http://other.example")

    def test_listed_origin_is_accepted(self):
        with self.server.raw() as c:
            status, _, _ = c.handshake(extra=["Origin: http://good.example"])
            self.assertEqual(status, 101)

    def test_second_listed_origin_is_accepted(self):
        with self.server.raw() as c:
            status, _, _ = c.handshake(extra=["Origin: http://other.example"])
            self.assertEqual(status, 101)

    def test_unlisted_origin_gets_403(self):
        with self.server.raw() as c:
            status, _, _ = c.handshake(extra=["Origin: http://evil.example"])
            self.assertEqual(status, 403)

    def test_origin_that_only_starts_like_a_listed_one_gets_403(self):
        with self.server.raw() as c:
            status, _, _ = c.handshake(extra=["Origin: http://good.example.evil.example"])
            self.assertEqual(status, 403)


class MaxConnections(unittest.TestCase):
    def test_connection_over_the_cap_is_refused_and_a_freed_slot_is_reused(self):
        with Server("--max-connections", "2") as s:
            a, b = s.ws(), s.ws()
            try:
                def third_refused():
                    try:
                        with RawClient(s.host, s.port) as c:
                            status, _, _ = c.handshake()
                            return status != 101
                    except (Closed, ConnectionError):
                        return True
                self.assertTrue(third_refused(), "a third WebSocket was accepted over a cap of 2")
                a.send_frame(TEXT, b"still here")
                self.assertEqual(a.read_message(), (TEXT, b"still here"))
            finally:
                a.close()

            def slot_free():
                try:
                    with RawClient(s.host, s.port) as c:
                        status, _, _ = c.handshake()
                        return status == 101
                except (Closed, ConnectionError):
                    return False
            poll_until(slot_free, IO_DEADLINE, "a new WebSocket once one of two closed")
            b.close()


if __name__ == "__main__":
    unittest.main()
