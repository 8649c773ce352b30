// chat/room_history.cc: a room's kept messages, a circle of references. Layer: chat/.
#include "chat/room_history.h"

#include <algorithm>

namespace epws::chat {

void RoomHistory::append(RingEntry* e) {
    last_ = e->room_seq;
    if (cap_ == 0) {
        e->release();
        return;
    }
    if (slots_.empty()) slots_.assign(cap_, nullptr);
    RingEntry*& slot = slots_[last_ % cap_];
    if (slot) slot->release();  // the oldest message leaves the history
    slot = e;
    count_ = std::min<uint64_t>(count_ + 1, cap_);
}

void RoomHistory::hold(uint64_t from, uint64_t to, HeldEntries& out) const {
    RoomSpan s = span();
    uint64_t first = std::max(from, s.oldest);
    uint64_t end = std::min(to, s.last);
    for (uint64_t q = first; q <= end && q != 0; ++q) out.hold(*slots_[q % cap_]);
}

void RoomHistory::restart_at(uint64_t last) {
    for (RingEntry*& e : slots_)
        if (e) {
            e->release();
            e = nullptr;
        }
    last_ = last;
    count_ = 0;
}

}  // namespace epws::chat
