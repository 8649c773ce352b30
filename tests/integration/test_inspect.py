"""tests/integration/test_inspect.py: GET /api/connections?id=N, the server's view of one /chat
connection for the /inspect page, against the real binary with two loops (--threads 2).

A raw client (the harness's) sends frames whose every byte it knows, some compressed with
permessage-deflate, and counts every frame the server sends; the endpoint must agree to the byte,
whichever loop answers the HTTP request: the test asks until both loops have answered. Then the
round trip of the server's WebSocket ping (python websockets answers it by itself; the raw client
answers by hand, after a pong that echoes nothing), 404 for an unknown id, 400 for a malformed
one, and the entry's removal when the connection closes. Every wait has a deadline."""

import asyncio
import json
import socket
import struct
import time
import unittest
import zlib

import websockets

from harness import (CLOSE, IO_DEADLINE, PING, PONG, TEXT, TIME_SCALE, ServerTestCase,
                     build_frame, close_payload, poll_until)
from test_chat import loops_of

FAST = ("--rate", "100000", "--burst", "100000")
TAIL = b"\x00\x00\xff\xff"  # RFC 7692 §7.2.1: stripped from every compressed message


def deflate(data):
    """One message compressed from an empty window (RFC 7692 §7.2.1), as a client with no
    context takeover makes it."""
    c = zlib.compressobj(wbits=-15)
    out = c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)
    assert out.endswith(TAIL)
    return out[:-4]


def server_header_size(n):
    """An unmasked header with the minimal length encoding (RFC 6455 §5.2)."""
    return 2 if n < 126 else 4 if n < 65536 else 10


class Counted:
    """A raw /chat client that counts what it sends and receives, as the server should."""

    def __init__(self, server, user, deflate_offer=True):
        self.c = server.raw()
        extra = ["Sec-WebSocket-Extensions: permessage-deflate"] if deflate_offer else []
        status, headers, _ = self.c.handshake(f"/chat?username={user}", extra=extra)
        assert status == 101, status
        self.extensions = headers.get("sec-websocket-extensions", "")
        self.sent = dict(messages=0, wire=0, payload=0, compressed=0)
        self.got = dict(messages=0, wire=0, payload=0, compressed=0)
        self.events = []
        self.pings = []  # payloads of the server's pings, in order

    def send(self, obj, compress=False, opcode=TEXT):
        data = json.dumps(obj).encode() if opcode == TEXT else obj
        body = deflate(data) if compress else data
        frame = build_frame(opcode, body, rsv=4 if compress else 0)
        self.c.send(frame)
        self.sent["wire"] += len(frame)
        if opcode == TEXT:
            self.sent["messages"] += 1
            self.sent["payload"] += len(data)
            self.sent["compressed"] += len(body)

    def read(self, deadline_s=IO_DEADLINE):
        """Reads one frame and counts it; returns (opcode, payload inflated)."""
        fin, rsv, op, payload = self.c.read_frame(deadline_s)
        assert fin, "the server sends every message in one frame"
        self.got["wire"] += server_header_size(len(payload)) + len(payload)
        if op == PING:
            self.pings.append(payload)
            return op, payload
        if op != TEXT:
            return op, payload
        data = zlib.decompressobj(wbits=-15).decompress(payload + TAIL) if rsv & 4 else payload
        self.got["messages"] += 1
        self.got["payload"] += len(data)
        self.got["compressed"] += len(payload)
        self.events.append(json.loads(data))
        return op, data

    def until(self, pred, what, deadline_s=IO_DEADLINE):
        end = time.monotonic() + deadline_s
        while not pred():
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError(f"timed out waiting for {what}; events: {self.events[-5:]}")
            self.read(left)

    def count(self, type_):
        return sum(1 for e in self.events if e.get("type") == type_)

    def close(self):
        self.c.close()


def get_json(server, path):
    status, _, body = server.http_get(path)
    return status, json.loads(body)


def settled(server, cid, k):
    """GET /api/connections?id=cid once the counters have caught up with the frames k counted.

    The owning loop counts a frame just after writing it, so a client that reads the frame and
    asks at once can be answered (by another loop) between the two. Polls with a deadline; after
    it, returns the last answer, for the caller's assertions to show the difference."""
    end = time.monotonic() + IO_DEADLINE
    while True:
        status, doc = get_json(server, f"/api/connections?id={cid}")
        want = {"in": k.sent["wire"], "out": k.got["wire"]}
        if status != 200 or doc["connection"]["wire_bytes"] == want or time.monotonic() > end:
            return status, doc
        time.sleep(0.01)  # a short pause between polls of the endpoint


class ConnectionCountersTest(ServerTestCase):
    """No server pings here (--ping-interval 0), so every frame is one the test caused."""

    FLAGS = ("--threads", "2", "--ping-interval", "0", "--close-timeout", "1", *FAST)

    def open_and_talk(self, user):
        """A connection that was welcomed, then sent four says (two compressed) and got the four
        messages back: quiet afterwards, so its counters stay put."""
        k = Counted(self.server, user)
        self.assertIn("permessage-deflate", k.extensions)
        k.until(lambda: k.count("welcome") and k.count("presence") and k.count("presence_change"),
                "welcome, presence and our own join")
        cid = k.events[0]["connection_id"]
        self.assertEqual(k.events[0]["type"], "welcome")
        self.assertIsInstance(cid, int)
        texts = ["short", "compressible " * 40, "also compressible, and longer " * 30, "x" * 200]
        for i, text in enumerate(texts):
            k.send({"type": "say", "room": "lobby", "text": text}, compress=i % 2 == 1)
        k.until(lambda: k.count("message") == len(texts), "our four messages back")
        return k, cid

    def test_counters_match_every_byte_sent_and_received_whichever_loop_answers(self):
        k, cid = self.open_and_talk("counter")
        try:
            answered, owner = set(), None

            def check_once():
                nonlocal owner
                status, doc = settled(self.server, cid, k)
                self.assertEqual(status, 200, doc)
                conn = doc["connection"]
                self.assertEqual(conn["id"], cid)
                self.assertEqual(conn["user"], "counter")
                owner = conn["loop"]
                self.assertIn(owner, (0, 1))
                for field, key in [("messages", "messages"), ("wire_bytes", "wire"),
                                   ("payload_bytes", "payload"),
                                   ("compressed_bytes", "compressed")]:
                    self.assertEqual(conn[field], {"in": k.sent[key], "out": k.got[key]}, field)
                ratio = conn["compression_ratio"]
                # Three places, as the server writes it (a float's own rounding may differ).
                self.assertAlmostEqual(ratio["in"], k.sent["compressed"] / k.sent["payload"],
                                       delta=0.0005)
                self.assertAlmostEqual(ratio["out"], k.got["compressed"] / k.got["payload"],
                                       delta=0.0005)
                self.assertLess(ratio["in"], 1.0)   # two of our says went compressed
                self.assertLess(ratio["out"], 1.0)  # the long messages came back compressed
                self.assertTrue(conn["permessage_deflate"]["server_no_context_takeover"])
                self.assertIsNone(conn["ping_rtt_us"])  # no server ping was sent
                answered.add(doc["loop"])
                return answered == {0, 1}

            # SO_REUSEPORT spreads new connections over the loops by their ports: keep asking on
            # fresh connections until each loop has answered once (one of them across loops).
            poll_until(check_once, 10 * TIME_SCALE, "an answer from each of the two loops",
                       interval=0)
            # The loop the server names is the one whose epoll holds our socket.
            port = k.c.sock.getsockname()[1]
            self.assertEqual(loops_of(self.server, {port}).get(port), owner)
        finally:
            k.close()

    def test_ids_are_unique_the_list_shows_them_and_a_closed_connection_disappears(self):
        a, aid = self.open_and_talk("lister-a")
        b, bid = self.open_and_talk("lister-b")
        try:
            self.assertNotEqual(aid, bid)
            status, doc = get_json(self.server, "/api/connections")
            self.assertEqual(status, 200)
            ids = {c["id"]: c for c in doc["connections"]}
            self.assertIn(aid, ids)
            self.assertIn(bid, ids)
            self.assertGreaterEqual(doc["connections_total"], 2)
            self.assertEqual(ids[aid]["user"], "lister-a")
            # A graceful close: the entry is gone once the server has seen it.
            a.c.send_frame(CLOSE, close_payload(1000))
            poll_until(lambda: get_json(self.server, f"/api/connections?id={aid}")[0] == 404,
                       5 * TIME_SCALE, "the closed connection's entry to go")
            # An abrupt one (TCP reset) too.
            b.c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            b.close()
            poll_until(lambda: get_json(self.server, f"/api/connections?id={bid}")[0] == 404,
                       5 * TIME_SCALE, "the reset connection's entry to go")
            status, doc = get_json(self.server, "/api/connections")
            self.assertNotIn(aid, {c["id"] for c in doc["connections"]})
        finally:
            a.close()
            b.close()

    def test_unknown_id_is_404_and_a_malformed_one_400_as_json(self):
        status, doc = get_json(self.server, "/api/connections?id=987654321")
        self.assertEqual(status, 404)
        self.assertEqual(doc["error"], "not_found")
        for bad in ["abc", "-1", "1.5", "", "18446744073709551616", "1" * 1000]:
            with self.subTest(id=bad[:30]):
                status, doc = get_json(self.server, f"/api/connections?id={bad}")
                self.assertEqual(status, 400)
                self.assertEqual(doc["error"], "bad_id")

    def test_a_connection_without_deflate_counts_payload_and_compressed_alike(self):
        k = Counted(self.server, "plain", deflate_offer=False)
        try:
            self.assertEqual(k.extensions, "")
            k.until(lambda: k.count("presence_change"), "our own join")
            cid = k.events[0]["connection_id"]
            k.send({"type": "say", "room": "lobby", "text": "no compression " * 20})
            k.until(lambda: k.count("message") == 1, "our message back")
            status, doc = settled(self.server, cid, k)
            conn = doc["connection"]
            self.assertIsNone(conn["permessage_deflate"])
            self.assertEqual(conn["payload_bytes"], conn["compressed_bytes"])
            self.assertEqual(conn["compression_ratio"], {"in": 1.0, "out": 1.0})
            self.assertEqual(conn["wire_bytes"], {"in": k.sent["wire"], "out": k.got["wire"]})
        finally:
            k.close()


class PingRoundTripTest(ServerTestCase):
    FLAGS = ("--threads", "2", "--ping-interval", "0.2", "--close-timeout", "1", *FAST)

    def test_python_websockets_answers_the_server_ping_and_the_round_trip_shows(self):
        async def run():
            url = f"ws://{self.server.host}:{self.server.port}/chat?username=pinged"
            async with websockets.connect(url) as ws:
                welcome = json.loads(await asyncio.wait_for(ws.recv(), IO_DEADLINE))
                cid = welcome["connection_id"]

                def rtt():
                    status, doc = get_json(self.server, f"/api/connections?id={cid}")
                    self.assertEqual(status, 200)
                    return doc["connection"]["ping_rtt_us"]

                # websockets answers pings in its own reading task, which runs while this
                # coroutine waits for the endpoint's answer.
                end = time.monotonic() + 5 * TIME_SCALE
                while (value := await asyncio.to_thread(rtt)) is None:
                    self.assertLess(time.monotonic(), end, "no ping round trip in time")
                    await asyncio.sleep(0.05)  # pace the polls of the endpoint
                self.assertGreater(value, 0)
                self.assertLess(value, 5_000_000)
        asyncio.run(asyncio.wait_for(run(), 30 * TIME_SCALE))

    def test_only_the_pong_that_echoes_the_ping_measures_the_round_trip(self):
        k = Counted(self.server, "raw-pong")
        try:
            k.until(lambda: k.count("welcome"), "welcome")
            cid = k.events[0]["connection_id"]
            k.until(lambda: k.pings, "a server ping", deadline_s=5 * TIME_SCALE)
            ping = k.pings[0]
            self.assertEqual(len(ping), 8)  # the moment it left, in microseconds
            # An unsolicited pong and one echoing something else measure nothing (RFC 6455
            # §5.5.3); an application ping's pong proves the server has read them.
            k.send(b"", opcode=PONG)
            k.send(b"\x00" * 8, opcode=PONG)
            k.send({"type": "ping", "id": 1})
            k.until(lambda: k.count("pong"), "the application pong")
            status, doc = get_json(self.server, f"/api/connections?id={cid}")
            self.assertIsNone(doc["connection"]["ping_rtt_us"])
            # Now answer every ping as RFC 6455 §5.5.2 asks. (An answer that crosses the next
            # ping on the wire echoes an older one and measures nothing: answer until one counts.)
            answered = 0

            def answer_pings_then_ask():
                nonlocal answered
                try:
                    while True:
                        k.read(0.05)
                except TimeoutError:
                    pass  # nothing more for now
                for payload in k.pings[answered:]:
                    k.send(payload, opcode=PONG)
                answered = len(k.pings)
                return get_json(self.server, f"/api/connections?id={cid}")[1]["connection"][
                    "ping_rtt_us"]

            rtt = poll_until(answer_pings_then_ask, 5 * TIME_SCALE, "the round trip to show",
                             interval=0)
            self.assertLess(rtt, 5_000_000)
        finally:
            k.close()


if __name__ == "__main__":
    unittest.main()
