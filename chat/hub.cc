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
    // The sleep/wake handshake (a Dekker pair): the ring's seq_cst store of the slot comes
    // before our seq_cst loads of the sleeping flags below, and prepare_to_sleep() stores
    // its flag (seq_cst) before loading the slot (seq_cst). In the single total order of
    // seq_cst operations one side sees the other: either the loop sees the entry and does
    // not sleep, or we see its flag and wake it.
    for (size_t i = 0; i < sleeping_.size(); ++i) {
        // exchange after the load: only one publisher pays for the eventfd write.
        if (sleeping_[i].flag.load(std::memory_order_seq_cst) &&
            sleeping_[i].flag.exchange(false, std::memory_order_seq_cst)) {
            wakeups_.fetch_add(1, std::memory_order_relaxed);  // a statistic only
            if (notifiers_[i] != nullptr) notifiers_[i]->notify();
        }
    }
    return true;
}

bool Hub::prepare_to_sleep(size_t loop) {
    // seq_cst store, then ready()'s seq_cst load: see publish().
    sleeping_[loop].flag.store(true, std::memory_order_seq_cst);
    if (ring_.ready(loop)) {
        sleeping_[loop].flag.store(false, std::memory_order_relaxed);
        return false;
    }
    return true;
}

}  // namespace epws::chat
