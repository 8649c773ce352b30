// chat/endpoints/outbox.h: one loop's publications the bus could not take yet, retried in order
// before the loop sleeps. Layer: chat/.
#pragma once

#include <cstddef>
#include <deque>
#include <memory>

#include "chat/bus.h"
#include "chat/ring_entry.h"

namespace epws::chat {

// Something to publish that was refused for now (the ring was full). Kept in order: once one
// waits, every later publication of the loop waits behind it.
class Publication {
public:
    virtual ~Publication() = default;
    // Tries once more; true once published (or given up for good: nowhere to go).
    virtual bool try_publish(Bus& bus) = 0;
};

// Loop thread only.
class Outbox {
public:
    static constexpr size_t kMaxPending = 65536;  // refused publications kept, per loop

    explicit Outbox(Bus& bus) : bus_(bus) {}
    ~Outbox();
    Outbox(const Outbox&) = delete;
    Outbox& operator=(const Outbox&) = delete;

    // Publishes e (taking its reference) now, or keeps it for later; false when even the retry
    // queue is full (e is then released).
    bool publish(RingEntry* e);
    // Keeps p when something already waits or first_try() fails; false when the queue is full.
    bool publish(std::unique_ptr<Publication> p);
    // Retries in order until one is refused again.
    void retry();
    bool empty() const { return pending_.empty(); }

private:
    Bus& bus_;
    std::deque<std::unique_ptr<Publication>> pending_;
};

}  // namespace epws::chat
