// chat/room_history.h: the newest numbered messages of one room, kept by reference for since and
// history reads. Layer: chat/. Used by every bus (chat/memory_bus.h, chat/redis/redis_bus.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "chat/bus.h"
#include "chat/ring_entry.h"

namespace epws::chat {

// Entries numbered oldest()..last() with no number missing; at most `capacity` of them, the
// oldest leaving first. Not thread-safe: its owner's lock guards it.
//
//   slots_: [ ... | seq % cap | ... ]   made on the first append (a room that never speaks
//                                       costs nothing)
class RoomHistory {
public:
    explicit RoomHistory(size_t capacity) : cap_(capacity) {}
    ~RoomHistory() { clear(); }
    RoomHistory(const RoomHistory&) = delete;
    RoomHistory& operator=(const RoomHistory&) = delete;

    uint64_t last() const { return last_; }
    // Where the kept range stands: oldest == last + 1 when nothing is kept.
    RoomSpan span() const { return {last_ - count_ + 1, last_}; }

    // Keeps e, numbered e->room_seq == last() + 1, taking one reference (released at once when
    // nothing is kept, capacity 0).
    void append(RingEntry* e);
    // Holds the kept entries numbered [from, to], in order.
    void hold(uint64_t from, uint64_t to, HeldEntries& out) const;
    // Releases every entry; numbering goes on after `last` (0: starts again at 1).
    void restart_at(uint64_t last);
    void clear() { restart_at(0); }

private:
    const size_t cap_;
    std::vector<RingEntry*> slots_;
    uint64_t last_ = 0;
    uint64_t count_ = 0;  // entries kept, ending at last_
};

}  // namespace epws::chat
