"""tests/integration/test_redis.py: several epws nodes sharing rooms through one Redis (--redis,
docs/redis.md): one gap-free order per room across nodes, history and resume on another node,
Redis paused and restarted under a conversation.

Layer: tests/. Starts its own redis-server (Debian's, Redis 7) on a free loopback port in a
temporary folder, and two or three epws processes. Nothing sleeps to wait: every wait polls.
"""

import asyncio
import signal
import time
import unittest

from harness import IO_DEADLINE, TEXT, RedisServer as Redis, Server, poll_until
from test_chat import Chat, async_test, close_all, connect, join, say_all  # noqa: F401

TIMEOUT = "0.5"  # --redis-timeout: a paused Redis counts as down after half a second
FAST = ("--rate", "100000", "--burst", "100000")


def redis_state(server):
    return server.stats()["redis_state"]


def metrics(server):
    """GET /metrics as a dict of sample line -> value (Prometheus text)."""
    status, _, body = server.http_get("/metrics")
    assert status == 200, status
    out = {}
    for line in body.decode().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            out[name] = float(value)
    return out


class NodesTestCase(unittest.TestCase):
    """A Redis and NODES epws processes pointing at it, fresh for every test."""

    NODES = 2
    PERSISTENT = False
    FLAGS = ()

    def setUp(self):
        self.redis = Redis(self.PERSISTENT).start()
        self.nodes = []
        for _ in range(self.NODES):
            self.nodes.append(Server("--threads", "2", "--close-timeout", "1", "--redis", self.redis.url,
                                     "--redis-timeout", TIMEOUT, *FAST, *self.FLAGS).start())
        for n in self.nodes:
            poll_until(lambda n=n: redis_state(n) == "up", IO_DEADLINE, "every node connected")

    def tearDown(self):
        dead = [n for n in self.nodes if not n.alive()]
        logs = [n.stderr_text() for n in dead]
        unclean = []
        for n in self.nodes:
            status = n.stop()
            if status != 0:  # a sanitizer report at exit, or a crash at shutdown
                unclean.append((status, n.stderr_text()))
            n.close()
        self.redis.close()
        if dead:
            self.fail(f"an epws node exited during this test; stderr: {logs!r}")
        if unclean:
            self.fail(f"an epws node did not exit cleanly on SIGTERM: {unclean!r}")


async def resume_on_another_node(test, a, b, back_on):
    """Alice on a, Bob on b and Carol on a share "dev"; Carol leaves after three messages, both
    nodes send five more, and Carol joins again on back_on with since: her history there is
    exactly those five, from the room's stream. Returns the three clients and her last seq."""
    alice, _ = await connect(a, "alice")
    bob, _ = await connect(b, "bob")
    carol, _ = await connect(a, "carol")
    for x in (alice, bob, carol):
        await join(x, "dev")
    await say_all(alice, "dev", ["m1", "m2", "m3"])
    last = (await carol.messages("dev", 3))[-1]["seq"]
    await bob.messages("dev", 3)
    await carol.close()
    await asyncio.gather(say_all(alice, "dev", ["x0", "x2", "x4"]), say_all(bob, "dev", ["x1", "x3"]))
    expected = await bob.messages("dev", 5)
    carol, _ = await connect(back_on, "carol")
    await carol.send(type="join", room="dev", since=last, id=7)
    await carol.reply("presence", room="dev", id=7)
    h = await carol.reply("history", room="dev", id=7)
    test.assertEqual(h["messages"], expected, "the history on another node is the stream's")
    test.assertEqual((h["from"], h["to"]), (last + 1, last + 5))
    return alice, bob, carol, last


def check_one_order(test, clients_events, total):
    """Every client saw seqs 1..total once each, in order, and the same message under each seq."""
    reference = None
    for name, events in clients_events.items():
        seqs = [e["seq"] for e in events]
        test.assertEqual(seqs, list(range(1, total + 1)), f"{name}: a gap, a duplicate or a reorder")
        by_seq = [(e["from"], e["text"]) for e in events]
        if reference is None:
            reference = by_seq
        test.assertEqual(by_seq, reference, f"{name} saw another order than the others")
    texts = [t for _, t in reference]
    test.assertEqual(len(set(texts)), total, "a message was numbered twice")


class CrossNode(NodesTestCase):
    NODES = 3

    @async_test
    async def test_clients_on_three_nodes_share_one_gap_free_order(self):
        clients = []
        for i, node in enumerate(self.nodes):
            for j in range(2):
                c, _ = await connect(node, f"u{i}{j}")
                await join(c, "dev")
                clients.append(c)
        per = 15
        await asyncio.gather(*(say_all(c, "dev", [f"{c.name}-{k}" for k in range(per)])
                               for c in clients))
        total = per * len(clients)
        got = await asyncio.gather(*(c.messages("dev", total, 15) for c in clients))
        check_one_order(self, {c.name: g for c, g in zip(clients, got)}, total)
        # Its own messages once: nothing more is queued for anyone.
        await clients[0].send(type="ping", id=1)
        rest = await clients[0].until(lambda e: e["type"] == "pong", "the pong")
        self.assertEqual([e for e in rest if e["type"] == "message"], [])
        await close_all(clients)

    @async_test
    async def test_resume_on_another_node_with_since_gets_exactly_what_was_missed(self):
        a, b, c = self.nodes
        # Carol comes back on a third node, which never served the room.
        alice, bob, carol, last = await resume_on_another_node(self, a, b, c)
        await alice.send(type="say", room="dev", text="live")
        got = await carol.messages("dev", 1)
        self.assertEqual(got[0]["seq"], last + 6)
        await close_all([alice, bob, carol])

    @async_test
    async def test_a_node_that_loses_its_redis_connections_fills_in_what_it_missed(self):
        a, b, _ = self.nodes
        alice, _ = await connect(a, "alice")
        bob, _ = await connect(b, "bob")
        for x in (alice, bob):
            await join(x, "dev")
        await say_all(alice, "dev", ["before"])
        await bob.messages("dev", 1)
        ids = self.redis.client_ids(b.proc.pid)
        self.assertEqual(len(ids), 2, "one command and one subscriber connection per node")
        for i in ids:
            self.redis.command("CLIENT", "KILL", "ID", i)
        # Published while b is cut off: b reads them from the stream when it is back.
        await say_all(alice, "dev", [f"during {k}" for k in range(20)])
        await alice.messages("dev", 21)
        got = await bob.messages("dev", 20, 10)
        self.assertEqual([e["seq"] for e in got], list(range(2, 22)))
        self.assertGreaterEqual(b.stats()["redis_connects"], 2)
        await close_all([alice, bob])


class RedisPaused(NodesTestCase):
    @async_test
    async def test_a_stopped_redis_blocks_no_loop_and_say_is_refused_until_it_is_back(self):
        a, b = self.nodes
        alice, _ = await connect(a, "alice")
        bob, _ = await connect(b, "bob")
        for x in (alice, bob):
            await join(x, "dev")
        echo = a.ws("/echo")
        self.redis.signal(signal.SIGSTOP)
        try:
            await say_all(alice, "dev", ["while paused"])  # accepted, then lost with the link
            # Longer than the timeout, the echo keeps answering at once.
            end = time.monotonic() + 3 * float(TIMEOUT)
            while time.monotonic() < end:
                t = time.monotonic()
                echo.send_frame(TEXT, b"still here")
                op, data = echo.read_message(1.0)
                self.assertEqual(data, b"still here")
                self.assertLess(time.monotonic() - t, 0.25, "an echo waited on Redis")
            poll_until(lambda: redis_state(a) != "up", IO_DEADLINE, "node a to see Redis down")
            self.assertEqual(metrics(a)["epws_redis_up"], 0)
            await alice.send(type="say", room="dev", text="refused", id=5)
            err = await alice.until(lambda e: e["type"] == "error", "the refusal")
            self.assertEqual((err[-1]["code"], err[-1].get("id")), ("unavailable", 5))
        finally:
            self.redis.signal(signal.SIGCONT)
        for n in self.nodes:
            poll_until(lambda n=n: redis_state(n) == "up", 10, "every node reconnected")
        m = metrics(a)
        self.assertEqual(m["epws_redis_up"], 1)
        self.assertGreaterEqual(m["epws_redis_disconnects_total"], 1)
        self.assertEqual(m["epws_redis_cluster_masters"], 0)
        self.assertIn('epws_bus_lag_entries{loop="1"}', m)
        await alice.send(type="say", room="dev", text="back")
        got = await bob.until(lambda e: e["type"] == "message" and e["text"] == "back", "back")
        seqs = [e["seq"] for e in got if e["type"] == "message"]
        self.assertEqual(seqs, sorted(set(seqs)), "one order after the pause too")
        echo.close()
        await close_all([alice, bob])


class RedisRestart(NodesTestCase):
    PERSISTENT = True

    @async_test
    async def test_a_restart_with_persistence_loses_nothing_acknowledged(self):
        a, b = self.nodes
        alice, _ = await connect(a, "alice")
        bob, _ = await connect(b, "bob")
        for x in (alice, bob):
            await join(x, "dev")
        await say_all(alice, "dev", [f"m{k}" for k in range(10)])
        before = await bob.messages("dev", 10)
        await alice.messages("dev", 10)
        self.redis.signal(signal.SIGKILL)
        self.redis.proc.wait(5)
        for n in self.nodes:
            poll_until(lambda n=n: redis_state(n) != "up", IO_DEADLINE, "the nodes to see Redis gone")
        # Local service goes on: the node answers what needs no Redis.
        await alice.send(type="ping", id=1)
        await alice.reply("pong", id=1)
        await alice.send(type="say", room="dev", text="refused", id=2)
        await alice.reply("error", code="unavailable", id=2)
        self.redis.start()  # same port, same folder: the append-only file is read back
        for n in self.nodes:
            poll_until(lambda n=n: redis_state(n) == "up", 10, "every node reconnected")
        await say_all(bob, "dev", ["after"])
        got = await alice.messages("dev", 1)
        self.assertEqual(got[0]["seq"], 11, "numbering goes on after what Redis acknowledged")
        carol, _ = await connect(b, "carol")
        await carol.send(type="join", room="dev", since=0, id=3)
        await carol.reply("presence", room="dev", id=3)
        h = await carol.reply("history", room="dev", id=3)
        self.assertEqual(h["messages"][:10], before)
        seqs = [m["seq"] for m in h["messages"]]
        if seqs[-1] == 10:  # "after" had not reached this node yet: it comes live, next
            seqs += [m["seq"] for m in await carol.messages("dev", 1)]
        self.assertEqual(seqs, list(range(1, 12)))
        await close_all([alice, bob, carol])


class RedisLost(NodesTestCase):
    @async_test
    async def test_a_flushed_redis_changes_the_epoch_and_resume_gets_a_gap_not_renumbering(self):
        a, b = self.nodes
        alice, _ = await connect(a, "alice")
        await join(alice, "dev")
        await say_all(alice, "dev", ["m1", "m2", "m3"])
        await alice.messages("dev", 3)
        epoch = self.redis.command("HGET", "epws:{dev}:meta", "epoch")
        self.redis.command("FLUSHALL")
        await say_all(alice, "dev", ["after the flush"])
        got = await alice.messages("dev", 1)
        self.assertEqual(got[0]["seq"], 4, "numbers never go back on a node that knew them")
        self.assertNotEqual(self.redis.command("HGET", "epws:{dev}:meta", "epoch"), epoch)
        carol, _ = await connect(b, "carol")
        await carol.send(type="join", room="dev", since=1, id=9)
        await carol.reply("presence", room="dev", id=9)
        gap = await carol.reply("gap", room="dev")
        self.assertEqual((gap["from"], gap["to"], gap["reason"]), (2, 3, "history"))
        h = await carol.reply("history", room="dev", id=9)
        self.assertEqual([m["seq"] for m in h["messages"]], [4])
        await close_all([alice, carol])


async def who(client, room, rid):
    await client.send(type="who", room=room, id=rid)
    p = await client.reply("presence", room=room, id=rid)
    return sorted(p["users"])


async def poll_who(client, room, want, deadline_s, what):
    """Asks who until the presence reply lists exactly `want`; fails naming `what`."""
    end = time.monotonic() + deadline_s
    rid, got = 100, None
    while time.monotonic() < end:
        rid += 1
        got = await who(client, room, rid)
        if got == sorted(want):
            return
        await asyncio.sleep(0.1)  # between polls of a condition, not a wait for an event
    raise AssertionError(f"{what}: presence still {got} after {deadline_s}s, expected {sorted(want)}")


class DirectMessages(NodesTestCase):
    FLAGS = ("--redis-presence-ttl", "1.5")

    @async_test
    async def test_a_dm_reaches_a_user_on_another_node_and_the_senders_tabs(self):
        a, b = self.nodes
        alice, _ = await connect(a, "alice")
        alice2, _ = await connect(a, "alice")  # another tab, same node
        bob, _ = await connect(b, "bob")
        # Wait until node a knows bob (its heartbeat reads the other nodes' users).
        end = time.monotonic() + 5
        while True:
            await alice.send(type="dm", to="bob", text="hello bob", id=1)
            ev = (await alice.until(lambda e: e["type"] in ("dm", "error"), "the dm or its error"))[-1]
            if ev["type"] == "dm":
                break
            self.assertEqual(ev["code"], "unknown_user")
            self.assertLess(time.monotonic(), end, "node a never learnt of bob")
            await asyncio.sleep(0.1)  # between polls of a condition
        got = await bob.until(lambda e: e["type"] == "dm", "alice's dm on the other node")
        self.assertEqual((got[-1]["from"], got[-1]["to"], got[-1]["text"]), ("alice", "bob", "hello bob"))
        mine = await alice2.until(lambda e: e["type"] == "dm" and e["text"] == "hello bob", "the copy")
        self.assertEqual(mine[-1]["to"], "bob")
        await bob.send(type="dm", to="alice", text="hi back", id=2)
        for tab in (alice, alice2, bob):  # bob's own copy too
            back = await tab.until(lambda e: e["type"] == "dm" and e["text"] == "hi back", "bob's reply")
            self.assertEqual(back[-1]["from"], "bob")
        # Nobody by that name anywhere: still refused.
        await bob.send(type="dm", to="nobody", text="x", id=3)
        await bob.reply("error", code="unknown_user", id=3)
        await close_all([alice, alice2, bob])


class Presence(NodesTestCase):
    TTL = 1.5
    FLAGS = ("--redis-presence-ttl", str(TTL))

    @async_test
    async def test_who_lists_every_node_and_a_killed_node_leaves_within_the_ttl(self):
        a, b = self.nodes
        alice, _ = await connect(a, "alice")
        bob, _ = await connect(b, "bob")
        for x in (alice, bob):
            await join(x, "dev")
        await poll_who(bob, "dev", ["alice", "bob"], 3 * self.TTL, "who on b")
        await poll_who(alice, "dev", ["alice", "bob"], 3 * self.TTL, "who on a")
        # bob learnt of alice's join across nodes: in his join's presence reply, or as a notice
        # after it (once; a notice from the same heartbeat as the reply may come too).
        first = next(e for e in bob.seen if e["type"] == "presence" and e["room"] == "dev")
        notices = [e for e in bob.seen if e["type"] == "join" and e["room"] == "dev" and e["user"] == "alice"]
        if "alice" in first["users"]:
            self.assertLessEqual(len(notices), 1, bob.seen)
        else:
            self.assertEqual(len(notices), 1, bob.seen)
        # A join's own presence reply is cluster-wide too.
        carol, _ = await connect(b, "carol")
        await carol.send(type="join", room="dev", id=1)
        p = await carol.reply("presence", room="dev", id=1)
        self.assertEqual(sorted(p["users"]), ["alice", "bob", "carol"])
        a.proc.send_signal(signal.SIGKILL)
        a.proc.wait(5)
        self.nodes.remove(a)
        a.close()
        t0 = time.monotonic()
        await poll_who(bob, "dev", ["bob", "carol"], self.TTL + 2.0, "alice after her node died")
        self.assertLess(time.monotonic() - t0, self.TTL + 2.0)
        self.assertIn({"type": "leave", "room": "dev", "user": "alice"},
                      [{k: e.get(k) for k in ("type", "room", "user")} for e in bob.seen])
        await close_all([bob, carol])


if __name__ == "__main__":
    unittest.main()
