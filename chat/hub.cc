// chat/hub.cc: ring entries and the sleep / wake-up handshake. Layer: chat/.
#include "chat/hub.h"

#include <cstdlib>
#include <new>

#include "net/notifier.h"

namespace epws::chat {

RingEntry* RingEntry::make(Topic topic, uint32_t frame_len, uint32_t consumers) {
    void* mem = std::malloc(sizeof(RingEntry) + frame_len);
    if (mem == nullptr) return nullptr;
    auto* e = new (mem) RingEntry{};
    // relaxed: nobody else can see the entry before it is published through the ring.
    e->refs.store(consumers, std::memory_order_relaxed);
    e->topic = topic;
    e->frame_len = frame_len;
    return e;
}

void RingEntry::release() {
    // acq_rel: the last loop to let go must see every other loop's reads finished (acquire)
    // before it frees, and each earlier loop's reads must happen before its decrement
    // (release).
    if (refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        this->~RingEntry();
        std::free(this);
    }
}

Hub::Hub(size_t loops, size_t capacity)
    : ring_(capacity, loops), sleeping_(loops), notifiers_(loops, nullptr) {}

bool Hub::publish(RingEntry* e) {
    if (!ring_.try_publish(e)) return false;
    // seq_cst fence: orders our publication (the slot's seq store) before the loads of the
    // sleeping flags below. prepare_to_sleep() has the mirror fence between setting its
    // flag and checking the ring, so at least one side sees the other: either the loop sees
    // the entry and does not sleep, or we see its flag and wake it.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    for (size_t i = 0; i < sleeping_.size(); ++i) {
        // relaxed load, then exchange: only one publisher pays for the eventfd write.
        if (sleeping_[i].flag.load(std::memory_order_relaxed) &&
            sleeping_[i].flag.exchange(false, std::memory_order_relaxed)) {
            wakeups_.fetch_add(1, std::memory_order_relaxed);  // a statistic only
            if (notifiers_[i] != nullptr) notifiers_[i]->notify();
        }
    }
    return true;
}

bool Hub::prepare_to_sleep(size_t loop) {
    // relaxed store + seq_cst fence: see publish().
    sleeping_[loop].flag.store(true, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (ring_.ready(loop)) {
        sleeping_[loop].flag.store(false, std::memory_order_relaxed);
        return false;
    }
    return true;
}

}  // namespace epws::chat
