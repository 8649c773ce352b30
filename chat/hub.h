// chat/hub.h: carries messages between the event loops of one process over the broadcast
// ring, and wakes a loop only when it sleeps. Layer: chat/.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <vector>

#include "chat/broadcast_ring.h"

namespace epws::net {
class Notifier;
}

namespace epws::chat {

// What a ring entry is addressed to.
enum class Topic : uint8_t {
    kBroadcast,  // every /broadcast connection
    kRoom,       // every member of room `target`
    kUser,       // every connection of user `target` (a direct message)
};

// One message for every loop, framed once: `frame` holds the complete WebSocket frame
// (header and payload) that every recipient is sent as is. Immutable once published.
// Allocated by make(); freed by the last loop to pass it (refs starts at the loop count).
struct RingEntry {
    std::atomic<uint32_t> refs;
    Topic topic;
    uint32_t target = 0;     // room or user id, by topic
    uint64_t room_seq = 0;   // the room's sequence number, for kRoom messages
    uint64_t presence = 0;   // the room's presence change number, for kRoom join/leave notices
    uint32_t origin = 0;     // the loop that published it
    uint8_t opcode = 1;      // the WebSocket opcode of the frame (text)
    uint32_t frame_len = 0;
    uint32_t payload_offset = 0;  // where the payload starts inside frame

    std::span<const std::byte> frame() const { return {data(), frame_len}; }
    std::span<const std::byte> payload() const {
        return {data() + payload_offset, frame_len - payload_offset};
    }
    const std::byte* data() const { return reinterpret_cast<const std::byte*>(this + 1); }
    std::byte* data() { return reinterpret_cast<std::byte*>(this + 1); }

    // One allocation holding the entry and its frame bytes (frame_len of them, uninitialised).
    static RingEntry* make(Topic topic, uint32_t frame_len, uint32_t consumers);
    // Drops one reference; the last one frees the entry.
    void release();
};

// The source of cross-loop messages, behind an interface so that a multi-node backend (Redis
// pub/sub) can feed the same loops later.
class Bus {
public:
    virtual ~Bus() = default;
    // Any thread. False when the message cannot be taken now (the ring is full); the caller
    // keeps ownership and retries later.
    virtual bool publish(RingEntry* e) = 0;
};

// The in-process bus: one ring, one consumer per loop. Loop i calls drain(i, ...) from its
// before-wait hook; publish() wakes loops that announced they were going to sleep.
class Hub final : public Bus {
public:
    Hub(size_t loops, size_t capacity);
    size_t loops() const { return sleeping_.size(); }

    // Loop i's wake-up; set before any thread publishes. Not owned.
    void attach(size_t loop, net::Notifier* notifier) { notifiers_[loop] = notifier; }

    bool publish(RingEntry* e) override;

    // Loop i only: hands each ready entry to f(RingEntry*), up to max, in order. f receives
    // the loop's reference and must release() it when done (after a batch is sent, say).
    template <class F>
    size_t drain(size_t loop, F&& f, size_t max) {
        return ring_.consume(loop, f, max);
    }

    // Loop i only, just before it blocks: true if it may sleep (nothing is ready for it and
    // publishers will now wake it); false if an entry is ready and it should drain first.
    bool prepare_to_sleep(size_t loop);
    // Loop i only, after waking: it no longer needs to be woken.
    void awake(size_t loop) {
        // relaxed: a spurious extra wake-up is harmless; a missed one is prevented by the
        // seq_cst pair in prepare_to_sleep() / publish().
        sleeping_[loop].flag.store(false, std::memory_order_relaxed);
    }

    uint64_t published() const { return ring_.claimed(); }
    uint64_t wakeups() const { return wakeups_.load(std::memory_order_relaxed); }  // a count only

private:
    struct alignas(64) Sleeping {
        std::atomic<bool> flag{false};
    };
    BroadcastRing<RingEntry> ring_;
    std::vector<Sleeping> sleeping_;
    std::vector<net::Notifier*> notifiers_;
    std::atomic<uint64_t> wakeups_{0};
};

}  // namespace epws::chat
