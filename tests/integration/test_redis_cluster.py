"""tests/integration/test_redis_cluster.py: epws nodes sharing rooms through a three-master Redis
Cluster (--redis-cluster, docs/redis.md, Redis Cluster): one gap-free order per room across nodes
with the rooms spread over the shards, resume on the other node with `since`, and a room's slot
migrated to another master mid-conversation.

Layer: tests/. Starts three redis-server processes (Debian's, Redis 7) with cluster-enabled on
free loopback ports in temporary folders, joins them with redis-cli --cluster create, and two
epws processes. Nothing sleeps to wait: every wait polls.
"""

import asyncio
import os
import shutil
import subprocess
import tempfile
import threading
import time
import unittest

from harness import IO_DEADLINE, REDIS_SERVER, Server, _die_with_parent, free_loopback_port, poll_until
from test_chat import async_test, close_all, connect, join, say_all
from test_redis import check_one_order, metrics, redis_state, resume_on_another_node

REDIS_CLI = shutil.which("redis-cli") or "/usr/bin/redis-cli"
FAST = ("--rate", "100000", "--burst", "100000")


class RedisCluster:
    """Three masters on loopback, no replicas, each in its own folder."""

    def __init__(self, masters=3):
        self.dir = tempfile.mkdtemp(prefix="epws-cluster-")
        self.ports = [free_loopback_port() for _ in range(masters)]
        self.procs = []

    def start(self):
        for p in self.ports:
            d = os.path.join(self.dir, str(p))
            os.mkdir(d)
            # cluster-port: the bus port beside each node's own, which would be port + 10000.
            args = [REDIS_SERVER, "--port", str(p), "--bind", "127.0.0.1", "--dir", d, "--save", "",
                    "--appendonly", "no", "--protected-mode", "no", "--logfile", os.path.join(d, "log"),
                    "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                    "--cluster-port", str(free_loopback_port()), "--cluster-node-timeout", "5000"]
            self.procs.append(subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                               stderr=subprocess.DEVNULL, preexec_fn=_die_with_parent))
        for p in self.ports:
            poll_until(lambda p=p: self.cli(p, "PING", check=False) == "PONG", IO_DEADLINE, "redis-server to answer")
        out = subprocess.run([REDIS_CLI, "--cluster", "create", *[f"127.0.0.1:{p}" for p in self.ports],
                              "--cluster-replicas", "0", "--cluster-yes"], capture_output=True, text=True,
                             timeout=60)
        if out.returncode != 0:
            raise RuntimeError(f"redis-cli --cluster create: {out.stdout}{out.stderr}")
        for p in self.ports:
            poll_until(lambda p=p: "cluster_state:ok" in self.cli(p, "CLUSTER", "INFO"), 20,
                       "every master to see the cluster ok")
        return self

    def cli(self, port, *args, check=True):
        out = subprocess.run([REDIS_CLI, "-h", "127.0.0.1", "-p", str(port), *map(str, args)],
                             capture_output=True, text=True, timeout=10)
        if check and out.returncode != 0:
            raise RuntimeError(f"redis-cli {args}: {out.stderr}")
        return out.stdout.strip()

    @property
    def seeds(self):
        return ",".join(f"127.0.0.1:{p}" for p in self.ports)

    def node_id(self, port):
        return self.cli(port, "CLUSTER", "MYID")

    def owner(self, key):
        """The port of the master that holds key's slot."""
        slot = int(self.cli(self.ports[0], "CLUSTER", "KEYSLOT", key))
        for p in self.ports:
            if int(self.cli(p, "CLUSTER", "COUNTKEYSINSLOT", slot, check=False) or 0) > 0 or \
                    self.serves(p, slot):
                return p
        raise AssertionError(f"no master serves slot {slot}")

    def serves(self, port, slot):
        for line in self.cli(port, "CLUSTER", "NODES").splitlines():
            f = line.split()
            if "myself" in f[2]:
                for r in f[8:]:
                    if r.startswith("["):
                        continue
                    a, _, b = r.partition("-")
                    if int(a) <= slot <= int(b or a):
                        return True
        return False

    def migrate_slot(self, slot, source, target):
        """Moves slot from the master on port source to the one on port target, keys and all
        (the steps of the Redis Cluster specification, as redis-cli --cluster reshard does)."""
        self.begin_migration(slot, source, target)
        self.finish_migration(slot, source, target)

    def begin_migration(self, slot, source, target):
        """The slot MIGRATING at source, IMPORTING at target, its keys moved: the source answers
        -ASK for them from now on."""
        src, dst = self.node_id(source), self.node_id(target)
        self.cli(target, "CLUSTER", "SETSLOT", slot, "IMPORTING", src)
        self.cli(source, "CLUSTER", "SETSLOT", slot, "MIGRATING", dst)
        while True:
            keys = self.cli(source, "CLUSTER", "GETKEYSINSLOT", slot, 100).split()
            if not keys:
                break
            self.cli(source, "MIGRATE", "127.0.0.1", target, "", 0, 5000, "KEYS", *keys)

    def finish_migration(self, slot, source, target):
        """The slot is target's: every master is told (the source then answers -MOVED)."""
        dst = self.node_id(target)
        for p in (target, source, *[p for p in self.ports if p not in (source, target)]):
            self.cli(p, "CLUSTER", "SETSLOT", slot, "NODE", dst)

    def close(self):
        for p in self.procs:
            p.kill()
            p.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


class ClusterTestCase(unittest.TestCase):
    NODES = 2
    FLAGS = ()

    def setUp(self):
        if not os.access(REDIS_CLI, os.X_OK):
            self.fail(f"redis-cli not found ({REDIS_CLI}): apt-get install redis-tools")
        self.cluster = RedisCluster().start()
        self.nodes = []
        for _ in range(self.NODES):
            self.nodes.append(Server("--threads", "2", "--close-timeout", "1", "--redis-cluster",
                                     self.cluster.seeds, "--redis-timeout", "2", *FAST, *self.FLAGS).start())
        for n in self.nodes:
            poll_until(lambda n=n: redis_state(n) == "up", IO_DEADLINE * 2, "every node connected")

    def tearDown(self):
        dead = [n for n in self.nodes if not n.alive()]
        logs = [n.stderr_text() for n in dead]
        unclean = []
        for n in self.nodes:
            status = n.stop()
            if status != 0:
                unclean.append((status, n.stderr_text()))
            n.close()
        self.cluster.close()
        if dead:
            self.fail(f"an epws node exited during this test; stderr: {logs!r}")
        if unclean:
            self.fail(f"an epws node did not exit cleanly on SIGTERM: {unclean!r}")


ROOMS = ["dev", "ops", "qa", "web"]


async def messages_by_room(c, n, deadline_s=20):
    """The next n message events, whatever their room, by room (notices skipped)."""
    got = await c.until(lambda e, seen=[0]: e["type"] == "message" and
                        seen.__setitem__(0, seen[0] + 1) is None and seen[0] == n,
                        f"{n} messages", deadline_s)
    out = {}
    for e in got:
        if e["type"] == "message":
            out.setdefault(e["room"], []).append(e)
        elif e["type"] not in ("join", "leave", "presence_change"):
            raise AssertionError(f"{c.name}: unexpected {e} among messages")
    return out


class ClusterChat(ClusterTestCase):
    @async_test
    async def test_rooms_on_several_shards_each_keep_one_gap_free_order_across_nodes(self):
        owners = {self.cluster.owner(f"epws:{{{r}}}:meta") for r in ROOMS}
        self.assertGreaterEqual(len(owners), 2, "the rooms of this test live on one shard only")
        self.assertEqual(self.nodes[0].stats()["redis_shards"], 3)
        clients = []
        for i, node in enumerate(self.nodes):
            for j in range(2):
                c, _ = await connect(node, f"u{i}{j}")
                for r in ROOMS:
                    await join(c, r)
                clients.append(c)
        per = 8
        await asyncio.gather(*(say_all(c, r, [f"{c.name}-{r}-{k}" for k in range(per)])
                               for c in clients for r in ROOMS))
        total = per * len(clients)
        got = await asyncio.gather(*(messages_by_room(c, total * len(ROOMS)) for c in clients))
        for r in ROOMS:
            check_one_order(self, {c.name: g[r] for c, g in zip(clients, got)}, total)
        # Each room's stream is on the master its hash tag names, and nowhere else.
        for r in ROOMS:
            key = f"epws:{{{r}}}:log"
            holders = [p for p in self.cluster.ports if self.cluster.cli(p, "EXISTS", key, check=False) == "1"]
            self.assertEqual(len(holders), 1, f"{key} on {holders}")
        for n in self.nodes:
            m = metrics(n)
            self.assertEqual((m["epws_redis_up"], m["epws_redis_cluster_masters"]), (1, 3))
        await close_all(clients)

    @async_test
    async def test_resume_on_the_other_node_with_since_gets_exactly_what_was_missed(self):
        a, b = self.nodes
        alice, bob, carol, _ = await resume_on_another_node(self, a, b, b)
        await close_all([alice, bob, carol])


class ClusterMigration(ClusterTestCase):
    @async_test
    async def test_a_room_whose_slot_moves_mid_conversation_keeps_one_gap_free_order(self):
        a, b = self.nodes
        alice, _ = await connect(a, "alice")
        bob, _ = await connect(b, "bob")
        for x in (alice, bob):
            await join(x, "dev")
        await say_all(alice, "dev", [f"before {k}" for k in range(10)])
        await say_all(bob, "dev", [f"b-before {k}" for k in range(10)])
        await alice.messages("dev", 20)
        await bob.messages("dev", 20)
        key = "epws:{dev}:meta"
        slot = int(self.cluster.cli(self.cluster.ports[0], "CLUSTER", "KEYSLOT", key))
        source = self.cluster.owner(key)
        target = next(p for p in self.cluster.ports if p != source)
        run = asyncio.get_running_loop().run_in_executor
        moving = threading.Thread(target=self.cluster.begin_migration, args=(slot, source, target))
        moving.start()
        try:
            # Said while the slot's keys move (-TRYAGAIN while they are split, -ASK once they
            # are at the target), and after: numbered and stored at the target.
            for k in range(15):
                await alice.send(type="say", room="dev", text=f"during {k}")
                await bob.send(type="say", room="dev", text=f"b-during {k}")
                await asyncio.sleep(0)
        finally:
            await run(None, moving.join)
        for k in range(15, 30):
            await alice.send(type="say", room="dev", text=f"during {k}")
            await bob.send(type="say", room="dev", text=f"b-during {k}")
        # Until the slot is the target's, those reach no subscriber (the nodes' SSUBSCRIBE is at
        # the source): the end of the migration moves the subscriptions, which read them on.
        for n in self.nodes:
            poll_until(lambda n=n: n.stats()["redis_redirects"] >= 1, IO_DEADLINE, "an ASK on each node")
        await run(None, self.cluster.finish_migration, slot, source, target)
        self.assertEqual(self.cluster.owner(key), target)
        await say_all(alice, "dev", [f"after {k}" for k in range(10)])
        got_a = await alice.messages("dev", 60 + 10, 20)
        got_b = await bob.messages("dev", 60 + 10, 20)
        check_one_order(self, {"alice": [{"seq": e["seq"] - 20, **{k: v for k, v in e.items() if k != "seq"}}
                                         for e in got_a],
                               "bob": [{"seq": e["seq"] - 20, **{k: v for k, v in e.items() if k != "seq"}}
                                       for e in got_b]}, 70)
        # Each sender's messages in the order it said them, the deferred ones (TRYAGAIN) too.
        said = [e["text"] for e in got_b if e["from"] == "alice"]
        self.assertEqual(said, [f"during {k}" for k in range(30)] + [f"after {k}" for k in range(10)])
        said = [e["text"] for e in got_a if e["from"] == "bob"]
        self.assertEqual(said, [f"b-during {k}" for k in range(30)])
        for n in self.nodes:
            poll_until(lambda n=n: n.stats()["redis_resubscribes"] >= 1, IO_DEADLINE,
                       "each node to move its subscription to the new owner")
            self.assertGreaterEqual(metrics(n)["epws_redis_resubscribes_total"], 1)
        # Every message of the room is in the stream on its new master.
        self.assertEqual(self.cluster.cli(target, "XLEN", "epws:{dev}:log"), "90")
        await close_all([alice, bob])


async def dm_until_delivered(test, sender, to, text):
    """Sends the dm until the sender's node knows `to` (its heartbeat reads the other nodes' users)."""
    end = time.monotonic() + 10
    while True:
        await sender.send(type="dm", to=to, text=text, id=1)
        ev = (await sender.until(lambda e: e["type"] in ("dm", "error"), "the dm or its error"))[-1]
        if ev["type"] == "dm":
            return
        test.assertEqual(ev["code"], "unknown_user")
        test.assertLess(time.monotonic(), end, f"{sender.name}'s node never learnt of {to}")
        await asyncio.sleep(0.1)  # between polls of a condition


class ClusterRedirects(ClusterTestCase):
    FLAGS = ("--redis-presence-ttl", "1.5")  # a heartbeat every half second

    @async_test
    async def test_ask_then_moved_reroute_the_heartbeat_and_dms_still_find_users(self):
        a, b = self.nodes
        alice, _ = await connect(a, "alice")
        bob, _ = await connect(b, "bob")
        await dm_until_delivered(self, alice, "bob", "hello bob")
        # The node user lists' slot ({users}): no subscription rides on it, so only the
        # commands' redirections tell the nodes it moved.
        key = "epws:{users}:nodes"
        slot = int(self.cluster.cli(self.cluster.ports[0], "CLUSTER", "KEYSLOT", key))
        source = self.cluster.owner(key)
        target = next(p for p in self.cluster.ports if p != source)
        await asyncio.get_running_loop().run_in_executor(None, self.cluster.begin_migration, slot, source, target)
        # Keys gone from the source, slot not yet moved: -ASK, then ASKING at the target.
        for n in self.nodes:
            poll_until(lambda n=n: n.stats()["redis_redirects"] >= 1, IO_DEADLINE, "an ASK on each node")
        asked = [n.stats()["redis_redirects"] for n in self.nodes]
        await asyncio.get_running_loop().run_in_executor(None, self.cluster.finish_migration, slot, source, target)
        # -MOVED once per node: the map learns the slot's new master, and asks no more.
        for n, before in zip(self.nodes, asked):
            poll_until(lambda n=n, before=before: n.stats()["redis_redirects"] > before, IO_DEADLINE,
                       "a MOVED on each node")
        carol, _ = await connect(b, "carol")  # known to node a only through the new master
        await dm_until_delivered(self, alice, "carol", "hello carol")
        got = await carol.until(lambda e: e["type"] == "dm", "alice's dm")
        self.assertEqual(got[-1]["text"], "hello carol")
        self.assertEqual(self.cluster.cli(target, "EXISTS", key), "1")
        # Counted only now: a command already on its way to the old master when the first
        # MOVED came back is redirected too (once), and it has been answered by the time a DM
        # has gone through the new master and back.
        settled = [n.stats()["redis_redirects"] for n in self.nodes]
        # Dave too is known to node a only once both heartbeats used the slot again: b's wrote
        # him into its user list, a's read it.
        dave, _ = await connect(b, "dave")
        await dm_until_delivered(self, alice, "dave", "hello dave")
        got = await dave.until(lambda e: e["type"] == "dm", "alice's dm to dave")
        self.assertEqual(got[-1]["text"], "hello dave")
        self.assertEqual([n.stats()["redis_redirects"] for n in self.nodes], settled,
                         "redirected again after the map was corrected")
        for n in self.nodes:
            self.assertEqual(n.stats()["redis_connects"], 1, "the link never went down")
        await close_all([alice, bob, carol, dave])


if __name__ == "__main__":
    unittest.main()
