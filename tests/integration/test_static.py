"""tests/integration/test_static.py: the browser client's files over raw HTTP: traversal in every
spelling (.., %2e%2e, %2f, absolute, a symlink out of the root), 304, HEAD, gzip, /api/whoami.

Layer: tests/. The server runs with --web-root pointing at a temporary copy of a small tree."""

import gzip
import json
import os
import shutil
import tempfile
import time
import unittest

from harness import Server, ServerTestCase


class StaticFilesTest(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="epws-web-")
        web = os.path.join(cls.tmp, "web")
        os.makedirs(os.path.join(web, "sub"))
        with open(os.path.join(web, "index.html"), "w") as f:
            f.write("<!doctype html><title>chat</title>")
        with open(os.path.join(web, "app.js"), "w") as f:
            f.write("export const greeting = 'hello';\n" * 50)
        with open(os.path.join(cls.tmp, "secret.txt"), "w") as f:
            f.write("top secret")
        os.symlink("../secret.txt", os.path.join(web, "leak.txt"))
        os.symlink(cls.tmp, os.path.join(web, "up"))
        cls.FLAGS = ("--web-root", web)
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def get(self, target, headers=(), method="GET"):
        with self.server.raw() as c:
            lines = [f"{method} {target} HTTP/1.1", f"Host: {c.host}:{c.port}", *headers]
            return c.request(("\r\n".join(lines) + "\r\n\r\n").encode())

    def test_index_is_served_with_type_length_and_validators(self):
        status, h, body = self.get("/")
        self.assertEqual(status, 200)
        self.assertEqual(body, b"<!doctype html><title>chat</title>")
        self.assertEqual(h["content-type"], "text/html; charset=utf-8")
        self.assertEqual(int(h["content-length"]), len(body))
        self.assertIn("etag", h)
        self.assertIn("last-modified", h)
        self.assertEqual(h["x-content-type-options"], "nosniff")

    def test_traversal_never_leaves_the_root(self):
        for target in ["/../secret.txt", "/..%2fsecret.txt", "/%2e%2e/secret.txt",
                       "/%2E%2E%2Fsecret.txt", "/sub/../../secret.txt", "/sub/%2e%2e/%2e%2e/secret.txt",
                       "/leak.txt", "/up/secret.txt", "//etc/passwd", "/%2fetc%2fpasswd",
                       "/etc/passwd", "/..\\secret.txt", "/%5c..%5csecret.txt", "/secret.txt%00.js",
                       "http://evil/../secret.txt", "/.%2e/secret.txt"]:
            with self.subTest(target=target):
                status, _, body = self.get(target)
                self.assertIn(status, (400, 404))
                self.assertNotIn(b"secret", body)
                self.assertNotIn(b"root:", body)

    def test_missing_file_is_404(self):
        status, _, body = self.get("/nope.js")
        self.assertEqual(status, 404)

    def test_etag_and_last_modified_revalidate_with_304(self):
        _, h, _ = self.get("/app.js")
        status, h2, body = self.get("/app.js", [f"If-None-Match: {h['etag']}"])
        self.assertEqual(status, 304)
        self.assertEqual(body, b"")
        self.assertEqual(h2["etag"], h["etag"])
        # RFC 9110 §15.4.5: a 304 has no content; a Content-Length there would have to be the
        # 200's length, so none is sent (and certainly not "0").
        self.assertNotIn("content-length", h2)
        self.assertNotIn("content-type", h2)
        status, h3, _ = self.get("/app.js", [f"If-Modified-Since: {h['last-modified']}"])
        self.assertEqual(status, 304)
        self.assertNotIn("content-length", h3)
        # Framing: on a kept-alive connection the next response follows the 304's head at once.
        with self.server.raw() as c:
            c.send(f"GET /app.js HTTP/1.1\r\nHost: x\r\nIf-None-Match: {h['etag']}\r\n\r\n"
                   "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            self.assertEqual(c.read_response()[0], 304)
            self.assertEqual(c.read_response()[:3:2], (200, b"ok\n"))
        status, _, _ = self.get("/app.js", ['If-None-Match: "stale"'])
        self.assertEqual(status, 200)

    def test_head_sends_the_headers_of_get_without_a_body(self):
        _, h_get, body = self.get("/app.js")
        with self.server.raw() as c:
            c.send(b"HEAD /app.js HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            deadline = time.monotonic() + 5
            while b"ok\n" not in c.buf:  # both answers, read raw (read_response would want a body)
                c._fill(deadline)
            head, rest = c.buf.split(b"\r\n\r\n", 1)
            self.assertTrue(head.startswith(b"HTTP/1.1 200"), head)
            self.assertIn(f"Content-Length: {len(body)}".encode(), head)
            self.assertIn(f"ETag: {h_get['etag']}".encode(), head)
            # No body bytes: the next response on the connection starts right away.
            self.assertTrue(rest.startswith(b"HTTP/1.1 200"), rest[:40])

    def test_gzip_when_accepted(self):
        _, _, plain = self.get("/app.js")
        status, h, body = self.get("/app.js", ["Accept-Encoding: gzip, deflate"])
        self.assertEqual(status, 200)
        self.assertEqual(h["content-encoding"], "gzip")
        self.assertIn("Accept-Encoding", h["vary"])
        self.assertEqual(int(h["content-length"]), len(body))
        self.assertLess(len(body), len(plain))
        self.assertEqual(gzip.decompress(body), plain)
        _, h, _ = self.get("/app.js", ["Accept-Encoding: gzip;q=0"])
        self.assertNotIn("content-encoding", h)

    def test_other_methods_are_405(self):
        status, h, _ = self.get("/app.js", method="DELETE")
        self.assertEqual(status, 405)

    def test_whoami_tells_a_good_name_from_a_bad_one(self):
        status, h, body = self.get("/api/whoami?username=%E5%90%8D%E5%89%8D")
        self.assertEqual(status, 200)
        doc = json.loads(body)
        self.assertEqual(doc["user"], "名前")
        self.assertEqual(doc["mode"], "open")
        self.assertEqual(h["cache-control"], "no-store")
        status, _, body = self.get("/api/whoami?username=" + "x" * 40)
        self.assertEqual(status, 401)
        self.assertEqual(json.loads(body)["error"], "bad_user")

    def test_connections_lists_the_loops(self):
        status, _, body = self.get("/api/connections")
        self.assertEqual(status, 200)
        doc = json.loads(body)
        self.assertIn("loops", doc)
        self.assertEqual(doc["connections"], [])
        self.assertEqual(doc["connections_total"], 0)


class WhoamiJwtTest(ServerTestCase):
    FLAGS = ("--jwt-secret", "0123456789abcdef0123")

    def test_a_bad_token_is_401_and_a_good_one_names_the_user(self):
        import subprocess
        from harness import binary_path
        token = subprocess.run([binary_path(), "token", "--secret", "0123456789abcdef0123",
                                "--user", "alice"], capture_output=True, text=True, timeout=10).stdout.strip()
        status, _, body = self.server.http_get(f"/api/whoami?token={token}")
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body)["user"], "alice")
        status, _, body = self.server.http_get("/api/whoami?token=bad.token.here")
        self.assertEqual(status, 401)
        status, _, _ = self.server.http_get(f"/api/whoami?token={token}&username=bob")
        self.assertEqual(status, 401)


if __name__ == "__main__":
    unittest.main()
