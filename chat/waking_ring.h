// chat/waking_ring.h: the broadcast ring between a process's loops with the sleep / wake-up
// handshake around it: a loop is woken only when it sleeps. Layer: chat/. Shared by every bus
// (chat/memory_bus.h, chat/redis/redis_bus.h).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "chat/broadcast_ring.h"
#include "chat/ring_entry.h"

namespace epws::net {
class Notifier;
}

namespace epws::chat {

// Thread-safe; loop i is the only caller of the loop-side calls with index i.
class WakingRing {
public:
    WakingRing(size_t loops, size_t capacity)
        : ring_(capacity, loops), sleeping_(loops), notifiers_(loops, nullptr) {}
    ~WakingRing() { release_undrained(); }

    size_t loops() const { return sleeping_.size(); }
    // Loop i's wake-up; set before any thread publishes. Not owned.
    void attach(size_t loop, net::Notifier* n) { notifiers_[loop] = n; }

    // Any thread. Sets e's count to one reference per loop plus `extra` (holders beyond the
    // loops, such as a history), then tries the ring and wakes the loops that sleep. False
    // when the ring is full: e's count is one again, the caller's.
    bool publish(RingEntry* e, uint32_t extra);
    // Any thread. As publish(), with e's count already set by the caller (an entry that waited
    // for room in the ring); false leaves the count as it was.
    bool publish_counted(RingEntry* e);
    // Any thread, after storing (seq_cst) something loop i finds in prepare_to_sleep's `more`:
    // wakes it if it sleeps.
    void wake(size_t loop);

    // Loop i.
    size_t drain(size_t loop, std::vector<RingEntry*>& out, size_t max) {
        return ring_.consume(loop, [&](RingEntry* e) { out.push_back(e); }, max);
    }
    // Loop i, before it blocks: true if it may sleep (nothing in the ring for it, `more` if
    // given is false, and a publisher will now wake it).
    bool prepare_to_sleep(size_t loop, const std::atomic<bool>* more = nullptr);
    void awake(size_t loop) {
        // relaxed: a spurious extra wake-up is harmless; a missed one is prevented by the
        // seq_cst pair in prepare_to_sleep() / publish().
        sleeping_[loop].flag.store(false, std::memory_order_relaxed);
    }
    uint64_t published() const { return ring_.claimed(); }
    // Entries published that loop has not drained yet (for metrics; two relaxed reads that may
    // cross, so never below 0).
    uint64_t lag(size_t loop) const {
        uint64_t claimed = ring_.claimed(), cursor = ring_.cursor(loop);
        return claimed > cursor ? claimed - cursor : 0;
    }
    uint64_t wakeups() const { return wakeups_.load(std::memory_order_relaxed); }  // a count
    // Releases what no loop will drain any more (after the loops have stopped).
    void release_undrained();

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
