// net/timer_wheel.h: a coarse hashed timing wheel for per-connection timeouts.
// Layer: net/. No timer object per connection: each connection is one TimerNode (a base).
#pragma once

#include <cstddef>
#include <cstdint>

namespace epws::net {

// Intrusive node: 20 bytes inside each connection, which derives from it (so fire() finds its
// connection with a static_cast, no owner pointer). A connection has one deadline at a time
// (handshake, idle or close timeout), so one node suffices.
struct TimerNode {
    TimerNode* prev = nullptr;
    TimerNode* next = nullptr;
    uint32_t deadline = 0;  // absolute tick
    bool linked() const { return next != nullptr; }
};

// kSlots circular lists of nodes, hashed by deadline tick. A node whose deadline lies more
// than a round ahead waits in its slot and is re-checked each round; a deadline that moves
// later (an idle timer refreshed by traffic) only updates TimerNode::deadline, and the node
// is re-hashed lazily when its old slot comes up. Moving a deadline earlier re-links it.
// Loop thread only.
class TimerWheel {
public:
    static constexpr uint32_t kSlots = 512;

    TimerWheel();
    TimerWheel(const TimerWheel&) = delete;
    TimerWheel& operator=(const TimerWheel&) = delete;

    uint32_t now() const { return now_; }
    // Arms (or re-arms) node to fire at tick `deadline` (clamped to at least now + 1).
    void schedule(TimerNode* node, uint32_t deadline);
    void cancel(TimerNode* node);
    size_t size() const { return count_; }

    // Moves time to `now`, calling fire(node) for each node whose deadline is <= now; the
    // node is unlinked before fire runs, and fire may schedule or cancel any node.
    template <class Fire>
    void advance(uint32_t now, Fire&& fire) {
        uint32_t steps = now - now_;
        if (steps > kSlots) steps = kSlots;  // one full turn visits every slot
        uint32_t first = now_ + 1;
        now_ = now;
        for (uint32_t i = 0; i < steps; ++i) {
            TimerNode pending;  // the slot's nodes move here, so fire() can touch the slot
            take_slot((first + i) % kSlots, pending);
            while (pending.next != &pending) {
                TimerNode* node = pending.next;
                unlink(node);
                if (static_cast<int32_t>(node->deadline - now) <= 0) {
                    --count_;
                    fire(node);
                } else {
                    link(node, node->deadline % kSlots);
                }
            }
        }
    }

private:
    void link(TimerNode* node, uint32_t slot);
    static void unlink(TimerNode* node);
    void take_slot(uint32_t slot, TimerNode& into);

    TimerNode slots_[kSlots];  // sentinels of circular lists
    uint32_t now_ = 0;
    size_t count_ = 0;
};

}  // namespace epws::net
