// chat/memory_bus.cc: the ring, each room's order, and the sleep / wake-up handshake.
// Layer: chat/.
#include "chat/memory_bus.h"

#include <algorithm>
#include <string>

#include "chat/protocol.h"
#include "net/clock.h"

namespace epws::chat {

MemoryBus::MemoryBus(size_t loops, size_t capacity, size_t history, size_t max_rooms)
    : ring_(loops, capacity) {
    logs_.reserve(max_rooms);
    for (size_t i = 0; i < max_rooms; ++i) logs_.push_back(std::make_unique<RoomLog>(history));
}

MemoryBus::~MemoryBus() {
    release_undrained();
}

MemoryBus::RoomLog& MemoryBus::log(uint32_t room) { return *logs_.at(room - 1); }

bool MemoryBus::publish(RingEntry* e) { return ring_.publish(e, 0); }

bool MemoryBus::publish_to_room(uint32_t room, const RoomMessage& m) {
    // One scratch per thread for the event's JSON; the entry holds its own copy, framed.
    thread_local std::string json;
    RoomLog& l = log(room);
    std::lock_guard<std::mutex> lock(l.mu);
    uint64_t seq = l.history.last() + 1;
    json.clear();
    encode_message(json, m.room, seq, m.from, m.text, net::wall_ms());
    RingEntry* e = RingEntry::make(Topic::kRoom, room, ws::Opcode::kText,
                                   {reinterpret_cast<const std::byte*>(json.data()), json.size()});
    if (e == nullptr) return false;
    e->room_seq = seq;
    e->origin = m.origin;
    if (!ring_.publish(e, 1)) {  // one reference for the history
        e->release();  // nobody saw it
        return false;
    }
    l.history.append(e);
    return true;
}

void MemoryBus::read_room(size_t, uint32_t room, uint64_t from, uint64_t to, RoomReadReply reply) {
    HeldEntries held;  // references taken under the lock, so the reply runs without it
    RoomSpan span;
    {
        RoomLog& l = log(room);
        std::lock_guard<std::mutex> lock(l.mu);
        span = l.history.span();
        l.history.hold(from, to, held);
    }
    reply({span, held.entries});
}

void MemoryBus::forget_room(uint32_t room) {
    RoomLog& l = log(room);
    std::lock_guard<std::mutex> lock(l.mu);
    l.history.clear();
}

size_t MemoryBus::drain(size_t loop, std::vector<RingEntry*>& out, size_t max) {
    return ring_.drain(loop, out, max);
}

bool MemoryBus::prepare_to_sleep(size_t loop) { return ring_.prepare_to_sleep(loop); }

}  // namespace epws::chat
