// chat/waking_ring.cc: the sleep / wake-up handshake around the broadcast ring. Layer: chat/.
#include "chat/waking_ring.h"

#include "net/notifier.h"

namespace epws::chat {

bool WakingRing::publish(RingEntry* e, uint32_t extra) {
    // relaxed: the entry is still private to this thread; the ring's publication orders it.
    e->refs.store(static_cast<uint32_t>(loops()) + extra, std::memory_order_relaxed);
    if (!publish_counted(e)) {
        e->refs.store(1, std::memory_order_relaxed);  // still ours alone: the caller's again
        return false;
    }
    return true;
}

bool WakingRing::publish_counted(RingEntry* e) {
    if (!ring_.try_publish(e)) return false;
    // The sleep/wake handshake (a Dekker pair): the ring's seq_cst store of the slot comes
    // before our seq_cst loads of the sleeping flags in wake(), and prepare_to_sleep() stores
    // its flag (seq_cst) before loading the slot (seq_cst). In the single total order of
    // seq_cst operations one side sees the other: either the loop sees the entry and does
    // not sleep, or we see its flag and wake it.
    for (size_t i = 0; i < sleeping_.size(); ++i) wake(i);
    return true;
}

void WakingRing::wake(size_t loop) {
    // exchange after the load: only one publisher pays for the eventfd write.
    if (sleeping_[loop].flag.load(std::memory_order_seq_cst) &&
        sleeping_[loop].flag.exchange(false, std::memory_order_seq_cst)) {
        wakeups_.fetch_add(1, std::memory_order_relaxed);  // a statistic only
        if (notifiers_[loop] != nullptr) notifiers_[loop]->notify();
    }
}

bool WakingRing::prepare_to_sleep(size_t loop, const std::atomic<bool>* more) {
    // seq_cst store, then the seq_cst loads of the ring slot and of `more`: see publish().
    sleeping_[loop].flag.store(true, std::memory_order_seq_cst);
    if (ring_.ready(loop) || (more != nullptr && more->load(std::memory_order_seq_cst))) {
        sleeping_[loop].flag.store(false, std::memory_order_relaxed);
        return false;
    }
    return true;
}

void WakingRing::release_undrained() {
    for (size_t i = 0; i < loops(); ++i)
        while (ring_.consume(i, [](RingEntry* e) { e->release(); }, 1024) > 0) {
        }
}

}  // namespace epws::chat
