// chat/bus.h: the source of every message the loops deliver, and the owner of each room's order.
// Layer: chat/. The in-process ring (chat/memory_bus.h) is one implementation; a bus shared by
// several nodes is another. Callers never reach past this interface. The contract is written out
// in docs/architecture.md ("The bus").
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
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

// Thread-safe. Loop i (0 <= i < loops()) is the only caller of the loop-side calls with index i.
//
// Ordering: every loop sees every published entry once, and a room's numbered messages in
// sequence order with no number skipped. Sequence numbers of a room start at 1 and grow by one.
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
    // Numbers and publishes a room message: make(seq) builds it with the room's next sequence
    // number (RingEntry::make; the caller's reference passes to the bus), and it is kept in the
    // room's history. Returns the number, or 0 when it was refused now (full: nothing was
    // numbered, kept or published, and the entry was freed) or make returned nullptr.
    virtual uint64_t publish_to_room(uint32_t room, const std::function<RingEntry*(uint64_t seq)>& make) = 0;
    // Calls f for each kept message of the room with seq in [from, to], in order. f may take a
    // reference (RingEntry::retain) to keep an entry past the call.
    virtual RoomSpan read_room(uint32_t room, uint64_t from, uint64_t to,
                               const std::function<void(RingEntry&)>& f) = 0;
    // The room's last sequence number (0: none yet).
    virtual uint64_t last_seq(uint32_t room) = 0;
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
    // Counters for /stats.
    virtual uint64_t published() const = 0;
    virtual uint64_t wakeups() const = 0;
};

}  // namespace epws::chat
