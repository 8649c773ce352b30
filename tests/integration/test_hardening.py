"""tests/integration/test_hardening.py: issue 13's second round against the real binary.

- Who may read GET /api/connections: with a JWT secret a token is required and shows its own
  user's connections only; --admin-token (flag, file or EPWS_ADMIN_TOKEN) shows everyone.
- Hidden code points (Default_Ignorable, Cf, blank fillers) in user names, JWT subjects and room
  names are refused; chat text made only of them is text_empty; emoji sequences still pass.
- HTTP conformance: several Sec-WebSocket-Extensions lines are one list, HTTP/1.1 without Host is
  400, a second Sec-WebSocket-Version is 400, an absolute-form target is served, /api/whoami and
  the /chat handshake agree, a 4,096-byte token reaches the verifier, bytes after a final deflate
  block close with 1007, and history from 0 announces no gap.

Every wait has a deadline; nothing sleeps to wait."""

import hashlib
import hmac
import json
import os
import subprocess
import tempfile
import time
import unicodedata
import unittest
import urllib.parse

from harness import CLOSE, TEXT, RawClient, Server, ServerTestCase, binary_path
from test_chat import b64url, chat_path, py_token, raw_event, raw_reply, raw_send

SECRET = "hardening-test-secret-0123456789"
ADMIN = "admin-token-for-the-tests-0123"
THREADS = ("--threads", "2")


def exp_in(seconds=3600):
    return int(time.time()) + seconds


def padded_token(secret, sub, size):
    """A valid HS256 token of exactly `size` bytes. Unknown claims and header fields pad it (the
    verifier ignores both); two paddings reach every length base64 can take."""
    def make(kid, pad):
        header = b64url(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "k" * kid}).encode())
        claims = b64url(json.dumps({"sub": sub, "exp": exp_in(), "pad": "x" * pad}).encode())
        signing_input = header + "." + claims
        sig = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
        return signing_input + "." + b64url(sig)
    for kid in range(4):
        pad = 0
        while len(make(kid, pad)) < size:
            pad += 1
        if len(make(kid, pad)) == size:
            return make(kid, pad)
    raise AssertionError(f"no token of {size} bytes")


def whoami(server, query):
    status, _, body = server.http_get("/api/whoami?" + query)
    return status, json.loads(body)


def upgrade(server, path, extra=None):
    """(status, headers) of an upgrade attempt on a fresh connection."""
    with RawClient(server.host, server.port) as c:
        status, headers, _ = c.handshake(path, extra=extra)
        return status, headers


def open_chat(server, user=None, token=None):
    """A raw /chat connection past its welcome and lobby presence; returns (client, welcome)."""
    c = RawClient(server.host, server.port)
    status, _, _ = c.handshake(chat_path(user, token))
    if status != 101:
        c.close()
        raise AssertionError(f"/chat for {user!r} -> {status}")
    welcome = raw_event(c)
    assert welcome["type"] == "welcome", welcome
    assert raw_event(c)["type"] == "presence"
    return c, welcome


def connections(server, query="", headers=None):
    status, hdrs, body = server.http_get("/api/connections" + ("?" + query if query else ""),
                                         headers=headers)
    return status, hdrs, json.loads(body)


# -- item 1: GET /api/connections in JWT mode --------------------------------------------------

class ConnectionsNeedAToken(ServerTestCase):
    FLAGS = THREADS + ("--jwt-secret", SECRET, "--admin-token", ADMIN)

    def setUp(self):
        self.alice, w = open_chat(self.server, "alice", py_token(SECRET, "alice", exp_in()))
        self.alice_id = w["connection_id"]
        self.bob, w = open_chat(self.server, "bob", py_token(SECRET, "bob", exp_in()))
        self.bob_id = w["connection_id"]

    def tearDown(self):
        self.alice.close()
        self.bob.close()
        super().tearDown()

    def test_without_a_valid_token_the_list_and_an_id_are_401_and_name_nobody(self):
        forged = py_token("another secret entirely!", "alice", exp_in())
        expired = py_token(SECRET, "alice", exp_in(-10))
        for query, headers in (("", None), (f"id={self.bob_id}", None),
                               ("token=", None), (f"token={forged}", None),
                               ("", {"Authorization": f"Bearer {expired}"}),
                               ("", {"Authorization": f"Basic {ADMIN}"}),
                               ("", {"Authorization": f"Bearer {ADMIN}x"})):
            with self.subTest(query=query, headers=headers):
                status, hdrs, body = connections(self.server, query, headers)
                self.assertEqual(status, 401)
                self.assertEqual(body["error"], "unauthorized")
                self.assertTrue(hdrs.get("www-authenticate", "").startswith("Bearer"))
                self.assertNotIn("alice", json.dumps(body))
                self.assertNotIn("bob", json.dumps(body))

    def test_a_users_token_sees_its_own_connections_only(self):
        token = py_token(SECRET, "alice", exp_in())
        second, w = open_chat(self.server, "alice", token)
        try:
            for query, headers in (("token=" + urllib.parse.quote(token), None),
                                   ("", {"Authorization": f"Bearer {token}"})):
                with self.subTest(via="query" if query else "header"):
                    status, _, body = connections(self.server, query, headers)
                    self.assertEqual(status, 200)
                    self.assertEqual(sorted(c["id"] for c in body["connections"]),
                                     sorted([self.alice_id, w["connection_id"]]))
                    self.assertEqual({c["user"] for c in body["connections"]}, {"alice"})
                    self.assertEqual(body["connections_total"], 2)
            auth = {"Authorization": f"Bearer {token}"}
            status, _, body = connections(self.server, f"id={self.alice_id}", auth)
            self.assertEqual((status, body["connection"]["user"]), (200, "alice"))
            # Bob's id is not told apart from a closed one.
            status, _, body = connections(self.server, f"id={self.bob_id}", auth)
            self.assertEqual((status, body["error"]), (404, "not_found"))
            self.assertNotIn("bob", json.dumps(body))
        finally:
            second.close()

    def test_the_admin_token_sees_every_connection(self):
        status, _, body = connections(self.server, "", {"Authorization": f"Bearer {ADMIN}"})
        self.assertEqual(status, 200)
        self.assertEqual({c["user"] for c in body["connections"]}, {"alice", "bob"})
        status, _, body = connections(self.server, f"id={self.bob_id}&token={ADMIN}")
        self.assertEqual((status, body["connection"]["user"]), (200, "bob"))


class AdminTokenSources(unittest.TestCase):
    """--admin-token-file and EPWS_ADMIN_TOKEN work like the flag; a short one stops the start."""

    def admin_sees_all(self, server):
        c, _ = open_chat(server, "carol", py_token(SECRET, "carol", exp_in()))
        try:
            self.assertEqual(connections(server)[0], 401)
            status, _, body = connections(server, "", {"Authorization": f"Bearer {ADMIN}"})
            self.assertEqual((status, [x["user"] for x in body["connections"]]), (200, ["carol"]))
        finally:
            c.close()

    def test_from_a_file(self):
        with tempfile.NamedTemporaryFile("w", suffix=".token") as f:
            f.write(ADMIN + "\n")
            f.flush()
            with Server("--jwt-secret", SECRET, "--admin-token-file", f.name) as s:
                self.admin_sees_all(s)

    def test_from_the_environment(self):
        old = os.environ.get("EPWS_ADMIN_TOKEN")
        os.environ["EPWS_ADMIN_TOKEN"] = ADMIN
        try:
            with Server("--jwt-secret", SECRET) as s:
                self.admin_sees_all(s)
        finally:
            if old is None:
                del os.environ["EPWS_ADMIN_TOKEN"]
            else:
                os.environ["EPWS_ADMIN_TOKEN"] = old

    def test_a_short_or_spaced_admin_token_is_refused_at_start(self):
        for token, why in (("short", b"at least 16 bytes"),
                           ("has a space in it, sixteen+", b"visible ASCII")):
            out = subprocess.run([binary_path(), "--port", "0", "--admin-token", token],
                                 capture_output=True, timeout=10)
            self.assertEqual(out.returncode, 2, out)
            self.assertIn(b"--admin-token '" + token.encode() + b"': the admin token must be",
                          out.stderr)
            self.assertIn(why, out.stderr)
        out = subprocess.run([binary_path(), "--port", "0"], capture_output=True, timeout=10,
                             env={**os.environ, "EPWS_ADMIN_TOKEN": "short"})
        self.assertEqual(out.returncode, 2, out)  # bad usage, like the flag
        self.assertIn(b"EPWS_ADMIN_TOKEN: the admin token must be at least 16 bytes", out.stderr)


# -- item 2: hidden code points ----------------------------------------------------------------

# Named in issue 13, then a few more of each kind (tags, fillers, selectors, bidi, format).
HIDDEN = ["\u200b", "\u200c", "\u200d", "\u2060", "\u00ad", "\u034f", "\u061c", "\U000e0041",
          "\U000e007f", "\u3164", "\u115f", "\u1160", "\uffa0", "\u2800", "\ufe0f", "\ufeff",
          "\u202e", "\u2066", "\u180e", "\U000e0100"]


class HiddenCodePoints(ServerTestCase):
    FLAGS = THREADS + ("--rate", "100000", "--burst", "100000")

    def test_alice_with_a_hidden_code_point_is_refused_at_the_handshake_and_by_whoami(self):
        self.assertEqual(upgrade(self.server, chat_path("alice"))[0], 101)
        for cp in HIDDEN:
            for name in ("alice" + cp, cp + "alice", "ali" + cp + "ce"):
                with self.subTest(name=ascii(name)):
                    self.assertEqual(upgrade(self.server, chat_path(name))[0], 401)
                    status, body = whoami(self.server, "username=" + urllib.parse.quote(name))
                    self.assertEqual((status, body["error"]), (401, "bad_user"))

    def test_every_format_character_python_knows_is_refused_in_a_name(self):
        # An independent table: Python's unicodedata (General_Category Cf).
        cf = [chr(c) for c in range(0x110000) if unicodedata.category(chr(c)) == "Cf"]
        self.assertGreater(len(cf), 150)
        refused = 0
        for ch in cf:
            status, _ = whoami(self.server, "username=" + urllib.parse.quote("alice" + ch))
            refused += status == 401
            self.assertEqual(status, 401, f"alice + U+{ord(ch):04X} was accepted")
        print(f"[measure] {refused} of {len(cf)} Cf code points refused after 'alice'")

    def test_emoji_sequences_keep_their_joiners(self):
        for name in ("👩‍💻", "👩🏽‍💻 dev", "🏳️‍🌈", "❤️", "1️⃣"):
            with self.subTest(name=name):
                self.assertEqual(upgrade(self.server, chat_path(name))[0], 101)

    def test_text_made_only_of_fillers_or_hidden_code_points_is_empty(self):
        c, _ = open_chat(self.server, "writer")
        try:
            for i, text in enumerate(("\u3164", "\u3164\u3164\u3164", "\u2800\u2800",
                                      "\u115f\u1160\uffa0", "\u200b\u2060\ufeff \u3000",
                                      "\U000e0041\U000e007f")):
                raw_send(c, type="say", room="lobby", text=text, id=i)
                ev = raw_reply(c)
                self.assertEqual((ev["type"], ev.get("code"), ev.get("id")),
                                 ("error", "text_empty", i), ascii(text))
            raw_send(c, type="say", room="lobby", text="\u3164x", id="ok")
            ev = raw_reply(c)
            self.assertEqual((ev["type"], ev["text"]), ("message", "\u3164x"))
        finally:
            c.close()

    def test_room_names_with_hidden_code_points_are_refused(self):
        c, _ = open_chat(self.server, "roomer")
        try:
            for i, cp in enumerate(("\u3164", "\u200d", "\u2800", "\U000e0041", "\u034f")):
                raw_send(c, type="join", room="lobby" + cp, id=i)
                ev = raw_reply(c)
                self.assertEqual((ev["type"], ev.get("code")), ("error", "bad_room"), ascii(cp))
        finally:
            c.close()


class HiddenJwtSubjects(ServerTestCase):
    FLAGS = ("--jwt-secret", SECRET)

    def test_a_token_whose_sub_hides_a_code_point_is_refused_everywhere(self):
        good = py_token(SECRET, "alice", exp_in())
        self.assertEqual(upgrade(self.server, chat_path(None, good))[0], 101)
        for cp in ("\u200b", "\u200d", "\u3164", "\U000e0041", "\u00ad"):
            token = py_token(SECRET, "alice" + cp, exp_in())
            with self.subTest(cp=ascii(cp)):
                self.assertEqual(upgrade(self.server, chat_path(None, token))[0], 401)
                status, body = whoami(self.server, "token=" + token)
                self.assertEqual(status, 401)
                self.assertEqual(body["reason"], "token sub is not a valid user name")


# -- item 3: HTTP conformance and the protocol's corners ---------------------------------------

class HttpConformance(ServerTestCase):
    FLAGS = THREADS + ("--subprotocols", "chat,superchat")

    def test_several_extension_lines_are_one_list(self):
        status, headers = upgrade(self.server, "/echo", extra=[
            "Sec-WebSocket-Extensions: x-webkit-deflate-frame",
            "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits"])
        self.assertEqual(status, 101)
        self.assertTrue(headers.get("sec-websocket-extensions", "").startswith("permessage-deflate"),
                        headers)

    def test_several_protocol_lines_are_one_list(self):
        status, headers = upgrade(self.server, "/echo", extra=[
            "Sec-WebSocket-Protocol: x-unknown", "Sec-WebSocket-Protocol: superchat"])
        self.assertEqual((status, headers.get("sec-websocket-protocol")), (101, "superchat"))

    def test_http11_without_exactly_one_valid_host_is_400(self):
        cases = [
            (b"GET /healthz HTTP/1.1\r\n\r\n", 400),
            (b"GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
            (b"GET /healthz HTTP/1.1\r\nHost: a/b\r\n\r\n", 400),
            (b"GET /echo HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", 400),
            (b"GET /healthz HTTP/1.0\r\n\r\n", 200),  # HTTP/1.0 may omit Host
            (b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 200),
        ]
        before = self.server.stats()["bad_requests"]
        for data, want in cases:
            with self.subTest(data=data[:40]):
                with self.server.raw() as c:
                    status, _, body = c.request(data)
                    self.assertEqual(status, want, body)
        self.assertEqual(self.server.stats()["bad_requests"] - before, 4)

    def test_a_second_sec_websocket_version_is_refused_like_a_second_key(self):
        before = self.server.stats()["rejected_handshakes"]
        for extra in (["Sec-WebSocket-Version: 13"], ["Sec-WebSocket-Version: 8"]):
            with self.subTest(extra=extra):
                with self.server.raw() as c:
                    status, _, body = c.handshake("/echo", extra=extra)
                    self.assertEqual((status, body), (400, b"more than one Sec-WebSocket-Version "
                                                           b"header\n"))
        self.assertEqual(self.server.stats()["rejected_handshakes"] - before, 2)

    def test_an_absolute_form_target_is_served(self):
        base = f"http://{self.server.host}:{self.server.port}"
        with self.server.raw() as c:
            status, _, body = c.request(
                f"GET {base}/echo?message=hi HTTP/1.1\r\nHost: {self.server.host}\r\n\r\n".encode())
            self.assertEqual((status, body), (200, b"hi"))
        with self.server.raw() as c:
            status, _, _ = c.handshake(base + "/echo")
            self.assertEqual(status, 101)
            c.send_frame(TEXT, b"absolute")
            self.assertEqual(c.read_message(), (TEXT, b"absolute"))

    def deflate_echo(self, payload):
        """Sends one compressed text message with this raw deflate payload on a fresh /echo;
        returns ("message", data) or ("close", code)."""
        with self.server.raw() as c:
            status, headers, _ = c.handshake(
                "/echo", extra=["Sec-WebSocket-Extensions: permessage-deflate"])
            self.assertEqual(status, 101)
            self.assertIn("permessage-deflate", headers.get("sec-websocket-extensions", ""))
            c.send_frame(TEXT, payload, rsv=4)
            fin, rsv, op, data = c.read_frame()
            if op == CLOSE:
                code = int.from_bytes(data[:2], "big")
                c.reply_close_and_expect_eof(code)
                return "close", code
            return "message", data

    def test_bytes_after_the_final_deflate_block_close_with_1007(self):
        final_hello = bytes.fromhex("f348cdc9c90700")  # "Hello" in a block with BFINAL = 1
        self.assertEqual(self.deflate_echo(final_hello), ("message", b"Hello"))
        # RFC 7692 section 7.2.3.4: the final block, then the 0x00 of an empty stored block.
        self.assertEqual(self.deflate_echo(final_hello + b"\x00"), ("message", b"Hello"))
        before = self.server.stats()["protocol_errors"]
        for trailing in (b"\x01\x02", b"\x00\x00\xff\xff", b"junk after the end"):
            with self.subTest(trailing=trailing):
                self.assertEqual(self.deflate_echo(final_hello + trailing), ("close", 1007))
        self.assertEqual(self.server.stats()["protocol_errors"] - before, 3)


class JwtEdges(ServerTestCase):
    FLAGS = ("--jwt-secret", SECRET)

    def test_whoami_and_the_handshake_agree_on_every_query(self):
        token = py_token(SECRET, "alice", exp_in())
        queries = {
            f"username=&token={token}": 200,
            f"token={token}": 200,
            f"username=alice&token={token}": 200,
            f"username=bob&token={token}": 401,
            "username=alice&token=": 401,
            "username=alice": 401,
            f"username=alice&token={token}x": 401,
        }
        for query, want in queries.items():
            with self.subTest(query=query[:40]):
                status, _ = whoami(self.server, query)
                self.assertEqual(status, want)
                self.assertEqual(upgrade(self.server, "/chat?" + query)[0],
                                 101 if want == 200 else 401)

    def test_a_4096_byte_token_reaches_the_verifier(self):
        # chat/jwt.h kMaxTokenBytes: 4096 is accepted, 4097 refused by the verifier (401), and
        # neither is cut short by the request-target limit (414).
        name = "😀" * 32  # the longest name, each code point percent-encoded to 12 bytes
        token = padded_token(SECRET, name, 4096)
        path = chat_path(name, token)
        self.assertGreater(len(path), 4096 + 384)
        status, headers = upgrade(self.server, path)
        self.assertEqual(status, 101, headers)
        status, body = whoami(self.server, path.split("?", 1)[1])
        self.assertEqual((status, body["user"]), (200, name))
        too_long = padded_token(SECRET, name, 4097)
        self.assertEqual(upgrade(self.server, chat_path(name, too_long))[0], 401)
        status, body = whoami(self.server, "token=" + too_long)
        self.assertEqual((status, body["reason"]), (401, "malformed token"))


class HistoryFromZero(ServerTestCase):
    FLAGS = ("--rate", "100000", "--burst", "100000")

    def test_history_from_0_has_no_gap_when_everything_is_kept(self):
        c, _ = open_chat(self.server, "historian")
        try:
            raw_send(c, type="join", room="h0")
            self.assertEqual(raw_reply(c)["type"], "presence")
            for i in range(3):
                raw_send(c, type="say", room="h0", text=f"m{i}")
            seqs = [raw_reply(c)["seq"] for _ in range(3)]
            self.assertEqual(seqs, [1, 2, 3])
            raw_send(c, type="history", room="h0", id="z", **{"from": 0})
            ev = raw_reply(c)
            self.assertEqual(ev["type"], "history", f"expected no gap first, got {ev}")
            self.assertEqual([m["seq"] for m in ev["messages"]], [1, 2, 3])
        finally:
            c.close()


if __name__ == "__main__":
    unittest.main()
