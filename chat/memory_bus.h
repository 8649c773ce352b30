// chat/memory_bus.h: the in-process bus: one broadcast ring carries entries between the loops
// of one process, each room's order lives beside it, and a loop is woken only when it sleeps.
// Layer: chat/.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "chat/broadcast_ring.h"
#include "chat/bus.h"

namespace epws::chat {

class MemoryBus final : public Bus {
public:
    // loops: consumers; capacity: ring slots (a power of two); history: messages kept per room;
    // max_rooms: room ids run from 1 to max_rooms.
    MemoryBus(size_t loops, size_t capacity, size_t history, size_t max_rooms);
    ~MemoryBus() override;

    size_t loops() const override { return sleeping_.size(); }
    void attach(size_t loop, net::Notifier* notifier) override { notifiers_[loop] = notifier; }
    bool publish(RingEntry* e) override;
    // Answers every read at once, on the caller's thread.
    bool publish_to_room(uint32_t room, const RoomMessage& m) override;
    void read_room(size_t loop, uint32_t room, uint64_t from, uint64_t to,
                   RoomReadReply reply) override;
    void forget_room(uint32_t room) override;
    size_t drain(size_t loop, std::vector<RingEntry*>& out, size_t max) override;
    bool prepare_to_sleep(size_t loop) override;
    void awake(size_t loop) override {
        // relaxed: a spurious extra wake-up is harmless; a missed one is prevented by the
        // seq_cst pair in prepare_to_sleep() / publish().
        sleeping_[loop].flag.store(false, std::memory_order_relaxed);
    }
    uint64_t published() const override { return ring_.claimed(); }
    uint64_t lag(size_t loop) const override {
        uint64_t claimed = ring_.claimed(), cursor = ring_.cursor(loop);
        return claimed > cursor ? claimed - cursor : 0;  // two relaxed reads may cross
    }
    uint64_t wakeups() const override { return wakeups_.load(std::memory_order_relaxed); }  // a count

    // Releases what no loop will drain any more (after the loops have stopped).
    void release_undrained();

private:
    // One room's order. Its lock orders the next sequence number, the ring publication of that
    // message and the history, so numbers enter the ring in order and every loop sees them so.
    struct RoomLog {
        std::mutex mu;
        uint64_t last_seq = 0;
        std::vector<RingEntry*> history;  // circular; entry seq s at (s - 1) % cap, made lazily
        void clear();
    };
    RoomLog& log(uint32_t room);
    // Sets e's count to one reference per loop (plus extra), then tries the ring.
    bool publish_counted(RingEntry* e, uint32_t extra);

    struct alignas(64) Sleeping {
        std::atomic<bool> flag{false};
    };
    BroadcastRing<RingEntry> ring_;
    std::vector<Sleeping> sleeping_;
    std::vector<net::Notifier*> notifiers_;
    std::atomic<uint64_t> wakeups_{0};
    const size_t history_;
    std::vector<RoomLog> logs_;  // by room id - 1; fixed size, so never moved
};

}  // namespace epws::chat
