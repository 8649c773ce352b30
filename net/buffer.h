// net/buffer.h: a growable byte queue for what a connection could not hand over yet.
// Layer: net/. Holds no memory while empty, so an idle connection costs none.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace epws::net {

// Layout (as in muduo's Buffer, without the prepend area):
//
//   +-------------------+------------------+------------------+
//   |   consumed bytes  |  readable bytes  |  writable bytes  |
//   +-------------------+------------------+------------------+
//   0      <=        begin_     <=       end_      <=      cap_
//
// append() writes at end_, consume() advances begin_. When the readable part empties the
// storage is freed; when appending would overflow, the readable part is first slid to 0.
// Not thread-safe: owned by one connection on one loop thread.
class Buffer {
public:
    Buffer() = default;
    ~Buffer();
    Buffer(const Buffer&) = delete;
    Buffer& operator=(const Buffer&) = delete;

    bool empty() const { return begin_ == end_; }
    size_t size() const { return end_ - begin_; }
    size_t capacity() const { return cap_; }
    // The readable bytes; valid until the next append() or consume().
    std::span<std::byte> readable() { return {data_ + begin_, size()}; }

    // Copies len bytes in. Returns false (and copies nothing) if the result would exceed
    // 4 GiB or memory runs out.
    bool append(const std::byte* p, size_t len);
    // Drops the first n readable bytes (n <= size()); frees the storage once empty.
    void consume(size_t n);
    // Empties the buffer and frees its storage.
    void release();

private:
    std::byte* data_ = nullptr;
    uint32_t begin_ = 0;
    uint32_t end_ = 0;
    uint32_t cap_ = 0;
};

}  // namespace epws::net
