// net/buffer.h: a growable byte queue for what a connection could not hand over yet.
// Layer: net/. Holds no memory while empty, so an idle connection pays one null pointer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace epws::net {

// Layout (as in muduo's Buffer, without the prepend area), in one malloc'd block whose
// header holds the offsets, so the Buffer itself is one pointer (null while empty):
//
//   +--------+-------------------+------------------+------------------+
//   | header |   consumed bytes  |  readable bytes  |  writable bytes  |
//   +--------+-------------------+------------------+------------------+
//            0      <=        begin      <=       end       <=      cap
//
// append() writes at end, consume() advances begin. When the readable part empties the
// block is freed; when appending would overflow, the readable part is first slid to 0.
// Not thread-safe: owned by one connection on one loop thread.
class Buffer {
public:
    Buffer() = default;
    ~Buffer() { release(); }
    Buffer(const Buffer&) = delete;
    Buffer& operator=(const Buffer&) = delete;

    bool empty() const { return block_ == nullptr || block_->begin == block_->end; }
    size_t size() const { return block_ ? block_->end - block_->begin : 0; }
    size_t capacity() const { return block_ ? block_->cap : 0; }
    // The readable bytes; valid until the next append() or consume().
    std::span<std::byte> readable() {
        if (block_ == nullptr) return {};
        return {data() + block_->begin, size()};
    }

    // Copies len bytes in. Returns false (and copies nothing) if the result would exceed
    // 4 GiB or memory runs out.
    bool append(const std::byte* p, size_t len);
    // Drops the first n readable bytes (n <= size()); frees the storage once empty.
    void consume(size_t n);
    // Empties the buffer and frees its storage.
    void release();

private:
    struct Block {
        uint32_t begin;
        uint32_t end;
        uint32_t cap;  // data bytes after the header
        uint32_t unused;  // keeps the data 16-byte aligned, as malloc's own blocks are
    };
    std::byte* data() const { return reinterpret_cast<std::byte*>(block_ + 1); }

    Block* block_ = nullptr;
};
static_assert(sizeof(Buffer) == sizeof(void*), "a Buffer lives in every connection");

}  // namespace epws::net
