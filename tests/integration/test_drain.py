"""tests/integration/test_drain.py: the paced drain on SIGTERM (--drain-seconds): /healthz and
new upgrades answer 503 at once, the open WebSockets are closed with 1001 and a reconnect hint
spread over the drain (no more than the paced share in any second), no chat message a member
was sent is missing before its close, and the process exits 0 when the last one is gone."""

import asyncio
import json
import math
import signal
import time
import unittest

import websockets

from harness import IO_DEADLINE, TIME_SCALE, Server

CLIENTS = 24
DRAIN_S = 3.0
LOOPS = 2


class PacedDrain(unittest.TestCase):
    def test_sigterm_spreads_the_closes_over_the_drain_and_loses_no_message(self):
        s = Server("--threads", LOOPS, "--drain-seconds", DRAIN_S, "--close-timeout", "2",
                   "--rate", "1000", "--burst", "1000").start()
        try:
            result = asyncio.run(self.run_clients(s))
        finally:
            status = s.wait_exit(DRAIN_S + 2 + 5 * TIME_SCALE)
            s.close()
        t0, clients, healthz, upgrade = result
        self.assertEqual(status, 0, "exit status after the drain")
        self.assertEqual(healthz, 503, "/healthz while draining")
        self.assertEqual(upgrade, 503, "a new upgrade while draining")

        times = sorted(c["closed_at"] - t0 for c in clients)
        for c in clients:
            self.assertEqual(c["code"], 1001, f"close code of {c['name']}")
            self.assertIn("reconnect", c["reason"], f"close reason of {c['name']}")
        # Spread: each loop closes its share linearly, rounding up, so any one-second window
        # holds at most CLIENTS / DRAIN_S plus one per loop (and one for the window's edge).
        share = math.ceil(CLIENTS / DRAIN_S) + LOOPS + 1
        for i, t in enumerate(times):
            in_window = sum(1 for u in times[i:] if u < t + 1.0)
            self.assertLessEqual(in_window, share, f"closes in the second after {t:.2f} s: {times}")
        self.assertGreater(times[-1] - times[0], DRAIN_S / 2, f"not spread: {times}")
        self.assertLess(times[-1], DRAIN_S + 1.5 * TIME_SCALE, f"past the drain: {times}")

        # Nothing lost: every member saw every room message from its first to its last, in
        # order, and the members that stayed longest saw the messages sent late in the drain.
        for c in clients:
            seqs = c["seqs"]
            self.assertGreater(len(seqs), 5, f"{c['name']} saw too little traffic")
            self.assertEqual(seqs, list(range(seqs[0], seqs[0] + len(seqs))),
                             f"{c['name']}: a gap or a reordering")
            for mine in c["accepted"]:
                self.assertIn(mine, seqs)

    async def run_clients(self, s):
        loop = asyncio.get_running_loop()
        clients = [{"name": f"d{i}", "seqs": [], "accepted": [], "code": None, "reason": "",
                    "closed_at": None} for i in range(CLIENTS)]
        socks = []
        for c in clients:
            ws = await websockets.connect(s.url(f"/chat?username={c['name']}"), max_queue=None)
            await ws.send(json.dumps({"type": "join", "room": "drain", "id": 1}))
            while True:  # until our join is answered
                m = json.loads(await asyncio.wait_for(ws.recv(), IO_DEADLINE))
                if m.get("type") == "presence" and m.get("room") == "drain":
                    break  # (the welcome's lobby presence comes first)
            socks.append(ws)
        # Members still joining announce themselves; start counting from a message event.
        stop_sending = asyncio.Event()

        async def reader(c, ws):
            try:
                async for raw in ws:
                    m = json.loads(raw)
                    if m.get("type") == "message" and m.get("room") == "drain":
                        c["seqs"].append(m["seq"])
                        if m.get("from") == c["name"]:
                            c["accepted"].append(m["seq"])
            except websockets.ConnectionClosed:
                pass
            c["closed_at"] = time.monotonic()
            c["code"] = ws.close_code
            c["reason"] = ws.close_reason or ""

        async def writer(c, ws):
            n = 0
            while not stop_sending.is_set():
                try:
                    await ws.send(json.dumps({"type": "say", "room": "drain", "text": f"{c['name']}-{n}"}))
                except websockets.ConnectionClosed:
                    return
                n += 1
                await asyncio.sleep(0.1)  # a pace of traffic, not a wait for a condition

        readers = [asyncio.create_task(reader(c, ws)) for c, ws in zip(clients, socks)]
        writers = [asyncio.create_task(writer(c, ws)) for c, ws in zip(clients, socks)]
        await asyncio.sleep(0.5)  # some traffic before the signal
        t0 = time.monotonic()
        s.proc.send_signal(signal.SIGTERM)

        async def probe():
            # The first request after the signal may still meet the loop before it saw it: poll.
            end = time.monotonic() + IO_DEADLINE
            while True:
                status = (await loop.run_in_executor(None, s.http_get, "/healthz"))[0]
                if status != 200 or time.monotonic() > end:
                    return status
                await asyncio.sleep(0.02)
        healthz = await probe()
        raw = s.raw()
        try:
            upgrade = (await loop.run_in_executor(None, raw.handshake, "/echo"))[0]
        finally:
            raw.close()
        await asyncio.wait_for(asyncio.gather(*readers), DRAIN_S + 5 * TIME_SCALE)
        stop_sending.set()
        await asyncio.gather(*writers)
        return t0, clients, healthz, upgrade


if __name__ == "__main__":
    unittest.main()
