#!/usr/bin/env python3
"""tests/soak/test_checker.py: the soak's checker must catch what it claims to catch. Each test
feeds one connection's checker a hand-written event stream (docs/chat-protocol.md) and asserts
the violations it reports, by kind. Layer: tests/. Runs in well under a second; `make soak` runs
it before the soak itself.

    /usr/bin/python3 tests/soak/test_checker.py
"""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import checker  # noqa: E402


class FakeOwner:
    def __init__(self, user="ann"):
        self.user = user
        self.acked, self.unknown = set(), set()
        self.left = []

    def on_left(self, room):
        self.left.append(room)


def msg(room, seq, sender="bob", text=None):
    return {"type": "message", "room": room, "seq": seq, "from": sender,
            "text": text if text is not None else f"{seq} {sender} {room} hello", "ts": 1}


class CheckerTest(unittest.TestCase):
    def setUp(self):
        self.ledger = checker.Ledger()
        self.owner = FakeOwner()
        self.c = checker.ConnChecker(self.owner, self.ledger)
        self.feed({"type": "welcome", "user": "ann", "rooms": ["lobby"], "server_time": 1})

    def feed(self, *events, c=None):
        for ev in events:
            (c or self.c).on_text(json.dumps(ev))

    def kinds(self):
        return dict(self.ledger.kinds)

    def joined(self, room="dev", since=10, last=None):
        """Sends a join with since and feeds presence and a history up to `last`."""
        sent = json.loads(self.c.join(room, since))
        self.assertEqual(sent["since"], since)
        jid = sent["id"]
        self.feed({"type": "presence", "room": room, "users": ["ann", "bob"], "id": jid})
        msgs = [msg(room, s) for s in range(since + 1, (last or since) + 1)]
        self.feed({"type": "history", "room": room, "messages": msgs,
                   "from": msgs[0]["seq"] if msgs else 0, "to": msgs[-1]["seq"] if msgs else 0,
                   "id": jid})
        return jid

    def test_a_resume_with_history_then_live_messages_in_order_is_clean(self):
        self.joined("dev", since=10, last=13)
        self.feed(msg("dev", 14), {"type": "join", "room": "dev", "user": "cy", "ts": 1}, msg("dev", 15))
        self.assertEqual(self.kinds(), {})
        self.assertEqual(self.ledger.counts["replayed"], 3)
        self.assertEqual(self.ledger.counts["verified"], 2)

    def test_a_history_gap_after_presence_then_the_kept_messages_is_clean(self):
        jid = json.loads(self.c.join("dev", 5))["id"]
        self.feed({"type": "presence", "room": "dev", "users": ["ann"], "id": jid},
                  {"type": "gap", "room": "dev", "from": 6, "to": 20, "reason": "history"},
                  {"type": "history", "room": "dev", "messages": [msg("dev", 21), msg("dev", 22)],
                   "from": 21, "to": 22, "id": jid},
                  msg("dev", 23))
        self.assertEqual(self.kinds(), {})
        self.assertEqual(self.ledger.counts["gap_history_seqs"], 15)

    def test_a_live_copy_of_a_replayed_message_is_a_duplicate(self):
        self.joined("dev", since=10, last=12)
        self.feed(msg("dev", 12))
        self.assertEqual(self.kinds(), {"duplicate_or_reordered": 1})

    def test_an_unannounced_hole_is_a_loss(self):
        self.joined("dev", since=10)
        self.feed(msg("dev", 11), msg("dev", 13))
        self.assertEqual(self.kinds(), {"lost": 1})
        self.assertIn("12..12", self.ledger.details[0])

    def test_a_slow_consumer_gap_must_start_right_after_the_last_seq(self):
        self.joined("dev", since=10)
        self.feed({"type": "gap", "room": "dev", "from": 11, "to": 14, "reason": "slow_consumer"},
                  msg("dev", 15))
        self.assertEqual(self.kinds(), {})
        self.feed({"type": "gap", "room": "dev", "from": 17, "to": 18, "reason": "slow_consumer"})
        self.assertEqual(self.kinds(), {"gap_slow": 1})

    def test_a_history_gap_outside_a_join_is_a_violation(self):
        self.joined("dev", since=10)
        self.feed({"type": "gap", "room": "dev", "from": 11, "to": 12, "reason": "history"})
        self.assertEqual(self.kinds(), {"gap_history": 1})

    def test_an_own_message_skipped_for_a_slow_consumer_is_settled_by_its_gap(self):
        self.joined("dev", since=10)
        self.c.say("dev", 1, "1 ann dev hi")
        self.feed({"type": "gap", "room": "dev", "from": 11, "to": 12, "reason": "slow_consumer"})
        self.assertEqual(self.c.lagging(), "1 own messages without an ack")  # where is it?
        self.ledger.record("dev", 12, "ann", "1 ann dev hi", "bob")  # bob saw it as seq 12
        self.assertEqual((self.c.lagging(), self.kinds()), (None, {}))
        self.assertEqual(self.ledger.counts["own_in_slow_gap"], 1)

    def test_a_live_message_before_the_joins_history_is_a_violation(self):
        jid = json.loads(self.c.join("dev", 10))["id"]
        self.feed({"type": "presence", "room": "dev", "users": ["ann"], "id": jid}, msg("dev", 11))
        self.assertEqual(self.kinds(), {"before_replay": 1})

    def test_events_of_a_room_never_joined_are_violations(self):
        self.feed(msg("elsewhere", 1), {"type": "join", "room": "elsewhere", "user": "x", "ts": 1})
        self.assertEqual(self.kinds(), {"not_member": 2})

    def test_after_a_leave_the_room_may_speak_until_the_ping_then_never(self):
        self.joined("dev", since=10)
        leave, ping = (json.loads(t) for t in self.c.leave("dev"))
        self.assertEqual(leave, {"type": "leave", "room": "dev"})
        self.feed(msg("dev", 11), {"type": "leave", "room": "dev", "user": "ann", "ts": 1},
                  {"type": "pong", "id": ping["id"], "ts": 1})
        self.assertEqual((self.kinds(), self.owner.left), ({}, ["dev"]))
        self.feed(msg("dev", 12))
        self.assertEqual(self.kinds(), {"not_member": 1})

    def test_own_messages_are_acknowledged_once_and_never_invented(self):
        self.joined("dev", since=10)
        self.c.say("dev", 1, "1 ann dev hi")
        self.assertEqual(self.c.lagging(), "1 own messages without an ack")
        self.feed(msg("dev", 11, "ann", "1 ann dev hi"))
        self.assertEqual((self.kinds(), self.ledger.counts["own_acked"], self.c.lagging()), ({}, 1, None))
        self.feed(msg("dev", 12, "ann", "7 ann dev never said"))
        self.assertEqual(self.kinds(), {"own_never_sent": 1})

    def test_a_message_in_flight_at_a_disconnect_may_show_up_after_the_reconnect(self):
        self.joined("dev", since=10)
        self.c.say("dev", 1, "1 ann dev hi")
        self.c.ended()
        c2 = checker.ConnChecker(self.owner, self.ledger)
        self.feed({"type": "welcome", "user": "ann", "rooms": ["lobby"], "server_time": 1}, c=c2)
        jid = json.loads(c2.join("dev", 10))["id"]
        self.feed({"type": "presence", "room": "dev", "users": ["ann"], "id": jid},
                  {"type": "history", "room": "dev", "messages": [msg("dev", 11, "ann", "1 ann dev hi")],
                   "from": 11, "to": 11, "id": jid}, c=c2)
        self.assertEqual(self.kinds(), {})
        self.assertEqual(self.ledger.counts["own_acked_after_reconnect"], 1)

    def test_two_clients_given_different_messages_for_one_seq_is_a_violation(self):
        self.joined("dev", since=10)
        self.feed(msg("dev", 11, text="11 bob dev one thing"))
        other = checker.ConnChecker(FakeOwner("cy"), self.ledger)
        self.feed({"type": "welcome", "user": "cy", "rooms": ["lobby"], "server_time": 1}, c=other)
        jid = json.loads(other.join("dev", 10))["id"]
        self.feed({"type": "presence", "room": "dev", "users": ["cy"], "id": jid},
                  {"type": "history", "room": "dev", "messages": [], "from": 0, "to": 0, "id": jid},
                  msg("dev", 11, text="11 bob dev another"), c=other)
        self.assertEqual(self.kinds(), {"content": 1})

    def test_a_history_request_is_answered_with_what_everybody_got(self):
        self.ledger.record("far", 5, "bob", "5 bob far hello", "someone else")
        req = json.loads(self.c.history_request("far", 4))
        self.assertEqual((req["room"], req["from"], req["limit"]), ("far", 4, 100))
        self.assertEqual(self.c.lagging(), "1 history requests without a reply")
        self.feed({"type": "gap", "room": "far", "from": 4, "to": 4, "reason": "history"},
                  {"type": "history", "room": "far", "messages": [msg("far", 5), msg("far", 6)],
                   "from": 5, "to": 6, "id": req["id"]})
        self.assertEqual((self.kinds(), self.c.lagging()), ({}, None))
        req = json.loads(self.c.history_request("far", 5))
        self.feed({"type": "history", "room": "far", "messages": [msg("far", 5, text="5 bob far bye")],
                   "from": 5, "to": 5, "id": req["id"]})
        self.assertEqual(self.kinds(), {"content": 1})

    def test_a_client_behind_the_newest_seq_anyone_saw_is_not_settled(self):
        self.joined("dev", since=10)
        self.ledger.record("dev", 12, "bob", "12 bob dev x", "someone else")
        self.assertEqual(self.c.lagging(), "room dev at seq 10, others saw 12")

    def test_the_first_event_must_be_our_welcome(self):
        c = checker.ConnChecker(FakeOwner("zed"), self.ledger)
        self.feed({"type": "presence", "room": "lobby", "users": []}, c=c)
        self.assertEqual(self.kinds(), {"welcome": 1})


if __name__ == "__main__":
    result = unittest.main(exit=False, verbosity=1).result
    print(f"checker: {result.testsRun - len(result.failures) - len(result.errors)} passed, "
          f"{len(result.failures) + len(result.errors)} failed")
    sys.exit(0 if result.wasSuccessful() else 1)
