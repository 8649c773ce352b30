// net/buffer.cc: the growable byte queue. Layer: net/.
#include "net/buffer.h"

#include <cstdlib>
#include <cstring>

namespace epws::net {

bool Buffer::append(const std::byte* p, size_t len) {
    if (len == 0) return true;
    size_t used = size();
    if (len > UINT32_MAX - used) return false;
    size_t need = used + len;
    size_t cap = capacity();
    if (block_ == nullptr || block_->end + len > cap) {
        if (need <= cap && block_->begin > 0) {
            // Enough room overall: slide the readable part to the front instead of growing.
            std::memmove(data(), data() + block_->begin, used);
        } else {
            size_t grown_cap = cap ? cap : 256;
            while (grown_cap < need) grown_cap *= 2;
            if (grown_cap > UINT32_MAX) grown_cap = UINT32_MAX;
            auto* grown = static_cast<Block*>(std::malloc(sizeof(Block) + grown_cap));
            if (grown == nullptr) return false;
            if (used) std::memcpy(grown + 1, data() + block_->begin, used);
            std::free(block_);
            block_ = grown;
            block_->cap = static_cast<uint32_t>(grown_cap);
        }
        block_->begin = 0;
        block_->end = static_cast<uint32_t>(used);
    }
    std::memcpy(data() + block_->end, p, len);
    block_->end += static_cast<uint32_t>(len);
    return true;
}

void Buffer::consume(size_t n) {
    if (block_ == nullptr) return;
    block_->begin += static_cast<uint32_t>(n);
    if (block_->begin >= block_->end) release();
}

void Buffer::release() {
    std::free(block_);
    block_ = nullptr;
}

}  // namespace epws::net
