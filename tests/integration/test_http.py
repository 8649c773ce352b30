"""tests/integration/test_http.py: plain HTTP on the WebSocket port: /echo?message=, /healthz, /stats."""

import asyncio
import json
import unittest

import websockets

from harness import ServerTestCase, poll_until


class PlainHttp(ServerTestCase):
    def test_echo_query_returns_the_message(self):
        status, _, body = self.server.http_get("/echo?message=hello")
        self.assertEqual((status, body), (200, b"hello"))

    def test_echo_query_is_percent_decoded(self):
        status, _, body = self.server.http_get("/echo?message=hi%20there")
        self.assertEqual((status, body), (200, b"hi there"))

    def test_echo_query_decodes_utf8_percent_escapes(self):
        status, _, body = self.server.http_get("/echo?message=%E4%BD%A0%E5%A5%BD")
        self.assertEqual((status, body), (200, "你好".encode()))

    def test_healthz_is_200(self):
        status, _, _ = self.server.http_get("/healthz")
        self.assertEqual(status, 200)

    def test_unknown_path_is_404(self):
        status, _, _ = self.server.http_get("/no-such-page")
        self.assertEqual(status, 404)

    def test_two_requests_on_one_keep_alive_connection(self):
        # http.client reuses the connection when the server allows keep-alive; either way both
        # requests must be answered correctly.
        import http.client
        conn = http.client.HTTPConnection(self.server.host, self.server.port, timeout=5)
        try:
            for msg in ("one", "two"):
                conn.request("GET", f"/echo?message={msg}")
                resp = conn.getresponse()
                self.assertEqual((resp.status, resp.read()), (200, msg.encode()))
        finally:
            conn.close()


class Stats(ServerTestCase):
    def test_stats_is_json_with_the_documented_counters(self):
        status, headers, body = self.server.http_get("/stats")
        self.assertEqual(status, 200)
        self.assertTrue(headers.get("content-type", "").startswith("application/json"),
                        f"content-type {headers.get('content-type')!r}")
        stats = json.loads(body)
        for key in ("connections", "closed_output_overflow", "rejected_handshakes"):
            self.assertIn(key, stats)
            self.assertIsInstance(stats[key], int, key)

    def test_connections_counts_open_websockets(self):
        base = self.server.stats()["connections"]

        async def main():
            clients = [await websockets.connect(self.server.url(), open_timeout=5)
                       for _ in range(3)]
            try:
                await asyncio.to_thread(
                    poll_until, lambda: self.server.stats()["connections"] == base + 3, 5,
                    f"/stats connections == {base + 3} with 3 clients open")
            finally:
                for c in clients:
                    await c.close()
            await asyncio.to_thread(
                poll_until, lambda: self.server.stats()["connections"] == base, 5,
                f"/stats connections back to {base} after the clients closed")

        asyncio.run(main())

    def test_rejected_handshakes_counts_a_bad_upgrade(self):
        before = self.server.stats()["rejected_handshakes"]
        with self.server.raw() as c:
            status, _, _ = c.handshake(version="8")
            self.assertEqual(status, 426)
        poll_until(lambda: self.server.stats()["rejected_handshakes"] >= before + 1, 5,
                   "rejected_handshakes to grow after a refused upgrade")


if __name__ == "__main__":
    unittest.main()
