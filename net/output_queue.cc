// net/output_queue.cc: unsent output, copied or referenced. Layer: net/.
#include "net/output_queue.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace epws::net {
namespace {

constexpr size_t kMinBlock = 4096;  // a copy's block: small sends share one

}  // namespace

bool OutputQueue::append_copy(const std::byte* p, size_t len) {
    if (len == 0) return true;
    if (head_ < pieces_.size()) {
        Piece& last = pieces_.back();
        if (last.block != nullptr && last.room >= len) {
            std::memcpy(const_cast<std::byte*>(last.data) + last.len, p, len);
            last.len += len;
            last.room -= len;
            bytes_ += len;
            return true;
        }
    }
    size_t cap = std::max(len, kMinBlock);
    auto* block = static_cast<std::byte*>(std::malloc(cap));
    if (block == nullptr) return false;
    std::memcpy(block, p, len);
    pieces_.push_back({block, len, block, cap - len, nullptr});
    bytes_ += len;
    owned_ += cap;
    return true;
}

bool OutputQueue::append_shared(const std::byte* p, size_t len, SharedBytes* owner) {
    if (len == 0) return true;
    owner->retain();
    pieces_.push_back({p, len, nullptr, 0, owner});
    bytes_ += len;
    return true;
}

int OutputQueue::gather(iovec* iov, int max) const {
    int n = 0;
    for (size_t i = head_; i < pieces_.size() && n < max; ++i)
        iov[n++] = {const_cast<std::byte*>(pieces_[i].data), pieces_[i].len};
    return n;
}

void OutputQueue::drop(Piece& p) {
    if (p.block != nullptr) {
        owned_ -= static_cast<size_t>(p.data - p.block) + p.len + p.room;
        std::free(p.block);
    } else if (p.owner != nullptr) {
        p.owner->release();
    }
    p = Piece{};
}

void OutputQueue::consume(size_t n) {
    bytes_ -= n;
    while (n > 0) {
        Piece& p = pieces_[head_];
        if (n < p.len) {
            p.data += n;
            p.len -= n;
            return;
        }
        n -= p.len;
        drop(p);
        ++head_;
    }
    if (head_ == pieces_.size()) {
        // Empty: give the list's memory back too, so an idle connection holds nothing.
        pieces_.clear();
        pieces_.shrink_to_fit();
        head_ = 0;
    } else if (head_ > 64 && head_ * 2 > pieces_.size()) {
        pieces_.erase(pieces_.begin(), pieces_.begin() + head_);
        head_ = 0;
    }
}

void OutputQueue::clear() {
    for (size_t i = head_; i < pieces_.size(); ++i) drop(pieces_[i]);
    pieces_.clear();
    pieces_.shrink_to_fit();
    head_ = 0;
    bytes_ = 0;
}

}  // namespace epws::net
