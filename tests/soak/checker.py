"""tests/soak/checker.py: what one /chat connection must see, room by room (docs/chat-protocol.md),
checked event by event. Layer: tests/. No I/O: soak.py feeds it the server's text frames.

Per room the checker keeps `last`, the highest seq the connection has accounted for. Every seq
after it must arrive exactly once, in order: as a live `message`, inside the `history` that answers
a join with `since`, or covered by a `gap` (reason `history` right after that join's presence,
reason `slow_consumer` in the live stream, each starting at last + 1). Anything else is a
violation, recorded in the Ledger with the connection, the room and what was expected.

Every join the soak sends carries `since` (the seq the client last saw, or for a first join the
highest seq any client has seen), so the whole stream of every membership is accountable; only the
server's automatic lobby membership at connect has no known start, and the soak leaves it at once.
"""

import collections
import json

# Room states of one connection.
JOINING = "joining"      # join sent; presence (with our id) comes next
REPLAYING = "replaying"  # presence came; an optional gap (history), then the history reply
JOINED = "joined"        # live messages, in order
LEAVING = "leaving"      # leave sent; live messages may still come until the ping after it


class Ledger:
    """Shared by every connection: counters, violations, and per room what each seq holds."""

    def __init__(self, details_per_kind=8):
        self.counts = collections.Counter()
        self.kinds = collections.Counter()
        self.details = []
        self.details_per_kind = details_per_kind
        self.records = {}    # room -> {seq: (from, text)}: the first copy anyone saw
        self.room_max = {}   # room -> the highest seq anyone saw
        self.placed = {}     # (sender, own message number) -> (room, seq), as anyone saw it

    def violation(self, kind, detail):
        self.kinds[kind] += 1
        if self.kinds[kind] <= self.details_per_kind:  # the first few of each kind, in full
            self.details.append(f"{kind}: {detail}")

    @property
    def violations(self):
        return sum(self.kinds.values())

    def record(self, room, seq, sender, text, who):
        """Every copy of (room, seq), live or replayed, to any client, must hold the same message."""
        recs = self.records.get(room)
        if recs is None:
            recs = self.records[room] = {}
        old = recs.get(seq)
        if old is None:
            recs[seq] = (sender, text)
            self.placed[(sender, text.split(" ", 1)[0])] = (room, seq)
            if seq > self.room_max.get(room, 0):
                self.room_max[room] = seq
        elif old != (sender, text):
            self.violation("content", f"{who} room {room} seq {seq}: got {(sender, text[:40])!r}, "
                                      f"another client got {(old[0], old[1][:40])!r}")


class Track:
    __slots__ = ("state", "last", "since", "join_id", "gapped", "recent", "skipped")

    def __init__(self, state, last, since=None, join_id=None):
        self.state, self.last, self.since, self.join_id = state, last, since, join_id
        self.gapped = False                      # a gap (history) came for this join
        self.skipped = []                        # (from, to) of each slow_consumer gap
        self.recent = collections.deque(maxlen=6)  # the last events, for a violation's detail


class Owner:
    """What the checker needs from the client that owns the connection (soak.Client has these)."""
    user = "?"
    acked = set()      # own message numbers the server acknowledged (seq seen), any connection
    unknown = set()    # own numbers sent on a connection that ended before their ack

    def on_left(self, room):
        pass


class ConnChecker:
    """One connection's view. on_text(str) takes each server frame; the join/leave/say methods
    are called by the client as it sends, so the checker knows what to expect."""

    def __init__(self, owner, ledger):
        self.owner, self.ledger, self.c = owner, ledger, ledger.counts
        self.user = owner.user
        # The server puts every connection in the lobby, with no since: its start is not known.
        self.tracks = {"lobby": Track(JOINED, None)}
        self.pending = {}        # own message number -> room, sent on this connection, no ack yet
        self.join_ids = {}       # request id -> room
        self.leave_marks = {}    # ping id sent right after a leave -> room
        self.history_ids = {}    # history request id -> room, until its reply
        self.welcomed = False
        self.next_id = 0

    # -- what the client sends -----------------------------------------------------------------

    def join(self, room, since):
        """Returns the join message to send (with since and an id)."""
        self.next_id += 1
        self.join_ids[self.next_id] = room
        self.tracks[room] = Track(JOINING, since, since, self.next_id)
        return json.dumps({"type": "join", "room": room, "since": since, "id": self.next_id})

    def leave(self, room):
        """Returns the leave and a ping: the pong (after the leave reply, on this connection) says
        the leave is done, and no event of the room may follow it."""
        self.next_id += 1
        mark = f"L{self.next_id}"
        self.leave_marks[mark] = room
        self.tracks[room].state = LEAVING
        return (json.dumps({"type": "leave", "room": room}),
                json.dumps({"type": "ping", "id": mark}))

    def history_request(self, room, first):
        """Returns a history request for a room this connection is not in (so its replies, a
        gap included, cannot be mistaken for a join's). Every message in the reply must be the
        one everybody else got for that seq."""
        self.next_id += 1
        self.history_ids[self.next_id] = room
        return json.dumps({"type": "history", "room": room, "from": first, "limit": 100,
                           "id": self.next_id})

    def say(self, room, n, text):
        self.pending[n] = room
        self.c["sent"] += 1
        return json.dumps({"type": "say", "room": room, "text": text})

    def ended(self):
        """The connection is gone: what was not acknowledged has an unknown fate (the server may
        have numbered it before the end; a later history replay may still show it)."""
        self.owner.unknown.update(self.pending)
        self.c["unacked_at_disconnect"] += len(self.pending)
        self.pending.clear()

    def settle_skipped(self):
        """An own message the server skipped for us (we were a slow consumer) comes back to us
        only inside a gap: once some other client saw it, and its seq lies in a slow_consumer
        gap we were sent, it is accounted for."""
        for n, room in list(self.pending.items()):
            where = self.ledger.placed.get((self.user, str(n)))
            t = self.tracks.get(room)
            if where is not None and t is not None and where[0] == room and \
                    any(lo <= where[1] <= hi for lo, hi in t.skipped):
                del self.pending[n]
                self.owner.acked.add(n)
                self.c["own_in_slow_gap"] += 1

    def resume_points(self):
        """room -> since for a reconnect: every room joined or being joined, at its last seq."""
        return {r: t.last for r, t in self.tracks.items() if t.state != LEAVING and t.last is not None}

    def lagging(self):
        """Why this connection is not settled yet (None when it is): own messages without an ack,
        a join or leave in flight, or a room where it has not seen the newest seq anyone saw."""
        self.settle_skipped()
        if self.pending:
            return f"{len(self.pending)} own messages without an ack"
        if self.history_ids:
            return f"{len(self.history_ids)} history requests without a reply"
        for room, t in self.tracks.items():
            if t.state != JOINED:
                return f"room {room} still {t.state}"
            top = self.ledger.room_max.get(room, 0)
            if t.last is not None and t.last < top:
                return f"room {room} at seq {t.last}, others saw {top}"
        return None

    # -- what the server sends -----------------------------------------------------------------

    def bad(self, kind, room, detail):
        t = self.tracks.get(room)
        recent = f"; recent: {list(t.recent)}" if t is not None else ""
        self.ledger.violation(kind, f"{self.user} room {room}: {detail}{recent}")

    def on_text(self, text):
        try:
            ev = json.loads(text)
            kind = ev["type"]
        except (ValueError, KeyError, TypeError):
            self.ledger.violation("bad_event", f"{self.user}: {text[:120]!r}")
            return
        if not self.welcomed:
            if kind != "welcome" or ev.get("user") != self.user or ev.get("rooms") != ["lobby"]:
                self.ledger.violation("welcome", f"{self.user}: first event {text[:120]!r}")
            self.welcomed = True
            return
        handler = self.HANDLERS.get(kind)
        if handler is None:
            self.ledger.violation("unexpected_event", f"{self.user}: {text[:160]!r}")
            return
        handler(self, ev)

    def _message(self, ev):
        room, seq = ev["room"], ev["seq"]
        t = self.tracks.get(room)
        if t is None:
            return self.bad("not_member", room, f"message seq {seq} for a room not joined")
        t.recent.append(("msg", seq))
        if t.state in (JOINING, REPLAYING):
            return self.bad("before_replay", room, f"live seq {seq} before the join's history")
        if t.last is None:
            self.c["baseline"] += 1  # the automatic lobby membership: no known start
        elif seq == t.last + 1:
            self.c["verified"] += 1
        elif seq <= t.last:
            self.bad("duplicate_or_reordered", room, f"seq {seq} after seq {t.last}")
            return
        else:
            self.bad("lost", room, f"seq {seq} after {t.last}: {t.last + 1}..{seq - 1} never "
                                   f"arrived nor were announced by a gap")
        t.last = seq
        self.ledger.record(room, seq, ev["from"], ev["text"], self.user)
        if ev["from"] == self.user:
            self._own(room, ev["text"], live=True)

    def _own(self, room, text, live):
        n = int(text.split(" ", 1)[0])
        if n in self.pending:
            if self.pending.pop(n) != room:
                self.bad("own_wrong_room", room, f"own message {n} came in another room")
            self.owner.acked.add(n)
            self.c["own_acked"] += 1
        elif n in self.owner.unknown:
            # Sent on a connection that ended before the ack: the server had numbered it.
            self.owner.unknown.discard(n)
            self.owner.acked.add(n)
            self.c["own_acked_after_reconnect"] += 1
        elif n not in self.owner.acked:
            self.bad("own_never_sent", room, f"own message {n} that was never sent")
        elif live:
            self.bad("own_twice", room, f"own message {n} acknowledged twice")

    def _gap(self, ev):
        room, lo, hi, reason = ev["room"], ev["from"], ev["to"], ev["reason"]
        t = self.tracks.get(room)
        if t is None and reason == "history" and room in self.history_ids.values():
            self.c["history_request_gaps"] += 1  # part of a history request's answer
            return
        if t is None:
            return self.bad("not_member", room, f"gap {lo}..{hi} for a room not joined")
        t.recent.append(("gap", lo, hi, reason))
        if hi < lo:
            return self.bad("gap_range", room, f"gap {lo}..{hi}")
        if reason == "history":
            # Right after the join's presence, from since + 1 (docs/chat-protocol.md, Resume).
            if t.state != REPLAYING or t.gapped or lo != t.since + 1:
                return self.bad("gap_history", room, f"gap {lo}..{hi} in state {t.state}, since {t.since}")
            t.gapped = True
            self.c["gap_history_events"] += 1
            self.c["gap_history_seqs"] += hi - lo + 1
        elif reason == "slow_consumer":
            if t.state not in (JOINED, LEAVING):
                return self.bad("gap_slow", room, f"gap {lo}..{hi} in state {t.state}")
            if t.last is not None and lo != t.last + 1:
                return self.bad("gap_slow", room, f"gap {lo}..{hi} after seq {t.last}")
            self.c["gap_slow_events"] += 1
            self.c["gap_slow_seqs"] += hi - lo + 1
            t.skipped.append((lo, hi))
        else:
            return self.bad("gap_reason", room, f"gap reason {reason!r}")
        t.last = hi

    def _history(self, ev):
        room = ev["room"]
        if ev.get("id") in self.history_ids:
            return self._history_reply(room, self.history_ids.pop(ev["id"]), ev)
        t = self.tracks.get(room)
        if t is None or t.state != REPLAYING or ev.get("id") != t.join_id:
            return self.bad("history", room, f"history {ev.get('from')}..{ev.get('to')} id "
                                             f"{ev.get('id')} not answering a join")
        msgs = ev["messages"]
        t.recent.append(("history", ev["from"], ev["to"], len(msgs)))
        expect = t.last + 1
        for m in msgs:
            seq = m.get("seq")
            if m.get("room") != room or seq != expect:
                self.bad("history_order", room, f"history holds seq {seq} of {m.get('room')}, "
                                                f"expected {expect}")
                return
            self.ledger.record(room, seq, m["from"], m["text"], self.user)
            if m["from"] == self.user:
                self._own(room, m["text"], live=False)
            expect += 1
        want = (msgs[0]["seq"], msgs[-1]["seq"]) if msgs else (0, 0)
        if (ev["from"], ev["to"]) != want:
            self.bad("history_range", room, f"history says {ev['from']}..{ev['to']}, holds {want}")
        self.c["replayed"] += len(msgs)
        t.last = expect - 1
        t.state = JOINED

    def _history_reply(self, room, asked, ev):
        msgs = ev["messages"]
        seqs = [m.get("seq") for m in msgs]
        if room != asked or any(m.get("room") != room for m in msgs) or \
                seqs != list(range(seqs[0], seqs[0] + len(seqs)) if seqs else []) or \
                (ev["from"], ev["to"]) != ((seqs[0], seqs[-1]) if seqs else (0, 0)):
            return self.ledger.violation("history_reply", f"{self.user} asked {asked}: {str(ev)[:200]}")
        for m in msgs:
            self.ledger.record(room, m["seq"], m["from"], m["text"], self.user)
        self.c["history_replies"] += 1
        self.c["history_reply_messages"] += len(msgs)

    def _presence(self, ev):
        room = self.join_ids.pop(ev.get("id"), None) if "id" in ev else None
        if room is None:
            if ev["room"] != "lobby":  # only the automatic lobby presence comes without our id
                self.ledger.violation("presence", f"{self.user}: unasked presence {ev}")
            return
        t = self.tracks.get(room)
        if room != ev["room"] or t is None or t.state != JOINING:
            return self.bad("presence", room, f"presence for {ev['room']} in state "
                                              f"{t.state if t else None}")
        # A big room's reply is one page (docs/chat-protocol.md): we may be on a later one.
        if self.user not in ev["users"] and not ev.get("more"):
            self.bad("presence", room, "presence after our join does not list us")
        t.recent.append(("presence",))
        t.state = REPLAYING

    def _notice(self, ev):
        room = ev["room"]
        t = self.tracks.get(room)
        if t is None:
            return self.bad("not_member", room, f"{ev['type']} notice for a room not joined")
        if t.state in (JOINING, REPLAYING):
            return self.bad("before_replay", room, f"{ev['type']} notice before the join's history")
        self.c["notices"] += 1

    def _pong(self, ev):
        room = self.leave_marks.pop(ev.get("id"), None)
        if room is None:
            return
        t = self.tracks.get(room)
        if t is None or t.state != LEAVING:
            return self.bad("leave", room, f"leave confirmed in state {t.state if t else None}")
        del self.tracks[room]
        self.owner.on_left(room)

    def _error(self, ev):
        self.ledger.violation("server_error", f"{self.user}: {ev}")

    HANDLERS = {"message": _message, "gap": _gap, "history": _history, "presence": _presence,
                "join": _notice, "leave": _notice, "presence_change": _notice, "pong": _pong,
                "error": _error}
