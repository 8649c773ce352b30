// net/buffer.cc: the growable byte queue. Layer: net/.
#include "net/buffer.h"

#include <cstdlib>
#include <cstring>

namespace epws::net {

Buffer::~Buffer() { std::free(data_); }

bool Buffer::append(const std::byte* p, size_t len) {
    if (len == 0) return true;
    size_t used = size();
    if (len > UINT32_MAX - used) return false;
    size_t need = used + len;
    if (end_ + len > cap_) {
        if (need <= cap_ && begin_ > 0) {
            // Enough room overall: slide the readable part to the front instead of growing.
            std::memmove(data_, data_ + begin_, used);
        } else {
            size_t cap = cap_ ? cap_ : 256;
            while (cap < need) cap *= 2;
            if (cap > UINT32_MAX) cap = UINT32_MAX;
            auto* grown = static_cast<std::byte*>(std::malloc(cap));
            if (grown == nullptr) return false;
            if (used) std::memcpy(grown, data_ + begin_, used);
            std::free(data_);
            data_ = grown;
            cap_ = static_cast<uint32_t>(cap);
        }
        begin_ = 0;
        end_ = static_cast<uint32_t>(used);
    }
    std::memcpy(data_ + end_, p, len);
    end_ += static_cast<uint32_t>(len);
    return true;
}

void Buffer::consume(size_t n) {
    begin_ += static_cast<uint32_t>(n);
    if (begin_ >= end_) release();
}

void Buffer::release() {
    std::free(data_);
    data_ = nullptr;
    begin_ = end_ = cap_ = 0;
}

}  // namespace epws::net
