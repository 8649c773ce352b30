"""tests/integration/test_cli.py: the command line: --help, bad flags, the listening line, --threads."""

import asyncio
import os
import re
import subprocess
import unittest

import websockets

from harness import Server, binary_path

RUN_DEADLINE = 5.0

# Every flag of the contract, with its documented default (None: no default to check). A size
# may be shown as bytes or with a binary suffix (16m = 16 MiB), which the flags also accept.
FLAGS = {
    "--host": ["127.0.0.1"],
    "--port": ["8080"],
    "--threads": [str(os.cpu_count())],
    "--max-header-bytes": ["8192", "8k"],
    "--max-headers": ["100"],
    "--max-message-bytes": ["16777216", "16m", "16M", "16MiB"],
    "--max-fragments": ["1048576", "1m", "1M", "1MiB"],
    "--max-output-bytes": ["33554432", "32m", "32M", "32MiB"],
    "--handshake-timeout": ["10"],
    "--idle-timeout": ["120"],
    "--close-timeout": ["5"],
    "--max-connections": None,
    "--max-connections-per-ip": ["1024"],
    "--rate-close-after": ["100"],
    "--subprotocols": None,
    "--allowed-origins": None,
}


def run(*args):
    return subprocess.run([binary_path(), *args], stdin=subprocess.DEVNULL, capture_output=True,
                          timeout=RUN_DEADLINE)


class HelpAndFlags(unittest.TestCase):
    def test_help_lists_every_flag_with_its_default_and_exits_0(self):
        r = run("--help")
        self.assertEqual(r.returncode, 0, f"stderr: {r.stderr!r}")
        text = (r.stdout + r.stderr).decode()
        for flag, defaults in FLAGS.items():
            lines = [line for line in text.splitlines() if flag in line.split()
                     or any(w.startswith(flag + "=") for w in line.split())]
            self.assertTrue(lines, f"--help does not mention {flag}:\n{text}")
            if defaults is not None:
                shown = lines[0] + " " + self._next_line(text, lines[0])
                self.assertTrue(any(re.search(rf"(?<![\w.]){re.escape(d)}(?![\w.])", shown)
                                    for d in defaults),
                                f"--help line for {flag} lacks its default {defaults[0]}: {shown!r}")

    @staticmethod
    def _next_line(text, line):
        # A default may be printed on the line after the flag (two-line layouts).
        all_lines = text.splitlines()
        i = all_lines.index(line)
        return all_lines[i + 1] if i + 1 < len(all_lines) else ""

    def assertUsageError(self, args, names):
        r = run(*args)
        self.assertEqual(r.returncode, 2, f"{args}: exit status; stderr {r.stderr!r}")
        lines = [line for line in r.stderr.decode(errors="replace").splitlines() if line.strip()]
        self.assertEqual(len(lines), 1, f"{args}: expected one line on stderr, got {lines!r}")
        self.assertIn(names, lines[0], f"{args}: the error line does not name {names!r}")
        self.assertNotIn(b"listening", r.stdout, f"{args}: server started anyway")

    def test_unknown_flag_exits_2_naming_it(self):
        self.assertUsageError(["--frobnicate"], "--frobnicate")

    def test_non_numeric_port_exits_2_naming_the_flag(self):
        self.assertUsageError(["--port", "abc"], "--port")

    def test_out_of_range_port_exits_2(self):
        self.assertUsageError(["--port", "70000"], "--port")

    def test_missing_value_exits_2(self):
        self.assertUsageError(["--max-message-bytes"], "--max-message-bytes")

    def test_bad_timeout_value_exits_2(self):
        self.assertUsageError(["--handshake-timeout", "soon"], "--handshake-timeout")

    def test_negative_size_exits_2(self):
        self.assertUsageError(["--max-header-bytes", "-5"], "--max-header-bytes")

    def test_zero_threads_exits_2(self):
        self.assertUsageError(["--threads", "0"], "--threads")

    def test_a_host_that_is_not_a_numeric_address_exits_2_like_every_bad_flag(self):
        for host in ("localhost", "256.1.1.1", "::1::", "example.invalid"):
            self.assertUsageError(["--port", "0", "--host", host], "--host")

    def test_a_missing_or_non_directory_web_root_exits_2_naming_it(self):
        self.assertUsageError(["--port", "0", "--web-root", "/nonexistent/epws-web"],
                              "--web-root '/nonexistent/epws-web': cannot open")
        self.assertUsageError(["--port", "0", "--web-root", "/dev/null"], "is not a directory")

    def test_a_size_with_a_bad_suffix_says_what_is_accepted(self):
        self.assertUsageError(["--max-message-bytes", "1x"], "--max-message-bytes '1x'")
        err = run("--max-message-bytes", "1x").stderr.decode()
        self.assertIn("whole number with an optional suffix k, m or g", err)

    def test_a_short_secret_exits_2_from_the_flag_and_from_the_environment(self):
        self.assertUsageError(["--port", "0", "--jwt-secret", "s3cret"], "at least 16 bytes")
        r = subprocess.run([binary_path(), "--port", "0"], stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=RUN_DEADLINE, env={**os.environ, "EPWS_JWT_SECRET": "s3cret"})
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn(b"EPWS_JWT_SECRET: the secret must be at least 16 bytes", r.stderr)
        self.assertNotIn(b"listening", r.stdout)

    def test_help_names_the_http_endpoints_and_the_exit_status_of_bad_usage(self):
        text = run("--help").stdout.decode()
        for endpoint in ("/chat", "/echo", "/broadcast", "/healthz", "/stats", "/inspect",
                         "/api/whoami", "/api/connections"):
            self.assertIn(endpoint, text)
        self.assertIn("2 for bad usage", text)


class TokenCommand(unittest.TestCase):
    def test_a_secret_the_server_refuses_mints_no_token(self):
        r = run("token", "--secret", "s3cret", "--user", "alice")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertEqual(r.stdout, b"")
        self.assertIn(b"at least 16 bytes", r.stderr)

    def test_a_token_from_an_accepted_secret_is_accepted_by_the_server(self):
        secret = "0123456789abcdef"
        token = run("token", "--secret", secret, "--user", "alice").stdout.decode().strip()
        with Server("--jwt-secret", secret) as s:
            status, _, body = s.http_get(f"/api/whoami?username=alice&token={token}")
            self.assertEqual(status, 200, body)


class ListeningLine(unittest.TestCase):
    def test_prints_exactly_one_listening_line_with_the_real_port(self):
        with Server("--host", "127.0.0.1") as s:
            self.assertEqual(s.host, "127.0.0.1")
            self.assertGreater(s.port, 0)
            self.assertEqual(s.stdout_line, f"epws: listening on 127.0.0.1:{s.port}\n".encode())
            status, _, _ = s.http_get("/healthz")
            self.assertEqual(status, 200)
            code = s.stop()
            self.assertEqual(s.rest_of_stdout(), b"", "stdout carries more than the listening line")
            self.assertEqual(code, 0)


class Threads(unittest.TestCase):
    def test_two_threads_serve_many_concurrent_clients(self):
        with Server("--threads", "2") as s:
            async def client(i):
                async with websockets.connect(s.url(), open_timeout=5, close_timeout=5) as ws:
                    for j in range(20):
                        msg = f"client {i} message {j}"
                        await ws.send(msg)
                        self.assertEqual(await asyncio.wait_for(ws.recv(), 5), msg)

            async def main():
                await asyncio.wait_for(asyncio.gather(*(client(i) for i in range(16))), 20)

            asyncio.run(main())
            self.assertTrue(s.alive())

    def test_thread_count_out_of_range_is_refused(self):
        r = subprocess.run([binary_path(), "--port", "0", "--threads", "0"], stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=10)
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"--threads '0'", r.stderr)


if __name__ == "__main__":
    unittest.main()
