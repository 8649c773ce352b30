"""tests/integration/test_config.py: --config FILE (key = value lines), flags over the file,
errors with the file's name and line, --check-config's exit status, and SIGHUP: what changed is
said and applied by every loop, a bad file is refused and the old settings kept."""

import os
import signal
import subprocess
import tempfile
import unittest

from harness import CLOSE, IO_DEADLINE, TEXT, Closed, Server, binary_path, poll_until


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def echo_ok(server, size):
    """True if a message of size bytes is echoed, False if the server closes with 1009."""
    with server.ws() as c:
        c.send_frame(TEXT, b"m" * size)
        fin, rsv, op, payload = c.read_frame()
        if op == CLOSE:
            if int.from_bytes(payload[:2], "big") != 1009:
                raise AssertionError(f"close {payload!r}, expected 1009")
            return False
        return payload == b"m" * size


class ConfigFile(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.path = os.path.join(self.dir.name, "epws.conf")

    def tearDown(self):
        self.dir.cleanup()

    def run_epws(self, *args):
        return subprocess.run([binary_path(), *args], capture_output=True, timeout=30)

    def test_check_config_accepts_a_good_file_and_exits_0(self):
        write(self.path, '# a comment\n\nport = 0\nhost = "127.0.0.1"\n'
                         'max_message_bytes = 1m   # underscores work too\nrate = 2.5\n')
        r = self.run_epws("--config", self.path, "--check-config")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"configuration ok", r.stdout)

    def test_unknown_keys_and_bad_values_name_the_file_and_line_and_exit_1(self):
        cases = [("port = 0\nno-such-flag = 3\n", ":2: ", b"unknown key"),
                 ("port = 0\n\nrate = fast\n", ":3: ", b"rate"),
                 ("port = 0\nport = 1\n", ":2: ", b"twice"),
                 ("just words\n", ":1: ", b"key = value"),
                 ('host = "127.0.0.1\n', ":1: ", b"quote"),
                 ("config = other.conf\n", ":1: ", b"command line only")]
        for text, where, what in cases:
            write(self.path, text)
            r = self.run_epws("--config", self.path, "--check-config")
            self.assertEqual(r.returncode, 1, text)
            self.assertIn((self.path + where).encode(), r.stderr, text)
            self.assertIn(what, r.stderr, text)
        r = self.run_epws("--config", os.path.join(self.dir.name, "missing.conf"), "--check-config")
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"cannot read", r.stderr)

    def test_flags_override_the_file(self):
        write(self.path, "max-message-bytes = 100\n")
        with Server("--config", self.path, "--max-message-bytes", "1000") as s:
            self.assertTrue(echo_ok(s, 500))
        with Server("--config", self.path) as s:
            self.assertFalse(echo_ok(s, 500))

    def test_sighup_applies_what_changed_on_every_loop_and_refuses_a_bad_file(self):
        write(self.path, "max-message-bytes = 1000\nrate = 5\n")
        with Server("--config", self.path, "--threads", "2") as s:
            self.assertTrue(echo_ok(s, 500))
            write(self.path, "max-message-bytes = 100\nrate = 5\nhistory = 10\n")
            s.proc.send_signal(signal.SIGHUP)
            poll_until(lambda: "reload changed=max-message-bytes" in s.stderr_text(), IO_DEADLINE,
                       "the reload line")
            self.assertIn("reload_needs_restart settings=history", s.stderr_text())
            # Every new connection, whichever loop takes it, now has the new limit: SO_REUSEPORT
            # spreads them, so eight in a row reach both loops with near certainty.
            poll_until(lambda: not echo_ok(s, 500), IO_DEADLINE, "the new limit applied")
            for _ in range(8):
                self.assertFalse(echo_ok(s, 500))

            write(self.path, "max-message-bytes = 1000\nrate = nope\n")
            s.proc.send_signal(signal.SIGHUP)
            poll_until(lambda: "reload_refused" in s.stderr_text(), IO_DEADLINE, "the refusal")
            self.assertIn(":2: rate", s.stderr_text())
            for _ in range(8):
                self.assertFalse(echo_ok(s, 500), "a refused file changed nothing")
            self.assertTrue(s.alive())


if __name__ == "__main__":
    unittest.main()
