// net/output_queue.h: what a connection could not write yet, in order: copies of its own
// bytes, and references to shared bytes (net/shared_bytes.h) instead of copies. Layer: net/.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "net/shared_bytes.h"

namespace epws::net {

// A list of pieces, written front to back:
//
//   [ copy: own block ][ ref: entry A ][ ref: entry B ][ copy: own block ] ...
//     ^ head_                                                     appends ^
//
// A copied piece owns a malloc'd block that later copies append to while it has room; a
// shared piece holds one reference, released once its last byte is written (or on clear()).
// Holds no memory while empty. size() is the unsent bytes, whoever owns them. Loop thread only.
class OutputQueue {
public:
    OutputQueue() = default;
    ~OutputQueue() { clear(); }
    OutputQueue(const OutputQueue&) = delete;
    OutputQueue& operator=(const OutputQueue&) = delete;

    bool empty() const { return bytes_ == 0; }
    size_t size() const { return bytes_; }
    // Bytes of the copies this queue holds (its blocks), not counting shared bytes.
    size_t owned_bytes() const { return owned_; }

    // Copies len bytes in; false (nothing queued) if memory runs out.
    bool append_copy(const std::byte* p, size_t len);
    // Queues a reference to len bytes at p, which owner keeps alive (retained here).
    bool append_shared(const std::byte* p, size_t len, SharedBytes* owner);
    // Fills up to max iovecs with the first unsent bytes; returns how many.
    int gather(iovec* iov, int max) const;
    // Drops the first n unsent bytes (n <= size()).
    void consume(size_t n);
    // Drops everything, releasing references and memory.
    void clear();

private:
    struct Piece {
        const std::byte* data;  // first unsent byte
        size_t len;             // unsent bytes
        std::byte* block;       // a copy's own storage (null for a shared piece)
        size_t room;            // a copy's free bytes after data + len
        SharedBytes* owner;     // a shared piece's owner (null for a copy)
    };
    void drop(Piece& p);

    std::vector<Piece> pieces_;  // pieces_[head_ ...] are unsent
    uint32_t head_ = 0;
    size_t bytes_ = 0;
    size_t owned_ = 0;
};

}  // namespace epws::net
