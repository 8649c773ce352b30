// chat/ring_entry.cc: making and freeing ring entries. Layer: chat/.
#include "chat/ring_entry.h"

#include <cstdlib>
#include <new>

namespace epws::chat {

RingEntry* RingEntry::make(Topic topic, uint32_t target, ws::Opcode op,
                           std::span<const std::byte> payload) {
    size_t frame_len = ws::shared_frame_size(payload.size());
    if (frame_len > UINT32_MAX) return nullptr;
    void* mem = std::malloc(sizeof(RingEntry) + frame_len);
    if (mem == nullptr) return nullptr;
    auto* e = new (mem) RingEntry();
    e->topic = topic;
    e->opcode = op;
    e->target = target;
    e->frame_len = static_cast<uint32_t>(frame_len);
    e->payload_offset = static_cast<uint32_t>(ws::encode_shared_frame(e->data(), op, payload));
    return e;
}

void RingEntry::release() {
    // acq_rel: the last holder to let go must see every other holder's reads finished
    // (acquire) before it frees, and each earlier holder's reads must happen before its
    // decrement (release).
    if (refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        this->~RingEntry();
        std::free(this);
    }
}

}  // namespace epws::chat
