// ws/shared_buffer.cc: reference-counted bytes. Layer: ws/.
#include "ws/shared_buffer.h"

#include <cstdlib>
#include <cstring>
#include <new>

namespace epws::ws {

SharedBuffer* SharedBuffer::make(std::span<const std::byte> bytes) {
    void* mem = std::malloc(sizeof(SharedBuffer) + bytes.size());
    if (mem == nullptr) return nullptr;
    auto* b = new (mem) SharedBuffer();
    b->size_ = bytes.size();
    if (!bytes.empty()) std::memcpy(reinterpret_cast<std::byte*>(b + 1), bytes.data(), bytes.size());
    return b;
}

void SharedBuffer::release() {
    // acq_rel: as RingEntry::release.
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        this->~SharedBuffer();
        std::free(this);
    }
}

}  // namespace epws::ws
