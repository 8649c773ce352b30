#!/usr/bin/env python3
"""tests/soak/soak.py: the soak. Thousands of /chat clients churn against the real epws for minutes
(joins, leaves, messages, close handshakes, RSTs, half-closes, FINs without a close frame, stalled
readers, reconnects with `since`); every client checks every room's sequence numbers (checker.py).
At the end every client closes, the server's descriptors must return to their start-up count, its
RSS to within a stated bound, SIGTERM must end it with status 0 and its stderr must hold no
sanitizer report. Prints a summary; exits 1 on any violation. Layer: tests/. Docs: docs/soak.md.

    /usr/bin/python3 tests/soak/soak.py --seconds 180 --clients 3000   # EPWS_BIN picks the binary
"""

import argparse
import asyncio
import collections
import gc
import os
import random
import resource
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))

import checker  # noqa: E402
import server_watch  # noqa: E402
import ws_client  # noqa: E402
from harness import RedisServer, Server, binary_path, poll_until  # noqa: E402

# What a client does at each step, by weight. Disconnects are split by kind below.
ACTIONS = {"say": 78, "join": 6, "leave": 5, "ping": 2, "disconnect": 6, "stall": 2, "blip": 1}
DISCONNECTS = {"close": 30, "rst": 30, "half_close": 20, "fin": 20}
MAX_ROOMS = 4          # rooms one client is in at most (the server allows 32)
END_DEADLINE = 20.0    # seconds for the server to close after our close frame, FIN or half-close
FILLER = "the quick brown fox jumps over the lazy dog " * 3


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seconds", type=float, default=180, help="churn duration (default 180)")
    p.add_argument("--clients", type=int, default=3000, help="clients, each one user (default 3000)")
    p.add_argument("--rooms", type=int, default=48, help="rooms, lobby included (default 48)")
    p.add_argument("--say-rate", type=float, default=100,
                   help="messages per second over all clients, on average (default 100)")
    p.add_argument("--history", type=int, default=100,
                   help="server --history: small, so long absences end in a gap (default 100)")
    p.add_argument("--slow-consumer-bytes", default="8k",
                   help="server --slow-consumer-bytes: small, so stalled readers get skipped (default 8k)")
    p.add_argument("--threads", type=int, default=2, help="server event loops (default 2)")
    p.add_argument("--deflate-share", type=float, default=0.25,
                   help="share of clients that offer permessage-deflate (default 0.25)")
    p.add_argument("--staller-share", type=float, default=0.05,
                   help="share of clients that sometimes stop reading (default 0.05)")
    p.add_argument("--rss-slack-mb", type=float, default=None,
                   help="allowed RSS growth over baseline + history at the end (default: 24 for "
                        "release, 320 under ASan, 640 under TSan; see docs/soak.md)")
    p.add_argument("--seed", type=int, default=None, help="random seed (default: time)")
    p.add_argument("--server-log", default=None, help="write the server's stderr here")
    p.add_argument("--server-arg", action="append", default=[], help="extra server flag (repeatable)")
    p.add_argument("--nodes", type=int, default=1,
                   help="epws processes sharing one Redis (--redis, docs/redis.md); clients spread "
                        "over them round-robin; the first node is the one watched (default 1: no Redis)")
    return p.parse_args(argv)


class Client:
    """One user: connects, acts, disconnects in one of the ways, comes back with since."""

    def __init__(self, soak, idx):
        self.soak = soak
        self.idx = idx
        self.user = f"soak{idx}"
        rng = soak.rng
        # 127.0.0.0/8 is all loopback: spreading source addresses spreads ephemeral ports.
        self.source_ip = f"127.0.{1 + idx // 250}.{2 + idx % 250}"
        self.deflate = rng.random() < soak.args.deflate_share
        self.staller = rng.random() < soak.args.staller_share
        self.acked, self.unknown = set(), set()
        self.next_n = 0
        self.conn = None
        self.check = None
        self.resume = {}      # room -> since, for the next connection
        self.connected = False
        self.connections = 0
        self.leaving = False  # we are ending this connection (its end is no violation)
        self.rejoin = {}      # room -> since, to join once the automatic lobby is left

    def send(self, text):
        self.conn.send_text(text)

    def on_left(self, room):
        since = self.rejoin.pop(room, None)
        if since is not None and self.connected:
            self.send(self.check.join(room, since))

    def on_end(self, reason):
        s = self.soak
        if self.connected:
            self.connected = False
            s.open_now -= 1
        self.check.ended()
        if not self.leaving and not s.closing_all:
            s.ledger.violation("server_closed", f"{self.user}: connection ended by the server ({reason})")

    async def run(self, start_delay):
        s = self.soak
        if await s.wait_stop(start_delay):
            return
        failures = 0
        while not s.stopping:
            if not await self.connect():
                failures += 1
                if failures > 30:
                    s.ledger.violation("connect", f"{self.user}: 30 connection attempts failed in a row")
                    return
                await s.wait_stop(min(5.0, 0.2 * failures))
                continue
            failures = 0
            kind = await self.live()
            if kind is None:
                return  # stopping, still connected: the end phase takes over
            await s.wait_stop(self.offline_time())

    async def connect(self):
        s = self.soak
        try:
            host, port = s.nodes[self.idx % len(s.nodes)]
            self.conn = await ws_client.connect(
                host, port, f"/chat?username={self.user}", self.source_ip, self.deflate)
        except ws_client.HandshakeError as e:
            s.ledger.counts[f"refused_{e.status}"] += 1
            return False
        except (OSError, asyncio.TimeoutError) as e:
            s.ledger.counts["connect_errors"] += 1
            s.connect_errors[type(e).__name__] += 1
            return False
        self.leaving = False
        self.check = checker.ConnChecker(self, s.ledger)
        self.connected = True
        s.open_now += 1
        s.peak_open = max(s.peak_open, s.open_now)
        s.ledger.counts["reconnects" if self.connections else "connects"] += 1
        self.connections += 1
        self.conn.attach(self.check.on_text, self.on_end)
        # The server put us in the lobby (start unknown): leave it; every room we want is joined
        # with since, so each membership's whole stream is checked.
        if self.connected:
            self.leave("lobby")
            self.rejoin = {r: since for r, since in self.resume.items() if r == "lobby"}
            for room, since in self.resume.items():
                if room != "lobby":
                    self.send(self.check.join(room, since))
            if not self.resume:
                for room in s.pick_rooms(s.rng.randint(1, 3), self.check.tracks):
                    self.send(self.check.join(room, s.ledger.room_max.get(room, 0)))
        return True

    def leave(self, room):
        for text in self.check.leave(room):
            self.send(text)

    async def live(self):
        """Acts until it disconnects (returns the kind) or the soak stops (returns None)."""
        s, rng = self.soak, self.soak.rng
        while True:
            # Exponential think time, capped so a quiet client still beats the idle timeout.
            if await s.wait_stop(min(rng.expovariate(1.0 / s.think), 40.0)):
                return None
            if not self.connected:
                self.resume = self.check.resume_points()  # on_end counted the violation
                return "lost"
            action = rng.choices(list(ACTIONS), weights=list(ACTIONS.values()))[0]
            if action == "stall" and self.staller:
                # Stop reading, and ask for more output than the kernel's buffers hold (the
                # server's send buffer grows to tcp_wmem's maximum, 4 MiB on Debian), so its
                # queue for us passes the slow-consumer mark: our rooms' messages are skipped,
                # then announced by a gap once we read again.
                s.ledger.counts["stalls"] += 1
                self.conn.pause()
                others = [r for r in s.rooms if r not in self.check.tracks and s.ledger.room_max.get(r)]
                for _ in range(rng.randint(150, 300) if others else 0):
                    room = others[0]
                    first = max(1, s.ledger.room_max[room] - 90)  # within the kept history
                    self.send(self.check.history_request(room, first))
                stopped = await s.wait_stop(rng.uniform(3.0, 15.0))
                self.conn.resume()
                if stopped:
                    return None
                continue
            if action == "blip":
                # A second connection of ours that resets right after its upgrade request.
                s.ledger.counts["blips"] += 1
                await ws_client.blip(s.host, s.port, f"/chat?username={self.user}", self.source_ip)
                continue
            if action == "disconnect":
                kind = rng.choices(list(DISCONNECTS), weights=list(DISCONNECTS.values()))[0]
                await self.disconnect(kind)
                return kind
            self.act(action)

    def act(self, action):
        s, rng = self.soak, self.soak.rng
        joined = [r for r, t in self.check.tracks.items() if t.state == checker.JOINED]
        if action == "join" or (action in ("say", "stall") and not joined):
            if len(self.check.tracks) < MAX_ROOMS:
                for room in s.pick_rooms(1, self.check.tracks):
                    self.send(self.check.join(room, s.ledger.room_max.get(room, 0)))
        elif action in ("say", "stall"):
            room = rng.choice(joined)
            self.next_n += 1
            self.send(self.check.say(room, self.next_n, f"{self.next_n} {self.user} {room} "
                                                         f"{FILLER[:rng.randint(1, len(FILLER))]}"))
        elif action == "leave":
            # Only a room with no own message in flight: a message said just before a leave is
            # numbered first, but its echo comes through the ring, after the leave took effect,
            # so it would never come back to us.
            busy = set(self.check.pending.values())
            free = [r for r in joined if r not in busy]
            if free:
                self.leave(rng.choice(free))
        elif action == "ping":
            self.send('{"type":"ping"}')

    async def disconnect(self, kind):
        s = self.soak
        self.resume = self.check.resume_points()
        self.leaving = True
        s.ledger.counts[f"disconnect_{kind}"] += 1
        conn = self.conn
        if kind == "rst":
            conn.reset()
        elif kind == "fin":
            conn.drop()
        else:
            if kind == "close":
                conn.close_handshake()
            else:
                conn.half_close()
            t0 = time.monotonic()
            try:
                reason = await asyncio.wait_for(asyncio.shield(conn.ended), END_DEADLINE)
            except asyncio.TimeoutError:
                s.ledger.violation(kind, f"{self.user}: the server did not close within {END_DEADLINE}s")
                conn.reset()
                return
            s.slowest_end[kind] = max(s.slowest_end[kind], time.monotonic() - t0)
            if kind == "close" and reason != "closed 1000":
                s.ledger.violation(kind, f"{self.user}: close handshake ended with {reason}")

    def offline_time(self):
        r = self.soak.rng.random()
        if r < 0.70:
            return self.soak.rng.uniform(0.05, 2.0)
        if r < 0.95:
            return self.soak.rng.uniform(2.0, 15.0)
        return self.soak.rng.uniform(20.0, 60.0)  # long enough to outlast a busy room's history


class Soak:
    def __init__(self, args):
        self.args = args
        self.seed = args.seed if args.seed is not None else int(time.time())
        self.rng = random.Random(self.seed)
        self.ledger = checker.Ledger()
        # The lobby last: every connect and disconnect already tells its members.
        self.rooms = [f"room-{i:02d}" for i in range(1, args.rooms)] + ["lobby"]
        # Some rooms are busier than others: weight 1/sqrt(rank).
        self.room_weights = [1.0 / (i + 1) ** 0.5 for i in range(len(self.rooms))]
        actions_per_s = args.say_rate / (ACTIONS["say"] / sum(ACTIONS.values()))
        self.think = args.clients / actions_per_s
        self.stop_future = None
        self.stopping = False
        self.closing_all = False
        self.open_now = self.peak_open = 0
        self.connect_errors = collections.Counter()
        self.slowest_end = collections.Counter()  # kind -> longest wait for the server's close
        self.host = self.port = None
        self.nodes = []  # (host, port) of every node; clients spread over them

    def pick_rooms(self, k, exclude):
        choices = [(r, w) for r, w in zip(self.rooms, self.room_weights) if r not in exclude]
        out = []
        while choices and len(out) < k:
            i = self.rng.choices(range(len(choices)), weights=[w for _, w in choices])[0]
            out.append(choices.pop(i)[0])
        return out

    async def wait_stop(self, seconds):
        """Sleeps up to `seconds`; True if the soak is stopping (then at once)."""
        if self.stopping:
            return True
        await asyncio.wait([self.stop_future], timeout=seconds)
        return self.stopping

    async def run(self):
        args = self.args
        self.stop_future = asyncio.get_running_loop().create_future()
        flags = ["--threads", args.threads, "--rate", 1000, "--burst", 1000,
                 "--history", args.history, "--slow-consumer-bytes", args.slow_consumer_bytes,
                 *server_watch.per_ip_flags(args.clients), *args.server_arg]
        redis, others = None, []
        if args.nodes > 1:
            redis = RedisServer().start()
            flags += ["--redis", redis.url]
        watch = server_watch.ServerWatch(Server(*flags), args)
        watch.start()
        self.host, self.port = watch.server.host, watch.server.port
        self.nodes = [(self.host, self.port)]
        for _ in range(args.nodes - 1):
            n = Server(*flags).start()
            others.append(n)
            self.nodes.append((n.host, n.port))
        for n in [watch.server, *others] if redis else []:
            poll_until(lambda n=n: n.stats().get("redis_state") == "up", 10, "every node on Redis")
        print(f"soak: {binary_path()} pid {watch.pid} on {self.host}:{self.port}, seed {self.seed}, "
              f"{args.clients} clients, {args.seconds:g} s, flags {' '.join(map(str, flags))}", flush=True)
        clients = [Client(self, i) for i in range(args.clients)]
        ramp = min(30.0, args.seconds / 4)  # connect everyone over the first seconds
        t0 = time.monotonic()
        tasks = [asyncio.create_task(c.run(ramp * i / len(clients))) for i, c in enumerate(clients)]
        sampler = asyncio.create_task(watch.sample_loop(self, t0))
        await asyncio.sleep(args.seconds)
        self.stopping = True
        self.stop_future.set_result(None)
        await asyncio.gather(*tasks)
        churn_s = time.monotonic() - t0
        connected = [c for c in clients if c.connected]
        settle_s = await self.settle(connected)
        await self.close_all(connected)
        sampler.cancel()
        end = await watch.finish(self.ledger)
        for i, n in enumerate(others, 1):
            # The other nodes: alive to the end, and a clean exit on SIGTERM.
            if not n.alive():
                self.ledger.violation("server_died", f"node {i} exited before the end")
            status = n.stop()
            if status != 0:
                self.ledger.violation("exit", f"node {i}: exit status {status}: {n.stderr_text()[-500:]!r}")
            n.close()
        if redis:
            redis.close()
        self.summary(watch, end, churn_s, settle_s, len(connected))
        return 0 if self.ledger.violations == 0 else 1

    async def settle(self, connected, deadline_s=60.0):
        """Waits until every connected client has its acks and has seen each room's newest seq:
        a message lost at the tail of a room's stream shows here, with no later seq to reveal it."""
        t0 = time.monotonic()
        while True:
            lagging = [(c, c.check.lagging()) for c in connected if c.connected]
            lagging = [(c, why) for c, why in lagging if why]
            if not lagging:
                return time.monotonic() - t0
            if time.monotonic() - t0 > deadline_s:
                for c, why in lagging:
                    self.ledger.violation("unsettled", f"{c.user} after {deadline_s:g}s: {why}")
                return time.monotonic() - t0
            await asyncio.sleep(0.2)  # a poll of many clients' state, not a wait for one event

    async def close_all(self, connected):
        self.closing_all = True
        for c in connected:
            if c.connected:
                c.leaving = True
                c.conn.close_handshake()

        async def one(c):
            try:
                reason = await asyncio.wait_for(asyncio.shield(c.conn.ended), 30.0)
            except asyncio.TimeoutError:
                self.ledger.violation("close", f"{c.user}: no close from the server within 30 s")
                c.conn.reset()
                return
            if reason != "closed 1000":
                self.ledger.violation("close", f"{c.user}: final close handshake ended with {reason}")
        await asyncio.gather(*(one(c) for c in connected if c.conn is not None))

    def summary(self, watch, end, churn_s, settle_s, stayed):
        a, c, L = self.args, self.ledger.counts, self.ledger
        disc = {k: c[f"disconnect_{k}"] for k in DISCONNECTS}
        delivered = c["verified"] + c["replayed"]
        lines = [
            "",
            "soak summary",
            f"  binary            {binary_path()} ({watch.flavour}), {a.threads} loops, seed {self.seed}"
            + (f", {a.nodes} nodes on one Redis" if a.nodes > 1 else ""),
            f"  duration          {churn_s:.0f} s of churn, {settle_s:.1f} s to settle; {a.clients} clients, "
            f"{a.rooms} rooms, history {a.history}",
            f"  connections       peak {self.peak_open} open (server saw {watch.peak_ws}), "
            f"{c['connects']} first connects, {c['reconnects']} reconnects with since, "
            f"{stayed} connected at the end",
            f"  per loop          {watch.loop_split}",
            f"  disconnects       {disc['close']} close handshakes, {disc['rst']} RSTs, "
            f"{disc['half_close']} half-closes, {disc['fin']} FINs without close; {c['stalls']} stalled readers; "
            f"{c['blips']} connections reset right after their upgrade request",
            f"  server closed     after our close frame within {self.slowest_end['close']:.2f} s, after "
            f"our half-close within {self.slowest_end['half_close']:.2f} s (slowest; limit {END_DEADLINE:g} s)",
            f"  refused/errors    {dict((k, v) for k, v in c.items() if k.startswith('refused_'))} "
            f"{dict(self.connect_errors)}",
            f"  messages          {c['sent']} sent, {c['own_acked']} acknowledged to their sender "
            f"(+{c['own_acked_after_reconnect']} seen after a reconnect, {c['own_in_slow_gap']} "
            f"inside a slow_consumer gap to their sender, "
            f"{c['unacked_at_disconnect']} in flight at a disconnect)",
            f"  deliveries        {delivered} verified in order ({c['verified']} live, {c['replayed']} "
            f"replayed by since), {c['baseline']} unverifiable (lobby before leaving), "
            f"{c['notices']} presence notices",
            f"  history requests  {c['history_replies']} answered ({c['history_reply_messages']} messages, "
            f"each the one everybody got), {c['history_request_gaps']} with a gap first",
            f"  gaps announced    {c['gap_history_events']} history ({c['gap_history_seqs']} seqs), "
            f"{c['gap_slow_events']} slow consumer ({c['gap_slow_seqs']} seqs)",
            f"  rate              {delivered / max(churn_s, 1):.0f} deliveries/s, "
            f"{c['sent'] / max(churn_s, 1):.0f} messages/s; client CPU {end['client_cpu']:.0f} s, "
            f"client loop late by {watch.lag_max:.2f} s at worst",
            f"  server counters   {self.server_counters(end['stats'])}",
            f"  server CPU        {end['cpu']:.1f} s ({100 * end['cpu'] / max(end['wall'], 1):.0f}% of one core "
            f"over {end['wall']:.0f} s)",
            f"  descriptors       baseline {end['fd_base']}, peak {watch.peak_fds}, end {end['fd_end']}",
            f"  RSS               baseline {end['rss_base'] / 1024:.1f} MiB, peak {end['rss_peak'] / 1024:.1f} MiB, "
            f"end {end['rss_end'] / 1024:.1f} MiB (bound {end['rss_bound'] / 1024:.1f} MiB: {end['rss_why']})",
            f"  exit              status {end['exit']}; sanitizer: {end['sanitizer']}",
            f"  violations        {L.violations} {dict(L.kinds) if L.kinds else ''}",
        ]
        lines += [f"    {d}" for d in L.details]
        lines.append(f"soak: {'PASS' if L.violations == 0 else 'FAIL'}")
        print("\n".join(lines), flush=True)


    @staticmethod
    def server_counters(stats):
        keys = ("accepted", "handshakes", "rejected_handshakes", "handshake_timeouts", "idle_timeouts",
                "close_timeouts", "protocol_errors", "closed_output_overflow", "messages_in",
                "messages_out", "connections")
        return ", ".join(f"{k} {stats[k]}" for k in keys if k in stats)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = args.clients + 256
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(need, soft)), hard))
        if min(hard, need) < need:
            sys.exit(f"soak: needs {need} descriptors, the hard limit is {hard}")
    # The cyclic collector's full passes over millions of live objects stall the event loop for
    # seconds (the server then sees a client that does not answer); what the soak allocates has
    # no cycles worth collecting during a run of minutes.
    gc.disable()
    return asyncio.run(Soak(args).run())


if __name__ == "__main__":
    sys.exit(main())
