// chat/memory_bus.cc: the ring, each room's order, and the sleep / wake-up handshake.
// Layer: chat/.
#include "chat/memory_bus.h"

#include <algorithm>
#include <string>

#include "chat/protocol.h"
#include "net/clock.h"
#include "net/notifier.h"

namespace epws::chat {

MemoryBus::MemoryBus(size_t loops, size_t capacity, size_t history, size_t max_rooms)
    : ring_(capacity, loops), sleeping_(loops), notifiers_(loops, nullptr), history_(history),
      logs_(max_rooms) {}

MemoryBus::~MemoryBus() {
    release_undrained();
    for (RoomLog& l : logs_) l.clear();
}

void MemoryBus::RoomLog::clear() {
    for (RingEntry* e : history)
        if (e) e->release();
    history.clear();
    last_seq = 0;
}

MemoryBus::RoomLog& MemoryBus::log(uint32_t room) { return logs_.at(room - 1); }

bool MemoryBus::publish_counted(RingEntry* e, uint32_t extra) {
    // relaxed: the entry is still private to this thread; the ring's publication orders it.
    e->refs.store(static_cast<uint32_t>(loops()) + extra, std::memory_order_relaxed);
    if (!ring_.try_publish(e)) {
        e->refs.store(1, std::memory_order_relaxed);  // still ours alone: the caller's again
        return false;
    }
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

bool MemoryBus::publish(RingEntry* e) { return publish_counted(e, 0); }

bool MemoryBus::publish_to_room(uint32_t room, const RoomMessage& m) {
    // One scratch per thread for the event's JSON; the entry holds its own copy, framed.
    thread_local std::string json;
    RoomLog& l = log(room);
    std::lock_guard<std::mutex> lock(l.mu);
    uint64_t seq = l.last_seq + 1;
    json.clear();
    encode_message(json, m.room, seq, m.from, m.text, net::wall_ms());
    RingEntry* e = RingEntry::make(Topic::kRoom, room, ws::Opcode::kText,
                                   {reinterpret_cast<const std::byte*>(json.data()), json.size()});
    if (e == nullptr) return false;
    e->room_seq = seq;
    e->origin = m.origin;
    bool keep = history_ > 0;
    if (!publish_counted(e, keep ? 1 : 0)) {
        e->release();  // nobody saw it
        return false;
    }
    l.last_seq = seq;
    if (!keep) return true;
    if (l.history.size() < history_) l.history.resize(history_, nullptr);
    RingEntry*& slot = l.history[(seq - 1) % history_];
    if (slot) slot->release();  // the oldest message leaves the history
    slot = e;
    return true;
}

void MemoryBus::read_room(size_t, uint32_t room, uint64_t from, uint64_t to, RoomReadReply reply) {
    HeldEntries held;  // references taken under the lock, so the reply runs without it
    RoomSpan span;
    {
        RoomLog& l = log(room);
        std::lock_guard<std::mutex> lock(l.mu);
        uint64_t last = l.last_seq;
        span = {last + 1, last};
        if (last != 0 && history_ != 0) {
            span.oldest = last >= history_ ? last - history_ + 1 : 1;
            uint64_t first = std::max(from, span.oldest);
            uint64_t end = std::min(to, last);
            for (uint64_t s = first; s <= end; ++s) held.hold(*l.history[(s - 1) % history_]);
        }
    }
    reply({span, held.entries});
}

void MemoryBus::forget_room(uint32_t room) {
    RoomLog& l = log(room);
    std::lock_guard<std::mutex> lock(l.mu);
    l.clear();
}

size_t MemoryBus::drain(size_t loop, std::vector<RingEntry*>& out, size_t max) {
    return ring_.consume(loop, [&](RingEntry* e) { out.push_back(e); }, max);
}

bool MemoryBus::prepare_to_sleep(size_t loop) {
    // seq_cst store, then ready()'s seq_cst load: see publish_counted().
    sleeping_[loop].flag.store(true, std::memory_order_seq_cst);
    if (ring_.ready(loop)) {
        sleeping_[loop].flag.store(false, std::memory_order_relaxed);
        return false;
    }
    return true;
}

void MemoryBus::release_undrained() {
    for (size_t i = 0; i < loops(); ++i)
        while (ring_.consume(i, [](RingEntry* e) { e->release(); }, 1024) > 0) {
        }
}

}  // namespace epws::chat
