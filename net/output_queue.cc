// net/output_queue.cc: unsent output, copied or referenced. Layer: net/.
#include "net/output_queue.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace epws::net {
namespace {

constexpr size_t kMinBlock = 4096;  // a copy's block: small sends share one

}  // namespace

OutputQueue::Queue& OutputQueue::queue() {
    if (!q_) q_ = std::make_unique<Queue>();
    return *q_;
}

bool OutputQueue::append_copy(const std::byte* p, size_t len) {
    if (len == 0) return true;
    if (q_ && q_->head < q_->pieces.size()) {
        Piece& last = q_->pieces.back();
        if (last.block != nullptr && last.room >= len) {
            std::memcpy(const_cast<std::byte*>(last.data) + last.len, p, len);
            last.len += len;
            last.room -= len;
            q_->bytes += len;
            return true;
        }
    }
    size_t cap = std::max(len, kMinBlock);
    auto* block = static_cast<std::byte*>(std::malloc(cap));
    if (block == nullptr) return false;
    std::memcpy(block, p, len);
    Queue& q = queue();
    q.pieces.push_back({block, len, block, cap - len, nullptr});
    q.bytes += len;
    q.owned += cap;
    return true;
}

bool OutputQueue::append_shared(const std::byte* p, size_t len, SharedBytes* owner) {
    if (len == 0) return true;
    Queue& q = queue();
    owner->retain();
    q.pieces.push_back({p, len, nullptr, 0, owner});
    q.bytes += len;
    return true;
}

int OutputQueue::gather(iovec* iov, int max) const {
    int n = 0;
    if (!q_) return 0;
    for (size_t i = q_->head; i < q_->pieces.size() && n < max; ++i)
        iov[n++] = {const_cast<std::byte*>(q_->pieces[i].data), q_->pieces[i].len};
    return n;
}

void OutputQueue::drop(Queue& q, Piece& p) {
    if (p.block != nullptr) {
        q.owned -= static_cast<size_t>(p.data - p.block) + p.len + p.room;
        std::free(p.block);
    } else if (p.owner != nullptr) {
        p.owner->release();
    }
    p = Piece{};
}

void OutputQueue::consume(size_t n) {
    if (!q_) return;
    Queue& q = *q_;
    q.bytes -= n;
    while (n > 0) {
        Piece& p = q.pieces[q.head];
        if (n < p.len) {
            p.data += n;
            p.len -= n;
            return;
        }
        n -= p.len;
        drop(q, p);
        ++q.head;
    }
    if (q.head == q.pieces.size()) {
        q_.reset();  // empty: an idle connection holds nothing
    } else if (q.head > 64 && q.head * 2 > q.pieces.size()) {
        q.pieces.erase(q.pieces.begin(), q.pieces.begin() + static_cast<ptrdiff_t>(q.head));
        q.head = 0;
    }
}

void OutputQueue::clear() {
    if (!q_) return;
    for (size_t i = q_->head; i < q_->pieces.size(); ++i) drop(*q_, q_->pieces[i]);
    q_.reset();
}

}  // namespace epws::net
