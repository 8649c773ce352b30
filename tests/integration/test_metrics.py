"""tests/integration/test_metrics.py: GET /metrics is valid Prometheus text (promtool check
metrics, from Debian's prometheus package, on a live scrape) and its values move as traffic
flows: connections by endpoint, handshakes refused by reason, messages and bytes, close codes,
rooms, the event-loop histogram, the process metrics; also on a loopback --metrics-port."""

import os
import re
import shutil
import socket
import subprocess
import unittest

from harness import (BINARY, CLOSE, IO_DEADLINE, TEXT, RawClient, Server, build_frame,
                     close_payload, poll_until)

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$')


def parse(text):
    """{(name, labels-string): float} for every sample line."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        if not m:
            raise AssertionError(f"not a sample line: {line!r}")
        out[(m.group(1), m.group(2) or "")] = float(m.group(3))
    return out


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def promtool():
    path = shutil.which("promtool")
    if path is None:
        # Not a skip: the check is part of the suite (tests/deps.sh installs prometheus).
        raise AssertionError("promtool not found: apt-get install -y prometheus")
    return path


class Metrics(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.metrics_port = free_port()
        cls.server = Server("--threads", "2", "--metrics-port", cls.metrics_port).start()

    @classmethod
    def tearDownClass(cls):
        cls.server.close()

    def scrape(self):
        status, headers, body = self.server.http_get("/metrics")
        self.assertEqual(status, 200)
        self.assertTrue(headers["content-type"].startswith("text/plain; version=0.0.4"))
        return body.decode()

    def test_a_live_scrape_passes_promtool_check_metrics(self):
        text = self.scrape()
        r = subprocess.run([promtool(), "check", "metrics"], input=text.encode(),
                           capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stdout.decode() + r.stderr.decode())
        # promtool prints lint findings (names, units, help) even when it exits 0.
        self.assertEqual((r.stdout + r.stderr).decode().strip(), "")

    def test_values_move_as_traffic_flows(self):
        before = parse(self.scrape())
        with self.server.ws("/echo") as c:
            def open_echo():
                return parse(self.scrape())[("epws_connections_open", '{endpoint="/echo"}')] >= 1
            poll_until(open_echo, IO_DEADLINE, "the /echo connection in epws_connections_open")
            for i in range(10):
                c.send_frame(TEXT, b"x" * 100)
                self.assertEqual(c.read_message(), (TEXT, b"x" * 100))
            c.send_frame(CLOSE, close_payload(1000))
            self.assertEqual(c.read_close()[0], 1000)
        bad = self.server.raw()
        try:
            status, _, _ = bad.handshake("/echo", key="not-base64-16")
            self.assertEqual(status, 400)
        finally:
            bad.close()

        closes = ("epws_close_frames_received_total", '{code="1000"}')

        def close_counted():
            m = parse(self.scrape())
            # The close frame is counted when it arrives, the connection when TCP closes after.
            gone = m[("epws_connections_open", '{endpoint="/echo"}')] == 0
            return m if gone and m.get(closes, 0) - before.get(closes, 0) >= 1 else None
        after = poll_until(close_counted, IO_DEADLINE, "the close frame and the closed connection")
        d = {k: after[k] - before.get(k, 0) for k in after}
        self.assertGreaterEqual(d[("epws_messages_received_total", "")], 10)
        self.assertGreaterEqual(d[("epws_messages_sent_total", "")], 10)
        self.assertGreaterEqual(d[("epws_payload_received_bytes_total", "")], 1000)
        self.assertGreaterEqual(d[("epws_payload_sent_bytes_total", "")], 1000)
        # Each masked client frame: 2 header bytes + 4 mask bytes + 100.
        self.assertGreaterEqual(d[("epws_wire_received_bytes_total", "")], 10 * 106)
        self.assertGreaterEqual(d[("epws_wire_sent_bytes_total", "")], 10 * 102)
        self.assertGreaterEqual(d[("epws_handshakes_accepted_total", "")], 1)
        self.assertGreaterEqual(d[("epws_handshakes_refused_total", '{reason="bad_key"}')], 1)
        self.assertGreaterEqual(d[("epws_close_frames_sent_total", '{code="1000"}')], 1)
        self.assertEqual(after[("epws_connections_open", '{endpoint="/echo"}')], 0)
        busy = [k for k in d if k[0] == "epws_loop_busy_seconds_count"]
        self.assertEqual(len(busy), 2, "one histogram per loop")
        self.assertGreater(sum(d[k] for k in busy), 0)
        self.assertGreater(after[("process_resident_memory_bytes", "")], 1 << 20)
        self.assertGreater(after[("process_open_fds", "")], 3)
        self.assertGreater(after[("process_start_time_seconds", "")], 1.6e9)

    def test_the_output_budget_in_use_grows_for_a_reader_that_stops_and_returns_to_zero(self):
        def queued():
            m = parse(self.scrape())
            return sum(v for (name, _), v in m.items() if name == "epws_output_budget_used_bytes")
        c = RawClient(self.server.host, self.server.port, rcvbuf=4096)
        try:
            status, _, _ = c.handshake("/echo")
            self.assertEqual(status, 101)
            frame = build_frame(BINARY, b"q" * 65536)
            c.sock.setblocking(False)
            sent = 0
            for _ in range(64):  # 4 MiB of echoes we never read
                try:
                    sent += c.sock.send(frame)
                except BlockingIOError:
                    break
            poll_until(lambda: queued() > 65536, IO_DEADLINE, "queued output in the metrics")
        finally:
            c.close()
        poll_until(lambda: queued() == 0, IO_DEADLINE, "the queued output released at close")

    def test_rooms_and_members_are_counted(self):
        with self.server.ws("/chat?username=metrics_user") as c:
            c.read_message()  # welcome
            c.send_frame(TEXT, b'{"type":"join","room":"metrics-room","id":1}')

            def joined():
                m = parse(self.scrape())
                return m[("epws_chat_rooms", "")] >= 1 and m[("epws_chat_room_members", "")] >= 1
            poll_until(joined, IO_DEADLINE, "the room and its member in the metrics")

    def test_the_metrics_port_serves_the_same_document_on_loopback(self):
        import http.client
        conn = http.client.HTTPConnection("127.0.0.1", self.metrics_port, timeout=IO_DEADLINE)
        try:
            conn.request("GET", "/metrics")
            resp = conn.getresponse()
            self.assertEqual(resp.status, 200)
            m = parse(resp.read().decode())
            self.assertIn(("epws_handshakes_accepted_total", ""), m)
            # Only /metrics there: the chat and the static files stay on the public port.
            conn.request("GET", "/healthz")
            self.assertEqual(conn.getresponse().status, 404)
        finally:
            conn.close()


if __name__ == "__main__":
    unittest.main()
