"""tests/integration/test_log.py: the log: a start line with the effective configuration, one
line per refused handshake with its reason and peer, --log-format json (one object a line),
--log-level, and the rate limit that keeps a flood of refusals from flooding the log."""

import json
import unittest

from harness import IO_DEADLINE, Server, poll_until


def refuse(server, n):
    for _ in range(n):
        c = server.raw()
        try:
            status, _, _ = c.handshake("/echo", key="bad")
            assert status == 400, status
        finally:
            c.close()


class Log(unittest.TestCase):
    def test_json_lines_say_start_refusals_and_stop(self):
        s = Server("--log-format", "json").start()
        try:
            refuse(s, 1)
            poll_until(lambda: '"event":"refused"' in s.stderr_text(), IO_DEADLINE, "the refusal")
        finally:
            self.assertEqual(s.stop(), 0)
            lines = [json.loads(line) for line in s.stderr_text(100000).splitlines()
                     if line.startswith("{")]
            s.close()
        events = [l["event"] for l in lines]
        self.assertEqual(events[0], "start")
        self.assertEqual(lines[0]["max-message-bytes"], "16777216")
        self.assertEqual(lines[0]["log-format"], "json")
        refused = next(l for l in lines if l["event"] == "refused")
        self.assertEqual(refused["reason"], "bad_key")
        self.assertEqual(refused["status"], "400")
        self.assertTrue(refused["peer"].startswith("127.0.0.1:"), refused)
        self.assertIn("stopping", events)
        self.assertEqual(events[-1], "stopped")

    def test_warn_level_hides_refusals(self):
        with Server("--log-level", "warn") as s:
            refuse(s, 3)
            self.assertEqual(s.http_get("/healthz")[0], 200)
            self.assertNotIn(" refused ", s.stderr_text())
            self.assertNotIn(" start ", s.stderr_text())

    def test_a_flood_of_refusals_is_rate_limited_and_the_dropped_lines_counted(self):
        with Server("--threads", "1") as s:
            refuse(s, 400)
            # A token refills every 50 ms: the next refusal to be logged says how many were not.
            def counted():
                refuse(s, 1)
                return "suppressed=" in s.stderr_text(1 << 20)
            poll_until(counted, IO_DEADLINE, "a line with the count of dropped lines")
            text = s.stderr_text(1 << 20)
            lines = [l for l in text.splitlines() if " refused " in l]
            # 100 at once, then 20 a second: 400 refusals in well under 10 s log far fewer.
            self.assertLess(len(lines), 300, f"{len(lines)} lines for {len(lines)}+ refusals")
            self.assertGreaterEqual(len(lines), 100)
            self.assertTrue(any("suppressed=" in l for l in lines), "no count of dropped lines")


if __name__ == "__main__":
    unittest.main()
