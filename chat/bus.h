// chat/bus.h: the source of every message the loops deliver, and the owner of each room's order.
// Layer: chat/. The in-process ring (chat/memory_bus.h) is one implementation; a bus shared by
// several nodes is another. Callers never reach past this interface. The contract is written out
// in docs/architecture.md ("The bus").
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "chat/ring_entry.h"

namespace epws::net {
class Notifier;
}

namespace epws::chat {

// Which numbered messages a room still keeps, at the moment of a read.
struct RoomSpan {
    uint64_t oldest;  // the oldest sequence number still kept (last + 1 if none is)
    uint64_t last;    // the last sequence number given out (0: none yet)
};

// A chat message for a room, before it has its number. Views valid during the call.
struct RoomMessage {
    std::string_view room;  // the room's name, as the message event shows it
    std::string_view from;
    std::string_view text;
    uint32_t origin = 0;    // the loop that publishes it
};

// The answer to a read of a room: which numbers it keeps, and those asked for, in order (each
// valid during the reply; RingEntry::retain keeps one longer).
struct RoomRead {
    RoomSpan span;
    std::span<RingEntry* const> entries;
};
using RoomReadReply = std::function<void(const RoomRead&)>;

// Thread-safe. Loop i (0 <= i < loops()) is the only caller of the loop-side calls with index i.
//
// Ordering: every loop sees every published entry once, and a room's numbered messages in
// sequence order with no number skipped. Sequence numbers of a room start at 1 and grow by one.
// Reads may be answered at once (in memory) or later (a bus across nodes); either way on the
// asking loop's thread, and never before an entry of that room numbered <= span.last that the
// loop drains first: whatever a loop drained of the room before the reply is covered by it.
class Bus {
public:
    virtual ~Bus() = default;
    virtual size_t loops() const = 0;
    // Loop i's wake-up; set before any thread publishes. Not owned.
    virtual void attach(size_t loop, net::Notifier* notifier) = 0;

    // Publishes an entry with no room order (a broadcast, a direct message, a room's presence
    // notice), taking the caller's reference. False when it cannot be taken now (full): the
    // caller keeps its reference and may retry later, after draining.
    virtual bool publish(RingEntry* e) = 0;
    // Numbers and publishes a chat message to room (the chat protocol's message event, built
    // once the number is known) and keeps it in the room's history. False when it is refused
    // now (full, or the bus is unavailable): nothing was numbered, kept or published.
    virtual bool publish_to_room(uint32_t room, const RoomMessage& m) = 0;
    // Reads the room's kept messages with seq in [from, to] (from > to: none, the span alone)
    // and answers on loop `loop` (see Ordering above). The reply may never run if the loop
    // stops first.
    virtual void read_room(size_t loop, uint32_t room, uint64_t from, uint64_t to,
                           RoomReadReply reply) = 0;
    // The room no longer exists: its history is released and its numbering starts again.
    virtual void forget_room(uint32_t room) = 0;

    // Loop i: appends up to max ready entries to out, in order; each comes with one reference
    // that the loop releases when it is done with it.
    virtual size_t drain(size_t loop, std::vector<RingEntry*>& out, size_t max) = 0;
    // Loop i, just before it blocks: true if it may sleep (nothing is ready for it and a
    // publisher will now wake it); false if it should drain first.
    virtual bool prepare_to_sleep(size_t loop) = 0;
    // Loop i, after waking: it no longer needs to be woken.
    virtual void awake(size_t loop) = 0;
    // A direct message (the chat protocol's dm event) for a user connected to other nodes:
    // true if some other node has the user, and the message is on its way to it. A bus of one
    // process has no other node.
    virtual bool publish_to_user(std::string_view user, std::string_view json) {
        (void)user;
        (void)json;
        return false;
    }
    // Whether room messages can be numbered now; false while a bus across nodes has lost the
    // store that owns their order (publish_to_room() then refuses them: the chat tells the
    // sender "unavailable" rather than queue them to be numbered later, out of order).
    virtual bool available() const { return true; }
    // Counters for /stats.
    virtual uint64_t published() const = 0;
    virtual uint64_t wakeups() const = 0;
    // Any thread, for metrics: entries published that loop i has not drained yet (0 for a bus
    // that cannot tell).
    virtual uint64_t lag(size_t) const { return 0; }
    // More /stats fields, each written as ,"name":value (none by default).
    virtual void append_stats(std::string& out) const { (void)out; }
    // The link to the store that orders rooms across nodes (Redis), for /metrics; a bus with
    // none leaves `present` false. Any thread.
    struct LinkStats {
        bool present = false;
        bool up = false;
        uint64_t latency_us = 0;  // the last command's round trip
        uint64_t connects = 0, disconnects = 0, publish_errors = 0, gaps = 0, unsent = 0;
        uint64_t masters = 0, redirects = 0, resubscribes = 0;  // a cluster's (0 otherwise)
    };
    virtual LinkStats link_stats() const { return {}; }
};

}  // namespace epws::chat
