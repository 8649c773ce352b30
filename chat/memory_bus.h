// chat/memory_bus.h: the in-process bus: one broadcast ring carries entries between the loops
// of one process, each room's order lives beside it, and a loop is woken only when it sleeps.
// Layer: chat/.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "chat/bus.h"
#include "chat/room_history.h"
#include "chat/waking_ring.h"

namespace epws::chat {

class MemoryBus final : public Bus {
public:
    // loops: consumers; capacity: ring slots (a power of two); history: messages kept per room;
    // max_rooms: room ids run from 1 to max_rooms.
    MemoryBus(size_t loops, size_t capacity, size_t history, size_t max_rooms);
    ~MemoryBus() override;

    size_t loops() const override { return ring_.loops(); }
    void attach(size_t loop, net::Notifier* notifier) override { ring_.attach(loop, notifier); }
    bool publish(RingEntry* e) override;
    // Answers every read at once, on the caller's thread.
    bool publish_to_room(uint32_t room, const RoomMessage& m) override;
    void read_room(size_t loop, uint32_t room, uint64_t from, uint64_t to,
                   RoomReadReply reply) override;
    void forget_room(uint32_t room) override;
    size_t drain(size_t loop, std::vector<RingEntry*>& out, size_t max) override;
    bool prepare_to_sleep(size_t loop) override;
    void awake(size_t loop) override { ring_.awake(loop); }
    uint64_t published() const override { return ring_.published(); }
    uint64_t wakeups() const override { return ring_.wakeups(); }
    uint64_t lag(size_t loop) const override { return ring_.lag(loop); }

    // Releases what no loop will drain any more (after the loops have stopped).
    void release_undrained() { ring_.release_undrained(); }

private:
    // One room's order. Its lock orders the next sequence number, the ring publication of that
    // message and the history, so numbers enter the ring in order and every loop sees them so.
    struct RoomLog {
        explicit RoomLog(size_t history_size) : history(history_size) {}
        std::mutex mu;
        RoomHistory history;
    };
    RoomLog& log(uint32_t room);

    WakingRing ring_;
    std::vector<std::unique_ptr<RoomLog>> logs_;  // by room id - 1
};

}  // namespace epws::chat
