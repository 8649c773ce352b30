"""tests/integration/test_chat.py: the /chat protocol (docs/chat-protocol.md) end to end, against
the real binary with two loops (--threads 2), spoken by python websockets 10.4 and, where a client
must misbehave (stop reading, never answer pings), by the harness's raw socket.

Covered: one order for everyone across loops, welcome and presence, join/leave notices per user,
DMs to every tab, resume with since (history, history gaps), history requests, slow consumers
(skipped, then a slow_consumer gap), the rate limit, identity at the handshake (JWT, development
mode, 401/429), idle timeout and server pings, /broadcast across loops, malformed input, and
non-ASCII names and text. Every wait has a deadline; nothing sleeps to wait."""

import asyncio
import base64
import functools
import hashlib
import hmac
import json
import os
import select
import socket
import struct
import subprocess
import threading
import time
import unittest
import urllib.parse

import websockets

from harness import (CLOSE, IO_DEADLINE, PING, TEXT, Closed, RawClient, Server, binary_path,
                     build_frame, poll_until)

THREADS = ("--threads", "2", "--close-timeout", "1")
FAST = ("--rate", "100000", "--burst", "100000")  # the rate limit out of the way
MARGIN = 3.0  # seconds allowed on top of a configured timeout
# Presence notices: one presence_change per room and server round; join/leave only as the
# direct reply to a leave.
NOTICES = ("join", "leave", "presence_change")
SECRET = "integration-test-secret-0123456789"  # >= 16 bytes


def async_test(f):
    @functools.wraps(f)
    def run(self):
        asyncio.run(asyncio.wait_for(f(self), 60))
    return run


def chat_path(user=None, token=None):
    q = []
    if user is not None:
        q.append("username=" + urllib.parse.quote(user, safe=""))
    if token is not None:
        q.append("token=" + urllib.parse.quote(token, safe=""))
    return "/chat" + ("?" + "&".join(q) if q else "")


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def py_token(secret, sub, exp):
    """A token minted with the standard library alone, as docs/chat-protocol.md shows."""
    signing_input = (b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode()) + "." +
                     b64url(json.dumps({"sub": sub, "exp": exp}).encode()))
    sig = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + b64url(sig)


def cli_token(secret, user, ttl="1h"):
    out = subprocess.run([binary_path(), "token", "--secret", secret, "--user", user, "--ttl", ttl],
                         capture_output=True, timeout=10, check=True)
    return out.stdout.decode().strip()


def loops_of(server, ports):
    """Which epoll instance (loop) of the server holds the server side of each client port, read
    from /proc: client port -> server socket inode -> fd -> the eventpoll fd that watches it."""
    pid = server.proc.pid
    inode_of_port = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = open(table).read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            f = line.split()
            lport = int(f[1].rsplit(":", 1)[1], 16)
            rport = int(f[2].rsplit(":", 1)[1], 16)
            if lport == server.port and rport in ports:
                inode_of_port[rport] = f[9]
    fd_of_inode, epolls = {}, []
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            fd_of_inode[target[8:-1]] = int(fd)
        elif target == "anon_inode:[eventpoll]":
            epolls.append(fd)
    watched = []
    for ep in sorted(epolls, key=int):
        tfds = set()
        for line in open(f"/proc/{pid}/fdinfo/{ep}").read().splitlines():
            if line.startswith("tfd:"):
                tfds.add(int(line.split()[1]))
        watched.append(tfds)
    out = {}
    for port, inode in inode_of_port.items():
        fd = fd_of_inode.get(inode)
        for i, tfds in enumerate(watched):
            if fd in tfds:
                out[port] = i
    return out


class Chat:
    """One websockets connection to /chat, reading JSON events with deadlines."""

    def __init__(self, ws, name):
        self.ws = ws
        self.name = name
        self.seen = []  # every event received, for failure messages

    async def send(self, **obj):
        await asyncio.wait_for(self.ws.send(json.dumps(obj, ensure_ascii=False)), IO_DEADLINE)

    async def send_raw(self, data):
        await asyncio.wait_for(self.ws.send(data), IO_DEADLINE)

    async def recv(self, deadline_s=IO_DEADLINE):
        try:
            raw = await asyncio.wait_for(self.ws.recv(), deadline_s)
        except asyncio.TimeoutError:
            raise AssertionError(f"{self.name}: no event within {deadline_s}s; last events: "
                                 f"{self.seen[-5:]}") from None
        if not isinstance(raw, str):
            raise AssertionError(f"{self.name}: a binary frame from /chat: {raw[:64]!r}")
        ev = json.loads(raw)
        self.seen.append(ev)
        return ev

    async def expect(self, type_, deadline_s=IO_DEADLINE, **fields):
        ev = await self.recv(deadline_s)
        if ev.get("type") != type_ or any(ev.get(k) != v for k, v in fields.items()):
            raise AssertionError(f"{self.name}: expected {type_} {fields}, got {ev}")
        return ev

    async def reply(self, type_, deadline_s=IO_DEADLINE, **fields):
        """The next event that is not a join/leave notice (those arrive through the ring, at their
        own pace); asserts its type and fields."""
        got = await self.until(lambda e: e["type"] not in NOTICES, type_, deadline_s)
        ev = got[-1]
        if ev.get("type") != type_ or any(ev.get(k) != v for k, v in fields.items()):
            raise AssertionError(f"{self.name}: expected {type_} {fields}, got {ev}")
        return ev

    async def until(self, pred, what, deadline_s=IO_DEADLINE):
        """Reads events until pred(event); returns every event read, the matching one last."""
        end = time.monotonic() + deadline_s
        got = []
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{self.name}: timed out after {deadline_s}s waiting for "
                                     f"{what}; read {got[-8:]}")
            ev = await self.recv(left)
            got.append(ev)
            if pred(ev):
                return got

    async def messages(self, room, n, deadline_s=IO_DEADLINE):
        """The next n message events of room (presence notices in between are skipped)."""
        out = []
        end = time.monotonic() + deadline_s
        while len(out) < n:
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{self.name}: {len(out)} of {n} messages of {room} within "
                                     f"{deadline_s}s")
            ev = await self.recv(left)
            if ev["type"] == "message" and ev["room"] == room:
                out.append(ev)
            elif ev["type"] not in NOTICES:
                raise AssertionError(f"{self.name}: unexpected {ev} among messages of {room}")
        return out

    async def expect_change(self, room, joined=(), left=(), deadline_s=IO_DEADLINE):
        """The next event is the presence_change of room with exactly these joins and leaves."""
        ev = await self.expect("presence_change", deadline_s, room=room)
        if sorted(ev.get("joined", [])) != sorted(joined) or sorted(ev.get("left", [])) != sorted(left):
            raise AssertionError(f"{self.name}: expected joined {joined} left {left}, got {ev}")
        return ev

    async def until_change(self, room, what, joined=None, left=None, deadline_s=IO_DEADLINE):
        """Reads events until a presence_change of room listing `joined` (or `left`)."""
        return await self.until(
            lambda e: e["type"] == "presence_change" and e["room"] == room and
            (joined is None or joined in e.get("joined", [])) and
            (left is None or left in e.get("left", [])),
            what, deadline_s)

    async def close(self):
        await self.ws.close()


async def connect(server, user, token=None, path=None, settle=False):
    """Opens /chat as user; checks welcome, then presence for lobby. Returns (chat, presence).
    settle: also read up to the user's own lobby join notice (a user's first connection)."""
    # max_queue=None: a client that reads nothing still reads the server's close frame.
    ws = await websockets.connect(server.url(path or chat_path(user, token)), open_timeout=IO_DEADLINE,
                                  close_timeout=1, ping_interval=None, max_size=None,
                                  max_queue=None)
    c = Chat(ws, user)
    welcome = await c.recv()
    if welcome["type"] != "welcome":
        raise AssertionError(f"{user}: first event {welcome}, expected welcome")
    presence = await c.expect("presence", room="lobby")
    c.welcome = welcome
    if settle:
        await c.until_change("lobby", f"{user}'s own lobby join", joined=user)
    return c, presence


async def join(c, room, **extra):
    await c.send(type="join", room=room, **extra)
    return await c.until(lambda e: e["type"] == "presence" and e["room"] == room,
                         f"presence for {room}")


async def close_all(clients):
    await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)


def raw_chat(server, user, rcvbuf=None):
    """A raw socket upgraded on /chat that has read its welcome and lobby presence."""
    c = RawClient(server.host, server.port, rcvbuf=rcvbuf)
    status, _, _ = c.handshake(chat_path(user))
    if status != 101:
        c.close()
        raise AssertionError(f"/chat upgrade for {user} -> {status}")
    for want in ("welcome", "presence"):
        op, data = c.read_message()
        ev = json.loads(data)
        if ev["type"] != want:
            raise AssertionError(f"raw {user}: expected {want}, got {ev}")
    return c


def raw_send(c, **obj):
    c.send_frame(TEXT, json.dumps(obj).encode())


def raw_event(c, deadline_s=IO_DEADLINE):
    op, data = c.read_message(deadline_s)
    return json.loads(data)


def raw_reply(c, deadline_s=IO_DEADLINE):
    """The next event that is not a join/leave notice."""
    end = time.monotonic() + deadline_s
    while True:
        ev = raw_event(c, max(0.01, end - time.monotonic()))
        if ev["type"] not in NOTICES:
            return ev


def handshake_status(server, path):
    with RawClient(server.host, server.port) as c:
        return c.handshake(path)[0]


class ChatTestCase(unittest.TestCase):
    """Each test starts its own server (milliseconds) with FLAGS, so presence lists and seqs are
    exact; the test fails if the server died under it."""

    FLAGS = ()

    def setUp(self):
        self.server = Server(*THREADS, *self.FLAGS).start()

    def tearDown(self):
        alive = self.server.alive()
        status = self.server.stop()
        log = self.server.stderr_text()
        self.server.close()
        if not alive:
            self.fail(f"epws exited (status {status}) during this test; stderr: {log!r}")


# -- one order across loops --------------------------------------------------------------------

class Ordering(ChatTestCase):
    FLAGS = FAST

    @async_test
    async def test_concurrent_senders_on_both_loops_see_one_gapless_order(self):
        s = self.server
        self.assertEqual(s.stats()["loops"], 2, "/stats loops with --threads 2")
        clients = []
        try:
            # Open connections until both loops hold at least three (SO_REUSEPORT spreads them).
            while True:
                c, _ = await connect(s, f"u{len(clients)}")
                clients.append(c)
                where = loops_of(s, {c.ws.local_address[1] for c in clients})
                per_loop = [list(where.values()).count(i) for i in (0, 1)]
                if len(clients) >= 8 and min(per_loop) >= 3:
                    break
                self.assertLess(len(clients), 64, f"64 connections, per loop {per_loop}")
            for c in clients:
                await join(c, "order")
            senders = [c for c in clients if where[c.ws.local_address[1]] == 0][:3] + \
                      [c for c in clients if where[c.ws.local_address[1]] == 1][:3]
            per_sender = 40
            n = per_sender * len(senders)

            async def send_all(c):
                for k in range(per_sender):
                    await c.send(type="say", room="order", text=f"{c.name}#{k}")

            results = await asyncio.gather(*(c.messages("order", n, 20) for c in clients),
                                           *(send_all(c) for c in senders))
            got = results[:len(clients)]
            reference = [(e["seq"], e["from"], e["text"]) for e in got[0]]
            self.assertEqual([r[0] for r in reference], list(range(1, n + 1)),
                             "seqs 1..N consecutive, no gap, no duplicate")
            for c, events in zip(clients, got):
                self.assertEqual([(e["seq"], e["from"], e["text"]) for e in events], reference,
                                 f"{c.name} (loop {where[c.ws.local_address[1]]}) saw another order")
            for sender in senders:
                mine = [t for _, f, t in reference if f == sender.name]
                self.assertEqual(mine, [f"{sender.name}#{k}" for k in range(per_sender)],
                                 f"{sender.name}'s messages out of its own order")
            # Nothing more arrives: the next message is the next seq, for everyone.
            await clients[0].send(type="say", room="order", text="last")
            for c in clients:
                ev = (await c.messages("order", 1))[0]
                self.assertEqual((ev["seq"], ev["text"]), (n + 1, "last"), c.name)
        finally:
            await close_all(clients)


# -- welcome, presence, join and leave ---------------------------------------------------------

class Presence(ChatTestCase):
    FLAGS = FAST

    @async_test
    async def test_connect_sends_welcome_then_lobby_presence_and_others_get_a_join(self):
        s = self.server
        before = int(time.time() * 1000)
        alice, p = await connect(s, "alice")
        w = alice.welcome
        self.assertEqual((w["user"], w["rooms"]), ("alice", ["lobby"]))
        self.assertIsInstance(w["server_time"], int)
        self.assertLess(abs(w["server_time"] - before), 60000, "server_time is epoch milliseconds")
        self.assertEqual(p["users"], ["alice"])
        # Her own join notice (a user joined a room you are in, you included).
        await alice.expect_change("lobby", joined=["alice"])
        bob, p = await connect(s, "bob")
        self.assertEqual(sorted(p["users"]), ["alice", "bob"])
        self.assertEqual((p["count"], p["more"]), (2, False))
        ev = await alice.expect_change("lobby", joined=["bob"])
        self.assertIsInstance(ev["ts"], int)
        self.assertEqual(ev["count"], 2)
        await bob.expect_change("lobby", joined=["bob"])
        await bob.close()
        ev = await alice.expect_change("lobby", left=["bob"])
        self.assertEqual(ev["count"], 1)
        await alice.send(type="who", room="lobby", id=9)
        await alice.expect("presence", room="lobby", users=["alice"], id=9)
        await alice.close()

    @async_test
    async def test_join_and_leave_notices_and_who(self):
        s = self.server
        alice, _ = await connect(s, "alice")
        bob, _ = await connect(s, "bob")
        await alice.until_change("lobby", "bob's lobby join", joined="bob")
        await bob.until_change("lobby", "bob's own lobby join", joined="bob")
        await alice.send(type="join", room="dev", id="j1")
        await alice.expect("presence", room="dev", users=["alice"], id="j1")
        await alice.expect_change("dev", joined=["alice"])
        await bob.send(type="join", room="dev")
        p = await bob.expect("presence", room="dev")
        self.assertEqual(sorted(p["users"]), ["alice", "bob"])
        await bob.expect_change("dev", joined=["bob"])
        await alice.expect_change("dev", joined=["bob"])
        # Joining again only repeats presence: no second notice (checked by the next event).
        await bob.send(type="join", room="dev", id=2)
        p = await bob.expect("presence", room="dev", id=2)
        self.assertEqual(sorted(p["users"]), ["alice", "bob"])
        await bob.send(type="who", room="dev", id=3)
        p = await bob.expect("presence", room="dev", id=3)
        self.assertEqual(sorted(p["users"]), ["alice", "bob"])
        await bob.send(type="rooms", id=4)
        r = await bob.expect("rooms", id=4)
        self.assertEqual(sorted((x["name"], x["members"]) for x in r["rooms"]),
                         [("dev", 2), ("lobby", 2)])
        await bob.send(type="leave", room="dev")
        await alice.expect_change("dev", left=["bob"])
        await alice.send(type="who", room="dev", id=5)
        await alice.expect("presence", room="dev", users=["alice"], id=5)
        await bob.send(type="say", room="dev", text="x", id=6)
        await bob.reply("error", code="not_in_room", id=6)
        await bob.send(type="leave", room="dev", id=7)
        await bob.reply("error", code="not_in_room", id=7)
        await close_all([alice, bob])

    @async_test
    async def test_the_leaver_gets_its_own_leave_notice(self):
        # docs: leave's direct reply is "the leave notice"; a leave event is sent when "a user
        # left a room you are in (you included)".
        bob, _ = await connect(self.server, "bob", settle=True)
        await join(bob, "dev")
        await bob.expect_change("dev", joined=["bob"])
        await bob.send(type="leave", room="dev", id=1)
        got = await bob.until(lambda e: e["type"] != "presence_change", "bob's own leave notice")
        self.assertEqual((got[-1]["type"], got[-1].get("room"), got[-1].get("user")),
                         ("leave", "dev", "bob"), got)
        await bob.close()

    @async_test
    async def test_who_on_a_room_nobody_joined_is_an_empty_presence(self):
        # docs: "who and history work on any room (an unknown room has no users and no messages)".
        alice, _ = await connect(self.server, "alice", settle=True)
        await alice.send(type="who", room="nowhere", id=1)
        await alice.expect("presence", room="nowhere", users=[], id=1)
        await alice.close()

    @async_test
    async def test_a_second_tab_of_the_same_user_is_not_announced_again(self):
        s = self.server
        bob, _ = await connect(s, "bob")
        await bob.expect_change("lobby", joined=["bob"])
        tab1, _ = await connect(s, "alice")
        await bob.expect_change("lobby", joined=["alice"])
        tab2, p = await connect(s, "alice")
        self.assertEqual(sorted(p["users"]), ["alice", "bob"], "users listed once each")
        # A room message said after tab2 opened follows any notice tab2 caused, in ring order.
        await tab1.send(type="say", room="lobby", text="marker 1")
        got = await bob.until(lambda e: e["type"] == "message", "marker 1")
        self.assertEqual([e["type"] for e in got], ["message"],
                         f"a second tab re-announced alice: {got}")
        await tab2.close()
        await tab1.send(type="say", room="lobby", text="marker 2")
        got = await bob.until(lambda e: e["type"] == "message", "marker 2")
        self.assertEqual([e["type"] for e in got], ["message"],
                         f"closing one of two tabs announced a leave: {got}")
        await tab1.close()
        await bob.expect_change("lobby", left=["alice"])
        await bob.close()


class SlotReuse(ChatTestCase):
    """A loop gives a closed connection's place to its next connection (found by the soak: the
    place stayed listed in the closed one's rooms, so the newcomer got their messages)."""

    def setUp(self):
        # One loop, so the next connection surely takes the closed one's place.
        self.server = Server("--threads", "1", "--close-timeout", "1", *FAST).start()

    @async_test
    async def test_a_connection_in_a_closed_ones_place_gets_none_of_its_rooms(self):
        s = self.server
        alice, _ = await connect(s, "alice")
        await join(alice, "secret")
        await alice.close()
        poll_until(lambda: s.stats()["connections"] == 0, IO_DEADLINE, "alice's close")
        bob, _ = await connect(s, "bob")  # in alice's place
        carol, _ = await connect(s, "carol")
        await join(carol, "secret")
        await carol.send(type="say", room="secret", text="members only")
        await carol.messages("secret", 1)
        # Whatever carol's join and message sent bob went out in the round carol got hers, so
        # before the pong to a ping bob sends now.
        await bob.send(type="ping", id=1)
        got = await bob.until(lambda e: e["type"] == "pong", "bob's pong")
        self.assertEqual([e for e in got if e.get("room") == "secret"], [],
                         "bob never joined 'secret'")
        await close_all([bob, carol])


# -- direct messages ---------------------------------------------------------------------------

class DirectMessages(ChatTestCase):
    FLAGS = FAST

    @async_test
    async def test_dm_reaches_every_tab_of_the_recipient_and_of_the_sender_once(self):
        s = self.server
        a1, _ = await connect(s, "alice")
        a2, _ = await connect(s, "alice")
        b1, _ = await connect(s, "bob")
        b2, _ = await connect(s, "bob")
        carol, _ = await connect(s, "carol")
        everyone = [a1, a2, b1, b2, carol]
        for text in ("psst", "second"):
            await a1.send(type="dm", to="bob", text=text)
            for c in (a1, a2, b1, b2):
                got = await c.until(lambda e: e["type"] == "dm", f"dm {text!r}")
                ev = got[-1]
                self.assertEqual((ev["from"], ev["to"], ev["text"]), ("alice", "bob", text),
                                 f"{c.name}: a dm twice or out of order")
                self.assertIsInstance(ev["ts"], int)
        # carol got neither: her next dm is one to her.
        await b2.send(type="dm", to="carol", text="for carol")
        got = await carol.until(lambda e: e["type"] == "dm", "dm for carol")
        self.assertEqual(got[-1]["text"], "for carol", f"carol saw someone else's dm: {got}")
        await close_all(everyone)

    @async_test
    async def test_dm_to_a_user_with_no_connection_is_unknown_user(self):
        s = self.server
        alice, _ = await connect(s, "alice")
        await alice.until_change("lobby", "own join", joined="alice")
        await alice.send(type="dm", to="nobody", text="hello?", id="d1")
        ev = await alice.expect("error", code="unknown_user", id="d1")
        self.assertEqual(ev.get("field"), "to")
        # Gone users are unknown too.
        bob, _ = await connect(s, "bob")
        await bob.close()
        await alice.until_change("lobby", "bob's leave", left="bob")
        await alice.send(type="dm", to="bob", text="still there?", id=2)
        await alice.expect("error", code="unknown_user", id=2)
        await alice.send(type="ping", id=3)
        await alice.expect("pong", id=3)
        await alice.close()


# -- resume and history ------------------------------------------------------------------------

async def say_all(sender, room, texts):
    for t in texts:
        await sender.send(type="say", room=room, text=t)


class Resume(ChatTestCase):
    FLAGS = FAST

    @async_test
    async def test_reconnect_with_since_receives_exactly_what_it_missed(self):
        s = self.server
        alice, _ = await connect(s, "alice")
        bob, _ = await connect(s, "bob")
        carol, _ = await connect(s, "carol")
        for c in (alice, bob, carol):
            await join(c, "dev")
        await say_all(alice, "dev", ["m1", "m2", "m3"])
        got = await carol.messages("dev", 3)
        await bob.messages("dev", 3)
        last = got[-1]["seq"]
        self.assertEqual(last, 3)
        await carol.close()
        await bob.until_change("lobby", "carol's leave", left="carol")
        missed = [f"missed {i}" for i in range(7)]
        await asyncio.gather(say_all(alice, "dev", missed[0::2]), say_all(bob, "dev", missed[1::2]))
        expected = await bob.messages("dev", 7)  # bob never left: he has all of it live
        self.assertEqual([e["seq"] for e in expected], list(range(4, 11)))
        carol, _ = await connect(s, "carol", settle=True)
        await carol.send(type="join", room="dev", since=last, id=11)
        p = await carol.reply("presence", room="dev", id=11)
        self.assertEqual(sorted(p["users"]), ["alice", "bob", "carol"])
        h = await carol.reply("history", room="dev", id=11)
        self.assertEqual(h["messages"], expected, "history after since: exactly the missed ones, "
                                                  "as they were broadcast")
        self.assertEqual((h["from"], h["to"]), (4, 10))
        # Then live again, with no duplicate of what the history held.
        await alice.send(type="say", room="dev", text="after")
        got = await carol.until(lambda e: e["type"] == "message", "the first live message")
        self.assertEqual([e["seq"] for e in got if e["type"] == "message"], [11])
        self.assertEqual([e["type"] for e in got if e["type"] not in ("presence_change", "message")], [])
        await close_all([alice, bob, carol])

    @async_test
    async def test_since_the_latest_seq_gets_an_empty_history(self):
        s = self.server
        alice, _ = await connect(s, "alice")
        await join(alice, "dev")
        await say_all(alice, "dev", ["a", "b"])
        await alice.messages("dev", 2)
        await alice.send(type="join", room="dev", since=2, id=1)
        await alice.reply("presence", room="dev", id=1)
        h = await alice.reply("history", room="dev", id=1)
        self.assertEqual(h["messages"], [])
        await alice.close()


class ResumeSmallHistory(ChatTestCase):
    FLAGS = FAST + ("--history", "5")

    @async_test
    async def test_missed_more_than_the_history_keeps_gives_a_gap_then_the_kept_ones(self):
        s = self.server
        alice, _ = await connect(s, "alice")
        carol, _ = await connect(s, "carol")
        await join(alice, "dev")
        await join(carol, "dev")
        await say_all(alice, "dev", ["one", "two"])
        self.assertEqual([e["seq"] for e in await carol.messages("dev", 2)], [1, 2])
        await carol.close()
        await say_all(alice, "dev", [f"t{i}" for i in range(3, 15)])  # seqs 3..14
        live = await alice.messages("dev", 14)
        carol, _ = await connect(s, "carol")
        await carol.send(type="join", room="dev", since=2)
        await carol.reply("presence", room="dev")
        gap = await carol.reply("gap", room="dev")
        self.assertEqual((gap["from"], gap["to"], gap["reason"]), (3, 9, "history"),
                         "seqs 3..9 are no longer kept (history 5: 10..14 are)")
        h = await carol.reply("history", room="dev")
        self.assertEqual(h["messages"], live[9:14])
        self.assertEqual((h["from"], h["to"]), (10, 14))
        await close_all([alice, carol])


class HistoryRequests(ChatTestCase):
    FLAGS = FAST + ("--history", "10")

    @async_test
    async def test_history_ranges_limits_gaps_and_errors(self):
        s = self.server
        alice, _ = await connect(s, "alice")
        await join(alice, "h")
        await say_all(alice, "h", [f"h{i}" for i in range(1, 13)])  # 1..12; kept: 3..12
        live = {e["seq"]: e for e in await alice.messages("h", 12)}
        bob, _ = await connect(s, "bob")  # never joined h: history works on any room

        async def ask(**req):
            await bob.send(type="history", room="h", **req)
            got = await bob.until(lambda e: e["type"] in ("history", "error"), f"reply to {req}")
            return [e for e in got if e["type"] not in NOTICES]

        def msgs(seqs):
            return [live[i] for i in seqs]

        got = await ask(**{"from": 5, "to": 8, "id": "r1"})
        self.assertEqual(len(got), 1, got)
        self.assertEqual(got[0]["messages"], msgs(range(5, 9)))
        self.assertEqual((got[0]["from"], got[0]["to"], got[0]["id"]), (5, 8, "r1"))

        got = await ask(**{"from": 5, "limit": 2})
        self.assertEqual(got[-1]["messages"], msgs([5, 6]))
        self.assertEqual((got[-1]["from"], got[-1]["to"]), (5, 6))

        got = await ask(**{"from": 11})  # to defaults to the latest
        self.assertEqual(got[-1]["messages"], msgs([11, 12]))

        got = await ask(**{"from": 1, "to": 4, "id": 7})
        self.assertEqual([e["type"] for e in got], ["gap", "history"], got)
        self.assertEqual((got[0]["room"], got[0]["from"], got[0]["to"], got[0]["reason"]),
                         ("h", 1, 2, "history"))
        self.assertEqual(got[1]["messages"], msgs([3, 4]))
        self.assertEqual((got[1]["from"], got[1]["to"], got[1]["id"]), (3, 4, 7))

        got = await ask(**{"from": 1})
        self.assertEqual([e["type"] for e in got], ["gap", "history"], got)
        self.assertEqual((got[0]["from"], got[0]["to"]), (1, 2))
        self.assertEqual(got[1]["messages"], msgs(range(3, 13)))

        got = await ask(**{"from": 13})  # beyond the latest: nothing, no gap
        self.assertEqual([e["type"] for e in got], ["history"], got)
        self.assertEqual(got[0]["messages"], [])

        for req, code in ((({"from": 8, "to": 5, "id": 1}), "bad_range"),
                          (({"from": 1, "limit": 0, "id": 2}), "bad_range"),
                          (({"from": 1, "limit": 101, "id": 3}), "out_of_range"),
                          (({"from": 1.5, "id": 4}), "not_integer"),
                          (({"id": 5}), "missing_field")):
            got = await ask(**req)
            self.assertEqual(len(got), 1, got)
            self.assertEqual((got[0]["type"], got[0]["code"], got[0]["id"]),
                             ("error", code, req["id"]), req)
        await close_all([alice, bob])

    @async_test
    async def test_history_of_a_room_nobody_joined_is_empty(self):
        # docs: "who and history work on any room (an unknown room has no users and no messages)".
        bob, _ = await connect(self.server, "bob", settle=True)
        await bob.send(**{"type": "history", "room": "never", "from": 1, "id": 9})
        h = await bob.reply("history", room="never", id=9)
        self.assertEqual(h["messages"], [])
        await bob.close()


# -- slow consumers ----------------------------------------------------------------------------

class SlowConsumer(ChatTestCase):
    FLAGS = FAST + ("--slow-consumer-bytes", "1024", "--ping-interval", "0")

    @async_test
    async def test_a_stalled_reader_is_skipped_then_told_the_exact_gap_others_unaffected(self):
        await self.stalled_reader(notices=False)

    @async_test
    async def test_the_gap_stays_exact_with_join_and_leave_notices_among_the_messages(self):
        # Presence notices travel through the ring with the room's messages but carry no seq.
        # The sender writes say, say, leave, join in one TCP write, so the server reads them in
        # one go and the stalled reader's loop gets room batches that end with a notice.
        await self.stalled_reader(notices=True)

    async def stalled_reader(self, notices):
        s = self.server
        # A tiny receive window, so what the server cannot send piles up in its own queue.
        slow = raw_chat(s, "slow", rcvbuf=4096)
        # With notices, the sender shares the stalled reader's loop, so that loop drains each
        # write's four ring entries in one round (another loop may wake between them).
        extra = []
        while True:
            sender = raw_chat(s, "sender")
            where = loops_of(s, {slow.sock.getsockname()[1], sender.sock.getsockname()[1]})
            if not notices or len(set(where.values())) == 1:
                break
            extra.append(sender)
            self.assertLess(len(extra), 40, "40 connections, none on the stalled reader's loop")
        for c in extra:
            c.close()
        stop = threading.Event()
        drain = threading.Thread(target=discard_until, args=(sender, stop), daemon=True)
        watchers = []
        try:
            for c in (slow, sender):
                raw_send(c, type="join", room="slow")
                self.assertEqual(raw_reply(c)["type"], "presence")
            drain.start()  # the sender reads (and ignores) its events in a thread
            watchers = [(await connect(s, f"w{i}"))[0] for i in range(2)]
            for c in watchers:
                await join(c, "slow")
            # The server's kernel send buffer grows to tcp_wmem's maximum (4 MiB on Debian) even
            # for a peer that reads nothing; only past that does the server queue, and skip.
            try:
                wmem_max = int(open("/proc/sys/net/ipv4/tcp_wmem").read().split()[2])
            except (OSError, IndexError, ValueError):
                wmem_max = 4 << 20
            text = "x" * 3996
            n = max(1600, wmem_max * 3 // 2 // 4000) // 2 * 2

            def frame(**obj):
                return build_frame(TEXT, json.dumps(obj).encode())

            def flood():
                for k in range(0, n, 2):
                    frames = [frame(type="say", room="slow", text=f"{k:04d}{text}"),
                              frame(type="say", room="slow", text=f"{k + 1:04d}{text}")]
                    if notices:
                        frames += [frame(type="leave", room="slow"), frame(type="join", room="slow")]
                    sender.send(b"".join(frames))

            # Everyone else gets every message promptly while `slow` reads nothing.
            results = await asyncio.gather(*(c.messages("slow", n, 20) for c in watchers),
                                           asyncio.to_thread(flood))
            for c, got in zip(watchers, results):
                self.assertEqual([e["seq"] for e in got], list(range(1, n + 1)), c.name)
                self.assertEqual([int(e["text"][:4]) for e in got], list(range(n)), c.name)
            # Someone joins while `slow` is still skipped: its messages may be skipped (a gap
            # tells it), but its presence notices are not, since nothing would tell it.
            late = (await connect(s, "late"))[0]
            watchers.append(late)
            await join(late, "slow")
            await watchers[0].until_change("slow", "late's join", joined="late")
            seen_notices = []

            # Now `slow` reads: what it was sent, a slow_consumer gap, maybe more; together
            # every seq 1..n exactly once, in order.
            covered, gaps, order = [], [], []
            end = time.monotonic() + 15
            while len(covered) < n and (not covered or covered[-1] < n):
                try:
                    left = min(IO_DEADLINE, end - time.monotonic())
                    ev = await asyncio.to_thread(raw_event, slow, max(0.01, left))
                except TimeoutError:
                    self.fail(f"the stalled reader, reading again, stopped receiving after "
                              f"{summarize(order)} (of 1..{n})")
                if ev["type"] == "message":
                    covered.append(ev["seq"])
                    order.append((ev["seq"], ev["seq"]))
                elif ev["type"] == "gap":
                    self.assertEqual((ev["room"], ev["reason"]), ("slow", "slow_consumer"), ev)
                    gaps.append((ev["from"], ev["to"]))
                    covered.extend(range(ev["from"], ev["to"] + 1))
                    order.append(("gap", ev["from"], ev["to"]))
                else:
                    self.assertIn(ev["type"], NOTICES, ev)
                    seen_notices.append(ev)
            self.assertTrue(gaps, f"no slow_consumer gap: the stalled reader got everything "
                                  f"({len(order)} events); make the flood bigger")
            if covered != list(range(1, n + 1)):
                self.fail(f"messages and gaps do not cover 1..{n} exactly once in order: "
                          f"{summarize(order)}")
            # And it is live again.
            raw_send(sender, type="say", room="slow", text="after")
            while True:
                ev = await asyncio.to_thread(raw_event, slow)
                if ev["type"] not in NOTICES:
                    break
                seen_notices.append(ev)
            self.assertEqual((ev["type"], ev.get("seq"), ev.get("text")), ("message", n + 1, "after"))
            self.assertTrue([e for e in seen_notices if e["type"] == "presence_change" and
                             "late" in e.get("joined", [])],
                            f"the stalled reader missed late's join: {seen_notices[-5:]}")
        finally:
            await close_all(watchers)
            stop.set()
            drain.join(IO_DEADLINE)
            sender.close()
            slow.close()


def discard_until(c, stop):
    """Reads and drops everything c receives until stop is set or the connection ends."""
    # select(), not a socket timeout: the timeout is shared with the thread that writes to the
    # same socket, whose sendall must be free to wait for a slow server.
    while not stop.is_set():
        try:
            ready, _, _ = select.select([c.sock], [], [], 0.1)
            if ready and not c.sock.recv(1 << 16, socket.MSG_DONTWAIT):
                return
        except BlockingIOError:
            continue
        except OSError:
            return


def summarize(order):
    """[(1,1),(2,2),("gap",3,9),(10,10)] -> "1..2, gap 3..9, 10..10": runs of consecutive seqs."""
    out, run = [], None
    for item in order:
        if item[0] == "gap":
            if run:
                out.append(f"{run[0]}..{run[1]}")
                run = None
            out.append(f"gap {item[1]}..{item[2]}")
        elif run and item[0] == run[1] + 1:
            run[1] = item[0]
        else:
            if run:
                out.append(f"{run[0]}..{run[1]}")
            run = [item[0], item[0]]
    if run:
        out.append(f"{run[0]}..{run[1]}")
    return ", ".join(out)


# -- rate limit --------------------------------------------------------------------------------

class RateLimitAbuse(ChatTestCase):
    FLAGS = ("--rate", "1", "--burst", "3", "--rate-close-after", "5")

    def test_a_client_that_keeps_sending_over_the_limit_is_closed_with_1008(self):
        watcher = raw_chat(self.server, "watcher")
        c = raw_chat(self.server, "flood")
        try:
            c.send(b"".join(build_frame(TEXT, json.dumps({"type": "say", "room": "lobby",
                                                          "text": f"m{i}", "id": i}).encode())
                            for i in range(20)))
            # Five refusals (ids 3..7), then the sixth closes; the three accepted messages
            # travel through the ring and may not reach the closing sender itself.
            errors = []
            while True:
                fin, rsv, op, data = c.read_frame()
                if op == CLOSE:
                    break
                ev = json.loads(data)
                if ev["type"] == "error":
                    errors.append((ev["code"], ev["id"]))
            self.assertEqual(errors, [("rate_limited", i) for i in range(3, 8)])
            self.assertEqual(struct.unpack("!H", data[:2])[0], 1008)
            self.assertEqual(data[2:], b"rate limit exceeded")
            c.reply_close_and_expect_eof(1008)
            # The room got exactly the three accepted messages.
            texts = [raw_reply(watcher)["text"] for _ in range(3)]
            self.assertEqual(texts, ["m0", "m1", "m2"])
        finally:
            c.close()
            watcher.close()

    def test_malformed_messages_take_tokens_too(self):
        c = raw_chat(self.server, "sloppy")
        try:
            c.send(b"".join(build_frame(TEXT, b"{not json") for _ in range(3)))
            for _ in range(3):
                self.assertEqual(raw_reply(c)["code"], "bad_json")
            raw_send(c, type="say", room="lobby", text="now", id="late")
            ev = raw_reply(c)
            self.assertEqual((ev["type"], ev["code"], ev["id"]), ("error", "rate_limited", "late"))
        finally:
            c.close()


class RateLimit(ChatTestCase):
    FLAGS = ("--rate", "1", "--burst", "3")

    @async_test
    async def test_a_burst_over_the_bucket_is_refused_per_message_and_the_connection_stays(self):
        alice, _ = await connect(self.server, "alice")
        await alice.expect_change("lobby", joined=["alice"])
        for i in range(10):
            await alice.send(type="say", room="lobby", text=f"burst {i}", id=i)
        got = [await alice.recv() for _ in range(10)]
        accepted = [e for e in got if e["type"] == "message"]
        refused = [e for e in got if e["type"] == "error"]
        self.assertEqual(len(accepted), 3, got)
        self.assertEqual([e["text"] for e in accepted], ["burst 0", "burst 1", "burst 2"])
        self.assertEqual([e["seq"] for e in accepted], [1, 2, 3])
        self.assertEqual(len(refused), 7, got)
        self.assertTrue(all(e["code"] == "rate_limited" for e in refused), refused)
        self.assertEqual([e["id"] for e in refused], list(range(3, 10)))
        # Still limited right away; sending works again once the bucket refills (1 per second).
        start = time.monotonic()
        attempt = 100
        while True:
            await alice.send(type="say", room="lobby", text="again", id=attempt)
            ev = await alice.recv()
            if ev["type"] == "message":
                break
            self.assertEqual((ev["code"], ev["id"]), ("rate_limited", attempt))
            self.assertLess(time.monotonic() - start, 1 + MARGIN, "no refill")
            attempt += 1
            await asyncio.sleep(0.2)  # pacing retries, each spends a token once refilled
        self.assertGreater(attempt, 100, "a say right after the burst was accepted")
        self.assertEqual(ev["seq"], 4)
        await alice.close()


# -- identity at the handshake -----------------------------------------------------------------

class Jwt(ChatTestCase):
    FLAGS = ("--jwt-secret", SECRET)

    @async_test
    async def test_a_token_from_epws_token_is_accepted_and_its_sub_is_the_identity(self):
        s = self.server
        token = cli_token(SECRET, "alice")
        alice, p = await connect(s, "alice", path=chat_path(token=token))
        self.assertEqual(alice.welcome["user"], "alice")
        self.assertEqual(p["users"], ["alice"])
        # username equal to sub is fine too; a stdlib-minted token works the same way.
        bob, _ = await connect(s, "bob", path=chat_path("bob", py_token(SECRET, "bob", time.time() + 60)))
        self.assertEqual(bob.welcome["user"], "bob")
        await close_all([alice, bob])

    def test_bad_expired_missing_or_mismatched_tokens_are_refused_with_401(self):
        s = self.server
        now = int(time.time())
        cases = {
            "missing token": chat_path("alice"),
            "no query at all": "/chat",
            "garbage": chat_path(token="not.a.token"),
            "wrong secret": chat_path(token=cli_token("another-secret-0123456789", "alice")),
            "expired": chat_path(token=py_token(SECRET, "alice", now - 10)),
            "tampered sub": chat_path(token=py_token(SECRET, "alice", now + 60).replace(
                b64url(json.dumps({"sub": "alice", "exp": now + 60}).encode()),
                b64url(json.dumps({"sub": "admin", "exp": now + 60}).encode()))),
            "username differs from sub": chat_path("mallory", cli_token(SECRET, "alice")),
        }
        for what, path in cases.items():
            with self.subTest(what):
                self.assertEqual(handshake_status(s, path), 401, path)
        # The same answer as a conforming client sees it.
        async def client():
            with self.assertRaises(websockets.exceptions.InvalidStatusCode) as cm:
                await websockets.connect(s.url(cases["expired"]), open_timeout=IO_DEADLINE)
            self.assertEqual(cm.exception.status_code, 401)
        asyncio.run(client())
        # The refusals reached no room.
        self.assertEqual(handshake_status(s, chat_path(token=py_token(SECRET, "ok", now + 60))), 101)


class DevelopmentMode(ChatTestCase):
    FLAGS = ("--connections-per-user", "2")

    def test_missing_or_invalid_username_is_401(self):
        s = self.server
        for path in ("/chat", "/chat?username=", "/chat?token=x", chat_path("bad\x01name"),
                     chat_path(" padded"), chat_path("x" * 33)):
            with self.subTest(path=path):
                self.assertEqual(handshake_status(s, path), 401)
        self.assertEqual(handshake_status(s, chat_path("x" * 32)), 101)

    def test_a_third_connection_of_a_user_is_429_and_a_closed_one_frees_a_place(self):
        s = self.server
        open_ = [raw_chat(s, "alice"), raw_chat(s, "alice")]
        try:
            self.assertEqual(handshake_status(s, chat_path("alice")), 429)
            self.assertEqual(handshake_status(s, chat_path("alice")), 429, "a refusal took a place")
            b = raw_chat(s, "bob")  # others are not affected
            b.close()
            open_.pop(0).close()

            def try_open():
                c = RawClient(s.host, s.port)
                if c.handshake(chat_path("alice"))[0] == 101:
                    return c
                c.close()
                return None

            open_.append(poll_until(try_open, IO_DEADLINE,
                                    "a place for alice after one of her two connections closed"))
            self.assertEqual(handshake_status(s, chat_path("alice")), 429, "three of alice open")
        finally:
            for c in open_:
                c.close()


# -- keep-alive --------------------------------------------------------------------------------

class IdleNoPings(ChatTestCase):
    FLAGS = ("--idle-timeout", "1", "--ping-interval", "0")

    def test_a_silent_client_is_closed_with_1001_after_the_idle_timeout(self):
        c = raw_chat(self.server, "quiet")
        try:
            start = time.monotonic()
            while True:
                fin, rsv, op, payload = c.read_frame(1 + MARGIN)
                self.assertNotEqual(op, PING, "a ping with --ping-interval 0")
                if op == CLOSE:
                    break
            self.assertGreater(time.monotonic() - start, 0.7, "closed before the idle timeout")
            self.assertEqual(int.from_bytes(payload[:2], "big"), 1001)
            c.reply_close_and_expect_eof(1001, MARGIN)
        finally:
            c.close()


class IdleWithPings(ChatTestCase):
    FLAGS = ("--idle-timeout", "1", "--ping-interval", "0.3")

    @async_test
    async def test_a_client_answering_server_pings_outlives_the_idle_timeout(self):
        # websockets answers pings by itself; its own keepalive is off (ping_interval=None).
        alice, _ = await connect(self.server, "alice")
        with self.assertRaises(asyncio.TimeoutError, msg="closed though it answered every ping"):
            await asyncio.wait_for(alice.ws.wait_closed(), 2.5)  # 2.5 idle timeouts
        await alice.send(type="ping", id=1)
        await alice.until(lambda e: e["type"] == "pong", "pong")
        await alice.close()

    def test_a_raw_client_that_never_answers_gets_pings_then_1001(self):
        c = raw_chat(self.server, "mute")
        try:
            pings, start = 0, time.monotonic()
            while True:
                try:
                    fin, rsv, op, payload = c.read_frame(1 + MARGIN)
                except Closed:
                    self.fail("TCP closed without a close frame")
                if op == PING:
                    pings += 1
                elif op == CLOSE:
                    break
            self.assertGreaterEqual(pings, 2, "server pings every 0.3 s")
            self.assertGreater(time.monotonic() - start, 0.7)
            self.assertEqual(int.from_bytes(payload[:2], "big"), 1001)
        finally:
            c.close()


class ServerPings(ChatTestCase):
    FLAGS = ("--ping-interval", "0.5")

    def test_a_chat_client_receives_ping_frames(self):
        c = raw_chat(self.server, "pinged")
        try:
            pings = 0
            end = time.monotonic() + 0.5 * 3 + MARGIN
            while pings < 3:
                fin, rsv, op, payload = c.read_frame(max(0.01, end - time.monotonic()))
                self.assertIn(op, (PING, TEXT), "only pings and events on an idle connection")
                if op == PING:
                    pings += 1
        finally:
            c.close()


# -- /broadcast --------------------------------------------------------------------------------

class Broadcast(ChatTestCase):
    @async_test
    async def test_every_subscriber_gets_every_message_once_in_each_publishers_order(self):
        s = self.server
        conns = []
        try:
            for _ in range(25):
                conns.append(await websockets.connect(s.url("/broadcast"), open_timeout=IO_DEADLINE,
                                                      ping_interval=None, max_size=None))
            where = loops_of(s, {w.local_address[1] for w in conns})
            self.assertEqual(len(where), 25)
            self.assertEqual(set(where.values()), {0, 1}, "25 connections all on one loop")
            publishers, per = conns[:5], 50
            # Everyone is subscribed before anything is sent: wait until the server counts them.
            poll_until(lambda: s.stats()["connections"] >= 25, IO_DEADLINE, "25 connections")

            async def publish(i, w):
                for k in range(per):
                    await w.send(f"p{i}-{k}")

            async def collect(w):
                got = []
                while len(got) < 5 * per:
                    got.append(await asyncio.wait_for(w.recv(), 15))
                return got

            results = await asyncio.gather(*(collect(w) for w in conns),
                                           *(publish(i, w) for i, w in enumerate(publishers)))
            for j, got in enumerate(results[:len(conns)]):
                self.assertEqual(len(set(got)), 5 * per, f"subscriber {j}: duplicates")
                for i in range(5):
                    mine = [m for m in got if m.startswith(f"p{i}-")]
                    self.assertEqual(mine, [f"p{i}-{k}" for k in range(per)],
                                     f"subscriber {j}: publisher {i}'s messages")
            # Nothing extra follows: the next message everyone gets is the end marker.
            await conns[-1].send("end")
            for j, w in enumerate(conns):
                self.assertEqual(await asyncio.wait_for(w.recv(), IO_DEADLINE), "end", j)
        finally:
            await asyncio.gather(*(w.close() for w in conns), return_exceptions=True)


# -- malformed input ---------------------------------------------------------------------------

class MalformedInput(ChatTestCase):
    FLAGS = FAST

    @async_test
    async def test_each_bad_message_gets_its_documented_error_and_the_connection_stays(self):
        alice, _ = await connect(self.server, "alice")
        await alice.expect_change("lobby", joined=["alice"])
        cases = [
            ("not json", "bad_json", None),
            ('{"type":"ping"} {}', "bad_json", None),
            ("[1,2]", "not_object", None),
            ('{"room":"lobby","id":1}', "missing_type", None),
            ('{"type":"dance","id":2}', "unknown_type", None),
            ('{"type":"SAY","room":"lobby","text":"x","id":3}', "unknown_type", None),
            ('{"type":"say","room":"lobby","id":4}', "missing_field", "text"),
            ('{"type":"say","text":"x","id":5}', "missing_field", "room"),
            ('{"type":"say","room":5,"text":"x","id":6}', "wrong_type", "room"),
            ('{"type":"say","room":"lobby","text":7,"id":7}', "wrong_type", "text"),
            ('{"type":"say","room":"lobby","room":"lobby","text":"x","id":8}', "duplicate_field", "room"),
            (json.dumps({"type": "say", "room": "lobby", "text": "x" * 4097, "id": 9}), "text_too_long", "text"),
            (json.dumps({"type": "say", "room": "lobby", "text": "é" * 2049, "id": 10}), "text_too_long", "text"),
            (json.dumps({"type": "say", "room": "lobby", "text": "a\rb", "id": 11}), "control_characters", "text"),
            (json.dumps({"type": "say", "room": "lobby", "text": "a\x00b", "id": 12}), "control_characters", "text"),
            (json.dumps({"type": "say", "room": "lobby", "text": "a\x1b[31m", "id": 13}), "control_characters", "text"),
            (json.dumps({"type": "say", "room": "lobby", "text": "a\u0085", "id": 14}), "control_characters", "text"),
            (json.dumps({"type": "say", "room": "lobby", "text": " \t\n ", "id": 15}), "text_empty", "text"),
            (json.dumps({"type": "say", "room": "lobby", "text": "", "id": 16}), "text_empty", "text"),
            (json.dumps({"type": "say", "room": "elsewhere", "text": "x", "id": 17}), "not_in_room", "room"),
            (json.dumps({"type": "join", "room": "a b", "id": 18}), "bad_room", "room"),
            (json.dumps({"type": "join", "room": "a/b", "id": 19}), "bad_room", "room"),
            (json.dumps({"type": "dm", "to": "", "text": "x", "id": 20}), "bad_user", "to"),
            (json.dumps({"type": "ping", "id": "x" * 65}), "bad_id", "id"),
            ('{"type":"ping","id":null}', "wrong_type", "id"),
            ('{"type":"join","room":"lobby","since":-1,"id":21}', "out_of_range", "since"),
            ('{"type":"join","room":"lobby","since":1e2,"id":22}', "not_integer", "since"),
            ('{"type":"join","room":"lobby","since":01,"id":23}', "bad_number", None),
            ('{"type":"ping","id":"\\ud800"}', "bad_escape", None),
            (json.dumps({"type": "say", "room": "lobby", "text": "y" * 17000, "id": 24}), "too_large", None),
        ]
        for frame, code, field in cases:
            with self.subTest(frame=frame[:60]):
                await alice.send_raw(frame)
                ev = await alice.recv()
                self.assertEqual((ev["type"], ev.get("code")), ("error", code), f"{frame[:80]} -> {ev}")
                self.assertIsInstance(ev.get("reason"), str)
                if field is not None:
                    self.assertEqual(ev.get("field"), field, ev)
                # docs/chat-protocol.md: an error echoes the id once it has been read, which is
                # after the frame is one JSON object and unless the id itself is what is wrong.
                unread = code in ("too_large", "bad_json", "bad_escape", "bad_number",
                                  "not_object", "bad_id") or field == "id"
                if unread:
                    self.assertNotIn("id", ev, f"{frame[:80]}: an id the server did not read")
                else:
                    self.assertEqual(ev.get("id"), json.loads(frame).get("id"), ev)
        # Still open and working; limits are inclusive.
        for text in ("x" * 4096, "€" * 1365 + "a", "tab\tand\nnewline kept", "  padded  "):
            await alice.send(type="say", room="lobby", text=text)
            ev = await alice.expect("message", room="lobby")
            self.assertEqual(ev["text"], text, "delivered exactly as sent")
        # A binary frame ends it: close 1003.
        await alice.send_raw(b'{"type":"ping"}')
        with self.assertRaises(websockets.exceptions.ConnectionClosed):
            await alice.recv()
        self.assertEqual(alice.ws.close_code, 1003)


# -- non-ASCII ---------------------------------------------------------------------------------

class RejoinInOneWrite(ChatTestCase):
    """One loop, one write: the loop handles every message of it before it drains the ring, so
    the ring batch it then delivers holds entries from before the last join."""
    FLAGS = FAST + ("--threads", "1")

    def test_what_came_before_a_rejoin_is_not_delivered_again_after_it(self):
        c = raw_chat(self.server, "carol")
        try:
            c.send(b"".join(build_frame(TEXT, json.dumps(m).encode()) for m in (
                {"type": "join", "room": "dev"}, {"type": "say", "room": "dev", "text": "hello"},
                {"type": "leave", "room": "dev"},
                {"type": "join", "room": "dev", "since": 0, "id": 1})))
            got = []
            while not (got and got[-1][0] == "presence_change" and got[-1][1] == "dev"):
                ev = raw_event(c)
                if ev.get("room") != "lobby":
                    got.append((ev["type"], ev.get("room"),
                                [m["seq"] for m in ev.get("messages", [])] or ev.get("seq")))
            # The replayed seq 1 is not sent again live, and neither are the join and leave
            # notices from before the rejoin (the second presence reply covers them): only the
            # rejoin's own notice follows the history.
            self.assertEqual(got, [("presence", "dev", None), ("leave", "dev", None),
                                   ("presence", "dev", None), ("history", "dev", [1]),
                                   ("presence_change", "dev", None)])
            raw_send(c, type="say", room="dev", text="live")
            ev = raw_reply(c)
            self.assertEqual((ev["type"], ev["seq"], ev["text"]), ("message", 2, "live"))
        finally:
            c.close()


class RoomLimits(ChatTestCase):
    # Everyone starts in lobby, which counts: 3 rooms per connection is lobby + 2.
    FLAGS = FAST + ("--rooms-per-connection", "3", "--max-rooms", "4")

    def join_reply(self, c, room):
        raw_send(c, type="join", room=room, id=room)
        return raw_reply(c)

    def test_joins_over_the_per_connection_and_server_room_limits_get_too_many_rooms(self):
        a, b = raw_chat(self.server, "alice"), raw_chat(self.server, "bob")
        try:
            for room in ("r1", "r2"):
                self.assertEqual(self.join_reply(a, room)["type"], "presence")
            ev = self.join_reply(a, "r3")
            self.assertEqual((ev["type"], ev["code"], ev.get("id")),
                             ("error", "too_many_rooms", "r3"))
            # The server has lobby, r1, r2: one more room may be created, then none.
            self.assertEqual(self.join_reply(b, "r3")["type"], "presence")
            ev = self.join_reply(b, "r4")
            self.assertEqual((ev["type"], ev["code"]), ("error", "too_many_rooms"))
            # Existing rooms can still be joined, and the refused connection still works.
            self.assertEqual(self.join_reply(b, "r1")["type"], "presence")
            raw_send(a, type="say", room="r1", text="still here")
            self.assertEqual(raw_reply(a)["text"], "still here")
        finally:
            a.close()
            b.close()


class NonAscii(ChatTestCase):
    FLAGS = FAST

    @async_test
    async def test_chinese_and_emoji_names_rooms_and_text_round_trip(self):
        s = self.server
        zh, emoji = "名前", "👩‍💻 dev"
        a, p = await connect(s, zh)
        self.assertEqual((a.welcome["user"], p["users"]), (zh, [zh]))
        b, p = await connect(s, emoji)
        self.assertEqual(sorted(p["users"]), sorted([zh, emoji]))
        room = "日本語"
        for c in (a, b):
            await join(c, room)
        text = "你好，世界 🙂👍🏽 \"quoted\" \\ back\tslash\nline é"
        await a.send(type="say", room=room, text=text)
        for c in (a, b):
            ev = (await c.messages(room, 1))[0]
            self.assertEqual((ev["room"], ev["from"], ev["text"]), (room, zh, text))
        await b.send(type="dm", to=zh, text="🙂")
        for c in (a, b):
            ev = (await c.until(lambda e: e["type"] == "dm", "dm"))[-1]
            self.assertEqual((ev["from"], ev["to"], ev["text"]), (emoji, zh, "🙂"))
        # Escaped surrogate pairs are the same text.
        await a.send_raw('{"type":"say","room":"' + room + '","text":"\\ud83d\\ude42"}')
        ev = (await b.messages(room, 1))[0]
        self.assertEqual(ev["text"], "🙂")
        await close_all([a, b])


if __name__ == "__main__":
    unittest.main()
