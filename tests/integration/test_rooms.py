"""tests/integration/test_rooms.py: presence that stays linear in a room's size, and rooms that
cannot be used up for good (issue 13), against the real binary.

Covered: the presence reply capped at --presence-max-names with the member count and paging with
who after/limit; joins and leaves of one room within a server round announced as one
presence_change (net changes only); an empty room forgotten after --room-idle-ttl (name free
again, a new epoch, `since` with the old epoch answered by a gap with reason expired, and the new
room replayed); the per-user room-creation bucket (create_rate_limited); `rooms` listing only
rooms with members. Every wait has a deadline; nothing sleeps to wait."""

import json
import unittest

from harness import TEXT, build_frame, poll_until
from test_chat import (FAST, THREADS, ChatTestCase, raw_chat, raw_event, raw_reply, raw_send,
                       Server)

MAX_SAFE = 2 ** 53 - 1


def ask(c, **req):
    """Sends req and returns the next reply that is not a presence notice."""
    raw_send(c, **req)
    return raw_reply(c)


def events_until(c, pred, what):
    got = []
    while True:
        ev = raw_event(c)
        got.append(ev)
        if pred(ev):
            return got
        if len(got) > 500:
            raise AssertionError(f"no {what} in 500 events: {got[-5:]}")


class PresencePaging(ChatTestCase):
    FLAGS = FAST + ("--presence-max-names", "5")

    def test_the_presence_reply_is_capped_with_a_count_and_who_pages_through_the_rest(self):
        users = [f"user{i:02d}" for i in range(12)]
        clients = [raw_chat(self.server, u) for u in users]
        try:
            c = clients[-1]
            p = ask(c, type="join", room="lobby", id="again")
            self.assertEqual(p["type"], "presence")
            self.assertEqual((len(p["users"]), p["count"], p["more"]), (5, 12, True), p)
            self.assertEqual(p["users"], users[:5], "byte order of names")
            self.assertIsInstance(p["epoch"], int)
            seen = list(p["users"])
            while True:
                page = ask(c, type="who", room="lobby", after=seen[-1], id=len(seen))
                self.assertEqual((page["type"], page["count"]), ("presence", 12))
                self.assertLessEqual(len(page["users"]), 5)
                seen += page["users"]
                if not page["more"]:
                    break
            self.assertEqual(seen, users, "the pages list every member once, in order")
            small = ask(c, type="who", room="lobby", limit=2)
            self.assertEqual((small["users"], small["more"]), (users[:2], True))
            err = ask(c, type="who", room="lobby", limit=6, id="over")
            self.assertEqual((err["type"], err["code"], err["field"]), ("error", "out_of_range", "limit"))
            # A room nobody is in: empty, count 0, no epoch.
            none = ask(c, type="who", room="nowhere")
            self.assertEqual((none["users"], none["count"], none["more"]), ([], 0, False))
            self.assertNotIn("epoch", none)
        finally:
            for k in clients:
                k.close()


class PresenceCoalesced(ChatTestCase):
    FLAGS = FAST + ("--threads", "1")

    def test_joins_and_leaves_in_one_round_are_one_notice_with_the_net_change(self):
        observer = raw_chat(self.server, "observer")
        mover = raw_chat(self.server, "mover")
        try:
            ask(observer, type="join", room="dev")
            # Its own join's notice comes through the bus, and may come after the reply to a
            # later ping: wait for it rather than for a round trip.
            events_until(observer, lambda e: e["type"] == "presence_change"
                         and e.get("joined") == ["observer"], "the observer's own join notice")
            # One write, one server round: five changes, net: mover joined dev once.
            mover.send(b"".join(build_frame(TEXT, json.dumps(m).encode()) for m in (
                {"type": "join", "room": "dev"}, {"type": "leave", "room": "dev"},
                {"type": "join", "room": "dev"}, {"type": "leave", "room": "dev"},
                {"type": "join", "room": "dev", "id": "last"})))
            events_until(mover, lambda e: e["type"] == "presence" and e.get("id") == "last",
                         "the last join's presence")
            raw_send(mover, type="say", room="dev", text="marker")
            got = events_until(observer, lambda e: e["type"] == "message", "the marker")
            notices = [e for e in got if e.get("room") == "dev" and e["type"] != "message"]
            self.assertEqual(len(notices), 1, f"one notice for five changes: {notices}")
            n = notices[0]
            self.assertEqual((n["type"], n["joined"], n.get("left"), n["count"]),
                             ("presence_change", ["mover"], None, 2), n)
            # A join and a leave that cancel out within a round announce nothing.
            mover.send(b"".join(build_frame(TEXT, json.dumps(m).encode()) for m in (
                {"type": "leave", "room": "dev"}, {"type": "join", "room": "dev", "id": "back"})))
            events_until(mover, lambda e: e["type"] == "presence" and e.get("id") == "back", "back")
            raw_send(mover, type="say", room="dev", text="marker 2")
            got = events_until(observer, lambda e: e["type"] == "message", "marker 2")
            self.assertEqual([e for e in got if e["type"] != "message"], [])
        finally:
            observer.close()
            mover.close()


class RoomExpiry(ChatTestCase):
    # lobby + 3 rooms; creation is free enough here (RoomCreationRate tests the bucket).
    FLAGS = FAST + ("--max-rooms", "4", "--room-idle-ttl", "0.3", "--room-create-burst", "100")

    def test_empty_rooms_are_forgotten_so_names_and_places_come_back(self):
        a = raw_chat(self.server, "alice")
        b = raw_chat(self.server, "bob")
        try:
            epochs = {}
            for room in ("r1", "r2", "r3"):
                p = ask(a, type="join", room=room)
                self.assertEqual(p["type"], "presence", p)
                epochs[room] = p["epoch"]
            raw_send(a, type="say", room="r1", text="one")
            raw_send(a, type="say", room="r1", text="two")
            self.assertEqual([raw_reply(a)["seq"] for _ in range(2)], [1, 2])
            full = ask(b, type="join", room="r4", id="full")
            self.assertEqual((full["type"], full["code"]), ("error", "too_many_rooms"))
            r = ask(b, type="rooms")
            self.assertEqual(sorted(x["name"] for x in r["rooms"]), ["lobby", "r1", "r2", "r3"])
            for room in ("r1", "r2", "r3"):
                raw_send(a, type="leave", room=room)
                events_until(a, lambda e: e["type"] == "leave" and e["room"] == room, "leave")
            # The docs: rooms lists the rooms that have members, empty or not yet forgotten.
            r = ask(b, type="rooms")
            self.assertEqual([(x["name"], x["members"]) for x in r["rooms"]], [("lobby", 2)])
            # After the idle time the names are free and the server has room again.
            p = poll_until(lambda: (lambda ev: ev if ev["type"] == "presence" else None)(
                ask(b, type="join", room="r4")), 5, "r4 created once the empty rooms expired")
            self.assertEqual(p["users"], ["bob"])
            # alice resumes r1 with the seq and epoch she had: the room she knew is gone.
            raw_send(a, type="join", room="r1", since=2, epoch=epochs["r1"], id="resume")
            got = events_until(a, lambda e: e["type"] == "history", "the resume's history")
            kinds = [e["type"] for e in got if e["type"] != "presence_change"]
            self.assertEqual(kinds, ["presence", "gap", "history"], got)
            p, gap, hist = [e for e in got if e["type"] != "presence_change"]
            self.assertNotEqual(p["epoch"], epochs["r1"], "a new room, a new epoch")
            self.assertEqual((gap["room"], gap["from"], gap["to"], gap["reason"], gap["epoch"]),
                             ("r1", 3, MAX_SAFE, "expired", p["epoch"]))
            self.assertEqual((hist["messages"], hist["from"], hist["to"]), ([], 0, 0))
            # Its numbers started again.
            raw_send(a, type="say", room="r1", text="new")
            self.assertEqual(raw_reply(a)["seq"], 1)
            # With the current epoch, since works as before (nothing missed: empty history).
            raw_send(a, type="join", room="r1", since=1, epoch=p["epoch"], id="same")
            got = events_until(a, lambda e: e["type"] == "history", "history")
            self.assertEqual([e["type"] for e in got if e["type"] != "presence_change"],
                             ["presence", "history"])
        finally:
            a.close()
            b.close()


class RoomCreationRate(ChatTestCase):
    FLAGS = FAST + ("--room-create-burst", "3", "--room-create-rate", "0.001")

    def test_a_user_creating_rooms_too_fast_is_refused_but_may_join_existing_ones(self):
        a = raw_chat(self.server, "alice")
        b = raw_chat(self.server, "bob")
        try:
            for room in ("c1", "c2", "c3"):
                self.assertEqual(ask(a, type="join", room=room)["type"], "presence")
            ev = ask(a, type="join", room="c4", id=4)
            self.assertEqual((ev["type"], ev["code"], ev.get("field"), ev.get("id")),
                             ("error", "create_rate_limited", "room", 4))
            self.assertEqual(ask(b, type="join", room="c4")["type"], "presence", "bob's own bucket")
            self.assertEqual(ask(a, type="join", room="c4")["type"], "presence",
                             "an existing room costs nothing")
            # Reconnecting does not refill the bucket.
            a.close()
            a = raw_chat(self.server, "alice")
            ev = ask(a, type="join", room="c5")
            self.assertEqual((ev["type"], ev["code"]), ("error", "create_rate_limited"))
        finally:
            a.close()
            b.close()


class DefaultsInHelp(unittest.TestCase):
    def test_the_new_limits_are_flags_with_their_defaults(self):
        import subprocess
        from harness import binary_path
        out = subprocess.run([binary_path(), "--help"], capture_output=True, timeout=10).stdout.decode()
        for flag, default in (("--presence-max-names", "100"), ("--room-idle-ttl", "300"),
                              ("--room-create-rate", "0.1"), ("--room-create-burst", "10")):
            line = next((l for l in out.splitlines() if l.strip().startswith(flag)), "")
            self.assertIn(f"default {default}", line, flag)


if __name__ == "__main__":
    unittest.main()
